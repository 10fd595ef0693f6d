/**
 * Learning from corrections in the app: the status the UI shows (heads installed or not, corrections
 * against the minimum, the last result), a fine-tune started in the background — in a worker thread
 * (main/learning/learn-worker.ts), so the process answering the UI never blocks — and revert.
 *
 * Installing or reverting only rewrites the heads folder: every scan starts fresh analysis workers,
 * whose analyzer reads the manifest (`measuredAssignment`, `loadHeads` in main/engine/attributes/heads.ts),
 * so the scans after a fine-tune or a revert use the heads then active. What a fine-tune measured is
 * kept in the heads folder's learning.json (main/learning/learn.ts) and survives restarts.
 */
import type { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ApiError } from '../api/backend.js';
import type {
  Attribute,
  HeadsInfo,
  LearningAttributeResult,
  LearningProgress,
  LearningResult,
  LearningStatus,
} from '../api/contract.js';
import {
  HEAD_TASKS,
  type HeadTask,
  type HeadsEntry,
  activeHeadsDir,
  readHeadsManifest,
  shippedHeadsDir,
} from '../engine/attributes/heads.js';
import type { Provider } from '../engine/sessions.js';
import { DEFAULT_FINE_TUNE } from './corrections.js';
import { type LearnRecord, readLearnRecord } from './learn.js';
import { revertHeads } from './store.js';
import { ATTRIBUTES } from '../library/attributes.js';
import type { Db } from '../library/db.js';
import { LearningRepository } from '../library/repositories/learning.js';
import type { LearnFromWorker, LearnWorkerConfig } from './learn-protocol.js';
import { spawnModuleWorker } from '../library/worker-pool.js';

/** Progress events at most this often while faces are embedded. */
const PROGRESS_EVERY_MS = 250;

const ATTRIBUTE_OF: Partial<Record<HeadTask, Attribute>> = {
  age: 'ageGroup',
  gender: 'gender',
  ethnicity: 'ethnicity',
  emotion: 'emotion',
};

export interface LearningOptions {
  db: Db;
  dbPath: string;
  headsDir: string;
  minCorrections?: number;
  /** Execution providers from the settings (undefined: automatic). */
  providers: () => Provider[] | undefined;
  /** Called with the new status whenever it changes. */
  emit: (status: LearningStatus) => void;
}

function info(entry: HeadsEntry): HeadsInfo {
  return { origin: entry.origin, createdAt: entry.createdAt };
}

export class Learning {
  private worker: Worker | null = null;
  private running: LearningProgress | null = null;
  private lastError: LearningStatus['lastError'] = null;
  private finished: Promise<void> = Promise.resolve();
  private lastEmit = 0;
  private readonly repository: LearningRepository;

  constructor(private readonly options: LearningOptions) {
    this.repository = new LearningRepository(options.db);
  }

  get minimum(): number {
    return this.options.minCorrections ?? DEFAULT_FINE_TUNE.minCorrections;
  }

  /** Resolves when the fine-tune in progress (if any) has ended, however it ended. */
  idle(): Promise<void> {
    return this.finished;
  }

  status(): LearningStatus {
    // The heads in use: the user's, else the shipped ones ([Note: heads in use]).
    const dir = activeHeadsDir(this.options.headsDir);
    const shipped = shippedHeadsDir();
    let heads: HeadsInfo | null = null;
    let previous: HeadsInfo | null = null;
    let headsProblem: string | null = null;
    let activeSha: string | null = null;
    try {
      const manifest = readHeadsManifest(dir);
      const active = manifest?.active;
      if (active) {
        if (existsSync(path.join(dir, active.file))) {
          heads = info(active);
          activeSha = active.sha256;
        } else headsProblem = `the heads file ${active.file} is missing from ${dir}`;
      }
      const earlier = manifest?.history[0];
      if (earlier && existsSync(path.join(dir, earlier.file))) previous = info(earlier);
      else if (active && shipped && dir !== shipped) {
        const fallback = readHeadsManifest(shipped)?.active;
        if (fallback) previous = info(fallback);
      }
    } catch (err) {
      headsProblem = `cannot read ${path.join(dir, 'manifest.json')}: ${(err as Error).message}`;
    }
    const perAttribute = Object.fromEntries(ATTRIBUTES.map((a) => [a, 0])) as Record<Attribute, number>;
    for (const row of this.repository.correctionCounts()) {
      if (row.attribute in perAttribute) perAttribute[row.attribute as Attribute] = row.n;
    }
    const total = Object.values(perAttribute).reduce((a, b) => a + b, 0);
    const record = readLearnRecord(this.options.headsDir);
    const blocked = this.running
      ? 'A fine-tune is running.'
      : headsProblem
        ? `The heads cannot be used: ${headsProblem}. Train them again with \`npx facets train-heads\`.`
        : !heads
          ? 'No heads are installed: the heads that ship with Facets are missing from its models folder ' +
            '(reinstall Facets, or train heads with `npx facets train-heads`).'
          : total < this.minimum
            ? `${total} of ${this.minimum} corrections: correct ${this.minimum - total} more ` +
              `face attribute${this.minimum - total === 1 ? '' : 's'} first.`
            : null;
    return {
      heads,
      headsDir: dir,
      headsProblem,
      corrections: { total, minimum: this.minimum, perAttribute },
      running: this.running,
      lastResult: record ? this.result(record, activeSha) : null,
      lastError: this.lastError,
      previous,
      canStart: blocked === null,
      blocked,
    };
  }

  start(): LearningStatus {
    const status = this.status();
    if (status.blocked) throw new ApiError(status.blocked, 409);
    const config: LearnWorkerConfig = {
      dbPath: this.options.dbPath,
      headsDir: this.options.headsDir,
      minCorrections: this.minimum,
    };
    const providers = this.options.providers();
    if (providers) config.providers = providers;
    this.lastError = null;
    this.running = { stage: 'starting', done: 0, total: 0, startedAt: new Date().toISOString() };
    const worker = spawnModuleWorker('learn-worker', config, import.meta.url);
    this.worker = worker;
    let settled = false;
    this.finished = new Promise<void>((resolve) => {
      const end = (error: string | null) => {
        if (settled) return;
        settled = true;
        this.worker = null;
        this.running = null;
        if (error) this.lastError = { message: error, at: new Date().toISOString() };
        this.emit();
        resolve();
      };
      worker.on('message', (message: LearnFromWorker) => {
        if (message.type === 'progress') {
          const stageChanged = message.progress.stage !== this.running?.stage;
          if (this.running) this.running = { ...this.running, ...message.progress };
          if (stageChanged || performance.now() - this.lastEmit > PROGRESS_EVERY_MS) this.emit();
        } else if (message.type === 'done') end(null);
        else end(`The fine-tune failed: ${message.error}`);
      });
      worker.on('error', (err) => end(`The fine-tune failed: ${err.message}`));
      worker.on('exit', (code) => end(code === 0 ? null : `The fine-tune stopped unexpectedly (exit code ${code}).`));
    });
    return this.emit();
  }

  revert(): LearningStatus {
    if (this.running) throw new ApiError('A fine-tune is running: revert when it has finished.', 409);
    const { previous, headsProblem } = this.status();
    if (!previous) {
      throw new ApiError(headsProblem ?? 'There are no earlier heads to revert to.', 409);
    }
    try {
      revertHeads(this.options.headsDir);
    } catch (err) {
      throw new ApiError(`Cannot revert: ${(err as Error).message}`, 409);
    }
    return this.emit();
  }

  async close(): Promise<void> {
    const worker = this.worker;
    if (worker) {
      this.lastError = { message: 'The fine-tune was stopped: Facets closed.', at: new Date().toISOString() };
      await worker.terminate();
    }
    await this.finished;
  }

  /** Sends the status to the UI and returns it. */
  private emit(): LearningStatus {
    this.lastEmit = performance.now();
    const status = this.status();
    this.options.emit(status);
    return status;
  }

  private result(record: LearnRecord, activeSha: string | null): LearningResult {
    const attributes: LearningAttributeResult[] = [];
    for (const task of HEAD_TASKS) {
      const a = record.attributes[task];
      const attribute = ATTRIBUTE_OF[task];
      if (!a || !attribute) continue;
      attributes.push({
        attribute,
        before: a.before,
        after: a.after,
        count: a.count,
        kept: a.kept,
      });
    }
    return {
      finishedAt: record.finishedAt,
      seconds: record.seconds,
      corrections: record.corrections,
      confirmations: record.confirmations,
      faces: {
        fineTuned: record.faces.fineTuned,
        heldOut: record.faces.heldOut,
        anchors: record.faces.anchors,
        skipped: record.faces.skipped,
      },
      overall: record.overall,
      attributes,
      installed: record.installed !== null,
      inUse: record.installed !== null && record.installed === activeSha,
      thisLibrary: path.resolve(record.db) === path.resolve(this.options.dbPath),
    };
  }
}
