/**
 * Filter and facet speed at scale. By default 100,000 synthetic faces (a few seconds to build);
 * FACETS_SCALE_FACES=1000000 for the million-face benchmark in the report. The faces go through the
 * real catalog writes, only the analysis results are made up. Prints EXPLAIN QUERY PLAN and timings.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Filter } from '../../main/api/contract.js';
import { Library } from '../../main/library/library.js';
import { random, syntheticFace, syntheticPhoto } from '../helpers/library-synthetic.js';

const FACES = Number(process.env['FACETS_SCALE_FACES'] ?? 100_000);
/** Budgets per call at the default size, generous for a loaded 2-core CI machine. */
const BUDGET_MS = { query: 500, facets: 2000 };

const FILTERS: [string, Filter][] = [
  ['no filter', {}],
  ['emotion happy', { emotions: ['happy'] }],
  [
    'happy, 20-29, female, confidence ≥ 0.6',
    { emotions: ['happy'], ageGroups: ['20-29'], genders: ['female'], minConfidence: 0.6 },
  ],
  ['asian, taken in 2015', { ethnicities: ['asian'], takenFrom: '2015-01-01', takenTo: '2015-12-31' }],
  ['one folder', { folder: '/photos/2012' }],
  ['3+ faces and sad', { minFaces: 3, emotions: ['sad'] }],
  ['corrected', { corrected: 'corrected' }],
];

describe(`filters and facets over ${FACES.toLocaleString('en')} faces`, { timeout: 1_800_000 }, () => {
  let dir: string;
  let library: Library;

  let built = '';

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'facets-scale-'));
    library = new Library({ dbPath: path.join(dir, 'library.db') });
    const rnd = random(1);
    const start = performance.now();
    let faces = 0;
    let photo = 0;
    const batch = library.db.transaction((count: number) => {
      for (let i = 0; i < count && faces < FACES; i++, photo++) {
        const n = rnd() < 0.15 ? 0 : Math.min(12, 1 + Math.floor(-Math.log(rnd()) * 2.5));
        const year = 2005 + Math.floor(rnd() * 20);
        const folder = `/photos/${year}/album ${Math.floor(rnd() * 40)}`;
        const taken = `${year}-${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}-15T12:00:00`;
        const result = syntheticPhoto(
          Array.from({ length: n }, () => syntheticFace(rnd)),
          taken,
        );
        const id = library.catalog.recordAnalysed(
          { path: `${folder}/${photo}.jpg`, size: 1, mtimeMs: 0 },
          `h${photo}`,
          result,
        );
        if (rnd() < 0.02 && n > 0) {
          const face = library.catalog.faces.ofPhoto(id)[0];
          if (face) library.catalog.faces.correct(face.id, 'emotion', 'happy', '2024-01-01T00:00:00Z');
        }
        faces += n;
      }
    });
    while (faces < FACES) batch(2000);
    library.db.exec('ANALYZE');
    built = `built ${photo.toLocaleString('en')} photos, ${faces.toLocaleString('en')} faces in ${((performance.now() - start) / 1000).toFixed(1)} s`;
  });

  after(() => {
    library?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('timings per filter: a page of faces, a page of photos, facets for each', (t) => {
    const time = (fn: () => unknown) => {
      const start = performance.now();
      fn();
      return performance.now() - start;
    };
    const page = { offset: 0, limit: 100 };
    const rows: string[] = [];
    for (const [name, filter] of FILTERS) {
      const faces = time(() => library.queries.faces(filter, page));
      const photos = time(() => library.queries.photos(filter, page));
      const faceFacets = time(() => library.queries.facets(filter, 'faces', ['/photos']));
      const photoFacets = time(() => library.queries.facets(filter, 'photos', ['/photos']));
      rows.push(
        `${name.padEnd(42)} faces ${faces.toFixed(0).padStart(5)} ms · photos ${photos.toFixed(0).padStart(5)} ms · ` +
          `facets(faces) ${faceFacets.toFixed(0).padStart(5)} ms · facets(photos) ${photoFacets.toFixed(0).padStart(5)} ms`,
      );
      if (FACES <= 100_000) {
        assert.ok(
          faces < BUDGET_MS.query && photos < BUDGET_MS.query,
          `${name}: ${faces.toFixed(0)} / ${photos.toFixed(0)} ms`,
        );
        assert.ok(faceFacets < BUDGET_MS.facets && photoFacets < BUDGET_MS.facets, `${name}: facets`);
      }
    }
    t.diagnostic(built);
    for (const row of rows) t.diagnostic(row);
  });

  test('query plans: every face count and facet is an index-only scan', (t) => {
    const explain = (sql: string) =>
      library.db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all()
        .map((r) => (r as { detail: string }).detail)
        .join(' | ');
    const plans = {
      'count happy faces': explain(`SELECT count(*) FROM faces f WHERE f.photo_visible = 1 AND f.emotion IN ('happy')`),
      'page of happy faces': explain(
        `SELECT f.* FROM faces f WHERE f.photo_visible = 1 AND f.emotion IN ('happy') ORDER BY f.photo_sort_date DESC, f.photo_id DESC, f.idx LIMIT 100`,
      ),
      'attribute facets': explain(
        `SELECT age_group, gender, ethnicity, emotion, corrected, count(*) FROM faces f INDEXED BY faces_by_attributes WHERE f.photo_visible = 1 GROUP BY age_group, gender, ethnicity, emotion, corrected`,
      ),
      'photo-level facets': explain(
        `SELECT photo_face_count, photo_folder, photo_year, count(*) FROM faces f INDEXED BY faces_by_photo_values WHERE f.photo_visible = 1 AND f.emotion IN ('happy') GROUP BY photo_face_count, photo_folder, photo_year`,
      ),
    };
    for (const [name, plan] of Object.entries(plans)) t.diagnostic(`${name}: ${plan}`);
    assert.match(plans['count happy faces'], /USING (COVERING )?INDEX/);
    assert.match(plans['page of happy faces'], /USING INDEX faces_emotion/);
    assert.match(plans['attribute facets'], /COVERING INDEX faces_by_attributes/);
    assert.doesNotMatch(plans['attribute facets'], /TEMP B-TREE/);
    assert.match(plans['photo-level facets'], /COVERING INDEX faces_by_photo_values/);
    assert.doesNotMatch(plans['photo-level facets'], /TEMP B-TREE/);
  });
});
