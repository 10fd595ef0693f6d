/**
 * The worker thread a fine-tune on the library's corrections runs in (main/learning/learning.ts), so
 * embedding faces and training never block the process that answers the UI. It runs once and exits.
 *
 * Plain node:worker_threads, no Electron imports: the same file serves web mode and the desktop app.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ModelStore } from '../engine/sessions.js';
import { learnFromLibrary } from './learn.js';
import { modelsDir } from '../paths.js';
import type { LearnFromWorker, LearnWorkerConfig } from './learn-protocol.js';

if (!parentPort) throw new Error('learn-worker.ts runs as a worker thread');
const port = parentPort;
const config = workerData as LearnWorkerConfig;

function post(message: LearnFromWorker): void {
  port.postMessage(message);
}

const models = new ModelStore(modelsDir(), {
  ...(config.providers ? { providers: config.providers } : {}),
  intraOpThreads: 1,
});

learnFromLibrary(models, config.dbPath, {
  dir: config.headsDir,
  minCorrections: config.minCorrections,
  progress: (progress) => post({ type: 'progress', progress }),
})
  .then(
    (record) => post({ type: 'done', record }),
    (err: unknown) => post({ type: 'failed', error: err instanceof Error ? err.message : String(err) }),
  )
  .finally(() => models.release())
  .catch(() => undefined);
