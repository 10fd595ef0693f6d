/**
 * Folders a scan cannot list are recorded as problems (issue 12, defect 6), shown by the API beside the
 * files, and cleared once they can be read; links out of the library folders follow the `symlinks`
 * setting. The real CLI as another user (so that permissions apply), the real scanner.
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { openBackend } from '../../main/library/backend.js';
import { Library } from '../../main/library/library.js';
import { asNobodyMissing, facetsAsNobody } from '../helpers/cli.js';
import { writeTinyImages } from '../helpers/library-fixtures.js';

describe('folders and links', { timeout: 240_000 }, () => {
  let work: string;
  before(() => {
    work = mkdtempSync(path.join(tmpdir(), 'facets-folders-'));
    chmodSync(work, 0o755);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('a folder that cannot be listed is a recorded problem, cleared when it can be read again', async (t) => {
    const missing = asNobodyMissing();
    if (missing) return t.skip(missing);
    const home = path.join(work, 'nobody');
    const photos = path.join(home, 'Photos');
    await writeTinyImages(path.join(photos, 'open'), 2);
    await writeTinyImages(path.join(photos, 'locked'), 2);
    const db = path.join(home, 'library.db');
    const chownAll = (p: string) => {
      chownSync(p, 65534, 65534);
      for (const entry of ['Photos', 'Photos/open', 'Photos/locked'].map((e) => path.join(home, e))) {
        if (existsSync(entry)) chownSync(entry, 65534, 65534);
      }
    };
    chownAll(home);
    chmodSync(path.join(photos, 'locked'), 0o000);
    const scan = () =>
      facetsAsNobody(['scan', photos, '--db', db, '--workers', '1'], { env: { ...process.env, HOME: home } });
    const first = scan();
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /warning: .*locked: permission denied/);

    const backend = await openBackend({ dbPath: db });
    try {
      const problems = await backend.handle('errors:list', { page: { offset: 0, limit: 10 } });
      assert.deepEqual(
        problems.folders.map((f) => [f.path, f.problem]),
        [[path.join(photos, 'locked'), 'permission denied']],
      );
    } finally {
      await backend.close();
    }
    chmodSync(path.join(photos, 'locked'), 0o755);
    chownAll(home);
    for (const f of ['library.db', 'library.db-wal', 'library.db-shm']) {
      if (existsSync(path.join(home, f))) chownSync(path.join(home, f), 65534, 65534);
    }
    const second = scan();
    assert.equal(second.status, 0, second.stderr);
    const reader = new Database(db, { readonly: true });
    try {
      assert.equal((reader.prepare('SELECT count(*) AS n FROM folder_problems').get() as { n: number }).n, 0);
      assert.equal(
        (reader.prepare(`SELECT count(*) AS n FROM photos WHERE status = 'ok'`).get() as { n: number }).n,
        4,
      );
    } finally {
      reader.close();
    }
  });

  test("links out of the library folders are followed by default, not with symlinks: 'inside-folders'", async () => {
    const root = path.join(work, 'Library');
    const outside = path.join(work, 'Elsewhere');
    await writeTinyImages(path.join(root, 'album'), 1);
    await writeTinyImages(outside, 1);
    mkdirSync(path.join(root, 'inside'));
    symlinkSync(outside, path.join(root, 'link-out'));
    symlinkSync(path.join(root, 'album'), path.join(root, 'inside', 'link-in'));
    const library = new Library({ dbPath: path.join(work, 'links.db') });
    try {
      assert.equal(library.settings.get().symlinks, 'follow');
      const followed = await library.scanner({ workers: 1 }).scan([root]);
      // album once (by inode, link-in is the same folder) and the photo behind link-out (same pixels: a duplicate)
      assert.equal(followed.counts.added + followed.counts.duplicates, 2, JSON.stringify(followed.counts));
      library.settings.update({ symlinks: 'inside-folders' });
      const inside = await library.scanner({ workers: 1 }).scan([root]);
      assert.equal(inside.counts.missing, 1, JSON.stringify(inside.counts));
      const present = library.db
        .prepare<[], { path: string }>('SELECT path FROM photos WHERE missing_since IS NULL')
        .all()
        .map((r) => path.relative(root, r.path));
      assert.deepEqual(present, [path.join('album', '00000.png')]);
    } finally {
      library.close();
    }
  });
});
