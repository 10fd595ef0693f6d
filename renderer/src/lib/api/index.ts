/**
 * Picks the transport at startup: the preload's `window.facets` in the desktop app, else the HTTP
 * client of web mode. Everything else in the renderer sees only `FacetsBridge`.
 */
import type { FacetsBridge } from '../../../../main/api/contract.js';
import { HttpBridge, readCredentials } from './http.js';

export type * from '../../../../main/api/contract.js';
export { AGE_GROUPS, EMOTIONS, ETHNICITIES, GENDERS, idleScanProgress } from '../../../../main/api/contract.js';
export { HttpBridge, type ConnectionState, type WebCredentials } from './http.js';

declare global {
  interface Window {
    facets?: FacetsBridge;
  }
}

export function connectBridge(): FacetsBridge {
  return window.facets ?? new HttpBridge(readCredentials(window.location, window.history, window.sessionStorage));
}
