/**
 * Fixtures for learning from corrections in the app (no research data): small heads trained on
 * synthetic embeddings that never saw a Black face, installed like `facets train-heads` installs them,
 * and a library (the real catalog, a real SQLite file) whose faces carry stored heads inputs (the
 * library's `face_embeddings` table) and whose user corrected the ethnicity of every Black
 * face — more corrections than the product minimum of 200.
 */
import path from 'node:path';
import { type EmbeddingSpec, type HeadsEntry } from '../../main/engine/attributes/heads.js';
import { AGE_GROUPS, ETHNICITIES, GENDERS } from '../../main/engine/attributes/labels.js';
import { ModelStore } from '../../main/engine/sessions.js';
import { specKey } from '../../main/learning/library-corrections.js';
import { exportHeadsOnnx } from '../../main/learning/onnx.js';
import { installHeads } from '../../main/learning/store.js';
import { DEFAULT_TRAIN, trainHeads } from '../../main/learning/train.js';
import type { Attribute } from '../../main/api/contract.js';
import type { PredictionRow } from '../../main/library/attributes.js';
import { Library } from '../../main/library/library.js';
import type { FaceResult } from '../../main/library/worker-protocol.js';
import { syntheticDataset } from './heads-synthetic.js';

export const DIM = 128;
export const SPEC: EmbeddingSpec = {
  models: ['facenet128'],
  recipe: { method: 'align', margin: 1, template: 'utkface' },
  flip: true,
};

/** sha256 of the real facenet128 model (the embedding spec names it). */
export function facenetSha(): string {
  return new ModelStore().entry('facenet128').sha256;
}

/**
 * Trains small heads without Black faces and installs them in `dir`. With `preferForEthnicity`, their
 * recorded dev scores beat the default ethnicity network, so the engine uses them for ethnicity.
 */
export function installSmallHeads(
  dir: string,
  options: { seed?: number; preferForEthnicity?: boolean } = {},
): HeadsEntry {
  const sha = facenetSha();
  const base = trainHeads(syntheticDataset(3000, DIM, options.seed ?? 3, { noBlack: true }), {
    ...DEFAULT_TRAIN,
    hidden: 32,
    epochs: 10,
  });
  return installHeads(
    exportHeadsOnnx(base.config, base.params),
    {
      createdAt: new Date().toISOString(),
      origin: 'dataset',
      seed: 1,
      embedding: { ...SPEC, dim: DIM, networks: [{ name: 'facenet128', sha256: sha, dim: DIM }] },
      tasks: ['age', 'gender', 'ethnicity', 'emotion'],
      unseen: { ethnicity: ['black'] },
      ageGroupYears: [1, 6, 15, 25, 35, 45, 55, 65, 78],
      training: { framing: 'align-utkface' },
      data: {},
      dev: options.preferForEthnicity
        ? {
            ethnicity: {
              set: 'synthetic',
              candidates: { heads: { accuracy: 0.9, count: 100 }, 'default:gear': { accuracy: 0.5, count: 100 } },
              choice: 'heads',
            },
          }
        : {},
    },
    dir,
  );
}

function prediction(attribute: Attribute, label: string): PredictionRow {
  return {
    attribute,
    label,
    confidence: 0.8,
    probabilities: { [label]: 0.8 },
    years: attribute === 'ageGroup' ? 30 : null,
    model: 'synthetic',
    modelVersion: '1',
  };
}

export interface CorrectionsLibrary {
  faces: number;
  /** Ethnicity corrections (every Black face, which Facets showed as White). */
  corrections: number;
}

/**
 * Writes the fixture library into `dbPath` (created if need be): synthetic faces, 10 to a photo under
 * `folder`, with their heads inputs stored for SPEC, and the user's corrections.
 */
export function buildCorrectionsLibrary(dbPath: string, folder = '/fixture-photos'): CorrectionsLibrary {
  const key = specKey(SPEC, [facenetSha()]);
  const user = syntheticDataset(2400, DIM, 4, { blackShift: 4 });
  const library = new Library({ dbPath });
  const db = library.db;
  const insert = db.prepare('INSERT INTO face_embeddings (face_id, spec, dim, vector) VALUES (?, ?, ?, ?)');
  const samples = Array.from({ length: user.n }, (_, i) => i).filter((i) => (user.labels[2]?.[i] ?? -1) >= 0);
  let corrections = 0;
  db.transaction(() => {
    for (let p = 0; p * 10 < samples.length; p++) {
      const group = samples.slice(p * 10, p * 10 + 10);
      const faces: FaceResult[] = group.map((i, k) => {
        const ethnicity = user.labels[2]?.[i] ?? 0;
        return {
          box: { x: 10 + k * 90, y: 40, width: 80, height: 80 },
          score: 0.99,
          landmarks: [],
          quality: { faceSize: 80, sharpness: 120, uncertain: false, reasons: [] },
          predictions: [
            prediction('ageGroup', AGE_GROUPS[user.labels[0]?.[i] ?? 3] ?? '20-29'),
            prediction('gender', GENDERS[user.labels[1]?.[i] ?? 0] ?? 'male'),
            // The heads never saw a Black face: Facets showed them as White.
            prediction('ethnicity', ethnicity === 1 ? 'white' : (ETHNICITIES[ethnicity] ?? 'white')),
            prediction('emotion', 'neutral'),
          ],
        };
      });
      const photoId = library.catalog.recordAnalysed(
        { path: path.join(folder, `group ${p}.jpg`), size: 1000, mtimeMs: 1_700_000_000_000 },
        `fixture-${p}`,
        { format: 'jpeg', width: 1000, height: 200, orientation: 1, takenAt: null, camera: null, faces },
      );
      const rows = library.catalog.faces.ofPhoto(photoId).sort((a, b) => a.idx - b.idx);
      rows.forEach((row, k) => {
        const i = group[k] as number;
        const v = user.x.slice(i * DIM, (i + 1) * DIM);
        insert.run(row.id, key, DIM, Buffer.from(v.buffer, v.byteOffset, v.byteLength));
        if (user.labels[2]?.[i] === 1) {
          library.catalog.faces.correct(row.id, 'ethnicity', 'black', '2024-05-01T10:00:00.000Z');
          corrections++;
        }
      });
    }
  })();
  library.close();
  return { faces: samples.length, corrections };
}
