/**
 * Web mode's `FacetsBridge`: the API contract over `POST /api/<channel>`, events over server-sent
 * events (`GET /api/events`), media from `GET /media/<kind>/<id>`. The session cookie set by the
 * printed URL authorises every request; no token is ever visible to this code.
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

export class HttpBridge implements FacetsBridge {
  readonly #base: string;
  #source: EventSource | null = null;
  #state: ConnectionState = 'connecting';
  readonly #listeners = new Map<EventName, Set<Listener>>();
  readonly #connectionListeners = new Set<(state: ConnectionState) => void>();

  constructor(base = '') {
    this.#base = base;
  }

  async invoke<C extends Channel>(channel: C, request: Request<C>): Promise<ApiResponse<C>> {
    const init: RequestInit = { method: 'POST', credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (request !== undefined) {
      init.headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
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
    return `${this.#base}/media/${kind}/${id}`;
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
    if (this.#source) return;
    const source = new EventSource(`${this.#base}/api/events`, { withCredentials: true });
    this.#source = source;
    for (const name of EVENTS) {
      source.addEventListener(name, (e: MessageEvent<string>) => {
        let payload: unknown;
        try {
          payload = JSON.parse(e.data);
        } catch {
          return;
        }
        for (const listener of this.#listeners.get(name) ?? []) (listener as (p: unknown) => void)(payload);
      });
    }
    source.onopen = () => this.#setState('open');
    // EventSource retries by itself; the state says so meanwhile.
    source.onerror = () => this.#setState(source.readyState === EventSource.CLOSED ? 'lost' : 'connecting');
  }
}
