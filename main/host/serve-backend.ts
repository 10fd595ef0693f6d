/**
 * The host's side: opens the backend when asked and answers the main process's messages over a port.
 * The entry points (host-worker.ts under Node, main/electron/host-utility.ts in a utility process) only
 * adapt their port to `HostPort`.
 */
import { ApiError, type Backend, type BackendOptions } from '../api/backend.js';
import { EVENTS } from '../api/contract.js';
import type { FromHost, HostError, HostPort, ToHost } from './protocol.js';

export function serveBackend(
  port: HostPort,
  open: (options: BackendOptions) => Promise<Backend>,
  onClosed: () => void = () => undefined,
): void {
  let backend: Backend | null = null;
  const post = (message: FromHost) => port.post(message);
  const failure = (err: unknown): HostError =>
    err instanceof ApiError ? { message: err.message, status: err.status } : { message: (err as Error).message };

  port.onMessage((raw) => {
    const message = raw as ToHost;
    switch (message.type) {
      case 'open':
        open(message.options).then(
          (opened) => {
            backend = opened;
            for (const name of EVENTS) opened.on(name, (payload) => post({ type: 'event', name, payload }));
            post({ type: 'ready' });
          },
          (err: unknown) => post({ type: 'failed', error: (err as Error).message }),
        );
        return;
      case 'invoke':
        if (!backend) return post({ type: 'error', id: message.id, error: { message: 'the library is not open' } });
        backend.handle(message.channel, message.request).then(
          (result) => post({ type: 'result', id: message.id, result }),
          (err: unknown) => post({ type: 'error', id: message.id, error: failure(err) }),
        );
        return;
      case 'media':
        if (!backend) return post({ type: 'error', id: message.id, error: { message: 'the library is not open' } });
        backend.media(message.kind, message.mediaId).then(
          (file) => post({ type: 'media-result', id: message.id, file }),
          (err: unknown) => post({ type: 'error', id: message.id, error: failure(err) }),
        );
        return;
      case 'close':
        void (backend?.close() ?? Promise.resolve()).finally(() => {
          post({ type: 'closed' });
          onClosed();
        });
        return;
    }
  });
}
