/**
 * People on a real library: the sample photos scanned with the real models into a real SQLite file,
 * identity vectors stored at scan time (and the same ones from the backfill), faces clustered, and the
 * user's word — names, faces put with a person, "not this person", corrections — surviving a moved
 * photo folder, a rescan, a re-analysed (changed) photo and a full re-cluster; undo across all of it.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { identitySpec } from '../../main/engine/attributes/identity.js';
import { ModelStore } from '../../main/engine/sessions.js';
import { now } from '../../main/library/db.js';
import { Library } from '../../main/library/library.js';
import { blobVector } from '../../main/library/repositories/people.js';
import { backfillIdentity, peopleAfterScan, peopleOf } from '../../main/people/library.js';
import { distance } from '../../main/people/vectors.js';
import { sample } from '../helpers/library-fixtures.js';

const TIMEOUT = 300_000;

interface FaceLite {
  id: number;
  photo: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

describe('people in a real library', { timeout: TIMEOUT }, () => {
  let work: string;
  let root: string;
  let library: Library;
  const spec = identitySpec(new ModelStore());

  const faces = (): FaceLite[] =>
    library.db
      .prepare<[], FaceLite>(
        `SELECT f.id, p.path AS photo, f.x, f.y, f.w, f.h FROM faces f JOIN photos p ON p.id = f.photo_id ORDER BY f.id`,
      )
      .all();
  const personOf = (faceId: number) => library.catalog.people.assignment(faceId);
  /** The face of the current library at the same place in the same photo (re-analysis renumbers faces). */
  const sameFace = (f: FaceLite, photo = f.photo): FaceLite => {
    const match = faces().find((g) => g.photo === photo && Math.abs(g.x - f.x) < 8 && Math.abs(g.y - f.y) < 8);
    assert.ok(match, `a face at ${f.x},${f.y} in ${photo}`);
    return match;
  };
  const scan = async (folder: string) => {
    await library.scanner({ workers: 1 }).scan([folder]);
    await peopleAfterScan(library);
  };

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'facets-people-'));
    root = path.join(work, 'Photos');
    mkdirSync(root);
    for (const n of [1, 2, 3, 4, 5, 6]) cpSync(sample(n), path.join(root, `sample${n}.jpg`));
    // The same people in other photos: smaller copies of two samples (other bytes, the same faces).
    for (const n of [2, 4]) {
      await sharp(sample(n))
        .resize({ width: 900 })
        .jpeg({ quality: 90 })
        .toFile(path.join(root, `copy${n}.jpg`));
    }
    library = new Library({ dbPath: path.join(work, 'library.db') });
    await scan(root);
  });

  after(() => {
    library?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('every face gets its identity vector at scan time, the same one the backfill computes', async () => {
    const all = faces();
    assert.ok(all.length >= 10, `the samples have faces (${all.length})`);
    const stored = library.db
      .prepare<[string], { face_id: number; dim: number; vector: Buffer }>(
        'SELECT face_id, dim, vector FROM face_embeddings WHERE spec = ?',
      )
      .all(spec);
    assert.equal(stored.length, all.length);
    assert.ok(stored.every((r) => r.dim === 128 && r.vector.byteLength === 512));
    // An existing library's faces: vectors dropped, then computed again from the photos and stored landmarks.
    const before = new Map(stored.map((r) => [r.face_id, blobVector(r.vector)]));
    library.db.prepare('DELETE FROM face_embeddings WHERE spec = ?').run(spec);
    const r = await backfillIdentity(library);
    assert.equal(r.embedded, all.length);
    assert.equal(r.skipped, 0);
    for (const f of all) {
      const v = library.catalog.people.vector(f.id, spec);
      assert.ok(v, `face ${f.id} has its vector again`);
      // The scan decoded once for analysis and thumbnails; the backfill decodes again: near-identical.
      assert.ok(distance(v, before.get(f.id) as Float32Array) < 0.02, `face ${f.id}: same vector`);
    }
  });

  test("faces are clustered, counts follow, and the user's word survives a move, a rescan, a changed photo and a re-cluster", async () => {
    const people = peopleOf(library);
    const listed = people.list().items;
    const anna = listed.find((p) => p.faceCount >= 2);
    assert.ok(anna, `some person has two faces: ${JSON.stringify(listed)}`);
    const countQuery = library.db.prepare<[number], { n: number }>(
      `SELECT count(*) AS n FROM face_people a JOIN faces f ON f.id = a.face_id WHERE a.person_id = ? AND f.photo_visible = 1`,
    );
    for (const p of listed) assert.equal(p.faceCount, countQuery.get(p.id)?.n, `person ${p.id}'s count`);

    // The user: names the person, takes one of its faces out ("not Anna"), puts another face in, corrects an emotion.
    people.name(anna.id, 'Anna');
    const annaFaces = library.catalog.people.facesOf(anna.id).map((a) => faces().find((f) => f.id === a.face_id)!);
    const notAnna = annaFaces[0] as FaceLite;
    people.moveOut([notAnna.id]);
    const stranger =
      faces().find((f) => !personOf(f.id) && f.id !== notAnna.id) ??
      faces().find((f) => personOf(f.id)?.person_id !== anna.id && f.id !== notAnna.id);
    assert.ok(stranger, 'a face that is not with Anna');
    const strangerBefore = personOf(stranger.id);
    people.assign([stranger.id], { name: 'Anna' });
    assert.equal(personOf(stranger.id)?.person_id, anna.id, 'an existing name finds its person');
    // Undo takes it back exactly; then the user does it again.
    assert.equal(people.undo(), 'assign');
    assert.deepEqual(personOf(stranger.id), strangerBefore);
    people.assign([stranger.id], { name: 'Anna' });
    assert.equal(personOf(stranger.id)?.source, 'user');
    library.catalog.faces.correct(stranger.id, 'emotion', 'surprise', now());
    assert.deepEqual(people.names('an'), ['Anna']);

    const check = (label: string, rootNow: string) => {
      const s = sameFace(stranger, path.join(rootNow, path.basename(stranger.photo)));
      const n = sameFace(notAnna, path.join(rootNow, path.basename(notAnna.photo)));
      assert.equal(people.get(anna.id).name, 'Anna', `${label}: the name`);
      assert.equal(personOf(s.id)?.person_id, anna.id, `${label}: the face the user put with Anna`);
      assert.equal(personOf(s.id)?.source, 'user', `${label}: still the user's word`);
      assert.notEqual(personOf(n.id)?.person_id, anna.id, `${label}: the face that is not Anna`);
      assert.ok(
        library.catalog.people.rejectionsOf(n.id).some((r) => r.person_id === anna.id),
        `${label}: "not Anna" remembered`,
      );
      const emotion = library.db
        .prepare<[number], { emotion: string }>('SELECT emotion FROM faces WHERE id = ?')
        .get(s.id);
      assert.equal(emotion?.emotion, 'surprise', `${label}: the correction`);
      // The person filter returns exactly Anna's faces, combined with an emotion.
      const filtered = library.queries.faces({ people: [anna.id], emotions: ['surprise'] }, { offset: 0, limit: 500 });
      assert.ok(
        filtered.items.some((f) => f.id === s.id),
        `${label}: Anna + surprise finds the face`,
      );
      for (const f of filtered.items) assert.equal(personOf(f.id)?.person_id, anna.id);
      for (const p of people.list({ includeHidden: true }).items) {
        assert.equal(p.faceCount, countQuery.get(p.id)?.n, `${label}: person ${p.id}'s count`);
      }
    };
    check('as the user left it', root);

    // The photo folder moves: the same photos at new paths keep their rows.
    const moved = path.join(work, 'Moved');
    renameSync(root, moved);
    library.settings.update({ folders: [moved] });
    await scan(moved);
    check('after the move', moved);

    // A full re-cluster, then an unchanged rescan.
    await people.recluster();
    check('after a re-cluster', moved);
    await scan(moved);
    check('after a rescan', moved);

    // The photos of both faces change (re-encoded): re-analysed, every face row replaced.
    for (const file of new Set([stranger.photo, notAnna.photo])) {
      const target = path.join(moved, path.basename(file));
      const bytes = await sharp(target).jpeg({ quality: 93 }).toBuffer();
      writeFileSync(target, bytes);
    }
    const oldIds = new Set(faces().map((f) => f.id));
    await scan(moved);
    assert.ok(
      !oldIds.has(sameFace(stranger, path.join(moved, path.basename(stranger.photo))).id),
      'the face was re-analysed',
    );
    check('after the photos changed', moved);
    await people.recluster();
    check('after another re-cluster', moved);

    // Merging two people confirms their faces; undo brings the merged-away person back with its faces.
    const other = people.list().items.find((p) => p.id !== anna.id);
    assert.ok(other, 'the samples hold a second person');
    {
      const otherFaces = library.catalog.people.facesOf(other.id).map((a) => a.face_id);
      people.merge(anna.id, other.id);
      assert.ok(otherFaces.every((f) => personOf(f)?.person_id === anna.id && personOf(f)?.source === 'user'));
      assert.equal(people.undo(), 'merge');
      assert.deepEqual(
        library.catalog.people.facesOf(other.id).map((a) => a.face_id),
        otherFaces,
      );
      check('after a merge and its undo', moved);
    }
  });
});
