import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Attribute, Facets, Filter } from '../../main/api/contract.js';
import { AGE_GROUPS, EMOTIONS, ETHNICITIES, GENDERS } from '../../main/engine/attributes/labels.js';
import { Library } from '../../main/library/library.js';
import { random, syntheticFace, syntheticPhoto } from '../helpers/library-synthetic.js';

const ROOTS = ['/lib/a', '/lib/b'];
const FOLDERS = ['/lib/a', '/lib/a/2019', '/lib/a/2019/trip', '/lib/a/2021', '/lib/b', '/lib/b/x'];
const FILTER_KEY: Record<Attribute, 'ageGroups' | 'genders' | 'ethnicities' | 'emotions'> = {
  ageGroup: 'ageGroups',
  gender: 'genders',
  ethnicity: 'ethnicities',
  emotion: 'emotions',
};
const LABELS: Record<Attribute, readonly string[]> = {
  ageGroup: AGE_GROUPS,
  gender: GENDERS,
  ethnicity: ETHNICITIES,
  emotion: EMOTIONS,
};
const BUCKETS: Record<string, [number, number]> = {
  '0': [0, 0],
  '1': [1, 1],
  '2': [2, 2],
  '3-5': [3, 5],
  '6+': [6, 10_000],
};
const ALL = { offset: 0, limit: 500 };

describe('queries and facets', () => {
  let dir: string;
  let library: Library;
  const rnd = random(42);

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'facets-query-'));
    library = new Library({ dbPath: path.join(dir, 'library.db') });
    const { catalog } = library;
    for (let i = 0; i < 240; i++) {
      const folder = FOLDERS[i % FOLDERS.length] as string;
      const faces = Array.from({ length: Math.floor(rnd() * rnd() * 8) }, () => syntheticFace(rnd));
      const year = 2015 + Math.floor(rnd() * 8);
      const taken = rnd() < 0.8 ? `${year}-0${1 + Math.floor(rnd() * 9)}-1${Math.floor(rnd() * 9)}T10:00:00` : null;
      const mtime = Date.UTC(2012, 5, 1 + i);
      catalog.recordAnalysed(
        { path: `${folder}/p${i}.jpg`, size: 100 + i, mtimeMs: mtime },
        `hash${i}`,
        syntheticPhoto(faces, taken),
      );
    }
    // Some corrections, a missing photo and an unreadable one: neither of the last two is browsed.
    const faceIds = library.db.prepare<[], { id: number }>('SELECT id FROM faces ORDER BY id').all();
    faceIds.forEach(({ id }, i) => {
      if (i % 9 === 0) catalog.faces.correct(id, 'emotion', EMOTIONS[i % 7] as string, '2024-01-01T00:00:00Z');
      if (i % 13 === 0) catalog.faces.correct(id, 'ageGroup', AGE_GROUPS[i % 9] as string, '2024-01-01T00:00:00Z');
    });
    catalog.markMissing([3]);
    catalog.recordFailure({ path: '/lib/a/broken.jpg', size: 5, mtimeMs: 0 }, 'x', 'error', 'not a readable image');
  });

  after(() => {
    library.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Brute force over every visible face, in JS, as the reference for the SQL. */
  function reference(filter: Filter) {
    const faces = library.db
      .prepare<[], Record<string, unknown>>(
        `SELECT f.*, p.folder, p.sort_date, p.face_count FROM faces f JOIN photos p ON p.id = f.photo_id
         WHERE p.status = 'ok' AND p.missing_since IS NULL`,
      )
      .all();
    const photos = library.db
      .prepare<[], Record<string, unknown>>(`SELECT * FROM photos WHERE status = 'ok' AND missing_since IS NULL`)
      .all();
    const photoOk = (p: Record<string, unknown>) => {
      const folder = p['folder'] as string;
      const date = (p['sort_date'] as string).slice(0, 10);
      const n = p['face_count'] as number;
      return (
        (!filter.folder || folder === filter.folder || folder.startsWith(`${filter.folder}/`)) &&
        (!filter.takenFrom || date >= filter.takenFrom) &&
        (!filter.takenTo || date <= filter.takenTo) &&
        (filter.minFaces === undefined || n >= filter.minFaces) &&
        (filter.maxFaces === undefined || n <= filter.maxFaces)
      );
    };
    const columns: Record<Attribute, [string, string]> = {
      ageGroup: ['age_group', 'age_group_conf'],
      gender: ['gender', 'gender_conf'],
      ethnicity: ['ethnicity', 'ethnicity_conf'],
      emotion: ['emotion', 'emotion_conf'],
    };
    const faceOk = (f: Record<string, unknown>) =>
      (Object.keys(columns) as Attribute[]).every((a) => {
        const values = filter[FILTER_KEY[a]] as string[] | undefined;
        if (!values?.length) return true;
        const [v, c] = columns[a];
        return (
          values.includes(f[v] as string) &&
          (filter.minConfidence === undefined || (f[c] as number) >= filter.minConfidence)
        );
      }) &&
      (!filter.corrected || (filter.corrected === 'corrected') === (f['corrected'] as number) > 0);
    const matchingFaces = faces.filter((f) => photoOk(f) && faceOk(f));
    const anyFaceCondition =
      (Object.keys(columns) as Attribute[]).some((a) => (filter[FILTER_KEY[a]]?.length ?? 0) > 0) || !!filter.corrected;
    const withMatch = new Set(matchingFaces.map((f) => f['photo_id']));
    const matchingPhotos = photos.filter((p) => photoOk(p) && (!anyFaceCondition || withMatch.has(p['id'])));
    return { faces: matchingFaces.length, photos: matchingPhotos.length };
  }

  function randomFilter(): Filter {
    const pickSome = <T>(values: readonly T[]) => values.filter(() => rnd() < 0.3);
    const f: Filter = {};
    if (rnd() < 0.5) f.ageGroups = pickSome(AGE_GROUPS);
    if (rnd() < 0.3) f.genders = pickSome(GENDERS);
    if (rnd() < 0.4) f.ethnicities = pickSome(ETHNICITIES);
    if (rnd() < 0.5) f.emotions = pickSome(EMOTIONS);
    if (rnd() < 0.3) f.minConfidence = Math.round(rnd() * 10) / 10;
    if (rnd() < 0.3) f.folder = FOLDERS[Math.floor(rnd() * FOLDERS.length)] as string;
    if (rnd() < 0.3) f.takenFrom = `201${5 + Math.floor(rnd() * 4)}-03-01`;
    if (rnd() < 0.3) f.takenTo = `20${17 + Math.floor(rnd() * 5)}-06-30`;
    if (rnd() < 0.2) f.minFaces = Math.floor(rnd() * 3);
    if (rnd() < 0.2) f.maxFaces = 2 + Math.floor(rnd() * 4);
    if (rnd() < 0.2) f.corrected = rnd() < 0.5 ? 'corrected' : 'uncorrected';
    return f;
  }

  const total = (filter: Filter, target: 'photos' | 'faces') =>
    target === 'faces' ? library.queries.faces(filter, ALL).total : library.queries.photos(filter, ALL).total;

  /** Every facet count must equal what selecting that value alone (for its facet) returns. */
  function assertFacetsConsistent(filter: Filter, target: 'photos' | 'faces', facets: Facets) {
    const label = `${target} ${JSON.stringify(filter)}`;
    assert.equal(facets.total, total(filter, target), `${label}: total`);
    for (const a of ['ageGroup', 'gender', 'ethnicity', 'emotion'] as const) {
      assert.deepEqual(
        facets[a].map((c) => c.value),
        LABELS[a],
        `${label}: every ${a} value listed`,
      );
      for (const { value, count } of facets[a]) {
        assert.equal(count, total({ ...filter, [FILTER_KEY[a]]: [value] }, target), `${label}: ${a}=${value}`);
      }
    }
    for (const { value, count } of facets.corrected) {
      assert.equal(
        count,
        total({ ...filter, corrected: value as 'corrected' }, target),
        `${label}: corrected=${value}`,
      );
    }
    for (const { value, count } of facets.faceCount) {
      const [minFaces, maxFaces] = BUCKETS[value] as [number, number];
      assert.equal(count, total({ ...filter, minFaces, maxFaces }, target), `${label}: faceCount=${value}`);
    }
    for (const { value, count } of facets.folder) {
      assert.equal(count, total({ ...filter, folder: value }, target), `${label}: folder=${value}`);
    }
    for (const { value, count } of facets.year) {
      assert.equal(
        count,
        total({ ...filter, takenFrom: `${value}-01-01`, takenTo: `${value}-12-31` }, target),
        `${label}: year=${value}`,
      );
    }
  }

  test('face and photo queries return exactly what a brute-force filter in JS returns', () => {
    for (let i = 0; i < 80; i++) {
      const filter = randomFilter();
      const expected = reference(filter);
      assert.equal(library.queries.faces(filter, ALL).total, expected.faces, `faces ${JSON.stringify(filter)}`);
      assert.equal(library.queries.photos(filter, ALL).total, expected.photos, `photos ${JSON.stringify(filter)}`);
    }
  });

  test('every facet count is what selecting that value would return, for faces and for photos', () => {
    for (let i = 0; i < 25; i++) {
      const filter = i === 0 ? {} : randomFilter();
      for (const target of ['faces', 'photos'] as const) {
        assertFacetsConsistent(filter, target, library.queries.facets(filter, target, ROOTS));
      }
    }
  });

  test('folder facet: each library root and its direct sub-folders', () => {
    const facets = library.queries.facets({}, 'photos', ROOTS);
    assert.deepEqual(facets.folder.map((f) => f.value).sort(), [
      '/lib/a',
      '/lib/a/2019',
      '/lib/a/2021',
      '/lib/b',
      '/lib/b/x',
    ]);
    const a = facets.folder.find((f) => f.value === '/lib/a')?.count ?? 0;
    const sub = (v: string) => facets.folder.find((f) => f.value === v)?.count ?? 0;
    assert.ok(a >= sub('/lib/a/2019') + sub('/lib/a/2021'));
  });

  test('pages: sorted by date taken, newest first, and never overlapping', () => {
    const first = library.queries.photos({}, { offset: 0, limit: 50 });
    const second = library.queries.photos({}, { offset: 50, limit: 50 });
    const ids = [...first.items, ...second.items].map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length);
    const faces = library.queries.faces({}, { offset: 0, limit: 100 }).items;
    assert.ok(faces.length > 0);
    const photoDates = new Map(
      library.db
        .prepare<[], { id: number; sort_date: string }>('SELECT id, sort_date FROM photos')
        .all()
        .map((p) => [p.id, p.sort_date]),
    );
    const dates = faces.map((f) => photoDates.get(f.photoId) as string);
    assert.deepEqual(dates, [...dates].sort().reverse());
  });

  test('filters and facets read covering indexes only: no full scan of faces, no sort for facets', () => {
    const plans: string[] = [];
    const original = library.db.prepare.bind(library.db);
    const spy = (sql: string) => {
      if (/^\s*SELECT/i.test(sql) && !sql.includes('sqlite_master')) {
        plans.push(
          original(`EXPLAIN QUERY PLAN ${sql}`)
            .all(...new Array((sql.match(/\?/g) ?? []).length).fill(0))
            .map((r) => (r as { detail: string }).detail)
            .join(' | '),
        );
      }
      return original(sql);
    };
    (library.db as unknown as { prepare: typeof spy }).prepare = spy;
    try {
      library.queries.facets({ emotions: ['happy'], minConfidence: 0.5 }, 'faces', ROOTS);
      library.queries.facets({}, 'photos', ROOTS);
      library.queries.faces({ emotions: ['happy'] }, ALL);
    } finally {
      (library.db as unknown as { prepare: typeof original }).prepare = original;
    }
    for (const plan of plans) {
      assert.doesNotMatch(plan, /SCAN f\b(?! USING COVERING)/, plan);
      if (/faces_by_(attributes|photo)/.test(plan)) assert.doesNotMatch(plan, /TEMP B-TREE FOR GROUP BY/, plan);
    }
  });
});
