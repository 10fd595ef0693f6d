/**
 * What both transports (Electron IPC, web mode) sit on: one object that answers every channel of the
 * API contract, emits its events, and serves media from inside the library.
 *
 * Implemented by `openBackend` in main/library/backend.ts.
 */
import type { Channel, EventName, Events, MediaKind, Response } from './contract.js';

export interface MediaFile {
  contentType: string;
  /** Bytes (thumbnails, rendered from the cache) or an absolute file path inside a library root. */
  body: Buffer | { path: string };
}

export interface Backend {
  /** Validates `request` (it comes from outside) and answers; throws `ApiError` on bad input. */
  handle<C extends Channel>(channel: C, request: unknown): Promise<Response<C>>;
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
  /** Resolves a media request; throws `ApiError` (404) for ids unknown to the library. */
  media(kind: MediaKind, id: number): Promise<MediaFile>;
  close(): Promise<void>;
}

export interface BackendOptions {
  /** SQLite library file; created on first use. */
  dbPath: string;
  /** Thumbnail cache folder (default: next to the database). */
  cacheDir?: string;
  /** Analysis worker threads (default: from the core count). */
  workers?: number;
  /** Heads folder (default: FACETS_HEADS_DIR or models/heads). */
  headsDir?: string;
  /** Corrections a fine-tune needs (default 200, from the learning curve in models/README.md). */
  minCorrections?: number;
}

/** An error whose message is safe to show to the user, with an HTTP-like status. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 | 500 = 400,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}
