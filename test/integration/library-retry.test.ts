/**
 * Failed files are tried again (issue 12, defect 2): a file that failed for a transient reason — here
 * the thumbnail folder is blocked by a file — is retried by the next scan although its size and mtime
 * did not change, then backs off as failures repeat; `retryFailed` (`facets scan --retry-failed`) and
 * the `errors:retry` channel retry on demand. Real scanner, real models, real SQLite file.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ScanProgress } from '../../main/api/contract.js';
import { openBackend } from '../../main/library/backend.js';
import { Library } from '../../main/library/library.js';
import { retryBackoffMs } from '../../main/library/repositories/retries.js';
import { writeTinyImages } from '../helpers/library-fixtures.js';

const TIMEOUT = 240_000;

interface RetryRow {
  status: string;
  error: string | null;
  failures: number;
  retry_after: string | null;
}

function row(library: Library): RetryRow {
  return library.db.prepare<[], RetryRow>('SELECT status, error, failures, retry_after FROM photos').get() as RetryRow;
}

test('the backoff: none after the first failure, then doubling from an hour, at most a week', () => {
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => retryBackoffMs(n) / 3_600_000),
    [0, 1, 2, 4],
  );
  assert.equal(retryBackoffMs(40), 7 * 24 * 3_600_000);
});

describe('failed files are retried', { timeout: TIMEOUT }, () => {
  let work: string;
  let photos: string;
  let cache: string;
  let library: Library;
  const block = () => {
    rmSync(path.join(cache, 'photos'), { recursive: true, force: true });
    writeFileSync(path.join(cache, 'photos'), 'not a folder');
  };
  const unblock = () => rmSync(path.join(cache, 'photos'), { force: true });

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'facets-retry-'));
    photos = path.join(work, 'Photos');
    cache = path.join(work, 'thumbs');
    await writeTinyImages(photos, 1);
    mkdirSync(cache);
    library = new Library({ dbPath: path.join(work, 'library.db'), cacheDir: cache });
  });
  after(() => {
    library?.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('rescans retry a failure at once, back off on repeats, and --retry-failed ignores the wait', async () => {
    block();
    const first = await library.scanner({ workers: 1 }).scan([photos]);
    assert.equal(first.counts.failed, 1);
    assert.match(row(library).error ?? '', /thumbnails failed/);
    assert.equal(row(library).failures, 1);

    // Unchanged size and mtime, still blocked: tried again (the first retry does not wait), fails again.
    const second = await library.scanner({ workers: 1 }).scan([photos]);
    assert.equal(second.counts.failed, 1, JSON.stringify(second.counts));
    assert.equal(second.counts.unchanged, 0);
    assert.equal(row(library).failures, 2);
    const wait = Date.parse(row(library).retry_after ?? '') - Date.now();
    assert.ok(wait > 50 * 60_000 && wait <= 3_600_000, `backs off about an hour, got ${wait} ms`);

    // Unblocked, but within the backoff: a plain rescan leaves it alone…
    unblock();
    const third = await library.scanner({ workers: 1 }).scan([photos]);
    assert.equal(third.counts.unchanged, 1, JSON.stringify(third.counts));
    assert.equal(row(library).status, 'error');

    // …and a retry on demand analyses it, which forgets the failures.
    const fourth = await library.scanner({ workers: 1, retryFailed: true }).scan([photos]);
    assert.equal(fourth.counts.updated, 1, JSON.stringify(fourth.counts));
    assert.deepEqual(row(library), { status: 'ok', error: null, failures: 0, retry_after: null });
  });

  test('the errors:retry channel retries through a scan, whatever the backoff', async () => {
    library.close();
    rmSync(path.join(work, 'library.db'));
    block();
    const backend = await openBackend({ dbPath: path.join(work, 'library.db'), cacheDir: cache, workers: 1 });
    try {
      const idle = () =>
        new Promise<void>((resolve) => {
          const off = backend.on('scan:progress', (p: ScanProgress) => {
            if (p.state === 'idle') {
              off();
              resolve();
            }
          });
        });
      await backend.handle('folders:add', { path: photos });
      let done = idle();
      await backend.handle('scan:start', {});
      await done;
      done = idle();
      await backend.handle('scan:start', {});
      await done;
      const errors = await backend.handle('errors:list', { page: { offset: 0, limit: 10 } });
      assert.equal(errors.total, 1);
      unblock();
      done = idle();
      await backend.handle('errors:retry', { photoIds: [errors.items[0]?.photoId as number] });
      await done;
      assert.equal((await backend.handle('errors:list', { page: { offset: 0, limit: 10 } })).total, 0);
      assert.equal((await backend.handle('photos:query', { filter: {}, page: { offset: 0, limit: 10 } })).total, 1);
    } finally {
      await backend.close();
    }
  });
});
