import { rmSync } from 'node:fs';
import { openDatabase } from './db.js';
import { FaceRepository } from './repositories/faces.js';
import { LibraryQueries } from './query.js';
import { AGE_GROUPS, EMOTIONS, ETHNICITIES, GENDERS } from '../engine/attributes/labels.js';
import type { Filter } from '../api/contract.js';
const file = '/tmp/lib-scratch/bench.db';
const FACES = Number(process.env.FACES ?? 1_000_000);
if (process.env.REBUILD) {
rmSync(file, { force: true }); rmSync(file + '-wal', { force: true });
const db = openDatabase(file);
let seed = 1; const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const pick = <T,>(a: readonly T[]) => a[Math.floor(rnd() * a.length)] as T;
const t0 = performance.now();
const insP = db.prepare(`INSERT INTO photos (path, folder, content_hash, size, mtime_ms, format, width, height, orientation, taken_at, sort_date, camera, status, face_count, added_at) VALUES (?, ?, ?, 1000, 0, 'jpeg', 4000, 3000, 1, ?, ?, NULL, 'ok', ?, '2024-01-01')`);
const insF = db.prepare(`INSERT INTO faces (photo_id, idx, x, y, w, h, landmarks, score, face_size, sharpness, uncertain, quality_reasons, age_years, age_group, age_group_conf, gender, gender_conf, ethnicity, ethnicity_conf, emotion, emotion_conf, corrected, photo_visible, photo_sort_date, photo_face_count, photo_folder, photo_year) VALUES (?, ?, 10, 10, 100, 100, '[[1,2],[3,4],[5,6],[7,8],[9,10]]', 0.99, 100, 100, 0, '[]', 30, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`);
const insPred = db.prepare(`INSERT INTO predictions (face_id, attribute, label, confidence, probabilities, years, model, model_version) VALUES (?, ?, ?, ?, '{}', NULL, 'm', 'v')`);
let faces = 0; let photo = 0;
db.transaction(() => {
  while (faces < FACES) {
    photo++;
    const n = rnd() < 0.15 ? 0 : Math.min(12, 1 + Math.floor(-Math.log(rnd()) * 3));
    const year = 2005 + Math.floor(rnd() * 20); const date = `${year}-${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}-15T12:00:00`;
    const folder = `/photos/${year}/album${Math.floor(rnd() * 40)}`;
    const pid = Number(insP.run(`${folder}/img${photo}.jpg`, folder, `h${photo}`, date, date, n).lastInsertRowid);
    for (let i = 0; i < n && faces < FACES; i++, faces++) {
      const corrected = rnd() < 0.02 ? 8 : 0;
      const vals = [pick(AGE_GROUPS), rnd(), pick(GENDERS), 0.5 + rnd() / 2, pick(ETHNICITIES), rnd(), pick(EMOTIONS), corrected ? 1 : rnd()];
      const fid = Number(insF.run(pid, i, ...vals, corrected, date, n, folder, year).lastInsertRowid);
      insPred.run(fid, 'ageGroup', vals[0], vals[1]); insPred.run(fid, 'gender', vals[2], vals[3]); insPred.run(fid, 'ethnicity', vals[4], vals[5]); insPred.run(fid, 'emotion', vals[6], vals[7]);
    }
  }
})();
db.exec('ANALYZE');
console.log(`built ${photo} photos, ${faces} faces in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
db.close();
}
const db = openDatabase(file);
const q = new LibraryQueries(db, new FaceRepository(db));
const filters: [string, Filter][] = [
  ['none', {}],
  ['emotion=happy', { emotions: ['happy'] }],
  ['happy+20-29+female+conf0.6', { emotions: ['happy'], ageGroups: ['20-29'], genders: ['female'], minConfidence: 0.6 }],
  ['asian, 2015', { ethnicities: ['asian'], takenFrom: '2015-01-01', takenTo: '2015-12-31' }],
  ['folder /photos/2012', { folder: '/photos/2012' }],
  ['min-faces 3 + sad', { minFaces: 3, emotions: ['sad'] }],
  ['corrected', { corrected: 'corrected' }],
  ['conf 0.8 only', { minConfidence: 0.8 }],
];
const time = (fn: () => unknown) => { const t = performance.now(); fn(); return performance.now() - t; };
for (const [name, f] of filters) {
  const fq = time(() => q.faces(f, { offset: 0, limit: 100 }));
  const pq = time(() => q.photos(f, { offset: 0, limit: 100 }));
  const ff = time(() => q.facets(f, 'faces', ['/photos']));
  const pf = time(() => q.facets(f, 'photos', ['/photos']));
  if (process.env.PLAN) { const f2 = f; void f2; }
  console.log(`${name.padEnd(28)} faces ${fq.toFixed(0).padStart(5)} ms  photos ${pq.toFixed(0).padStart(5)} ms  facets(faces) ${ff.toFixed(0).padStart(5)} ms  facets(photos) ${pf.toFixed(0).padStart(5)} ms`);
}
