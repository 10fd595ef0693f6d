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

// The label lists, for the renderer: it imports only through its API layer, which re-exports the contract.
export { AGE_GROUPS, EMOTIONS, ETHNICITIES, GENDERS } from '../engine/attributes/labels.js';

export type { AgeGroup, Emotion, Ethnicity, Gender };

export type Attribute = 'ageGroup' | 'gender' | 'ethnicity' | 'emotion';

export interface AppInfo {
  name: string;
  version: string;
  platform: string;
  /** Where the library database lives. */
  database: string;
  /** Per attribute, the confidence below which an estimate is marked uncertain ([Note: per-attribute uncertainty]). */
  uncertainty: Record<Attribute, { below: number; source: 'calibration' | 'default' }>;
  /** The networks and heads in use (Settings → Advanced). */
  models: { name: string; source: string; version: string }[];
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
  /** Leave out faces whose shown estimate of any of these attributes is uncertain ([Note: per-attribute uncertainty]). */
  hideUncertain?: Attribute[];
  /** Faces of these people (ids; several: any of them). Photo queries: photos with such a face. */
  people?: number[];
}

/** How the photo grid is ordered: date taken (newest first), file name (A–Z), number of faces (most first). */
export type PhotoSort = 'taken' | 'name' | 'faces';

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
  /** Below its attribute's threshold ([Note: per-attribute uncertainty]); never for a correction. */
  uncertain: boolean;
}

export interface FaceSummary {
  id: number;
  photoId: number;
  /** In upright photo pixels. */
  box: { x: number; y: number; width: number; height: number };
  score: number;
  /** The face itself is unclear (small, blurred or a weak detection); each estimate has its own `uncertain`. */
  uncertain: boolean;
  /** Added by the user (drawn in the viewer) or from another tool's XMP region; absent for detected faces. */
  added?: 'user' | 'xmp';
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
  /** Who the face is, if anyone: placed by clustering, or by the user (`confirmed`). */
  person?: FacePerson | null;
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

/** The progress of no scan at all: before the first one, and after one has ended with nothing counted. */
export function idleScanProgress(): ScanProgress {
  return {
    state: 'idle',
    done: 0,
    total: 0,
    currentFile: null,
    photosPerSecond: 0,
    etaSeconds: null,
    errors: 0,
  };
}

export interface ScanError {
  photoId: number;
  path: string;
  error: string;
  at: string;
  /** Analysed (and browsable), but the file is damaged: `error` says how. */
  damaged?: boolean;
}

/** A folder a scan could not list (permission denied, an unplugged drive): none of its photos were seen. */
export interface FolderProblem {
  path: string;
  problem: string;
  at: string;
}

export interface Settings {
  folders: string[];
  analysis: {
    maxSide: number;
    minFaceSize: number;
    thresholds: [number, number, number];
    /** Extra detector passes on each photo turned ±35°, for faces tilted past ~30° (4–5× slower). */
    tiltedFaces: boolean;
  };
  provider: 'auto' | 'cuda' | 'dml' | 'coreml' | 'cpu';
  theme: 'system' | 'light' | 'dark';
  /** Hides ethnicity everywhere in the app (filters, labels, search). */
  hideEthnicity: boolean;
  /** XMP sidecars next to the photos: face regions and keywords for digiKam, Lightroom, exiftool (main/library/xmp/). */
  xmp: XmpSettings;
  /**
   * Symbolic links found in the library folders: 'follow' (the default) scans what they point to wherever
   * it is; 'inside-folders' follows only links whose target lies inside a library folder, so a link to
   * another disk or a system folder is not scanned. Loops are never followed either way.
   */
  symlinks: 'follow' | 'inside-folders';
}

export interface XmpSettings {
  /** Write each photo's sidecar after every scan and correction (off: only `facets export --format xmp`). */
  keepUpToDate: boolean;
  /** `photo.jpg.xmp` (digiKam, darktable) or `photo.xmp` (Lightroom). */
  sidecar: 'jpg.xmp' | 'xmp';
  /** Attributes written as keywords; ethnicity only when listed here, and never while it is hidden. */
  keywords: Attribute[];
}

/** Heads in the heads folder: trained on research data (`facets train-heads`) or fine-tuned on corrections. */
export interface HeadsInfo {
  origin: 'dataset' | 'corrections';
  createdAt: string;
}

export interface LearningProgress {
  stage: 'starting' | 'embedding' | 'training' | 'installing';
  /** Faces embedded so far (embedding stage); 0 of 0 when unknown. */
  done: number;
  total: number;
  startedAt: string;
}

/** One attribute of a fine-tune, on the corrections held out from it (accuracy 0..1). */
export interface LearningAttributeResult {
  attribute: Attribute;
  before: number | null;
  after: number | null;
  /** Held-out corrections of this attribute. */
  count: number;
  /** The fine-tuned branch was kept (it did better on held-out faces); otherwise the previous one stays. */
  kept: boolean;
}

export interface LearningResult {
  finishedAt: string;
  seconds: number;
  corrections: number;
  confirmations: number;
  faces: { fineTuned: number; heldOut: number; anchors: number; skipped: number };
  /** All held-out corrections together. */
  overall: { before: number; after: number; count: number };
  attributes: LearningAttributeResult[];
  /** Fine-tuned heads were installed (at least one attribute kept its fine-tune). */
  installed: boolean;
  /** Those heads are the ones in use now (false after a revert or a later install). */
  inUse: boolean;
  /** The corrections came from this library. */
  thisLibrary: boolean;
}

/** Learning from corrections: what is installed, what the library holds, what ran last. */
export interface LearningStatus {
  /** The heads in use; null when none are installed (a fresh install has none). */
  heads: HeadsInfo | null;
  /** The heads folder (FACETS_HEADS_DIR or models/heads). */
  headsDir: string;
  /** Why the heads folder could not be read, if so. */
  headsProblem: string | null;
  /** Corrections of faces in this library (on photos present); the minimum applies to the total. */
  corrections: { total: number; minimum: number; perAttribute: Record<Attribute, number> };
  /** A fine-tune in progress, or null. */
  running: LearningProgress | null;
  lastResult: LearningResult | null;
  /** The last fine-tune's failure (since the app started), or null. */
  lastError: { message: string; at: string } | null;
  /** The heads a revert would restore, or null when there are none. */
  previous: HeadsInfo | null;
  canStart: boolean;
  /** Why a fine-tune cannot start now; null when it can. */
  blocked: string | null;
}

// ---- people (main/people/): faces of one person across the library, named and corrected by the user.

export interface PersonSummary {
  id: number;
  /** null: "Unnamed person". */
  name: string | null;
  hidden: boolean;
  /** Faces on photos present. */
  faceCount: number;
  coverFaceId: number | null;
}

export interface FacePerson {
  id: number;
  name: string | null;
  confirmed: boolean;
}

/** People with their face counts under a filter (its own `people` selection left out). */
export interface PersonCount {
  id: number;
  name: string | null;
  count: number;
}

export interface PeopleApi {
  'people:list': {
    request: { page: Page; includeHidden?: boolean };
    response: { total: number; items: PersonSummary[] };
  };
  'people:get': { request: { id: number }; response: PersonSummary };
  /** Existing names starting with `prefix`, for autocomplete. */
  'people:names': { request: { prefix: string }; response: string[] };
  'people:counts': { request: { filter: Filter }; response: PersonCount[] };
  /** "Is this …?": faces near the person's, not placed with them. */
  'people:suggestions': { request: { id: number }; response: FaceSummary[] };
  'people:name': { request: { id: number; name: string | null }; response: PersonSummary };
  'people:merge': { request: { into: number; from: number }; response: PersonSummary };
  'people:hide': { request: { id: number; hidden: boolean }; response: PersonSummary };
  /** Faces put with a person (an existing one, or a new one by name) as the user's word. */
  'people:assign': {
    request: { faceIds: number[]; personId?: number; name?: string };
    response: PersonSummary;
  };
  'people:confirm': { request: { faceIds: number[] }; response: { confirmed: number } };
  /** "Not this person": the faces leave their person, and clustering never puts them back there. */
  'people:remove': { request: { faceIds: number[] }; response: { moved: number } };
  /** Undoes the last people action (its kind, or null when there was none). */
  'people:undo': { request: void; response: { undone: string | null } };
  'people:recluster': { request: void; response: { people: number; assigned: number } };
}

// ---- face management (main/faces/): "not a face" with restore, and faces the user adds by drawing a box.

/** A face the user said is not a face: gone from every query, kept to be restored. */
export interface RejectedFace {
  /** Of the rejection (what `faces:restore` takes). */
  id: number;
  photoId: number;
  /** The id the face had. */
  faceId: number;
  /** In upright photo pixels. */
  box: { x: number; y: number; width: number; height: number };
  rejectedAt: string;
  /** The name of the person the face was with, if any (restore puts it back there). */
  name: string | null;
  /** Detections dropped since for being this face again (re-analysis). */
  suppressed: number;
}

export interface FaceEditApi {
  /** "Not a face": the faces leave every query, count, person and sidecar; a rescan does not bring them back. */
  'faces:reject': { request: { faceIds: number[] }; response: { rejected: RejectedFace[] } };
  /** Puts rejected faces back as they were (corrections, person); returns their face ids. */
  'faces:restore': { request: { ids: number[] }; response: { restored: number[] } };
  /** The photo's rejected faces, for undo in the viewer. */
  'faces:rejected': { request: { photoId: number }; response: RejectedFace[] };
  /** A face the detector missed, drawn by the user (upright photo pixels): analysed and stored, optionally named. */
  'faces:add': {
    request: { photoId: number; box: { x: number; y: number; width: number; height: number }; name?: string };
    response: FaceDetail;
  };
}

export interface Api extends PeopleApi, FaceEditApi {
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
  'photos:query': {
    request: { filter: Filter; page: Page; sort?: PhotoSort };
    response: { total: number; items: PhotoSummary[] };
  };
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
  'errors:list': {
    request: { page: Page };
    response: { total: number; items: ScanError[]; folders: FolderProblem[] };
  };
  'learning:status': { request: void; response: LearningStatus };
  /** Starts a fine-tune on this library's corrections in the background ('learning:progress' follows it). */
  'learning:start': { request: void; response: LearningStatus };
  /** Restores the previous heads. */
  'learning:revert': { request: void; response: LearningStatus };
  /** Hides these photos' problems from the Problems view (or shows them again), until the file is analysed again. */
  'errors:ignore': { request: { photoIds: number[]; ignored: boolean }; response: { changed: number } };
  /**
   * Tries failed files again now, whatever their backoff: the ones given, else all of them. Starts a
   * scan of the library folders (or, while one runs, lets it pick them up).
   */
  'errors:retry': { request: { photoIds?: number[] }; response: ScanProgress };
}

export interface Events {
  'scan:progress': ScanProgress;
  /** Photos added, changed or removed (ids), or `all` after bulk changes. */
  'library:changed': { photoIds: number[] | 'all' };
  /** The learning status, whenever it changes (progress of a fine-tune, its end, a revert). */
  'learning:progress': LearningStatus;
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
  'learning:status',
  'learning:start',
  'learning:revert',
  'errors:ignore',
  'errors:retry',
  'people:list',
  'people:get',
  'people:names',
  'people:counts',
  'people:suggestions',
  'people:name',
  'people:merge',
  'people:hide',
  'people:assign',
  'people:confirm',
  'people:remove',
  'people:undo',
  'people:recluster',
  'faces:reject',
  'faces:restore',
  'faces:rejected',
  'faces:add',
] as const satisfies readonly Channel[];
export const EVENTS = ['scan:progress', 'library:changed', 'learning:progress'] as const satisfies readonly EventName[];

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
  /** Shows a library photo's file in the file manager (desktop only; the web client copies the path instead). */
  showInFolder?: (photoId: number) => Promise<void>;
}
