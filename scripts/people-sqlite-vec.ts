/**
 * Why the identity vectors are not searched with sqlite-vec (not a test: figures for docs/people.md).
 * vec0's k-NN at 100,000 and 1,000,000 synthetic 128-d faces, time per query, against the targets of the
 * people issue (≤ 10 ms at 100,000, ≤ 50 ms at 1,000,000). sqlite-vec is not a dependency; install it
 * beside the project first:
 *
 *   npm install --no-save sqlite-vec@0.1.9 && node --import tsx scripts/people-sqlite-vec.ts [100000,1000000]
 */
import Database from 'better-sqlite3';

interface SqliteVec {
  load(db: Database.Database): void;
}
const name = 'sqlite-vec'; // a variable: the module is optional, so the type checker does not resolve it
const sqliteVec = (await import(name)) as SqliteVec;

let seed = 12345;
const rand = () => {
  seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0; // integer LCG: a float product loses bits and cycles
  return seed / 4_294_967_296;
};
const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());

for (const n of (process.argv[2] ?? '100000,1000000').split(',').map(Number)) {
  const db = new Database(':memory:');
  sqliteVec.load(db);
  db.exec('CREATE VIRTUAL TABLE v USING vec0(embedding float[128])');
  const insert = db.prepare('INSERT INTO v(rowid, embedding) VALUES (?, ?)');
  const v = new Float32Array(128);
  const t0 = performance.now();
  db.transaction(() => {
    for (let i = 1; i <= n; i++) {
      for (let k = 0; k < 128; k++) v[k] = gauss() * 0.0625;
      insert.run(BigInt(i), Buffer.from(v.buffer));
    }
  })();
  const insertS = (performance.now() - t0) / 1000;
  const knn = db.prepare('SELECT rowid, distance FROM v WHERE embedding MATCH ? AND k = 30 ORDER BY distance');
  const times: number[] = [];
  for (let r = 0; r < 7; r++) {
    for (let k = 0; k < 128; k++) v[k] = gauss() * 0.0625;
    const t = performance.now();
    if (knn.all(Buffer.from(v.buffer)).length !== 30) throw new Error('expected 30 neighbours');
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const version = (db.prepare('SELECT vec_version() AS v').get() as { v: string }).v;
  console.log(
    JSON.stringify({
      faces: n,
      insertS: Number(insertS.toFixed(1)),
      knnMsMedian: Number(times[3]?.toFixed(1)),
      version,
    }),
  );
  db.close();
}
