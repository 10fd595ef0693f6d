/**
 * The in-memory facet index ([Note: facet index]) gives exactly the SQL facets, for both targets, on
 * random filters over a library with corrections, missing and unreadable photos, undated photos and
 * faces without some attributes; and it is used only while fresh.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Filter } from '../../main/api/contract.js';
import { AGE_GROUPS, EMOTIONS, ETHNICITIES, GENDERS } from '../../main/engine/attributes/labels.js';
import { Library } from '../../main/library/library.js';
import { random, syntheticFace, syntheticPhoto } from '../helpers/library-synthetic.js';

const ROOTS = ['/lib/a', '/lib/b'];
const FOLDERS = ['/lib/a', '/lib/a/2019', '/lib/a/2019/trip', '/lib/a/2021', '/lib/b', '/lib/b/x', '/lib/b-other'];

describe('facet index', () => {
  let dir: string;
  let library: Library;
  const rnd = random(5);

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'facets-index-'));
    library = new Library({ dbPath: path.join(dir, 'library.db') });
    const { catalog } = library;
    const ids: number[] = [];
    for (let i = 0; i < 600; i++) {
      const folder = FOLDERS[i % FOLDERS.length] as string;
      const faces = Array.from({ length: Math.floor(rnd() * rnd() * 9) }, () => {
        const face = syntheticFace(rnd);
        // Some faces lack an attribute (an assignment that leaves it out).
        if (rnd() < 0.1) face.predictions = face.predictions.filter((p) => p.attribute !== 'emotion');
        return face;
      });
      const year = 2015 + Math.floor(rnd() * 8);
      const taken =
        rnd() < 0.8
          ? `${year}-${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}-${String(1 + Math.floor(rnd() * 28)).padStart(2, '0')}T10:00:00`
          : null;
      ids.push(
        catalog.recordAnalysed(
          { path: `${folder}/p${i}.jpg`, size: 100 + i, mtimeMs: Date.UTC(2012, 5, 1 + i) },
          `hash${i}`,
          syntheticPhoto(faces, taken),
        ),
      );
    }
    const faceIds = library.db.prepare<[], { id: number }>('SELECT id FROM faces ORDER BY id').all();
    faceIds.forEach(({ id }, i) => {
      if (i % 7 === 0) catalog.faces.correct(id, 'emotion', EMOTIONS[i % 7] as string, '2024-01-01T00:00:00Z');
      if (i % 11 === 0) catalog.faces.correct(id, 'gender', GENDERS[i % 2] as string, '2024-01-01T00:00:00Z');
    });
    catalog.markMissing(ids.filter((_, i) => i % 17 === 0));
    catalog.recordFailure({ path: '/lib/a/broken.jpg', size: 1, mtimeMs: 0 }, null, 'error', 'cannot decode');
  });

  after(() => {
    library?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const some = <T>(values: readonly T[]): T[] | undefined =>
    rnd() < 0.6 ? undefined : values.filter(() => rnd() < 0.4);

  function randomFilter(): Filter {
    const f: Filter = {};
    const ages = some(AGE_GROUPS);
    if (ages) f.ageGroups = ages;
    const genders = some(GENDERS);
    if (genders) f.genders = genders;
    const ethnicities = some(ETHNICITIES);
    if (ethnicities) f.ethnicities = ethnicities;
    const emotions = some(EMOTIONS);
    if (emotions) f.emotions = emotions;
    if (rnd() < 0.3) f.minConfidence = Math.round(rnd() * 100) / 100;
    if (rnd() < 0.3) f.folder = FOLDERS[Math.floor(rnd() * FOLDERS.length)] as string;
    if (rnd() < 0.3)
      f.takenFrom = `${2014 + Math.floor(rnd() * 9)}-0${1 + Math.floor(rnd() * 9)}-1${Math.floor(rnd() * 9)}`;
    if (rnd() < 0.3)
      f.takenTo = `${2015 + Math.floor(rnd() * 9)}-0${1 + Math.floor(rnd() * 9)}-2${Math.floor(rnd() * 8)}`;
    if (rnd() < 0.25) f.minFaces = Math.floor(rnd() * 4);
    if (rnd() < 0.25) f.maxFaces = Math.floor(rnd() * 6);
    if (rnd() < 0.2) f.corrected = rnd() < 0.5 ? 'corrected' : 'uncorrected';
    return f;
  }

  test('equals the SQL facets on 300 random filters, by face and by photo', () => {
    const index = library.queries.facetIndex;
    index.build();
    const filters: Filter[] = [{}, { minConfidence: 0.5 }, { corrected: 'corrected' }, { folder: '/lib/b' }];
    for (let i = 0; i < 300; i++) filters.push(randomFilter());
    let nonEmpty = 0;
    for (const filter of filters) {
      for (const target of ['faces', 'photos'] as const) {
        const sql = library.queries.sqlFacets(filter, target, ROOTS);
        const fast = index.facets(filter, target, ROOTS);
        assert.ok(fast, 'the index is fresh');
        assert.deepEqual(fast, sql, `${target} ${JSON.stringify(filter)}`);
        if (sql.total > 0) nonEmpty++;
      }
    }
    assert.ok(nonEmpty > 200, `most filters match something (${nonEmpty})`);
  });

  test('a change makes the index stale: SQL answers until the library is quiet, then the index again', () => {
    const queries = library.queries;
    const index = queries.facetIndex;
    index.build();
    assert.ok(index.facets({}, 'faces', ROOTS));
    const face = library.db.prepare<[], { id: number }>('SELECT id FROM faces ORDER BY id LIMIT 1').get() as {
      id: number;
    };
    library.catalog.faces.correct(face.id, 'emotion', 'surprise', '2024-02-01T00:00:00Z');
    // Right after a change: not from the (stale) index; through facets() the answer still matches SQL.
    assert.equal(index.facets({}, 'faces', ROOTS), null);
    const next = queries.facets({ emotions: ['surprise'] }, 'faces', ROOTS);
    assert.deepEqual(next, queries.sqlFacets({ emotions: ['surprise'] }, 'faces', ROOTS));
    // Unchanged since the last request: rebuilt, and it sees the correction.
    const rebuilt = index.facets({ emotions: ['surprise'] }, 'faces', ROOTS);
    assert.ok(rebuilt);
    assert.deepEqual(rebuilt, queries.sqlFacets({ emotions: ['surprise'] }, 'faces', ROOTS));
  });
});
