/**
 * The backend host as an Electron utility process ([Note: backend host] in remote-backend.ts). Plain
 * Node apart from `process.parentPort`, which Electron gives a utility process: the main process sends a
 * MessagePort over it first, and every message after goes over that port.
 */
import { openBackend } from '../library/backend.js';
import { serveBackend } from './serve-backend.js';

interface PortMain {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
  start(): void;
  close(): void;
}
interface ParentPort {
  once(event: 'message', listener: (event: { data: unknown; ports: PortMain[] }) => void): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (!parentPort) throw new Error('host-utility-entry.ts runs as an Electron utility process');
parentPort.once('message', ({ ports }) => {
  const port = ports[0];
  if (!port) throw new Error('the main process sent no port');
  serveBackend(
    { post: (m) => port.postMessage(m), onMessage: (listener) => port.on('message', (e) => listener(e.data)) },
    (options) => openBackend(options),
    () => {
      port.close();
      process.exit(0);
    },
  );
  port.start();
});
