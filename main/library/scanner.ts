/**
 * Scans library roots into the catalog, incrementally:
 *
 * 1. The walk lists every photo file. A file whose (path, size, mtime) match its row is unchanged:
 *    no hashing, no decoding, no inference.
 * 2. Anything else is hashed. Content already in the library is never analysed again: the same
 *    content at a new path whose old file is gone is a move (the row follows the file, faces and
 *    corrections included); while the old file is still there it is a duplicate (faces copied).
 * 3. New content is analysed in worker threads; each result is committed in its own transaction.
 * 4. Once the walk has completed, rows under the walked roots that it did not see are marked
 *    missing (never deleted here: `purge` does that after a grace period).
 *
 * One scan at a time; pause, resume and cancel act between photos.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type ScanProgress, type ScanState, idleScanProgress } from '../api/contract.js';
import type { AnalyzerOptions } from '../engine/analyzer.js';
import type { Provider } from '../engine/sessions.js';
import type { Catalog } from './catalog.js';
import { now } from './db.js';
import { hashFile } from './hash.js';
import { tooLargeFile } from './limits.js';
import { RateMeter } from './progress.js';
import { acquireScanLock, removeTemporaryThumbnails } from './scan-lock.js';
import type { FolderProblemRepository } from './repositories/folder-problems.js';
import type { PhotoFile } from './repositories/photos.js';
import { type ScanCounts, type ScanRepository, ZERO_COUNTS } from './repositories/scans.js';
import { describeFsError, type WalkedFile, walkLibrary } from './walker.js';
import { WorkerPool, defaultPoolSize } from './worker-pool.js';

export interface ScannerOptions {
  catalog: Catalog;
  scans: ScanRepository;
  /** Thumbnail cache (never scanned itself, even inside a root). */
  cacheDir: string;
  /** Analysis worker threads and onnxruntime intra-op threads per worker (default: from the core count). */
  workers?: number;
  intraOpThreads?: number;
  analyzer?: Partial<AnalyzerOptions>;
  modelsDir?: string;
  providers?: Provider[];
  /** Exclusion patterns (see walker.ts). */
  exclude?: readonly string[];
  /**
   * Try every failed file again now. Without it, a failed file whose size and mtime did not change is
   * tried again when its backoff has passed (repositories/retries.ts).
   */
  retryFailed?: boolean;
  /** The library's scan lock (scan-lock.ts): one scan per library at a time, across processes. */
  lockFile?: string;
  /** Whether links out of the roots are followed (Settings['symlinks']; default 'follow'). */
  symlinks?: 'follow' | 'inside-folders';
  /** Where folders that cannot be listed are recorded for the Problems view. */
  folderProblems?: FolderProblemRepository;
  onProgress?: (progress: ScanProgress) => void;
  /** Photos added, changed, moved or marked missing. */
  onChanged?: (photoIds: number[]) => void;
}

export interface ScanSummary {
  scanId: number;
  state: 'completed' | 'cancelled' | 'failed';
  counts: ScanCounts;
  error: string | null;
  /** Folders that could not be listed (roots unplugged, permission denied). */
  warnings: { path: string; message: string }[];
  seconds: number;
}

const PROGRESS_INTERVAL_MS = 200;
const SAVE_COUNTS_INTERVAL_MS = 2000;

/**
 * Space kept free for the end of a scan: on a full disk SQLite cannot grow its WAL even to close the
 * scan's row, so a scan keeps a small file beside the database and deletes it to write its summary.
 */
const RESERVE_BYTES = 1024 * 1024;

function reserveSpace(file: string): { release(): void } {
  try {
    writeFileSync(file, Buffer.alloc(RESERVE_BYTES));
  } catch {
    rmSync(file, { force: true }); // already short of space: nothing to keep
  }
  return { release: () => rmSync(file, { force: true }) };
}

function describeFailure(err: Error): string {
  const code = (err as { code?: unknown }).code;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC') return `the disk is full: ${err.message}`;
  return err.message;
}

/** Hands out work as the walk finds it; `take` waits for more until the walk is done. */
class WorkQueue<T> {
  private readonly items: T[] = [];
  private waiting: (() => void)[] = [];
  private closed = false;

  push(item: T): void {
    this.items.push(item);
    this.wake();
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  async take(): Promise<T | undefined> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined || this.closed) return item;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }
}

/** Pause, resume and cancel, as the walk and the processors see them between photos. */
class RunControl {
  state: ScanState = 'scanning';
  private gate: Promise<void> | null = null;
  private openGate: (() => void) | null = null;

  pause(): boolean {
    if (this.state !== 'scanning') return false;
    this.state = 'paused';
    this.gate = new Promise((resolve) => (this.openGate = resolve));
    return true;
  }

  resume(): boolean {
    if (this.state !== 'paused') return false;
    this.state = 'scanning';
    this.release();
    return true;
  }

  cancel(): boolean {
    if (this.state !== 'scanning' && this.state !== 'paused') return false;
    this.state = 'cancelling';
    this.release();
    return true;
  }

  get cancelled(): boolean {
    return this.state === 'cancelling';
  }

  /** Waits while paused; false once the scan should stop. */
  async proceed(): Promise<boolean> {
    if (this.gate) await this.gate;
    return !this.cancelled;
  }

  private release(): void {
    this.openGate?.();
    this.openGate = null;
    this.gate = null;
  }
}

/** One scan from walk to summary: its counters, its queue, its worker pool. */
class ScanRun {
  readonly counts: ScanCounts = { ...ZERO_COUNTS };
  readonly rate = new RateMeter();
  done = 0;
  currentFile: string | null = null;
  private readonly seen = new Set<number>();
  private readonly queue = new WorkQueue<WalkedFile>();
  private readonly warnings: ScanSummary['warnings'] = [];
  private readonly unavailableRoots = new Set<string>();
  /** Files with the same content are resolved one after another, so the second sees the first's row. */
  private readonly hashLocks = new Map<string, Promise<void>>();
  private pool: Promise<WorkerPool> | null = null;
  private failure: Error | null = null;
  private jobIds = 0;
  private lastSave = performance.now();
  private scanId = 0;
  private startedAt = '';

  constructor(
    private readonly options: ScannerOptions,
    private readonly roots: readonly string[],
    private readonly control: RunControl,
    private readonly emit: (immediately?: boolean) => void,
  ) {}

  async execute(): Promise<ScanSummary> {
    const started = performance.now();
    this.startedAt = now();
    this.scanId = this.options.scans.start(now(), this.roots);
    this.emit(true);
    const concurrency = Math.max(4, defaultPoolSize(undefined, this.options.workers).workers * 2 + 2);
    const processors = Array.from({ length: concurrency }, () => this.processor());
    const reserve = this.options.lockFile ? reserveSpace(`${this.options.lockFile}.reserve`) : null;
    const walked = await this.walk()
      .catch((err: unknown) => {
        this.failure ??= err as Error;
        this.control.cancel();
        return false;
      })
      .finally(() => this.queue.close());
    await Promise.all(processors);
    if (walked && !this.failure && !this.control.cancelled) {
      try {
        for (const root of this.roots) this.options.folderProblems?.clearStale(root, this.startedAt);
        this.markMissing();
      } catch (err) {
        this.failure = err as Error;
      }
    }
    if (this.pool) await (await this.pool.catch(() => null))?.close();

    const state = this.failure ? 'failed' : this.control.cancelled ? 'cancelled' : 'completed';
    const error = this.failure ? describeFailure(this.failure) : null;
    try {
      this.options.scans.finish(this.scanId, now(), state, this.counts, error);
    } catch (err) {
      // A full disk: free the space kept for this moment, then close the scan's row with its summary.
      if (!reserve) throw err;
      reserve.release();
      this.options.scans.finish(this.scanId, now(), state, this.counts, error);
    } finally {
      reserve?.release();
    }
    return {
      scanId: this.scanId,
      state,
      counts: { ...this.counts },
      error,
      warnings: this.warnings,
      seconds: (performance.now() - started) / 1000,
    };
  }

  /** Lists the files; settles unchanged and unreadable ones at once, queues the rest. */
  private async walk(): Promise<boolean> {
    const { catalog } = this.options;
    const entries = walkLibrary(this.roots, {
      exclude: this.options.exclude ?? [],
      skipPaths: [this.options.cacheDir],
      ...(this.options.symlinks ? { symlinks: this.options.symlinks } : {}),
      onWarning: (where, message) => {
        this.warnings.push({ path: where, message });
        const root = this.roots.find((r) => where === r || where.startsWith(r + path.sep)) ?? where;
        this.options.folderProblems?.record(where, root, message, now());
        if (this.roots.includes(where)) this.unavailableRoots.add(where);
      },
    });
    for await (const entry of entries) {
      if (!(await this.control.proceed()) || this.failure) return false;
      this.counts.files++;
      const existing = catalog.photos.byPath(entry.path);
      if (entry.kind === 'unreadable') {
        if (existing?.status === 'error' && existing.error === entry.error) this.keep(existing.id, 'unchanged');
        else {
          const id = catalog.recordFailure({ path: entry.path, size: 0, mtimeMs: 0 }, null, 'error', entry.error);
          this.keep(id, 'failed', true);
        }
        this.finishItem(false);
      } else if (
        existing?.status === 'error' &&
        existing.size === entry.size &&
        existing.mtime_ms === entry.mtimeMs &&
        !existing.missing_since &&
        (this.options.retryFailed || catalog.retries.due(existing.id, new Date()))
      ) {
        // A failure may have been transient (permission denied, thumbnail folder blocked): try again.
        this.queue.push(entry);
      } else if (existing && existing.size === entry.size && existing.mtime_ms === entry.mtimeMs) {
        this.keep(existing.id, 'unchanged');
        if (existing.missing_since) {
          catalog.restore(existing.id);
          this.keep(existing.id, 'restored', true);
        }
        this.finishItem(false);
      } else {
        this.queue.push(entry);
      }
    }
    return true;
  }

  private async processor(): Promise<void> {
    for (;;) {
      if (!(await this.control.proceed()) || this.failure) return;
      const file = await this.queue.take();
      if (!file) return;
      try {
        await this.processFile(file);
        this.finishItem(true);
      } catch (err) {
        // Only the worker pool (or the database) fails like this: nothing more can be analysed.
        this.failure ??= err as Error;
        this.control.cancel();
      }
    }
  }

  private async processFile(file: WalkedFile): Promise<void> {
    this.currentFile = file.path;
    const tooLarge = tooLargeFile(file.size);
    if (tooLarge) {
      this.keep(this.options.catalog.recordFailure(file, null, 'unsupported', tooLarge), 'failed', true);
      return;
    }
    let hash: string;
    try {
      hash = await hashFile(file.path);
      this.counts.hashed++;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.counts.vanished++;
        return;
      }
      const id = this.options.catalog.recordFailure(
        file,
        null,
        'error',
        `cannot read the file: ${describeFsError(err)}`,
      );
      this.keep(id, 'failed', true);
      return;
    }
    const previous = this.hashLocks.get(hash) ?? Promise.resolve();
    const mine = previous.then(() => this.resolve(file, hash));
    const settled = mine.catch(() => undefined);
    this.hashLocks.set(hash, settled);
    try {
      await mine;
    } finally {
      if (this.hashLocks.get(hash) === settled) this.hashLocks.delete(hash);
    }
  }

  /** A new or changed file, hashed: touched, moved, a duplicate, or new content to analyse. */
  private async resolve(file: WalkedFile, hash: string): Promise<void> {
    const { catalog } = this.options;
    const photoFile: PhotoFile = { path: file.path, size: file.size, mtimeMs: file.mtimeMs };
    const existing = catalog.photos.byPath(file.path);
    // A failed file tried again is analysed again, even with the same bytes.
    const retry = existing?.status === 'error';
    if (existing && !retry && existing.content_hash === hash) {
      catalog.recordMove(existing, photoFile); // same bytes, new file times
      if (existing.missing_since) this.counts.restored++;
      return this.keep(existing.id, 'touched', true);
    }
    const sameContent = catalog.photos.byHash(hash).filter((p) => p.path !== file.path);
    const moved = existing ? undefined : sameContent.find((p) => p.missing_since !== null || !existsSync(p.path));
    if (moved) {
      catalog.recordMove(moved, photoFile);
      return this.keep(moved.id, 'moved', true);
    }
    const source = sameContent[0];
    if (source) return this.keep(catalog.recordCopy(source, photoFile), 'duplicates', true);

    const pool = await this.startPool();
    const result = await pool.run({
      id: ++this.jobIds,
      path: file.path,
      kind: file.photoKind,
      hash,
      size: file.size,
      mtimeMs: file.mtimeMs,
    });
    if (result.outcome === 'vanished') {
      this.counts.vanished++;
    } else if (result.outcome === 'analysed') {
      const id = catalog.recordAnalysed(photoFile, result.hash, result.photo);
      this.counts.decoded++;
      this.counts.inferences++;
      this.counts.faces += result.photo.faces.length;
      if (result.photo.damage) this.counts.damaged++;
      this.keep(id, existing ? 'updated' : 'added', true);
    } else {
      if (result.decoded) this.counts.decoded++;
      this.keep(catalog.recordFailure(photoFile, hash, result.outcome, result.error), 'failed', true);
    }
  }

  /** Rows under the walked roots that the walk did not see; an unplugged drive is not a deleted library. */
  private markMissing(): void {
    const { catalog } = this.options;
    for (const root of this.roots) {
      if (this.unavailableRoots.has(root)) continue;
      const gone = catalog.photos.presentUnder(root).filter((id) => !this.seen.has(id));
      catalog.markMissing(gone);
      this.counts.missing += gone.length;
      if (gone.length > 0) this.options.onChanged?.(gone);
    }
  }

  private startPool(): Promise<WorkerPool> {
    const o = this.options;
    return (this.pool ??= WorkerPool.start(
      {
        cacheDir: o.cacheDir,
        analyzer: o.analyzer ?? {},
        ...(o.modelsDir ? { modelsDir: o.modelsDir } : {}),
        ...(o.providers ? { providers: o.providers } : {}),
      },
      defaultPoolSize(undefined, o.workers, o.intraOpThreads),
    ));
  }

  /** Records that a photo row is accounted for by this scan, counts the outcome, announces a change. */
  private keep(id: number, outcome: keyof ScanCounts, changed = false): void {
    this.seen.add(id);
    this.counts[outcome]++;
    if (changed) this.options.onChanged?.([id]);
  }

  private finishItem(timed: boolean): void {
    this.done++;
    if (timed) this.rate.tick();
    if (performance.now() - this.lastSave > SAVE_COUNTS_INTERVAL_MS) {
      this.lastSave = performance.now();
      this.options.scans.saveCounts(this.scanId, this.counts);
    }
    this.emit();
  }
}

export class Scanner {
  private control: RunControl | null = null;
  private current: ScanRun | null = null;
  private finalProgress: ScanProgress = idleScanProgress();
  private lastEmit = 0;
  private pendingEmit: NodeJS.Timeout | null = null;

  constructor(private readonly options: ScannerOptions) {}

  get progress(): ScanProgress {
    const run = this.current;
    const state = this.control?.state;
    if (!run || !state) return this.finalProgress;
    const total = run.counts.files;
    return {
      state,
      done: run.done,
      total,
      currentFile: run.currentFile,
      photosPerSecond: Math.round(run.rate.rate * 100) / 100,
      etaSeconds: total === 0 ? null : run.rate.eta(total - run.done),
      errors: run.counts.failed,
    };
  }

  get busy(): boolean {
    return this.current !== null;
  }

  /** Scans the roots; rejects if a scan is already running. */
  async scan(roots: readonly string[]): Promise<ScanSummary> {
    if (this.current) throw new Error('a scan is already running');
    const release = this.options.lockFile ? acquireScanLock(this.options.lockFile) : () => undefined;
    const control = new RunControl();
    const run = new ScanRun(
      this.options,
      roots.map((r) => path.resolve(r)),
      control,
      (immediately) => this.emit(immediately),
    );
    this.control = control;
    this.current = run;
    try {
      // With the lock held nobody writes thumbnails: what is half-written was left by a crash or a full disk.
      await removeTemporaryThumbnails(this.options.cacheDir);
      return await run.execute();
    } finally {
      release();
      const last = this.progress;
      this.finalProgress = { ...last, state: 'idle', currentFile: null, etaSeconds: null };
      this.current = null;
      this.control = null;
      this.emit(true);
    }
  }

  pause(): void {
    if (this.control?.pause()) this.emit(true);
  }

  resume(): void {
    if (this.control?.resume()) this.emit(true);
  }

  /** Stops after the photos in flight; what is done stays done. */
  cancel(): void {
    if (this.control?.cancel()) this.emit(true);
  }

  /** Reports progress, at most every PROGRESS_INTERVAL_MS unless `immediately` (state changes, the end). */
  private emit(immediately = false): void {
    const listener = this.options.onProgress;
    if (!listener) return;
    const elapsed = performance.now() - this.lastEmit;
    if (immediately || elapsed >= PROGRESS_INTERVAL_MS) {
      if (this.pendingEmit) clearTimeout(this.pendingEmit);
      this.pendingEmit = null;
      this.lastEmit = performance.now();
      listener(this.progress);
    } else if (!this.pendingEmit) {
      this.pendingEmit = setTimeout(() => this.emit(true), PROGRESS_INTERVAL_MS - elapsed);
    }
  }
}
