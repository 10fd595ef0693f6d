/**
 * The in-memory facet index ([Note: facet index]) gives exactly the SQL facets, for both targets, on
 * random filters (every Filter key: attributes, confidence, corrected, hide uncertain, people, folder,
 * dates, face count) over a library with corrections, people, missing and unreadable photos, undated
 * photos and faces without some attributes; and it stays exact after edits of every kind, brought up
 * to date from the change log ([Note: facet index changes]) without reading everything again.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Filter } from '../../main/api/contract.js';
import { AGE_GROUPS, EMOTIONS, ETHNICITIES, GENDERS } from '../../main/engine/attributes/labels.js';
import { ATTRIBUTES } from '../../main/library/attributes.js';
import { Library } from '../../main/library/library.js';
import { random, syntheticFace, syntheticPhoto } from '../helpers/library-synthetic.js';

const ROOTS = ['/lib/a', '/lib/b'];
const FOLDERS = ['/lib/a', '/lib/a/2019', '/lib/a/2019/trip', '/lib/a/2021', '/lib/b', '/lib/b/x', '/lib/b-other'];

describe('facet index', () => {
  let dir: string;
  let library: Library;
  const rnd = random(5);
  const people: number[] = [];
  const photoIds: number[] = [];

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
    // People: a third of the faces, over eight people.
    for (let p = 0; p < 8; p++) people.push(catalog.people.createPerson(`p${p}`, '2024-01-01T00:00:00Z'));
    faceIds.forEach(({ id }) => {
      if (rnd() < 0.33)
        catalog.people.assign(id, people[Math.floor(rnd() * 8)] as number, 'cluster', '2024-01-01T00:00:00Z');
    });
    catalog.markMissing(ids.filter((_, i) => i % 17 === 0));
    photoIds.push(...ids);
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
    const hide = some(ATTRIBUTES);
    if (hide) f.hideUncertain = hide;
    if (rnd() < 0.25) f.people = [...(some(people) ?? []), ...(rnd() < 0.2 ? [9999] : [])];
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

  /** The index (not rebuilt) against SQL on a few fixed and random filters, both targets. */
  function assertExact(what: string): void {
    const index = library.queries.facetIndex;
    const filters: Filter[] = [
      {},
      { emotions: ['surprise'] },
      { people: people.slice(0, 2) },
      { hideUncertain: ['gender', 'emotion'], minConfidence: 0.3 },
      { emotions: [...EMOTIONS], minConfidence: 0.3 },
      { genders: [...GENDERS], minConfidence: 0.6, hideUncertain: ['gender'] },
    ];
    for (let i = 0; i < 30; i++) filters.push(randomFilter());
    for (const filter of filters) {
      for (const target of ['faces', 'photos'] as const) {
        const fast = index.facets(filter, target, ROOTS);
        assert.ok(fast, `${what}: answered by the index`);
        assert.deepEqual(
          fast,
          library.queries.sqlFacets(filter, target, ROOTS),
          `${what}: ${target} ${JSON.stringify(filter)}`,
        );
      }
    }
  }

  test('after every kind of edit the index answers at once, equal to SQL, without reading everything again', () => {
    const index = library.queries.facetIndex;
    index.build();
    const builds = () => index.lastBuildMs;
    const built = builds();
    const { catalog } = library;
    const faceOf = (n: number) =>
      (
        library.db
          .prepare<[number], { id: number }>(
            'SELECT id FROM faces WHERE photo_visible = 1 ORDER BY id LIMIT 1 OFFSET ?',
          )
          .get(n) as { id: number }
      ).id;
    const edits: [string, () => void][] = [
      ['a correction', () => catalog.faces.correct(faceOf(3), 'emotion', 'surprise', '2024-02-01T00:00:00Z')],
      ['a correction undone', () => catalog.faces.uncorrect(faceOf(7 * 3), 'emotion')],
      [
        'a face given to a person',
        () => catalog.people.assign(faceOf(5), people[0] as number, 'user', '2024-02-01T00:00:00Z'),
      ],
      ['a face taken from its person', () => catalog.people.unassign(faceOf(5))],
      [
        'a face moved to another person',
        () => {
          const id = faceOf(9);
          catalog.people.unassign(id);
          catalog.people.assign(id, people[1] as number, 'user', '2024-02-01T00:00:00Z');
          catalog.people.assign(faceOf(10), people[1] as number, 'user', '2024-02-01T00:00:00Z');
        },
      ],
      ['a person deleted', () => catalog.people.deletePerson(people[7] as number)],
      ['photos missing', () => catalog.markMissing(photoIds.slice(100, 110))],
      ['a missing photo back', () => catalog.photos.restore(photoIds[101] as number)],
      ['a photo deleted', () => catalog.photos.delete(photoIds[200] as number)],
      [
        'new photos, one in a new folder with a new date',
        () => {
          for (let i = 0; i < 5; i++)
            catalog.recordAnalysed(
              { path: `/lib/b/new${i === 0 ? '/deeper' : ''}/n${i}.jpg`, size: 1, mtimeMs: 0 },
              `new${i}`,
              syntheticPhoto(
                Array.from({ length: i }, () => syntheticFace(rnd)),
                `2030-0${1 + i}-0${1 + i}T10:00:00`,
              ),
            );
        },
      ],
      [
        'a photo re-analysed with more faces',
        () => {
          const row = library.db
            .prepare<[number], { path: string }>('SELECT path FROM photos WHERE id = ?')
            .get(photoIds[300] as number) as { path: string };
          catalog.recordAnalysed(
            { path: row.path, size: 2, mtimeMs: 1 },
            'changed300',
            syntheticPhoto([syntheticFace(rnd), syntheticFace(rnd), syntheticFace(rnd)], '2016-05-05T10:00:00'),
          );
        },
      ],
      [
        'a photo now unreadable',
        () => {
          const row = library.db
            .prepare<[number], { path: string }>('SELECT path FROM photos WHERE id = ?')
            .get(photoIds[301] as number) as { path: string };
          catalog.recordFailure({ path: row.path, size: 3, mtimeMs: 2 }, null, 'error', 'cannot decode');
        },
      ],
      [
        'confidences a hair either side of a threshold (equal as float32)',
        () => {
          // Written directly: the index must compare the doubles where float32 cannot tell them apart.
          const set = library.db.prepare<[number, number, number]>(
            'UPDATE faces SET emotion_conf = ?, gender_conf = ? WHERE id = ?',
          );
          set.run(0.3 + 1e-12, 0.6 - 1e-12, faceOf(11));
          set.run(0.3 - 1e-12, 0.6 + 1e-12, faceOf(12));
          set.run(0.3, 0.6, faceOf(13));
        },
      ],
    ];
    for (const [what, edit] of edits) {
      edit();
      const fast = index.facets({}, 'faces', ROOTS);
      assert.ok(fast, `${what}: the index answers right after the edit`);
      assert.ok(index.lastUpdatedPhotos > 0, `${what}: the changed photos were re-read`);
      assert.equal(builds(), built, `${what}: no full read`);
      assertExact(what);
    }
  });

  test('an edit inside an open transaction goes to SQL (it may still roll back)', () => {
    const index = library.queries.facetIndex;
    library.db.transaction(() => {
      library.catalog.faces.correct(
        (library.db.prepare<[], { id: number }>('SELECT id FROM faces ORDER BY id LIMIT 1').get() as { id: number }).id,
        'emotion',
        'fear',
        '2024-03-01T00:00:00Z',
      );
      assert.equal(index.facets({}, 'faces', ROOTS), null);
      assert.deepEqual(library.queries.facets({}, 'faces', ROOTS), library.queries.sqlFacets({}, 'faces', ROOTS));
    })();
    assertExact('after the transaction');
  });
});
