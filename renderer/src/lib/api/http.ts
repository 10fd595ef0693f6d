/**
 * Web mode's `FacetsBridge`: the API contract over `POST /api/<channel>`, events over server-sent
 * events (`GET /api/events`, read through fetch so that it can carry the header), media from
 * `GET /media/<media key>/<kind>/<id>`. The secrets come from the printed URL's fragment, are kept in
 * memory and in this origin's sessionStorage (so a reload stays signed in), and leave the address bar at
 * once; the token is sent only as an `Authorization` header, never as a cookie.
 * [Note: web-mode credentials] in main/server/web-server.ts says why.
 */
import {
  type Channel,
  EVENTS,
  type EventName,
  type Events,
  type FacetsBridge,
  type MediaKind,
  type Request,
  type Response as ApiResponse,
} from '../../../../main/api/contract.js';

export type ConnectionState = 'connecting' | 'open' | 'lost';

type Listener = (payload: never) => void;

export interface WebCredentials {
  token: string;
  media: string;
}

const STORAGE_KEY = 'facets-web-credentials';

/** Takes the secrets from `#token=…&media=…` (removing them from the address bar), else from this tab's storage. */
export function readCredentials(location: Location, history: History, storage: Storage): WebCredentials | null {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ''));
  const token = fragment.get('token');
  const media = fragment.get('media');
  if (token && media) {
    history.replaceState(null, '', `${location.pathname}${location.search}`);
    storage.setItem(STORAGE_KEY, JSON.stringify({ token, media }));
    return { token, media };
  }
  try {
    const stored = JSON.parse(storage.getItem(STORAGE_KEY) ?? 'null') as Partial<WebCredentials> | null;
    return typeof stored?.token === 'string' && typeof stored.media === 'string'
      ? { token: stored.token, media: stored.media }
      : null;
  } catch {
    return null;
  }
}

/** Splits a server-sent event stream into events; returns the unparsed rest. */
export function parseEventStream(buffer: string, emit: (event: string, data: string) => void): string {
  const blocks = buffer.split(/\r?\n\r?\n/);
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) emit(event, data.join('\n'));
  }
  return rest;
}

const RECONNECT_MS = 2000;

export class HttpBridge implements FacetsBridge {
  readonly #base: string;
  readonly #credentials: WebCredentials | null;
  #streaming = false;
  #state: ConnectionState = 'connecting';
  readonly #listeners = new Map<EventName, Set<Listener>>();
  readonly #connectionListeners = new Set<(state: ConnectionState) => void>();

  constructor(credentials: WebCredentials | null, base = '') {
    this.#credentials = credentials;
    this.#base = base;
  }

  #headers(): Record<string, string> {
    return this.#credentials ? { Authorization: `Bearer ${this.#credentials.token}` } : {};
  }

  async invoke<C extends Channel>(channel: C, request: Request<C>): Promise<ApiResponse<C>> {
    const init: RequestInit = {
      method: 'POST',
      credentials: 'omit',
      headers: { ...this.#headers(), Accept: 'application/json' },
    };
    if (request !== undefined) {
      init.headers = { ...this.#headers(), Accept: 'application/json', 'Content-Type': 'application/json' };
      init.body = JSON.stringify(request);
    }
    let res: Response;
    try {
      res = await fetch(`${this.#base}/api/${channel}`, init);
    } catch {
      throw new Error('Facets is not reachable. Is facets serve still running?');
    }
    let body: { result?: ApiResponse<C>; error?: string };
    try {
      body = (await res.json()) as typeof body;
    } catch {
      throw new Error(`Facets answered with HTTP ${res.status}`);
    }
    if (res.status === 401) throw new Error('This page is no longer signed in: open the URL facets serve printed.');
    if (!res.ok || body.error !== undefined) throw new Error(body.error ?? `HTTP ${res.status}`);
    return body.result as ApiResponse<C>;
  }

  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener as Listener);
    this.#connect();
    return () => {
      set.delete(listener as Listener);
    };
  }

  mediaUrl(kind: MediaKind, id: number): string {
    return `${this.#base}/media/${this.#credentials?.media ?? '-'}/${kind}/${id}`;
  }

  /** Follows the event stream's health; called at once with the current state. */
  onConnection(listener: (state: ConnectionState) => void): () => void {
    this.#connectionListeners.add(listener);
    listener(this.#state);
    this.#connect();
    return () => {
      this.#connectionListeners.delete(listener);
    };
  }

  #setState(state: ConnectionState): void {
    if (state === this.#state) return;
    this.#state = state;
    for (const listener of this.#connectionListeners) listener(state);
  }

  #connect(): void {
    if (this.#streaming) return;
    this.#streaming = true;
    void this.#stream();
  }

  #dispatch(name: string, data: string): void {
    if (!(EVENTS as readonly string[]).includes(name)) return;
    let payload: unknown;
    try {
      payload = JSON.parse(data);
    } catch {
      return;
    }
    for (const listener of this.#listeners.get(name as EventName) ?? []) {
      try {
        (listener as (p: unknown) => void)(payload);
      } catch (err) {
        // A listener's bug must not cut the stream: report it as an uncaught error, as EventSource would.
        setTimeout(() => {
          throw err;
        });
      }
    }
  }

  /** Reads the event stream until it ends, then reconnects, for as long as the page lives. */
  async #stream(): Promise<void> {
    for (;;) {
      try {
        const res = await fetch(`${this.#base}/api/events`, {
          credentials: 'omit',
          headers: { ...this.#headers(), Accept: 'text/event-stream' },
        });
        if (res.status === 401) return this.#setState('lost');
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        this.#setState('open');
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer = parseEventStream(buffer + value, (name, data) => this.#dispatch(name, data));
        }
      } catch {
        // Unreachable or cut off: say so and try again.
      }
      this.#setState('connecting');
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
    }
  }
}
