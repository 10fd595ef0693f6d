/**
 * The preload exposes exactly the API contract as `window.facets`, nothing more. Bundled to one
 * CommonJS file (dist/preload/preload.cjs) because sandboxed preloads cannot load other modules.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { type Channel, type FacetsBridge, isChannel, type Request, type Response } from '../main/api/contract.js';

const bridge: FacetsBridge = {
  invoke<C extends Channel>(channel: C, request: Request<C>): Promise<Response<C>> {
    if (!isChannel(channel)) return Promise.reject(new Error(`unknown channel ${String(channel)}`));
    return ipcRenderer.invoke(channel, request) as Promise<Response<C>>;
  },
};

contextBridge.exposeInMainWorld('facets', bridge);
