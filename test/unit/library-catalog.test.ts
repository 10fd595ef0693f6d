import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { Library } from '../../main/library/library.js';
import { MIGRATIONS, migrate } from '../../main/library/migrations.js';
import { openDatabase } from '../../main/library/db.js';
import { random, syntheticFace, syntheticPhoto } from '../helpers/library-synthetic.js';

describe('database and migrations', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(tmpdir(), 'facets-db-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a new library gets every migration, WAL journal and foreign keys; reopening changes nothing', () => {
    const file = path.join(dir, 'new', 'library.db');
    const db = openDatabase(file);
    assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.at(-1)?.version);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    const tables = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all()
      .map((r) => r.name);
    for (const t of ['corrections', 'faces', 'photos', 'predictions', 'scans', 'settings'])
      assert.ok(tables.includes(t), t);
    db.close();
    const again = openDatabase(file);
    assert.equal(migrate(again), MIGRATIONS.at(-1)?.version);
    again.close();
  });

  test('migrations are applied in order, each with its version, and a failing one rolls back whole', () => {
    const db = openDatabase(path.join(dir, 'steps.db'));
    const extra = [
      ...MIGRATIONS,
      { version: 100, name: 'add a table', sql: 'CREATE TABLE extra (x INTEGER) STRICT;' },
      { version: 101, name: 'broken', sql: 'CREATE TABLE more (x INTEGER); SELECT * FROM no_such_table;' },
    ];
    assert.throws(() => migrate(db, extra), /no_such_table/);
    assert.equal(db.pragma('user_version', { simple: true }), 100);
    assert.equal(
      (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'more'").get() as { n: number }).n,
      0,
    );
    db.close();
  });

  test('a library from a newer Facets is refused with a clear message', () => {
    const file = path.join(dir, 'newer.db');
    const db = openDatabase(file);
    db.pragma('user_version = 999');
    db.close();
    assert.throws(() => openDatabase(file), /created by a newer Facets/);
  });
});

describe('catalog writes', () => {
  let dir: string;
  let library: Library;
  const rnd = random(7);
  const file = (name: string, size = 1000) => ({ path: path.join('/photos', name), size, mtimeMs: 1_600_000_000_000 });

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'facets-catalog-'));
    library = new Library({ dbPath: path.join(dir, 'library.db') });
  });
  after(() => {
    library?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('an analysed photo stores one prediction per attribute and the shown values on each face', () => {
    const id = library.catalog.recordAnalysed(
      file('a.jpg'),
      'h1',
      syntheticPhoto([syntheticFace(rnd), syntheticFace(rnd)]),
    );
    const faces = library.catalog.faces.ofPhoto(id);
    assert.equal(faces.length, 2);
    for (const face of faces) {
      const predictions = library.catalog.faces.predictions(face.id);
      assert.deepEqual(predictions.map((p) => p.attribute).sort(), ['ageGroup', 'emotion', 'ethnicity', 'gender']);
      const emotion = predictions.find((p) => p.attribute === 'emotion');
      assert.equal(face.emotion, emotion?.label);
      assert.equal(face.emotion_conf, emotion?.confidence);
      assert.equal(face.photo_visible, 1);
      assert.equal(face.photo_folder, '/photos');
      assert.equal(face.photo_face_count, 2);
    }
    library.close();
  });

  test('a correction overrides the prediction everywhere and leaves the prediction intact', () => {
    const id = library.catalog.recordAnalysed(file('a.jpg'), 'h1', syntheticPhoto([syntheticFace(rnd)]));
    const [face] = library.catalog.faces.ofPhoto(id);
    assert.ok(face);
    const predicted = face.emotion === 'happy' ? 'sad' : 'happy';
    library.catalog.faces.correct(face.id, 'emotion', predicted, '2024-01-01T00:00:00.000Z');
    library.catalog.faces.correct(face.id, 'ageGroup', '70+', '2024-01-01T00:00:00.000Z');
    const corrected = library.queries.faceDetail(face.id);
    assert.deepEqual(corrected?.emotion, { value: predicted, confidence: 1, corrected: true, uncertain: false });
    assert.equal(corrected?.ageYears, undefined, 'no predicted age next to a corrected age group');
    assert.equal(corrected?.predictions.find((p) => p.attribute === 'emotion')?.label, face.emotion);
    assert.equal(
      library.queries.faces({ emotions: [predicted as never], minConfidence: 0.99 }, { offset: 0, limit: 10 }).total,
      1,
    );
    library.catalog.faces.uncorrect(face.id, 'emotion');
    const back = library.queries.faceDetail(face.id);
    assert.deepEqual(back?.emotion, {
      value: face.emotion,
      confidence: face.emotion_conf,
      corrected: false,
      uncertain: false,
    });
    assert.equal(back?.ageGroup?.corrected, true);
    library.close();
  });

  test('re-analysis replaces faces and predictions but carries corrections to the overlapping face', () => {
    const box = { x: 100, y: 100, width: 80, height: 100 };
    const id = library.catalog.recordAnalysed(file('a.jpg'), 'h1', syntheticPhoto([syntheticFace(rnd, box)]));
    const [old] = library.catalog.faces.ofPhoto(id);
    assert.ok(old);
    library.catalog.faces.correct(old.id, 'gender', 'female', '2024-01-01T00:00:00.000Z');
    const moved = { x: 104, y: 98, width: 82, height: 101 };
    const far = { x: 600, y: 400, width: 80, height: 100 };
    const again = library.catalog.recordAnalysed(
      file('a.jpg', 2000),
      'h2',
      syntheticPhoto([syntheticFace(rnd, far), syntheticFace(rnd, moved)]),
    );
    assert.equal(again, id, 'the same photo row');
    const faces = library.catalog.faces.ofPhoto(id);
    assert.equal(faces.length, 2);
    assert.equal(faces.find((f) => f.x === 104)?.gender, 'female');
    assert.equal(faces.find((f) => f.x === 104)?.corrected, 2);
    assert.equal(faces.find((f) => f.x === 600)?.corrected, 0);
    assert.equal(library.catalog.photos.byId(id)?.content_hash, 'h2');
    library.close();
  });

  test('a copy gets its own row with the same faces, predictions and corrections; a move keeps the row', () => {
    const id = library.catalog.recordAnalysed(
      file('a.jpg'),
      'h1',
      syntheticPhoto([syntheticFace(rnd), syntheticFace(rnd)]),
    );
    const [first] = library.catalog.faces.ofPhoto(id);
    library.catalog.faces.correct(first?.id ?? 0, 'emotion', 'fear', '2024-01-01T00:00:00.000Z');
    const source = library.catalog.photos.byId(id);
    assert.ok(source);
    const copy = library.catalog.recordCopy(source, file('copy/b.jpg'));
    assert.notEqual(copy, id);
    const copied = library.catalog.faces.ofPhoto(copy);
    assert.equal(copied.length, 2);
    assert.equal(copied[0]?.emotion, 'fear');
    assert.equal(copied[0]?.photo_folder, '/photos/copy');
    assert.equal(library.catalog.faces.predictions(copied[1]?.id ?? 0).length, 4);

    library.catalog.recordMove(source, file('elsewhere/a.jpg'));
    const moved = library.catalog.photos.byId(id);
    assert.equal(moved?.path, '/photos/elsewhere/a.jpg');
    assert.equal(
      library.catalog.faces.ofPhoto(id)[0]?.photo_folder,
      '/photos/elsewhere',
      'the trigger follows the move',
    );
    assert.equal(library.catalog.faces.ofPhoto(id)[0]?.emotion, 'fear');
    library.close();
  });

  test('missing photos leave every query, come back when restored, and purge deletes them for good', async () => {
    const id = library.catalog.recordAnalysed(file('a.jpg'), 'h1', syntheticPhoto([syntheticFace(rnd)]));
    const page = { offset: 0, limit: 10 };
    library.catalog.markMissing([id]);
    assert.equal(library.queries.faces({}, page).total, 0);
    assert.equal(library.queries.photos({}, page).total, 0);
    assert.equal(library.queries.photoDetail(id)?.status, 'missing');
    library.catalog.restore(id);
    assert.equal(library.queries.faces({}, page).total, 1);
    library.catalog.markMissing([id]);
    assert.deepEqual(await library.purgeMissing(1), [], 'still inside the grace period');
    assert.equal((await library.purgeMissing(0)).length, 1);
    assert.equal(library.catalog.photos.byId(id), undefined);
    assert.equal((library.db.prepare('SELECT count(*) AS n FROM predictions').get() as { n: number }).n, 0);
    library.close();
  });

  test('a failure replaces earlier faces and is listed with its message', () => {
    const id = library.catalog.recordAnalysed(file('a.jpg'), 'h1', syntheticPhoto([syntheticFace(rnd)]));
    library.catalog.recordFailure(file('a.jpg', 3), 'h3', 'error', 'cannot decode: premature end of JPEG image');
    assert.equal(library.catalog.faces.ofPhoto(id).length, 0);
    const errors = library.queries.errors({ offset: 0, limit: 10 });
    assert.equal(errors.total, 1);
    assert.equal(errors.items[0]?.error, 'cannot decode: premature end of JPEG image');
    assert.equal(library.queries.photos({}, { offset: 0, limit: 10 }).total, 0);
    library.close();
  });
});
