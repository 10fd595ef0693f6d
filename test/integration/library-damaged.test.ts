/**
 * JPEGs with corrupt data that the decoder repairs with only a warning ([Note: damaged JPEGs]) are
 * analysed and browsable, and flagged: recorded on the photo, listed under Problems (which can ignore
 * them) and counted by `facets stats`. The damaged photo is made here from a demo photo. Real scanner,
 * real models, real SQLite file.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { statsCommand } from '../../main/cli/commands/stats.js';
import { Library } from '../../main/library/library.js';
import { sample } from '../helpers/library-fixtures.js';

let work: string;
let photos: string;
let library: Library;

before(() => {
  work = mkdtempSync(path.join(tmpdir(), 'facets-damaged-'));
  photos = path.join(work, 'Photos');
  mkdirSync(photos);
  writeFileSync(path.join(photos, 'healthy.jpg'), readFileSync(sample(1)));
  // Cut short by an interrupted copy, but ending with an end-of-image marker: libjpeg only warns.
  const jpeg = readFileSync(sample(2));
  const cut = Buffer.concat([jpeg.subarray(0, Math.floor(jpeg.length * 0.7)), Buffer.from([0xff, 0xd9])]);
  writeFileSync(path.join(photos, 'damaged.jpg'), cut);
  library = new Library({ dbPath: path.join(work, 'library.db'), cacheDir: path.join(work, 'thumbs') });
  library.settings.update({ folders: [photos] });
});

after(() => {
  library?.close();
  rmSync(work, { recursive: true, force: true });
});

async function stats(): Promise<{ text: string; json: string }> {
  const out: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out.push(chunk.toString());
    return true;
  }) as typeof process.stdout.write;
  try {
    const db = library.dbPath;
    assert.equal(await statsCommand.run(['--db', db]), 0);
    const text = out.splice(0).join('');
    assert.equal(await statsCommand.run(['--db', db, '--json']), 0);
    return { text, json: out.join('') };
  } finally {
    process.stdout.write = write;
  }
}

test('a damaged JPEG is analysed, browsable, and flagged in Problems and stats', { timeout: 240_000 }, async () => {
  const summary = await library.scanner({ workers: 1 }).scan([photos]);
  assert.deepEqual([summary.counts.added, summary.counts.failed, summary.counts.damaged], [2, 0, 1]);
  const damagedPath = path.join(photos, 'damaged.jpg');
  const rows = library.db
    .prepare<[], { path: string; status: string; error: string | null; face_count: number }>(
      'SELECT path, status, error, face_count FROM photos ORDER BY path',
    )
    .all();
  const damaged = rows.find((r) => r.path === damagedPath);
  const healthy = rows.find((r) => r.path.endsWith('healthy.jpg'));
  assert.equal(damaged?.status, 'ok');
  assert.match(damaged?.error ?? '', /^corrupt JPEG data: the decoder repaired it/);
  assert.deepEqual([healthy?.status, healthy?.error], ['ok', null]);
  assert.ok((healthy?.face_count ?? 0) > 0);

  // Browsable like any analysed photo, and listed under Problems as damaged.
  assert.equal(library.queries.photos({}, { offset: 0, limit: 10 }).total, 2);
  const problems = library.queries.errors({ offset: 0, limit: 10 });
  assert.equal(problems.total, 1);
  assert.equal(problems.items[0]?.path, damagedPath);
  assert.equal(problems.items[0]?.damaged, true);

  const { text, json } = await stats();
  const parsed = JSON.parse(json) as { photos: { ok: number; errors: number; damaged: number }; problems: unknown[] };
  assert.deepEqual([parsed.photos.ok, parsed.photos.errors, parsed.photos.damaged], [2, 0, 1]);
  assert.deepEqual(parsed.problems, [{ path: damagedPath, error: damaged?.error }]);
  assert.match(text, /^Photos: 2 \(0 could not be analysed, 0 missing; 1 analysed but damaged\)$/m);
  assert.ok(text.includes(`  ${damagedPath}: corrupt JPEG data`), text);

  // The user can ignore it like any problem.
  const id = problems.items[0]?.photoId as number;
  assert.equal(library.catalog.photos.setErrorIgnored([id], true, new Date().toISOString()), 1);
  assert.equal(library.queries.errors({ offset: 0, limit: 10 }).total, 0);
});
