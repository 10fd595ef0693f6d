/**
 * The one contract between the renderer and the back end, used by both transports: Electron IPC
 * (preload/preload.ts ↔ main/electron/ipc.ts) and web mode (main/server/web-server.ts ↔ the renderer's
 * HTTP client). Each channel names its request and response types; events name their payloads.
 *
 * Design note "api-contract": adding a channel means changing this file (type + CHANNELS), its
 * validator and handler in main/api/handlers.ts, and its use in the renderer — both transports derive
 * everything else from `CHANNELS` and `EVENTS`.
 */
import type { AgeGroup, Emotion, Ethnicity, Gender } from '../engine/attributes/labels.js';

export type { AgeGroup, Emotion, Ethnicity, Gender };

export type Attribute = 'ageGroup' | 'gender' | 'ethnicity' | 'emotion';

export interface AppInfo {
  name: string;
  version: string;
  platform: string;
  /** Where the library database lives. */
  database: string;
}

/** Filters shared by photo and face queries. Empty arrays / absent keys mean "any". */
export interface Filter {
  ageGroups?: AgeGroup[];
  genders?: Gender[];
  ethnicities?: Ethnicity[];
  emotions?: Emotion[];
  /** Minimum confidence (0..1) of every attribute filtered on above. */
  minConfidence?: number;
  /** Only photos under this folder (absolute path). */
  folder?: string;
  /** Date taken (or file time when unknown), inclusive, ISO 8601 date `YYYY-MM-DD`. */
  takenFrom?: string;
  takenTo?: string;
  /** Number of faces in the photo. */
  minFaces?: number;
  maxFaces?: number;
  corrected?: 'corrected' | 'uncorrected';
}

export interface Page {
  offset: number;
  /** At most 500. */
  limit: number;
}

/** An attribute's value as shown: the correction if there is one, else the prediction. */
export interface ShownValue<L extends string = string> {
  value: L;
  /** Prediction confidence 0..1; 1 for a correction. */
  confidence: number;
  corrected: boolean;
}

export interface FaceSummary {
  id: number;
  photoId: number;
  /** In upright photo pixels. */
  box: { x: number; y: number; width: number; height: number };
  score: number;
  uncertain: boolean;
  ageGroup?: ShownValue<AgeGroup>;
  /** Estimated age in years (predicted; absent when corrected to a group). */
  ageYears?: number;
  gender?: ShownValue<Gender>;
  ethnicity?: ShownValue<Ethnicity>;
  emotion?: ShownValue<Emotion>;
}

export interface PhotoSummary {
  id: number;
  path: string;
  width: number;
  height: number;
  takenAt: string | null;
  faceCount: number;
}

export interface Prediction {
  attribute: Attribute;
  label: string;
  confidence: number;
  probabilities: Record<string, number>;
  model: string;
  modelVersion: string;
}

export interface Correction {
  attribute: Attribute;
  value: string;
  correctedAt: string;
}

export interface FaceDetail extends FaceSummary {
  landmarks: [number, number][];
  quality: { faceSize: number; sharpness: number; reasons: string[] };
  predictions: Prediction[];
  corrections: Correction[];
}

export interface PhotoDetail extends PhotoSummary {
  folder: string;
  size: number;
  format: string;
  camera: string | null;
  status: 'ok' | 'error' | 'missing';
  faces: FaceDetail[];
}

export interface FacetCount {
  value: string;
  count: number;
}

/**
 * For each facet, the number of matching items per value under all *other* active filters (a facet's
 * own selection is left out, so the alternatives stay visible).
 */
export interface Facets {
  ageGroup: FacetCount[];
  gender: FacetCount[];
  ethnicity: FacetCount[];
  emotion: FacetCount[];
  /** Buckets "0", "1", "2", "3-5", "6+". */
  faceCount: FacetCount[];
  /** Library roots and their direct sub-folders. */
  folder: FacetCount[];
  /** Years. */
  year: FacetCount[];
  corrected: FacetCount[];
  total: number;
}

export type ScanState = 'idle' | 'scanning' | 'paused' | 'cancelling';

export interface ScanProgress {
  state: ScanState;
  done: number;
  total: number;
  currentFile: string | null;
  photosPerSecond: number;
  etaSeconds: number | null;
  errors: number;
}

export interface ScanError {
  photoId: number;
  path: string;
  error: string;
  at: string;
}

export interface Settings {
  folders: string[];
  analysis: { maxSide: number; minFaceSize: number; thresholds: [number, number, number] };
  provider: 'auto' | 'cuda' | 'dml' | 'coreml' | 'cpu';
  theme: 'system' | 'light' | 'dark';
  /** Hides ethnicity everywhere in the app (filters, labels, search). */
  hideEthnicity: boolean;
}

export interface Api {
  'app:info': { request: void; response: AppInfo };
  'settings:get': { request: void; response: Settings };
  'settings:update': { request: Partial<Settings>; response: Settings };
  'folders:add': { request: { path: string }; response: Settings };
  'folders:remove': { request: { path: string }; response: Settings };
  'scan:start': { request: { folders?: string[] }; response: ScanProgress };
  'scan:pause': { request: void; response: ScanProgress };
  'scan:resume': { request: void; response: ScanProgress };
  'scan:cancel': { request: void; response: ScanProgress };
  'scan:status': { request: void; response: ScanProgress };
  'photos:query': { request: { filter: Filter; page: Page }; response: { total: number; items: PhotoSummary[] } };
  'faces:query': { request: { filter: Filter; page: Page }; response: { total: number; items: FaceSummary[] } };
  'facets:get': { request: { filter: Filter; target: 'photos' | 'faces' }; response: Facets };
  'photo:get': { request: { id: number }; response: PhotoDetail };
  'face:get': { request: { id: number }; response: FaceDetail };
  'faces:correct': {
    request: { faceIds: number[]; attribute: Attribute; value: string };
    response: { updated: FaceSummary[] };
  };
  'faces:uncorrect': {
    request: { faceIds: number[]; attribute: Attribute };
    response: { updated: FaceSummary[] };
  };
  'errors:list': { request: { page: Page }; response: { total: number; items: ScanError[] } };
}

export interface Events {
  'scan:progress': ScanProgress;
  /** Photos added, changed or removed (ids), or `all` after bulk changes. */
  'library:changed': { photoIds: number[] | 'all' };
}

export type Channel = keyof Api;
export type Request<C extends Channel> = Api[C]['request'];
export type Response<C extends Channel> = Api[C]['response'];
export type EventName = keyof Events;

/** Runtime lists; the type checks below keep them equal to the keys of `Api` and `Events`. */
export const CHANNELS = [
  'app:info',
  'settings:get',
  'settings:update',
  'folders:add',
  'folders:remove',
  'scan:start',
  'scan:pause',
  'scan:resume',
  'scan:cancel',
  'scan:status',
  'photos:query',
  'faces:query',
  'facets:get',
  'photo:get',
  'face:get',
  'faces:correct',
  'faces:uncorrect',
  'errors:list',
] as const satisfies readonly Channel[];
export const EVENTS = ['scan:progress', 'library:changed'] as const satisfies readonly EventName[];

type MissingChannel = Exclude<Channel, (typeof CHANNELS)[number]>;
type MissingEvent = Exclude<EventName, (typeof EVENTS)[number]>;
const _allChannels: MissingChannel extends never ? true : never = true;
const _allEvents: MissingEvent extends never ? true : never = true;
void _allChannels;
void _allEvents;

export function isChannel(value: unknown): value is Channel {
  return typeof value === 'string' && (CHANNELS as readonly string[]).includes(value);
}

export function isEventName(value: unknown): value is EventName {
  return typeof value === 'string' && (EVENTS as readonly string[]).includes(value);
}

export type MediaKind = 'photo' | 'thumb' | 'face';

/** What the preload exposes as `window.facets`, and what the web client implements. */
export interface FacetsBridge {
  invoke<C extends Channel>(channel: C, request: Request<C>): Promise<Response<C>>;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
  /** URL of a photo, its thumbnail, or a face thumbnail, for <img src>. */
  mediaUrl(kind: MediaKind, id: number): string;
  /** Native folder picker (desktop only; the web client leaves it out and asks for a typed path). */
  chooseFolder?: () => Promise<string | null>;
}
