/** Starts the backend host as a worker thread (plain Node): the spawner `RemoteBackend` takes. */
import { Worker } from 'node:worker_threads';
import type { HostProcess } from './remote-backend.js';

export function spawnWorkerHost(): HostProcess {
  const fromSources = import.meta.url.endsWith('.ts');
  const entry = new URL(`./host-worker${fromSources ? '.ts' : '.js'}`, import.meta.url);
  let worker: Worker;
  if (fromSources) {
    // As in library/worker-pool.ts: a worker registers tsx itself before importing TypeScript.
    const tsx = import.meta.resolve('tsx/esm/api');
    const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
    worker = new Worker(bootstrap, { eval: true });
  } else worker = new Worker(entry);
  return {
    port: { post: (m) => worker.postMessage(m), onMessage: (listener) => worker.on('message', listener) },
    onExit: (listener) => {
      worker.on('exit', (code) => listener(code));
      worker.on('error', () => undefined); // an uncaught error ends the worker: 'exit' follows
    },
    kill: () => void worker.terminate(),
  };
}
