/** The backend host as a worker thread (plain Node: tests, and any Node embedding of the host). */
import { parentPort } from 'node:worker_threads';
import { openBackend } from '../library/backend.js';
import { serveBackend } from './serve-backend.js';

if (!parentPort) throw new Error('host-worker.ts runs as a worker thread');
const port = parentPort;
serveBackend(
  { post: (m) => port.postMessage(m), onMessage: (listener) => port.on('message', listener) },
  (options) => openBackend(options),
  () => port.close(),
);
