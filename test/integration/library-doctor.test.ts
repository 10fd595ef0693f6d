/**
 * A damaged library is noticed and can be repaired (issue 12, defect 3): every open runs
 * `PRAGMA quick_check` and refuses a damaged database with a message naming `facets doctor`, which
 * checks it fully, keeps a backup and rebuilds it from every row it can read, corrections first.
 * Real SQLite files with real damage (pages overwritten), the real CLI.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { Library } from '../../main/library/library.js';
import { asNobodyMissing, facets, facetsAsNobody } from '../helpers/cli.js';
import { random, syntheticFace, syntheticPhoto } from '../helpers/library-synthetic.js';

const PHOTOS = 400;

/** A library of synthetic analyses with one correction on the first face and a library folder. */
function buildLibrary(file: string): void {
  const library = new Library({ dbPath: file });
  const rnd = random(7);
  library.db.transaction(() => {
    for (let i = 0; i < PHOTOS; i++) {
      library.catalog.recordAnalysed(
        { path: `/photos/album/${i}.jpg`, size: 1, mtimeMs: 0 },
        `h${i}`,
        syntheticPhoto([syntheticFace(rnd), syntheticFace(rnd)], '2020-05-01T12:00:00'),
      );
    }
  })();
  const first = library.db.prepare<[], { id: number }>('SELECT min(id) AS id FROM faces').get()?.id as number;
  library.catalog.faces.correct(first, 'emotion', 'surprise', '2024-01-01T00:00:00Z');
  library.settings.update({ folders: ['/photos'] });
  library.close();
}

/** Overwrites page `page` (1-based) of the database file with garbage. */
function damagePage(file: string, page: number): void {
  const db = new Database(file, { readonly: true });
  const size = db.pragma('page_size', { simple: true }) as number;
  db.close();
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(size, 0xa5), 0, size, (page - 1) * size);
  closeSync(fd);
}

function pages(file: string, name: string, type?: string): number[] {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare<[string], { pageno: number; pagetype: string }>(
        'SELECT pageno, pagetype FROM dbstat WHERE name = ? ORDER BY pageno',
      )
      .all(name)
      .filter((p) => !type || p.pagetype === type)
      .map((p) => p.pageno);
  } finally {
    db.close();
  }
}

function counts(file: string): { photos: number; faces: number; corrections: string[]; folders: string } {
  const db = new Database(file, { readonly: true });
  try {
    const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    return {
      photos: n('SELECT count(*) AS n FROM photos'),
      faces: n('SELECT count(*) AS n FROM faces'),
      corrections: db
        .prepare<[], { v: string }>(`SELECT attribute || '=' || value AS v FROM corrections`)
        .all()
        .map((r) => r.v),
      folders: (db.prepare(`SELECT value FROM settings WHERE key = 'folders'`).get() as { value: string }).value,
    };
  } finally {
    db.close();
  }
}

describe('damaged libraries', () => {
  let work: string;
  before(() => {
    work = mkdtempSync(path.join(tmpdir(), 'facets-doctor-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('a damaged index: stats and scan refuse with a way out; doctor rebuilds it, keeping every row', () => {
    const db = path.join(work, 'index.db');
    buildLibrary(db);
    const before = counts(db);
    damagePage(db, pages(db, 'faces_by_attributes')[0] as number);

    for (const args of [['stats'], ['query'], ['scan']]) {
      const r = facets([...args, '--db', db]);
      assert.equal(r.code, 1, `${args[0]} exits 1: ${r.stdout}`);
      assert.match(r.stderr, /is damaged .*facets doctor --db/s, r.stderr);
    }
    const check = facets(['doctor', '--check', '--db', db]);
    assert.equal(check.code, 1, check.stdout);
    assert.match(check.stdout, /damaged/);

    const repair = facets(['doctor', '--db', db, '--json']);
    assert.equal(repair.code, 0, repair.stderr);
    const report = JSON.parse(repair.stdout) as { backup: string; tables: { table: string; lost: number }[] };
    assert.ok(existsSync(report.backup), 'the damaged file is kept as a backup');
    assert.deepEqual(
      report.tables.filter((t) => t.lost > 0),
      [],
    );
    assert.deepEqual(counts(db), before);
    assert.equal(facets(['doctor', '--check', '--db', db]).code, 0);
    const stats = facets(['stats', '--db', db, '--json']);
    assert.equal(stats.code, 0, stats.stderr);
    assert.equal((JSON.parse(stats.stdout) as { corrected: number }).corrected, 1);
  });

  test('a damaged page of faces: doctor keeps every other row and the correction', () => {
    const db = path.join(work, 'table.db');
    buildLibrary(db);
    const before = counts(db);
    const leaves = pages(db, 'faces', 'leaf');
    assert.ok(leaves.length > 3, `faces span ${leaves.length} leaf pages`);
    damagePage(db, leaves.at(-2) as number); // not the first page, where the corrected face is
    assert.equal(facets(['stats', '--db', db]).code, 1);

    const repair = facets(['doctor', '--db', db, '--json']);
    assert.equal(repair.code, 0, repair.stderr);
    const after = counts(db);
    assert.ok(
      after.faces < before.faces && after.faces > before.faces * 0.8,
      `${after.faces} of ${before.faces} faces`,
    );
    assert.equal(after.photos, before.photos);
    assert.deepEqual(after.corrections, before.corrections);
    assert.equal(after.folders, before.folders);
    assert.equal(facets(['doctor', '--check', '--db', db]).code, 0);
    const library = new Library({ dbPath: db });
    try {
      // Faces and their predictions still agree: no face without its predictions, no orphan.
      const orphans = library.db.prepare(
        'SELECT count(*) AS n FROM predictions WHERE face_id NOT IN (SELECT id FROM faces)',
      );
      assert.equal((orphans.get() as { n: number }).n, 0);
    } finally {
      library.close();
    }
  });

  test('read commands open read-only and never create a library where none is', () => {
    const missing = path.join(work, 'typo', 'librray.db');
    for (const args of [['stats'], ['query'], ['export', '--format', 'csv']]) {
      const r = facets([...args, '--db', missing]);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /no library at .*librray\.db/);
    }
    assert.ok(!existsSync(path.dirname(missing)), 'nothing was created');
  });

  test('a library on a read-only disk can be browsed', (t) => {
    // As root every folder is writable; another user (nobody) sees a folder it cannot write to, which is
    // what a read-only disk looks like to SQLite: no -shm file can be made next to the database.
    const missing = asNobodyMissing();
    if (missing) return t.skip(missing);
    const folder = path.join(work, 'readonly');
    mkdirSync(folder);
    const db = path.join(folder, 'library.db');
    buildLibrary(db);
    chmodSync(work, 0o755);
    chmodSync(folder, 0o755);
    chmodSync(db, 0o644);
    const asNobody = (args: string[]) => facetsAsNobody(args, { env: { ...process.env, HOME: folder } });
    const stats = asNobody(['stats', '--db', db, '--json']);
    assert.equal(stats.status, 0, stats.stderr);
    assert.equal((JSON.parse(stats.stdout) as { photos: { total: number } }).photos.total, PHOTOS);
    const query = asNobody(['query', '--db', db, '--emotion', 'surprise']);
    assert.equal(query.status, 0, query.stderr);
    assert.ok(query.stdout.includes('/photos/album/'), query.stdout);
    assert.deepEqual(
      readdirSync(folder).filter((f) => /-(wal|shm|journal)$/.test(f)),
      [],
      'nothing was written beside it',
    );
  });
});
