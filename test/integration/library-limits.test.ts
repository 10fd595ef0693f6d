/**
 * No file is held whole in memory (issue 12, defect 5): hashing streams, libvips formats decode from the
 * path, and a file over the size limit is recorded as unsupported with the reason, without being read.
 * A sparse 1.9 GB file named .jpg (it takes no disk space) beside a real photo; the real scanner.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Library } from '../../main/library/library.js';
import { MAX_PHOTO_FILE_BYTES } from '../../main/library/limits.js';
import { sample } from '../helpers/library-fixtures.js';

describe('file size limits', { timeout: 240_000 }, () => {
  let work: string;
  let library: Library;
  before(() => {
    work = mkdtempSync(path.join(tmpdir(), 'facets-limits-'));
  });
  after(() => {
    library?.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('a 1.9 GB .jpg is recorded as too large without being read; the scan goes on', async () => {
    const photos = path.join(work, 'Photos');
    mkdirSync(photos);
    copyFileSync(sample(1), path.join(photos, 'real.jpg'));
    const huge = path.join(photos, 'huge.jpg');
    writeFileSync(huge, Buffer.from([0xff, 0xd8, 0xff, 0xe0]));
    truncateSync(huge, Math.round(1.9 * 1024 ** 3));
    assert.ok(1.9 * 1024 ** 3 > MAX_PHOTO_FILE_BYTES);

    library = new Library({ dbPath: path.join(work, 'library.db') });
    const peakBefore = process.resourceUsage().maxRSS * 1024;
    const summary = await library.scanner({ workers: 1 }).scan([photos]);
    const peak = process.resourceUsage().maxRSS * 1024;
    assert.equal(summary.state, 'completed');
    assert.equal(summary.counts.added, 1);
    assert.equal(summary.counts.failed, 1);
    assert.equal(summary.counts.hashed, 1, 'the huge file is not even hashed');
    const row = library.catalog.photos.byPath(huge);
    assert.equal(row?.status, 'unsupported');
    assert.match(
      row?.error ?? '',
      /too large to analyse: the file is 1,946 MB, over the 512 MB limit \(it was not read\)/,
    );
    assert.ok(
      peak - Math.max(peakBefore, 0) < 1024 ** 3,
      `peak memory grew by ${((peak - peakBefore) / 1024 ** 2).toFixed(0)} MB`,
    );

    // Unchanged, it is not tried again (unsupported is not a transient failure).
    const again = await library.scanner({ workers: 1 }).scan([photos]);
    assert.equal(again.counts.unchanged, 2, JSON.stringify(again.counts));
  });
});
