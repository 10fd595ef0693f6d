/**
 * People at scale, on synthetic identity vectors (not a test: figures for docs/people.md).
 *
 *   node --import tsx scripts/people-bench.ts [--faces 1000000] [--skip-db]
 *
 * - assigning one new face (index search + the k-NN vote) at 100,000 and 1,000,000 faces;
 * - a full re-cluster of 100,000 faces (the product's algorithm and threshold);
 * - the people list with counts from a real SQLite library of 1,000,000 faces (migration 3's schema).
 *
 * Synthetic faces: identities with 1–60 faces each (a long tail, as libraries have), centres spread like
 * dlib vectors (≈1.0 apart), faces ≈0.35 from their centre; one face in four a one-off.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Library } from '../main/library/library.js';
import { type ClusterAlgorithm, clusterFaces } from '../main/people/cluster.js';
import { peopleMetrics } from '../main/people/metrics.js';
import { peopleOf } from '../main/people/library.js';
import { FULL, INCREMENTAL } from '../main/people/service.js';
import { trainIndex } from '../main/people/knn.js';
import { IvfIndex, VectorSet } from '../main/people/vectors.js';

const { values } = parseArgs({
  options: {
    faces: { type: 'string', default: '1000000' },
    /** Library sizes to time assignment at (comma-separated). */
    assign: { type: 'string', default: '100000,1000000' },
    'skip-recluster': { type: 'boolean', default: false },
    'skip-db': { type: 'boolean', default: false },
    /** Re-cluster with another algorithm and threshold than the product's (e.g. vote:0.48). */
    recluster: { type: 'string' },
  },
});
const DIM = 128;
let seed = 12345;
const rand = () => {
  seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0; // integer LCG: a float product loses bits and cycles
  return seed / 4_294_967_296;
};
const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());

function synthetic(n: number): { set: VectorSet; person: Int32Array } {
  const set = new VectorSet(DIM, n);
  const person = new Int32Array(n);
  const v = new Float32Array(DIM);
  let id = 0;
  while (set.count < n) {
    const size = rand() < 0.25 ? 1 : 1 + Math.floor(60 * rand() ** 3);
    const centre = Float32Array.from({ length: DIM }, () => gauss() * 0.0625);
    for (let i = 0; i < size && set.count < n; i++) {
      for (let k = 0; k < DIM; k++) v[k] = (centre[k] as number) + gauss() * 0.022;
      person[set.add(v)] = id;
    }
    id++;
  }
  return { set, person };
}

/** As PeopleService.assignNew: the library's faces filed at once, the index trained by the kernel, then new faces. */
async function timeAssign(n: number): Promise<{ ms: number; build: number }> {
  const { set } = synthetic(n + 200);
  const t0 = performance.now();
  const index = new IvfIndex(set);
  index.fileAll(Array.from({ length: n }, (_, i) => i));
  await trainIndex(index);
  const build = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  for (let i = n; i < n + 200; i++) {
    const near = index.search(set.row(i), INCREMENTAL.k, INCREMENTAL.threshold, i);
    const votes = new Map<number, number>();
    for (const x of near) votes.set(x.index, (votes.get(x.index) ?? 0) + 1);
    index.add(i);
  }
  return { ms: (performance.now() - t1) / 200, build };
}

const out: Record<string, unknown> = {};
for (const n of values.assign.split(',').filter(Boolean).map(Number)) {
  const r = await timeAssign(n);
  out[`assign ms/face at ${n}`] = Number(r.ms.toFixed(2));
  out[`index build s at ${n}`] = Number(r.build.toFixed(1));
  console.log(JSON.stringify(out));
}
if (!values['skip-recluster']) {
  const { set, person } = synthetic(100_000);
  const [algorithm, threshold] = values.recluster
    ? [values.recluster.split(':')[0] as ClusterAlgorithm, Number(values.recluster.split(':')[1])]
    : [FULL.algorithm, FULL.threshold];
  out['recluster algorithm'] = `${algorithm} ${threshold}`;
  out['recluster 100000 identities'] = new Set(person).size;
  const t0 = performance.now();
  const labels = await clusterFaces(set, { algorithm, threshold, k: FULL.k });
  const seconds = (performance.now() - t0) / 1000;
  const m = peopleMetrics(
    Array.from(person, (p) => String(p)),
    labels,
  );
  out['recluster 100000 bcubedF'] = Number(m.bcubedF.toFixed(3));
  out['recluster 100000 pairwisePrecision'] = Number(m.pairwisePrecision.toFixed(3));
  out['recluster 100000 s'] = Number(seconds.toFixed(1));
  out['recluster 100000 clusters'] = new Set(labels).size;
  console.log(JSON.stringify(out));
}
if (!values['skip-db']) {
  const work = mkdtempSync(path.join(tmpdir(), 'facets-people-bench-'));
  try {
    const library = new Library({ dbPath: path.join(work, 'library.db') });
    const n = Number(values.faces);
    const db = library.db;
    const t0 = performance.now();
    db.transaction(() => {
      const photo = db.prepare(
        `INSERT INTO photos (path, folder, size, mtime_ms, sort_date, status, face_count, added_at)
         VALUES (?, '/p', 1, 0, '2020-01-01T00:00:00', 'ok', 10, '2020')`,
      );
      const face = db.prepare(
        `INSERT INTO faces (photo_id, idx, x, y, w, h, landmarks, score, face_size, sharpness, uncertain, quality_reasons,
           photo_visible, photo_sort_date, photo_face_count, photo_folder, photo_year)
         VALUES (?, ?, 0, 0, 100, 100, '[]', 1, 100, 100, 0, '[]', 1, '2020-01-01T00:00:00', 10, '/p', 2020)`,
      );
      const person = db.prepare(`INSERT INTO people (created_at, updated_at) VALUES ('x', 'x')`);
      const assign = db.prepare(
        `INSERT INTO face_people (face_id, person_id, source, assigned_at) VALUES (?, ?, 'cluster', 'x')`,
      );
      let personId = 0;
      let left = 0;
      for (let i = 0; i < n; i++) {
        if (i % 10 === 0) photo.run(`/p/${i}.jpg`);
        const faceId = Number(face.run(Math.floor(i / 10) + 1, i % 10).lastInsertRowid);
        if (rand() < 0.25) continue; // a one-off face: no person
        if (left === 0) {
          personId = Number(person.run().lastInsertRowid);
          left = 2 + Math.floor(60 * rand() ** 3);
        }
        assign.run(faceId, personId);
        left--;
      }
    })();
    out['db build s'] = Number(((performance.now() - t0) / 1000).toFixed(1));
    const people = peopleOf(library);
    people.list({ limit: 200 }); // warm the statement cache
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      const page = people.list({ limit: 200 });
      times.push(performance.now() - t);
      if (page.items.length !== 200) throw new Error('expected a full page');
    }
    times.sort((a, b) => a - b);
    out[`people list (200 with counts and covers) ms at ${n} faces, median`] = Number(times[10]?.toFixed(2));
    out['people'] = people.list({ limit: 1 }).total;
    library.close();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
console.log(JSON.stringify(out, null, 2));
