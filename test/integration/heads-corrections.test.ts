/**
 * Learning from corrections, end to end on a fixture library built here (no research data): base heads
 * trained on synthetic embeddings that never saw a Black face, a library whose user corrected faces
 * (ethnicity 'black' among them), `facets train-heads --from-corrections` improving accuracy on the
 * held-out corrections, and `--revert` restoring the base heads. A second test re-embeds corrected
 * faces of a real photo (the face-api demo photos in node_modules) the way the command does when the
 * library stores no embeddings, and checks it matches the engine's own embedding of those faces.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { trainHeadsCommand } from '../../main/cli/commands/train-heads.js';
import { FaceAnalyzer } from '../../main/engine/analyzer.js';
import { type EmbeddingSpec, headsInput, readHeadsManifest } from '../../main/engine/attributes/heads.js';
import { photoKind } from '../../main/engine/image/formats.js';
import { decodePhoto } from '../../main/engine/image/photos.js';
import { AreaSampler } from '../../main/engine/image/resample.js';
import { ModelStore } from '../../main/engine/sessions.js';
import { fineTuneOnCorrections, type Correction } from '../../main/learning/corrections.js';
import { correctionsWithEmbeddings, specKey } from '../../main/learning/library-corrections.js';
import { DEFAULT_TRAIN, trainHeads } from '../../main/learning/train.js';
import { openDatabase } from '../../main/library/db.js';
import { ROOT } from '../helpers/cli.js';
import { setEnv } from '../helpers/env.js';
import { syntheticDataset } from '../helpers/heads-synthetic.js';
import { DIM, SPEC, facenetSha, installSmallHeads } from '../helpers/learning-fixtures.js';

const ETHNICITY = ['white', 'black', 'asian', 'indian', 'other'];

let tmp: string;
let restoreEnv: (() => void) | undefined;

before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'facets-heads-'));
  restoreEnv = setEnv({ FACETS_HEADS_DIR: path.join(tmp, 'heads'), FACETS_CACHE_DIR: path.join(tmp, 'cache') });
});
after(() => {
  restoreEnv?.();
  rmSync(tmp, { recursive: true, force: true });
});

/** Runs a command in-process, capturing what it prints. */
async function run(args: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  try {
    return { code: await trainHeadsCommand.run(args), stdout };
  } finally {
    process.stdout.write = write;
  }
}

function insertPhoto(db: ReturnType<typeof openDatabase>, file: string, faces: number): number {
  const now = new Date().toISOString();
  const info = db
    .prepare(
      `INSERT INTO photos (path, folder, content_hash, size, mtime_ms, sort_date, status, face_count, added_at, width, height)
       VALUES (?, ?, ?, 1, 0, '2024-01-01T00:00:00', 'ok', ?, ?, NULL, NULL)`,
    )
    .run(file, path.dirname(file), `hash-${file}`, faces, now);
  return Number(info.lastInsertRowid);
}

function insertFace(
  db: ReturnType<typeof openDatabase>,
  photoId: number,
  idx: number,
  box: { x: number; y: number; w: number; h: number },
  landmarks: [number, number][],
): number {
  const info = db
    .prepare(
      `INSERT INTO faces (photo_id, idx, x, y, w, h, landmarks, score, face_size, sharpness, uncertain, quality_reasons,
         corrected, photo_visible, photo_sort_date, photo_face_count, photo_folder, photo_year)
       VALUES (?, ?, ?, ?, ?, ?, ?, 0.99, ?, 100, 0, '[]', 0, 1, '2024-01-01T00:00:00', 1, '/', 2024)`,
    )
    .run(photoId, idx, box.x, box.y, box.w, box.h, JSON.stringify(landmarks), Math.min(box.w, box.h));
  return Number(info.lastInsertRowid);
}

function correct(db: ReturnType<typeof openDatabase>, faceId: number, attribute: string, value: string): void {
  db.prepare('INSERT INTO corrections (face_id, attribute, value, corrected_at) VALUES (?, ?, ?, ?)').run(
    faceId,
    attribute,
    value,
    new Date().toISOString(),
  );
}

describe('learning from corrections', () => {
  test('fineTuneOnCorrections teaches a class the base never saw, measured on held-out corrections', () => {
    const base = trainHeads(syntheticDataset(3000, DIM, 1, { noBlack: true }), {
      ...DEFAULT_TRAIN,
      hidden: 32,
      epochs: 10,
    });
    const user = syntheticDataset(900, DIM, 2, { blackShift: 4 });
    const corrections: Correction[] = [];
    for (let i = 0; i < user.n; i++) {
      const y = user.labels[2]![i]!;
      if (y !== 1) continue; // the user corrects the faces the heads cannot get right: Black faces
      corrections.push({
        embedding: user.x.slice(i * DIM, (i + 1) * DIM),
        attribute: 'ethnicity',
        value: 'black',
        faceId: i,
      });
    }
    assert.ok(corrections.length >= 60, `${corrections.length} corrections`);
    const result = fineTuneOnCorrections({ config: base.config, params: base.params }, corrections, {
      minCorrections: 20,
    });
    assert.equal(result.before.perAttribute.ethnicity?.accuracy, 0);
    assert.ok(result.after.accuracy > 0.7, `after ${result.after.accuracy}`);
    assert.equal(result.accepted.ethnicity, true);
    assert.deepEqual(result.learned.ethnicity, ['black']);
    // Attributes nobody corrected keep the base's branch exactly.
    assert.equal(result.accepted.age, false);
    assert.deepEqual(result.heads.params.W[0], base.params.W[0]);
  });

  test('facets train-heads --from-corrections on a fixture library: better on held-out corrections, then --revert', async () => {
    const sha = facenetSha();
    // Base heads: trained without Black faces, installed like `facets train-heads` does.
    const baseEntry = installSmallHeads(process.env['FACETS_HEADS_DIR']!);

    // The user's library: faces with stored embeddings (the library's face_embeddings table, migration 3).
    const dbFile = path.join(tmp, 'library.db');
    const db = openDatabase(dbFile);
    const user = syntheticDataset(600, DIM, 4, { blackShift: 4 });
    const key = specKey(SPEC, [sha]);
    const photoId = insertPhoto(db, path.join(tmp, 'photos', 'party.jpg'), user.n);
    let count = 0;
    for (let i = 0; i < user.n; i++) {
      const ethnicity = user.labels[2]![i]!;
      if (ethnicity < 0) continue;
      const faceId = insertFace(db, photoId, i, { x: i, y: 0, w: 50, h: 50 }, []);
      const v = user.x.slice(i * DIM, (i + 1) * DIM);
      db.prepare('INSERT INTO face_embeddings VALUES (?, ?, ?, ?)').run(faceId, key, DIM, Buffer.from(v.buffer));
      // The user corrected their Black faces' ethnicity (the base heads never saw one).
      if (ethnicity === 1) {
        correct(db, faceId, 'ethnicity', ETHNICITY[ethnicity]!);
        count++;
      }
    }
    db.close();
    assert.ok(count >= 50, `${count} corrections`);

    const tuned = await run(['--from-corrections', '--db', dbFile, '--min-corrections', '30', '--json']);
    assert.equal(tuned.code, 0);
    const report = JSON.parse(tuned.stdout) as {
      before: { accuracy: number; perAttribute: Record<string, { accuracy: number }> };
      after: { accuracy: number; perAttribute: Record<string, { accuracy: number }> };
      installed: string | null;
    };
    assert.ok(
      report.after.accuracy > report.before.accuracy + 0.2,
      `held-out ${report.before.accuracy} → ${report.after.accuracy}`,
    );
    assert.ok(report.installed);
    const manifest = readHeadsManifest(process.env['FACETS_HEADS_DIR'])!;
    assert.equal(manifest.active?.origin, 'corrections');
    assert.equal(manifest.history[0]?.sha256, baseEntry.sha256);
    assert.deepEqual(manifest.active?.unseen, {}, 'the fine-tune taught "black": no longer unseen');

    const reverted = await run(['--revert']);
    assert.equal(reverted.code, 0);
    assert.equal(readHeadsManifest(process.env['FACETS_HEADS_DIR'])?.active?.sha256, baseEntry.sha256);
    assert.match(reverted.stdout, /restored heads/);
  });

  test('corrected faces are re-embedded from their photo exactly as the engine embeds them', async () => {
    const photo = path.join(ROOT, 'node_modules/@vladmandic/face-api/demo/sample1.jpg');
    const store = new ModelStore();
    const analyzer = new FaceAnalyzer(store, {
      assignment: { age: null, gender: null, ethnicity: null, emotion: null },
    });
    const analysis = await analyzer.analyze(photo);
    assert.ok(analysis.faces.length >= 2);
    const dbFile = path.join(tmp, 'photos.db');
    const db = openDatabase(dbFile);
    const photoId = insertPhoto(db, photo, analysis.faces.length);
    const ids = analysis.faces.map((f, i) => {
      const id = insertFace(db, photoId, i, { x: f.box.x, y: f.box.y, w: f.box.width, h: f.box.height }, f.landmarks);
      correct(db, id, 'gender', 'female');
      correct(db, id, 'emotion', 'happy');
      return id;
    });
    db.close();
    const sha = store.entry('facenet128').sha256;
    const spec: EmbeddingSpec = { ...SPEC, taskRecipes: { emotion: { method: 'align', margin: 1, template: 'fer' } } };
    const all = await correctionsWithEmbeddings(store, dbFile, spec, [sha], { anchorRatio: 0 });
    assert.deepEqual(all.skipped, []);
    assert.equal(all.corrections.length, 2 * ids.length);
    // Emotion corrections carry the embedding of the face cut with FER2013's framing.
    for (const id of ids) {
      const [gender, emotion] = ['gender', 'emotion'].map((a) =>
        all.corrections.find((c) => c.faceId === id && c.attribute === a),
      );
      assert.ok(gender && emotion && cosine(gender.embedding, emotion.embedding) < 0.9999);
    }
    const corrections = all.corrections.filter((c) => c.attribute === 'gender');
    assert.equal(corrections.length, ids.length);
    // The engine's own embedding of the same detections (analysed-image pixels).
    const { decodeForAnalysis } = await import('../../main/engine/image/decode.js');
    const { AreaSampler } = await import('../../main/engine/image/resample.js');
    const image = await decodeForAnalysis(photo);
    const sampler = new AreaSampler(image);
    const detections = await analyzer.detector.detect(image, sampler);
    const direct = await headsInput(
      store,
      SPEC,
      detections.map((face) => ({ sampler, face })),
    );
    for (const c of corrections) {
      const best = Math.max(...direct.map((d) => cosine(d, c.embedding)));
      assert.ok(best > 0.999, `cosine ${best}`);
    }
    await store.release();
  });
});

describe('learning from corrections decodes photos as the scanner did', () => {
  test("a camera RAW's corrected faces are cut from the preview the scan analysed, at the library's size", async () => {
    const sample = readFileSync(path.join(ROOT, 'node_modules/@vladmandic/face-api/demo/sample1.jpg'));
    // A RAW as cameras write one: a TIFF whose first image is a small thumbnail (what libvips would
    // decode), with the full-size JPEG preview (what Facets analyses) further in the file.
    const thumbnail = await sharp(sample).resize(160).tiff({ compression: 'none' }).toBuffer();
    const photo = path.join(tmp, 'raw', 'sample1.dng');
    mkdirSync(path.dirname(photo), { recursive: true });
    writeFileSync(photo, Buffer.concat([thumbnail, Buffer.alloc(64), sample]));
    const maxSide = 480;
    const store = new ModelStore();
    const analyzer = new FaceAnalyzer(store, {
      assignment: { age: null, gender: null, ethnicity: null, emotion: null },
    });
    // The scan: the photo decoded by kind at the library's analysis size, its faces stored.
    const scanned = await decodePhoto(readFileSync(photo), photoKind(photo)!, { maxSide });
    assert.equal(scanned.uprightWidth, (await sharp(sample).metadata()).width, 'the scan analyses the preview');
    const faces = await analyzer.analyzeDecoded(scanned);
    assert.ok(faces.length >= 2);
    const dbFile = path.join(tmp, 'raw.db');
    const db = openDatabase(dbFile);
    db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)').run(
      'analysis',
      JSON.stringify({ maxSide, minFaceSize: 20, thresholds: [0.6, 0.7, 0.7], tiltedFaces: false }),
    );
    const photoId = insertPhoto(db, photo, faces.length);
    const ids = faces.map((f, i) => {
      const id = insertFace(db, photoId, i, { x: f.box.x, y: f.box.y, w: f.box.width, h: f.box.height }, f.landmarks);
      correct(db, id, 'gender', 'female');
      return id;
    });
    db.close();
    const sha = store.entry('facenet128').sha256;
    const data = await correctionsWithEmbeddings(store, dbFile, SPEC, [sha], { anchorRatio: 0 });
    assert.deepEqual(data.skipped, []);
    assert.equal(data.corrections.length, ids.length);
    // The engine's embedding of the faces on the scan's own pixels: each correction carries one of them.
    const sampler = new AreaSampler(scanned);
    const detections = await analyzer.detector.detect(scanned, sampler);
    const direct = await headsInput(
      store,
      SPEC,
      detections.map((face) => ({ sampler, face })),
    );
    for (const c of data.corrections) {
      const best = Math.max(...direct.map((d) => cosine(d, c.embedding)));
      assert.ok(best > 0.999, `face ${c.faceId}: cosine ${best}`);
    }
    await store.release();
  });
});

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! ** 2;
    bb += b[i]! ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}
