/**
 * The photo queries of library upkeep and of `facets stats` (moved out of library.ts and
 * cli/commands/stats.ts: all SQL lives in repositories).
 */
import type { Db } from '../db.js';
import { folderRange } from './photos.js';

export interface PhotoTotals {
  total: number;
  ok: number;
  errors: number;
  /** Analysed, but the file is damaged ([Note: damaged JPEGs]); counted among `ok` too. */
  damaged: number;
  missing: number;
}

export class MaintenanceRepository {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      presentIn: db.prepare<[string, string], { id: number; path: string }>(
        'SELECT id, path FROM photos WHERE path >= ? AND path < ? AND missing_since IS NULL',
      ),
      missingSince: db.prepare<[string], { id: number; path: string; content_hash: string | null; face_count: number }>(
        'SELECT id, path, content_hash, face_count FROM photos WHERE missing_since IS NOT NULL AND missing_since <= ?',
      ),
      withHash: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM photos WHERE content_hash = ?'),
      totals: db.prepare<[], PhotoTotals>(
        `SELECT count(*) AS total,
           coalesce(sum(status = 'ok' AND missing_since IS NULL), 0) AS ok,
           coalesce(sum(status <> 'ok' AND missing_since IS NULL), 0) AS errors,
           coalesce(sum(status = 'ok' AND error IS NOT NULL AND missing_since IS NULL), 0) AS damaged,
           coalesce(sum(missing_since IS NOT NULL), 0) AS missing
         FROM photos`,
      ),
    };
  }

  /** Present photos under `folder`. */
  presentIn(folder: string): { id: number; path: string }[] {
    return this.stmts.presentIn.all(...folderRange(folder));
  }

  /** Photos missing since `before` or earlier. */
  missingSince(before: string): { id: number; path: string; content_hash: string | null; face_count: number }[] {
    return this.stmts.missingSince.all(before);
  }

  photosWithHash(hash: string): number {
    return this.stmts.withHash.get(hash)?.n ?? 0;
  }

  totals(): PhotoTotals {
    return this.stmts.totals.get() as PhotoTotals;
  }
}
