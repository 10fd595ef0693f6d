/** The photo grid's orders, on a real library file: date taken, file name (A–Z, any case), number of faces. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { validateRequest } from '../../main/api/handlers.js';
import { Library } from '../../main/library/library.js';
import { random, syntheticFace, syntheticPhoto } from '../helpers/library-synthetic.js';

let dir: string;
let library: Library;
const PHOTOS = [
  { path: '/lib/z/alpha.jpg', faces: 1, taken: '2020-01-01T10:00:00' },
  { path: '/lib/a/Charlie.jpg', faces: 3, taken: '2022-01-01T10:00:00' },
  { path: '/lib/m/bravo.jpg', faces: 4, taken: '2019-01-01T10:00:00' },
  { path: '/lib/b/delta.jpg', faces: 2, taken: '2021-01-01T10:00:00' },
];

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'facets-sort-'));
  library = new Library({ dbPath: path.join(dir, 'library.db') });
  const rnd = random(1);
  PHOTOS.forEach((p, i) =>
    library.catalog.recordAnalysed(
      { path: p.path, size: 10 + i, mtimeMs: i },
      `h${i}`,
      syntheticPhoto(
        Array.from({ length: p.faces }, () => syntheticFace(rnd)),
        p.taken,
      ),
    ),
  );
});

after(() => {
  library.close();
  rmSync(dir, { recursive: true, force: true });
});

const names = (sort?: 'taken' | 'name' | 'faces') =>
  library.queries.photos({}, { offset: 0, limit: 10 }, sort).items.map((p) => path.basename(p.path));

test('date taken (newest first) is the default; name sorts by file name, not folder; faces most first', () => {
  assert.deepEqual(names(), ['Charlie.jpg', 'delta.jpg', 'alpha.jpg', 'bravo.jpg']);
  assert.deepEqual(names('taken'), names());
  assert.deepEqual(names('name'), ['alpha.jpg', 'bravo.jpg', 'Charlie.jpg', 'delta.jpg']);
  assert.deepEqual(names('faces'), ['bravo.jpg', 'Charlie.jpg', 'delta.jpg', 'alpha.jpg']);
});

test('the API accepts the three orders and nothing else', () => {
  const page = { offset: 0, limit: 10 };
  for (const sort of ['taken', 'name', 'faces']) validateRequest('photos:query', { filter: {}, page, sort });
  assert.throws(() => validateRequest('photos:query', { filter: {}, page, sort: 'size' }), /expected one of/);
});
