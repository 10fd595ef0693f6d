/** The `scans` table: one row per scan, with what it found and did. */
import type { Db } from '../db.js';

/**
 * What happened to each file a scan found (these add up to `files`), plus the work it took.
 * `missing` counts library photos whose file is gone; `decoded` and `inferences` are the
 * expensive steps, zero for an unchanged library.
 */
export interface ScanCounts {
  files: number;
  unchanged: number;
  added: number;
  updated: number;
  moved: number;
  duplicates: number;
  touched: number;
  failed: number;
  /** Analysed, but the file is damaged ([Note: damaged JPEGs]). */
  damaged: number;
  vanished: number;
  missing: number;
  restored: number;
  hashed: number;
  decoded: number;
  inferences: number;
  faces: number;
}

export const ZERO_COUNTS: ScanCounts = {
  files: 0,
  unchanged: 0,
  added: 0,
  updated: 0,
  moved: 0,
  duplicates: 0,
  touched: 0,
  failed: 0,
  damaged: 0,
  vanished: 0,
  missing: 0,
  restored: 0,
  hashed: 0,
  decoded: 0,
  inferences: 0,
  faces: 0,
};

export type ScanOutcome = 'running' | 'completed' | 'cancelled' | 'failed' | 'interrupted';

export interface ScanRow {
  id: number;
  started_at: string;
  finished_at: string | null;
  state: ScanOutcome;
  roots: string;
  counts: string;
  error: string | null;
}

export class ScanRepository {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      start: db.prepare(`INSERT INTO scans (started_at, state, roots) VALUES (?, 'running', ?)`),
      progress: db.prepare('UPDATE scans SET counts = ? WHERE id = ?'),
      finish: db.prepare('UPDATE scans SET finished_at = ?, state = ?, counts = ?, error = ? WHERE id = ?'),
      // A scan still 'running' when a new one starts belongs to a process that died.
      interrupt: db.prepare(`UPDATE scans SET state = 'interrupted' WHERE state = 'running'`),
      latest: db.prepare<[], ScanRow>('SELECT * FROM scans ORDER BY id DESC LIMIT 1'),
      byId: db.prepare<[number], ScanRow>('SELECT * FROM scans WHERE id = ?'),
    };
  }

  start(startedAt: string, roots: readonly string[]): number {
    this.stmts.interrupt.run();
    return Number(this.stmts.start.run(startedAt, JSON.stringify(roots)).lastInsertRowid);
  }

  saveCounts(id: number, counts: ScanCounts): void {
    this.stmts.progress.run(JSON.stringify(counts), id);
  }

  finish(id: number, finishedAt: string, state: ScanOutcome, counts: ScanCounts, error: string | null): void {
    this.stmts.finish.run(finishedAt, state, JSON.stringify(counts), error, id);
  }

  latest(): ScanRow | undefined {
    return this.stmts.latest.get();
  }

  byId(id: number): ScanRow | undefined {
    return this.stmts.byId.get(id);
  }
}
