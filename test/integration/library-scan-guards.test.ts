/**
 * Scans that meet each other, a crash or a full disk (issue 12, defect 6): one scan per library at a
 * time across processes (the second says so), a stale lock and the temporary thumbnails a killed scan
 * left are cleaned up, and a scan that runs out of disk space records its summary and closes its row.
 * Real CLI processes, real scanner, a real (small, tmpfs) full disk.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { Library } from '../../main/library/library.js';
import { scanLockFile } from '../../main/library/scan-lock.js';
import { facets } from '../helpers/cli.js';
import { finished, spawnFacets, writeTinyImages } from '../helpers/library-fixtures.js';

async function waitFor(condition: () => boolean, timeoutMs = 120_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('scan guards', { timeout: 300_000 }, () => {
  let work: string;
  before(() => {
    work = mkdtempSync(path.join(tmpdir(), 'facets-guards-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('a second scan of the same library says so; a killed scan leaves a stale lock and temp files, both cleaned', async () => {
    const photos = path.join(work, 'many');
    await writeTinyImages(photos, 400);
    const db = path.join(work, 'lock.db');
    const first = spawnFacets(['scan', photos, '--db', db, '--workers', '1']);
    const done = finished(first);
    try {
      await waitFor(() => existsSync(scanLockFile(db)) || first.exitCode !== null);
      assert.equal(first.exitCode, null, 'the first scan is running');
      const second = facets(['scan', photos, '--db', db, '--workers', '1']);
      assert.equal(second.code, 1, second.stdout);
      assert.match(second.stderr, /a scan of this library is already running \(process \d+\)/);
      // Killed mid-scan (no clean-up at all), after a thumbnail was half-written.
      const thumbs = path.join(work, 'lock.thumbs', 'photos', 'zz');
      mkdirSync(thumbs, { recursive: true });
      writeFileSync(path.join(thumbs, `zz.webp.${first.pid}.abc.tmp`), 'half a thumbnail');
      first.kill('SIGKILL');
    } finally {
      await done;
    }
    assert.ok(existsSync(scanLockFile(db)), 'the killed scan left its lock');
    const third = facets(['scan', '--db', db, '--workers', '1', '--json'], { timeoutMs: 240_000 });
    assert.equal(third.code, 0, third.stderr);
    assert.equal((JSON.parse(third.stdout) as { state: string }).state, 'completed');
    assert.ok(!existsSync(scanLockFile(db)), 'the lock is released');
    const leftovers = readdirSync(path.join(work, 'lock.thumbs'), { recursive: true }).filter((f) =>
      String(f).endsWith('.tmp'),
    );
    assert.deepEqual(leftovers, []);
  });

  test('a scan that fills the disk records its summary and closes its row', async (t) => {
    const disk = path.join(work, 'small-disk');
    mkdirSync(disk);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', disk], { stdio: 'ignore' });
    } catch {
      return t.skip('cannot mount a small tmpfs here (needs root)');
    }
    try {
      const photos = path.join(work, 'fill');
      await writeTinyImages(photos, 300);
      const db = path.join(disk, 'library.db');
      const library = new Library({ dbPath: db });
      // Leave little room: the library's WAL and thumbnails run out of it within a few dozen photos.
      const free = () => Number(execFileSync('df', ['--output=avail', '-B1', disk]).toString().split('\n')[1]);
      writeFileSync(path.join(disk, 'filler'), Buffer.alloc(Math.max(0, free() - 1.4 * 1024 * 1024)));
      let summary;
      try {
        summary = await library.scanner({ workers: 1 }).scan([photos]);
      } finally {
        library.close();
      }
      assert.equal(summary.state, 'failed', JSON.stringify(summary));
      assert.match(summary.error ?? '', /the disk is full/);
      rmSync(path.join(disk, 'filler'));
      const reader = new Database(db, { readonly: true });
      try {
        const row = reader.prepare('SELECT state, finished_at, counts, error FROM scans').get() as {
          state: string;
          finished_at: string | null;
          counts: string;
          error: string;
        };
        assert.equal(row.state, 'failed');
        assert.ok(row.finished_at, 'the row is closed');
        assert.match(row.error, /the disk is full/);
        assert.ok((JSON.parse(row.counts) as { files: number }).files > 0, 'with its counts');
      } finally {
        reader.close();
      }
      const temps = readdirSync(disk, { recursive: true }).filter((f) => String(f).endsWith('.tmp'));
      assert.deepEqual(temps, [], 'no temporary thumbnail is left on the full disk');
    } finally {
      execFileSync('umount', ['-l', disk]);
    }
  });
});
