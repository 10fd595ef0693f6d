/**
 * The preload exposes exactly the API contract (`FacetsBridge`) as `window.facets`, nothing more.
 * Bundled to one CommonJS file (dist/preload/preload.cjs) because sandboxed preloads cannot load other
 * modules; it imports only types and small runtime constants.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import {
  type Channel,
  type EventName,
  type Events,
  type FacetsBridge,
  type MediaKind,
  type Request,
  type Response,
  isChannel,
  isEventName,
} from '../main/api/contract.js';
import { CHOOSE_FOLDER, MEDIA_KINDS, MEDIA_SCHEME, SHOW_IN_FOLDER, remoteMessage } from '../main/electron/bridge.js';

function rethrow(err: unknown): never {
  throw new Error(remoteMessage(err instanceof Error ? err.message : String(err)));
}

const bridge: FacetsBridge = {
  invoke<C extends Channel>(channel: C, request: Request<C>): Promise<Response<C>> {
    if (!isChannel(channel)) return Promise.reject(new Error(`unknown channel ${String(channel)}`));
    return (ipcRenderer.invoke(channel, request) as Promise<Response<C>>).catch(rethrow);
  },
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
    if (!isEventName(event)) throw new Error(`unknown event ${String(event)}`);
    const forward = (_event: IpcRendererEvent, payload: Events[E]) => listener(payload);
    ipcRenderer.on(event, forward);
    return () => {
      ipcRenderer.removeListener(event, forward);
    };
  },
  mediaUrl(kind: MediaKind, id: number): string {
    if (!(MEDIA_KINDS as readonly string[]).includes(kind) || !Number.isSafeInteger(id) || id < 1) {
      throw new Error(`bad media request ${String(kind)}/${String(id)}`);
    }
    return `${MEDIA_SCHEME}://${kind}/${id}`;
  },
  chooseFolder(): Promise<string | null> {
    return (ipcRenderer.invoke(CHOOSE_FOLDER) as Promise<string | null>).catch(rethrow);
  },
  showInFolder(photoId: number): Promise<void> {
    if (!Number.isSafeInteger(photoId) || photoId < 1) return Promise.reject(new Error('bad photo id'));
    return (ipcRenderer.invoke(SHOW_IN_FOLDER, photoId) as Promise<void>).catch(rethrow);
  },
};

contextBridge.exposeInMainWorld('facets', bridge);
