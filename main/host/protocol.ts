/**
 * Messages between the main process and the backend host (a utility process in the desktop app, a
 * worker thread under Node). [Note: backend host] in remote-backend.ts says why the backend lives there.
 * Everything here is structured-clone data: a port carries it as is.
 */
import type { BackendOptions, MediaFile } from '../api/backend.js';
import type { Channel, EventName, MediaKind } from '../api/contract.js';

export type ToHost =
  | { type: 'open'; options: BackendOptions }
  | { type: 'invoke'; id: number; channel: Channel; request: unknown }
  | { type: 'media'; id: number; kind: MediaKind; mediaId: number }
  | { type: 'close' };

export interface HostError {
  message: string;
  /** Set for ApiError (a message for the user with its status); absent for internal failures. */
  status?: 400 | 404 | 409 | 500;
}

export type FromHost =
  | { type: 'ready' }
  | { type: 'failed'; error: string }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'media-result'; id: number; file: MediaFile }
  | { type: 'error'; id: number; error: HostError }
  | { type: 'event'; name: EventName; payload: unknown }
  | { type: 'closed' };

/** The two ends of a port, whatever carries it (MessagePortMain, a worker's parentPort, a MessagePort). */
export interface HostPort {
  post(message: ToHost | FromHost): void;
  onMessage(listener: (message: unknown) => void): void;
}
