/**
 * When a file that failed is tried again (`photos.failures`, `photos.retry_after`, migration 5).
 *
 * The first failure is retried by the very next scan (it may have been transient: permission denied, a
 * thumbnail folder blocked). Each further failure doubles the wait, from an hour up to a week, so a
 * file that is simply broken costs little. `facets scan --retry-failed` and the Problems view's Retry
 * ignore the wait.
 */
import type { Db } from '../db.js';

const FIRST_BACKOFF_MS = 60 * 60 * 1000;
const MAX_BACKOFF_MS = 7 * 24 * 60 * 60 * 1000;

/** The wait after the n-th failure in a row (n ≥ 1): none after the first, then 1 h, 2 h, 4 h … 7 days. */
export function retryBackoffMs(failures: number): number {
  if (failures <= 1) return 0;
  return Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (failures - 2));
}

export class RetryRepository {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      state: db.prepare<[number], { failures: number; retry_after: string | null }>(
        'SELECT failures, retry_after FROM photos WHERE id = ?',
      ),
      failed: db.prepare('UPDATE photos SET failures = ?, retry_after = ? WHERE id = ?'),
      clear: db.prepare('UPDATE photos SET failures = 0, retry_after = NULL WHERE id = ?'),
      dueNow: db.prepare(`UPDATE photos SET retry_after = NULL WHERE status = 'error'`),
      dueNowOne: db.prepare(`UPDATE photos SET retry_after = NULL WHERE status = 'error' AND id = ?`),
    };
  }

  /** Counts one more failure of the photo and sets when it is next tried. */
  failed(id: number, at: Date): void {
    const failures = (this.stmts.state.get(id)?.failures ?? 0) + 1;
    const after = new Date(at.getTime() + retryBackoffMs(failures)).toISOString();
    this.stmts.failed.run(failures, after, id);
  }

  /** The photo was read cleanly: its failures are forgotten. */
  succeeded(id: number): void {
    this.stmts.clear.run(id);
  }

  /** Whether a scan at `at` should try the (failed, unchanged) photo again. */
  due(id: number, at: Date): boolean {
    const retryAfter = this.stmts.state.get(id)?.retry_after;
    return retryAfter === null || retryAfter === undefined || Date.parse(retryAfter) <= at.getTime();
  }

  /** Makes failed photos (all, or the ones given) due at once, for a retry on demand. */
  makeDue(ids?: readonly number[]): void {
    if (!ids) this.stmts.dueNow.run();
    else for (const id of ids) this.stmts.dueNowOne.run(id);
  }
}
