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
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ScanProgress, ScanState } from '../api/contract.js';
import type { AnalyzerOptions } from '../engine/analyzer.js';
import type { Provider } from '../engine/sessions.js';
import type { Catalog } from './catalog.js';
import { now } from './db.js';
import { hashFile } from './hash.js';
import { RateMeter } from './progress.js';
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

  get size(): number {
    return this.items.length;
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

export class Scanner {
  private state: ScanState = 'idle';
  private counts: ScanCounts = { ...ZERO_COUNTS };
  private done = 0;
  private currentFile: string | null = null;
  private readonly rate = new RateMeter();
  private resumeGate: Promise<void> | null = null;
  private openGate: (() => void) | null = null;
  private lastEmit = 0;
  private pendingEmit: NodeJS.Timeout | null = null;
  private running: Promise<ScanSummary> | null = null;

  constructor(private readonly options: ScannerOptions) {}

  get progress(): ScanProgress {
    const total = this.counts.files;
    return {
      state: this.state,
      done: this.done,
      total,
      currentFile: this.currentFile,
      photosPerSecond: Math.round(this.rate.rate * 100) / 100,
      etaSeconds: this.state === 'idle' ? null : this.rate.eta(total - this.done),
      errors: this.counts.failed,
    };
  }

  get busy(): boolean {
    return this.running !== null;
  }

  /** Scans the roots; rejects if a scan is already running. */
  scan(roots: readonly string[]): Promise<ScanSummary> {
    if (this.running) return Promise.reject(new Error('a scan is already running'));
    const run = this.run(roots.map((r) => path.resolve(r))).finally(() => {
      this.running = null;
    });
    this.running = run;
    return run;
  }

  pause(): void {
    if (this.state !== 'scanning') return;
    this.state = 'paused';
    this.resumeGate = new Promise((resolve) => (this.openGate = resolve));
    this.emit(true);
  }

  resume(): void {
    if (this.state !== 'paused') return;
    this.state = 'scanning';
    this.releaseGate();
    this.emit(true);
  }

  /** Stops after the photos in flight; what is done stays done. */
  cancel(): void {
    if (this.state !== 'scanning' && this.state !== 'paused') return;
    this.state = 'cancelling';
    this.releaseGate();
    this.emit(true);
  }

  private releaseGate(): void {
    this.openGate?.();
    this.openGate = null;
    this.resumeGate = null;
  }

  private get stopping(): boolean {
    return this.state === 'cancelling';
  }

  private async run(roots: string[]): Promise<ScanSummary> {
    const { catalog, scans } = this.options;
    const started = performance.now();
    this.state = 'scanning';
    this.counts = { ...ZERO_COUNTS };
    this.done = 0;
    this.currentFile = null;
    this.rate.reset();
    const scanId = scans.start(now(), roots);
    const warnings: ScanSummary['warnings'] = [];
    const seen = new Set<number>();
    const queue = new WorkQueue<WalkedFile>();
    const unavailableRoots = new Set<string>();
    // Assigned from the processors' closures (the casts keep TypeScript from narrowing them to null).
    let pool = null as Promise<WorkerPool> | null;
    let failure = null as Error | null;
    let lastSave = performance.now();
    let jobIds = 0;
    const hashLocks = new Map<string, Promise<void>>();
    this.emit(true);

    const finishItem = (timed: boolean) => {
      this.done++;
      if (timed) this.rate.tick();
      if (performance.now() - lastSave > SAVE_COUNTS_INTERVAL_MS) {
        lastSave = performance.now();
        scans.saveCounts(scanId, this.counts);
      }
      this.emit();
    };
    const changed = (id: number) => this.options.onChanged?.([id]);
    const startPool = () =>
      (pool ??= WorkerPool.start(
        {
          cacheDir: this.options.cacheDir,
          analyzer: this.options.analyzer ?? {},
          ...(this.options.modelsDir ? { modelsDir: this.options.modelsDir } : {}),
          ...(this.options.providers ? { providers: this.options.providers } : {}),
        },
        defaultPoolSize(undefined, this.options.workers, this.options.intraOpThreads),
      ));

    /** Resolves one changed or new file: touch, move, duplicate, or analysis. Same-content files queue up. */
    const resolve = async (file: WalkedFile, hash: string): Promise<void> => {
      const photoFile: PhotoFile = { path: file.path, size: file.size, mtimeMs: file.mtimeMs };
      const existing = catalog.photos.byPath(file.path);
      if (existing && existing.content_hash === hash) {
        catalog.recordMove(existing, photoFile);
        seen.add(existing.id);
        this.counts.touched++;
        if (existing.missing_since) this.counts.restored++;
        return changed(existing.id);
      }
      const sameContent = catalog.photos.byHash(hash).filter((p) => p.path !== file.path);
      const moved = existing ? undefined : sameContent.find((p) => p.missing_since !== null || !existsSync(p.path));
      if (moved) {
        catalog.recordMove(moved, photoFile);
        seen.add(moved.id);
        this.counts.moved++;
        return changed(moved.id);
      }
      const source = sameContent[0];
      if (source) {
        const id = catalog.recordCopy(source, photoFile);
        seen.add(id);
        this.counts.duplicates++;
        return changed(id);
      }
      const workers = await startPool();
      const result = await workers.run({ id: ++jobIds, path: file.path, kind: file.photoKind, hash });
      if (result.outcome === 'vanished') {
        this.counts.vanished++;
        return;
      }
      let id: number;
      if (result.outcome === 'analysed') {
        id = catalog.recordAnalysed(photoFile, hash, result.photo);
        this.counts[existing ? 'updated' : 'added']++;
        this.counts.decoded++;
        this.counts.inferences++;
        this.counts.faces += result.photo.faces.length;
      } else {
        id = catalog.recordFailure(photoFile, hash, result.outcome, result.error);
        this.counts.failed++;
        if (result.decoded) this.counts.decoded++;
      }
      seen.add(id);
      changed(id);
    };

    const processFile = async (file: WalkedFile): Promise<void> => {
      this.currentFile = file.path;
      let hash: string;
      try {
        hash = await hashFile(file.path);
        this.counts.hashed++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          this.counts.vanished++;
          return;
        }
        const id = catalog.recordFailure(file, null, 'error', `cannot read the file: ${describeFsError(err)}`);
        seen.add(id);
        this.counts.failed++;
        return changed(id);
      }
      // Files with the same content are resolved one after another, so the second sees the first's row.
      const previous = hashLocks.get(hash) ?? Promise.resolve();
      const mine = previous.then(() => resolve(file, hash));
      const settled = mine.catch(() => undefined);
      hashLocks.set(hash, settled);
      try {
        await mine;
      } finally {
        if (hashLocks.get(hash) === settled) hashLocks.delete(hash);
      }
    };

    const processor = async (): Promise<void> => {
      for (;;) {
        if (this.resumeGate) await this.resumeGate;
        if (this.stopping || failure) return;
        const file = await queue.take();
        if (!file) return;
        try {
          await processFile(file);
          finishItem(true);
        } catch (err) {
          failure ??= err as Error; // the worker pool failed: nothing more can be analysed
          this.state = 'cancelling';
          this.releaseGate();
        }
      }
    };

    const walk = async (): Promise<boolean> => {
      const entries = walkLibrary(roots, {
        exclude: this.options.exclude ?? [],
        skipPaths: [this.options.cacheDir],
        onWarning: (where, message) => {
          warnings.push({ path: where, message });
          if (roots.includes(where)) unavailableRoots.add(where);
        },
      });
      for await (const entry of entries) {
        if (this.resumeGate) await this.resumeGate;
        if (this.stopping || failure) return false;
        this.counts.files++;
        const existing = catalog.photos.byPath(entry.path);
        if (entry.kind === 'unreadable') {
          if (existing?.status === 'error' && existing.error === entry.error) {
            seen.add(existing.id);
            this.counts.unchanged++;
          } else {
            const id = catalog.recordFailure({ path: entry.path, size: 0, mtimeMs: 0 }, null, 'error', entry.error);
            seen.add(id);
            this.counts.failed++;
            changed(id);
          }
          finishItem(false);
        } else if (existing && existing.size === entry.size && existing.mtime_ms === entry.mtimeMs) {
          seen.add(existing.id);
          this.counts.unchanged++;
          if (existing.missing_since) {
            catalog.restore(existing.id);
            this.counts.restored++;
            changed(existing.id);
          }
          finishItem(false);
        } else {
          queue.push(entry);
        }
      }
      return true;
    };

    const concurrency = Math.max(4, defaultPoolSize(undefined, this.options.workers).workers * 2 + 2);
    const processors = Array.from({ length: concurrency }, () => processor());
    const walked = await walk().finally(() => queue.close());
    await Promise.all(processors);

    if (walked && !failure && !this.stopping) {
      for (const root of roots) {
        if (unavailableRoots.has(root)) continue; // an unplugged drive is not a deleted library
        const gone = catalog.photos.presentUnder(root).filter((id) => !seen.has(id));
        catalog.markMissing(gone);
        this.counts.missing += gone.length;
        if (gone.length > 0) this.options.onChanged?.(gone);
      }
    }
    if (pool) await (await pool.catch(() => null))?.close();

    const state: ScanSummary['state'] = failure ? 'failed' : this.stopping ? 'cancelled' : 'completed';
    const error = failure ? failure.message : null;
    scans.finish(scanId, now(), state, this.counts, error);
    this.state = 'idle';
    this.currentFile = null;
    this.releaseGate();
    this.emit(true);
    return {
      scanId,
      state,
      counts: { ...this.counts },
      error,
      warnings,
      seconds: (performance.now() - started) / 1000,
    };
  }

  /** Reports progress, at most every PROGRESS_INTERVAL_MS unless `now` (state changes, the end). */
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
