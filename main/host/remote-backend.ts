/**
 * [Note: backend host] The backend — synchronous SQLite, the scanner, up to 8 inference workers,
 * fine-tuning — used to run inside Electron's main process: a long facet query stalled input, and a
 * native crash in onnxruntime or libvips took the whole app down with it. It now runs in a host of its
 * own (an Electron utilityProcess in the desktop app, main/electron/host-utility.ts; a worker thread under
 * plain Node, host-worker.ts), and the main process keeps windows, menus, the media protocol and relays
 * the typed contract over a port (protocol.ts). `RemoteBackend` is that relay: it implements the same
 * `Backend` as the library, so IPC and the media protocol do not know the difference; when the host dies
 * it fails the calls in flight, says so (`onState`), and starts a new host on the same library, a few
 * times in a row at most. `facets serve` runs the same backend in its own Node process.
 */
import { EventEmitter } from 'node:events';
import { ApiError, type Backend, type BackendOptions, type MediaFile } from '../api/backend.js';
import type { Channel, EventName, Events, MediaKind, Response } from '../api/contract.js';
import type { FromHost, HostPort } from './protocol.js';

/** A running host: its port, how it ends, how to end it. */
export interface HostProcess {
  port: HostPort;
  onExit(listener: (code: number | null) => void): void;
  kill(): void;
}

export type HostState = 'starting' | 'ready' | 'restarting' | 'failed' | 'closed';

export interface RemoteBackendOptions {
  spawn: () => HostProcess;
  backend: BackendOptions;
  /** Restarts allowed within `restartWindowMs` before giving up (default 3 in a minute). */
  maxRestarts?: number;
  restartWindowMs?: number;
  /** First wait before a restart, doubled each time (default 250 ms). */
  restartDelayMs?: number;
  onState?: (state: HostState, detail?: string) => void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

export class RemoteBackend implements Backend {
  private readonly events = new EventEmitter();
  private readonly pending = new Map<number, Pending>();
  private host: HostProcess | null = null;
  private ready: Promise<void> = Promise.resolve();
  private ids = 0;
  private restarts: number[] = [];
  private closing = false;
  private state: HostState = 'starting';
  private closedSignal: (() => void) | null = null;

  private constructor(private readonly options: RemoteBackendOptions) {
    this.events.setMaxListeners(0);
  }

  /** Starts the host and opens the library in it; rejects if the library cannot be opened. */
  static async start(options: RemoteBackendOptions): Promise<RemoteBackend> {
    const remote = new RemoteBackend(options);
    try {
      await remote.launch();
    } catch (err) {
      remote.closing = true;
      remote.host?.kill();
      throw err;
    }
    return remote;
  }

  get hostState(): HostState {
    return this.state;
  }

  /** The host process now (tests kill it to see the restart). */
  get currentHost(): HostProcess | null {
    return this.host;
  }

  private setState(state: HostState, detail?: string): void {
    this.state = state;
    this.options.onState?.(state, detail);
  }

  private launch(): Promise<void> {
    const host = this.options.spawn();
    this.host = host;
    this.ready = new Promise<void>((resolve, reject) => {
      let opened = false;
      host.port.onMessage((raw) => {
        const message = raw as FromHost;
        if (message.type === 'ready') {
          opened = true;
          this.setState('ready');
          resolve();
        } else if (message.type === 'failed') {
          reject(new Error(message.error));
        } else this.receive(message);
      });
      host.onExit((code) => {
        if (this.host !== host) return;
        this.host = null;
        if (!opened) reject(new Error(`the library process exited (${code}) before the library was open`));
        this.onHostExit(code);
      });
    });
    host.port.post({ type: 'open', options: this.options.backend });
    return this.ready;
  }

  private receive(message: FromHost): void {
    switch (message.type) {
      case 'event':
        this.events.emit(message.name, message.payload);
        return;
      case 'result':
      case 'media-result': {
        const call = this.pending.get(message.id);
        this.pending.delete(message.id);
        call?.resolve(message.type === 'result' ? message.result : message.file);
        return;
      }
      case 'error': {
        const call = this.pending.get(message.id);
        this.pending.delete(message.id);
        const { error } = message;
        call?.reject(error.status ? new ApiError(error.message, error.status) : new Error(error.message));
        return;
      }
      case 'closed':
        this.closedSignal?.();
        return;
      default:
        return;
    }
  }

  private onHostExit(code: number | null): void {
    const lost = new ApiError('the library process stopped unexpectedly; Facets is restarting it', 500);
    for (const call of this.pending.values()) call.reject(lost);
    this.pending.clear();
    if (this.closing) {
      this.closedSignal?.();
      return;
    }
    const now = Date.now();
    const window = this.options.restartWindowMs ?? 60_000;
    this.restarts = this.restarts.filter((t) => now - t < window);
    if (this.restarts.length >= (this.options.maxRestarts ?? 3)) {
      this.setState('failed', `the library process keeps stopping (last exit code ${code})`);
      this.ready = Promise.reject(new ApiError('the library process keeps stopping; restart Facets', 500));
      this.ready.catch(() => undefined);
      return;
    }
    this.restarts.push(now);
    this.setState('restarting', `the library process stopped (exit code ${code}); restarting it`);
    const delay = (this.options.restartDelayMs ?? 250) * 2 ** (this.restarts.length - 1);
    this.ready = new Promise<void>((resolve, reject) => {
      setTimeout(() => this.launch().then(resolve, reject), delay);
    });
    this.ready.catch((err: unknown) => this.setState('failed', (err as Error).message));
  }

  private async call<T>(
    message:
      { type: 'invoke'; channel: Channel; request: unknown } | { type: 'media'; kind: MediaKind; mediaId: number },
  ): Promise<T> {
    if (this.closing) throw new ApiError('the library is closed', 409);
    await this.ready;
    const host = this.host;
    if (!host) throw new ApiError('the library process is not running', 500);
    const id = ++this.ids;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      host.port.post({ ...message, id });
    });
  }

  handle<C extends Channel>(channel: C, request: unknown): Promise<Response<C>> {
    return this.call<Response<C>>({ type: 'invoke', channel, request });
  }

  async media(kind: MediaKind, id: number): Promise<MediaFile> {
    const file = await this.call<MediaFile>({ type: 'media', kind, mediaId: id });
    // Bytes arrive as a Uint8Array over the port.
    return Buffer.isBuffer(file.body) || !(file.body instanceof Uint8Array)
      ? file
      : { ...file, body: Buffer.from(file.body.buffer, file.body.byteOffset, file.body.byteLength) };
  }

  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
    this.events.on(event, listener);
    return () => this.events.off(event, listener);
  }

  async close(timeoutMs = 15_000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const host = this.host;
    if (host) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          host.kill();
          resolve();
        }, timeoutMs);
        this.closedSignal = () => {
          clearTimeout(timer);
          resolve();
        };
        host.port.post({ type: 'close' });
      });
      host.kill();
    }
    this.setState('closed');
    this.events.removeAllListeners();
  }
}
