import { openDatabase } from './db.js';
import { FaceRepository } from './repositories/faces.js';
import { LibraryQueries } from './query.js';
import type { Filter } from '../api/contract.js';
const db = openDatabase('/tmp/lib-scratch/bench.db');
db.exec('ANALYZE');
const orig = db.prepare.bind(db);
(db as any).prepare = (sql: string) => {
  const st: any = orig(sql);
  for (const m of ['all', 'get']) {
    const f = st[m].bind(st);
    st[m] = (...a: unknown[]) => { const t = performance.now(); const r = f(...a); const ms = performance.now() - t; if (ms > 30) console.log(ms.toFixed(0).padStart(6), 'ms', sql.replace(/\s+/g, ' ').slice(0, 220), '\n        PLAN:', orig('EXPLAIN QUERY PLAN ' + sql).all(...a).map((x: any) => x.detail).join(' | ')); return r; };
  }
  const raw = st.raw.bind(st); st.raw = (...a: unknown[]) => { raw(...a); return st; };
  return st;
};
const q = new LibraryQueries(db, new FaceRepository(db));
const f: Filter = JSON.parse(process.argv[2] ?? '{}');
console.log('--- faces'); q.facets(f, 'faces', ['/photos']);
console.log('--- photos'); q.facets(f, 'photos', ['/photos']);
console.log('--- page'); q.faces(f, { offset: 0, limit: 100 }); q.photos(f, { offset: 0, limit: 100 });
