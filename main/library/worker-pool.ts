/**
 * A pool of analysis worker threads. Each worker takes up to two jobs at a time, so it decodes the
 * next photo while running the networks on the current one.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { AnalysisJob, FromWorker, JobResult, ToWorker, WorkerConfig } from './worker-protocol.js';

export const JOBS_PER_WORKER = 2;

export interface PoolSize {
  workers: number;
  intraOpThreads: number;
}

/**
 * Memory budgeted per analysis worker. Measured 2026-12-04 (200 photos at 1920×1280, `facets scan`, peak
 * RSS of the process): 0.63 GB with one worker, 0.95 GB with two — about 0.32 GB a worker beyond the
 * process itself, since no session keeps an arena ([Note: session memory] in main/engine/sessions.ts;
 * with arenas a worker had reached ~2.1 GB on afw-dev). Budgeted at over twice that for photos with
 * many faces.
 */
const WORKER_MEMORY_BYTES = 0.75 * 1024 ** 3;
const MAX_DEFAULT_WORKERS = 8;

/**
 * Workers and onnxruntime threads from the core count, chosen by measurement (afw-dev, 110 photos,
 * 2 cores): 2 workers × 1 thread 3.3 photos/s, 1 × 1 1.9, 1 × 2 1.2, 2 × 2 1.6. Most of an image's
 * time is single-threaded JS (pyramid, crops, NMS) around many small inferences, so a core serves
 * best as a worker of its own with one intra-op thread, not as extra threads inside a session.
 * Workers are capped by memory (half the machine's RAM at 0.75 GB each) and at 8.
 */
export function defaultPoolSize(
  cores = os.availableParallelism(),
  workers?: number,
  intraOpThreads?: number,
  memoryBytes = os.totalmem(),
): PoolSize {
  const byMemory = Math.max(1, Math.floor(memoryBytes / 2 / WORKER_MEMORY_BYTES));
  const w = Math.max(1, workers ?? Math.min(cores, byMemory, MAX_DEFAULT_WORKERS));
  return { workers: w, intraOpThreads: Math.max(1, intraOpThreads ?? 1) };
}

/**
 * Starts a worker thread on a module of the folder of `from` (default: this one; `name` without
 * extension): the compiled `.js` as is, the TypeScript source (tests, tsx) through tsx's loader.
 */
export function spawnModuleWorker(name: string, workerData: unknown, from: string = import.meta.url): Worker {
  const fromSources = from.endsWith('.ts');
  const entry = new URL(`./${name}${fromSources ? '.ts' : '.js'}`, from);
  if (!fromSources) return printingToStderr(new Worker(entry, { workerData, stdout: true }));
  // `execArgv: ['--import', 'tsx']` does not reach a worker's own module loader on Node 20, so the
  // worker registers tsx itself before importing the TypeScript entry.
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return printingToStderr(new Worker(bootstrap, { eval: true, workerData, stdout: true }));
}

/**
 * A worker's stdout goes to the process's stderr: stdout carries the CLI's machine output
 * (`scan --json`), and libraries print there (libheif's WebAssembly build logs a HEIC it cannot decode
 * with console.log, which broke the JSON of a scan with an AV1-coded HEIC).
 */
function printingToStderr(worker: Worker): Worker {
  worker.stdout.pipe(process.stderr, { end: false });
  return worker;
}

interface Pending {
  job: AnalysisJob;
  resolve: (result: JobResult) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  inFlight: Map<number, Pending>;
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  /** Every worker spawned, ready or not, so close() ends them all. */
  private readonly spawned: Worker[] = [];
  private readonly queue: Pending[] = [];
  private failure: Error | null = null;

  private constructor(readonly size: PoolSize) {}

  /** Spawns the workers and waits until each has loaded its models; rejects if any cannot. */
  static async start(config: Omit<WorkerConfig, 'intraOpThreads'>, size: PoolSize): Promise<WorkerPool> {
    const pool = new WorkerPool(size);
    try {
      await Promise.all(
        Array.from({ length: size.workers }, () => pool.add({ ...config, intraOpThreads: size.intraOpThreads })),
      );
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Jobs the pool runs at once. */
  get capacity(): number {
    return this.size.workers * JOBS_PER_WORKER;
  }

  /** Analyses one photo. Rejects only when the pool itself fails (a worker crashed or lost its models). */
  run(job: AnalysisJob): Promise<JobResult> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.slots.length = 0;
    await Promise.all(this.spawned.splice(0).map((w) => w.terminate()));
  }

  private add(config: WorkerConfig): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = spawnModuleWorker('worker', config);
      this.spawned.push(worker);
      const slot: Slot = { worker, inFlight: new Map() };
      let ready = false;
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          ready = true;
          this.slots.push(slot);
          resolve();
          this.dispatch();
        } else if (message.type === 'fatal') {
          const err = new Error(message.error);
          if (ready) this.fail(err);
          else reject(err);
        } else {
          const pending = slot.inFlight.get(message.result.id);
          slot.inFlight.delete(message.result.id);
          pending?.resolve(message.result);
          this.dispatch();
        }
      });
      worker.on('error', (err) => (ready ? this.fail(err) : reject(err)));
      worker.on('exit', (code) => {
        const stillListed = this.slots.includes(slot);
        if (!ready) reject(new Error(`analysis worker exited with code ${code} while starting`));
        else if (stillListed) this.fail(new Error(`analysis worker stopped unexpectedly (exit code ${code})`));
      });
    });
  }

  private dispatch(): void {
    if (this.failure) return;
    while (this.queue.length > 0) {
      const slot = this.slots
        .filter((s) => s.inFlight.size < JOBS_PER_WORKER)
        .sort((a, b) => a.inFlight.size - b.inFlight.size)[0];
      if (!slot) return;
      const next = this.queue.shift();
      if (!next) return;
      slot.inFlight.set(next.job.id, next);
      slot.worker.postMessage({ type: 'job', job: next.job } satisfies ToWorker);
    }
  }

  /** A worker failed for good: every pending job is rejected, and so is every later one. */
  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const pending = [...this.queue.splice(0), ...this.slots.flatMap((s) => [...s.inFlight.values()])];
    for (const s of this.slots) s.inFlight.clear();
    for (const p of pending) p.reject(err);
  }
}
