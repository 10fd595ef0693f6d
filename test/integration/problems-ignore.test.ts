/**
 * Problems the user ignores (errors:ignore, migration 4): gone from the Problems list and its count,
 * back on Undo, and back when the file is analysed again (a new problem is news). Real SQLite file,
 * the real catalog and backend.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Backend } from '../../main/api/backend.js';
import type { ScanError } from '../../main/api/contract.js';
import { openBackend } from '../../main/library/backend.js';
import { Library } from '../../main/library/library.js';
import { random, syntheticFace, syntheticPhoto } from '../helpers/library-synthetic.js';

let work: string;
let backend: Backend;
let db: string;
const ids: number[] = [];
let okId = 0;

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'facets-ignore-'));
  db = path.join(work, 'library.db');
  const library = new Library({ dbPath: db });
  for (const name of ['a.jpg', 'b.jpg']) {
    ids.push(
      library.catalog.recordFailure(
        { path: `/lib/${name}`, size: 5, mtimeMs: 1 },
        null,
        'error',
        'not a readable image',
      ),
    );
  }
  okId = library.catalog.recordAnalysed(
    { path: '/lib/ok.jpg', size: 9, mtimeMs: 1 },
    'h',
    syntheticPhoto([syntheticFace(random(1))]),
  );
  library.close();
  backend = await openBackend({ dbPath: db, workers: 1 });
});

after(async () => {
  await backend?.close();
  rmSync(work, { recursive: true, force: true });
});

const list = () =>
  backend.handle('errors:list', { page: { offset: 0, limit: 100 } }) as Promise<{ total: number; items: ScanError[] }>;

test('an ignored problem leaves the list and its count; Undo brings it back', async () => {
  assert.equal((await list()).total, 2);
  assert.deepEqual(await backend.handle('errors:ignore', { photoIds: [ids[0]], ignored: true }), { changed: 1 });
  const after = await list();
  assert.deepEqual([after.total, after.items.map((e) => e.photoId)], [1, [ids[1]]]);
  // Ignoring again, or ignoring a photo without a problem, changes nothing.
  assert.deepEqual(await backend.handle('errors:ignore', { photoIds: [ids[0], okId], ignored: true }), { changed: 0 });
  assert.deepEqual(await backend.handle('errors:ignore', { photoIds: [ids[0]], ignored: false }), { changed: 1 });
  assert.equal((await list()).total, 2);
});

test('analysing the file again shows its problem again', async () => {
  await backend.handle('errors:ignore', { photoIds: [ids[1]], ignored: true });
  assert.equal((await list()).total, 1);
  await backend.close();
  const library = new Library({ dbPath: db });
  library.catalog.recordFailure({ path: '/lib/b.jpg', size: 6, mtimeMs: 2 }, null, 'error', 'still not an image');
  library.close();
  backend = await openBackend({ dbPath: db, workers: 1 });
  const again = await list();
  assert.equal(again.total, 2);
  assert.equal(again.items.find((e) => e.photoId === ids[1])?.error, 'still not an image');
});

test('the request is validated', async () => {
  await assert.rejects(backend.handle('errors:ignore', { photoIds: [], ignored: true }), /at least 1/);
  await assert.rejects(backend.handle('errors:ignore', { photoIds: [1] }), /required/);
});
