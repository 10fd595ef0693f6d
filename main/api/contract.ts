/**
 * The one contract between the renderer and the back end, used by both transports (Electron IPC via
 * preload/preload.ts and main/electron/ipc.ts; HTTP in web mode). Each channel names its request and
 * response types; handlers on the main side and the client on the renderer side are typed from it.
 *
 * Design note "api-contract": adding a channel means changing this file, its handler in
 * main/api/handlers.ts, and nothing else — both transports derive from the `CHANNELS` list.
 */
export interface AppInfo {
  name: string;
  version: string;
  platform: string;
}

export interface Api {
  'app:info': { request: void; response: AppInfo };
}

export type Channel = keyof Api;
export type Request<C extends Channel> = Api[C]['request'];
export type Response<C extends Channel> = Api[C]['response'];

/** Runtime list of channels; the type check below keeps it equal to the keys of `Api`. */
export const CHANNELS = ['app:info'] as const satisfies readonly Channel[];
type Missing = Exclude<Channel, (typeof CHANNELS)[number]>;
const _exhaustive: Missing extends never ? true : never = true;
void _exhaustive;

export function isChannel(value: unknown): value is Channel {
  return typeof value === 'string' && (CHANNELS as readonly string[]).includes(value);
}

/** What the preload exposes as `window.facets` (and what the web client implements). */
export interface FacetsBridge {
  invoke<C extends Channel>(channel: C, request: Request<C>): Promise<Response<C>>;
}
