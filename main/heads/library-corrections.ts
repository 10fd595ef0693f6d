/**
 * The user's corrections, read from the Facets library (read-only), with the heads' input embedding of
 * every corrected face. The library stores no embeddings today, so each corrected face is re-embedded
 * from its photo and its stored landmarks (cached by photo content hash + landmarks + embedding spec);
 * where a `face_embeddings` table exists (the schema proposed in models/README.md) its vectors for the
 * heads' spec are used instead.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { type EmbeddingSpec, type HeadTask, headsInput } from '../engine/attributes/heads.js';
import type { Detection, Point } from '../engine/detection/mtcnn.js';
import type { CropRecipe } from '../engine/faces/crop.js';
import { decodeForAnalysis } from '../engine/image/decode.js';
import { AreaSampler } from '../engine/image/resample.js';
import type { ModelStore } from '../engine/sessions.js';
import { cacheDir, shortHash } from './cache.js';
import type { Correction } from './corrections.js';

export interface LibraryCorrection {
  faceId: number;
  attribute: string;
  value: string;
  correctedAt: string;
  photo: string;
  contentHash: string | null;
  /** Face box and landmarks in upright full-resolution pixels of the photo. */
  box: { x: number; y: number; w: number; h: number };
  landmarks: Point[];
}

/** The key naming an embedding spec (networks with their model hashes, recipe, flip) in caches and tables. */
export function specKey(spec: EmbeddingSpec, shas: readonly string[]): string {
  const r = spec.recipe;
  const recipe = r.method === 'align' ? `align-${r.template ?? 'arcface'}-${r.margin}` : `box-${r.margin}`;
  return `${spec.models.map((m, i) => `${m}@${(shas[i] ?? '').slice(0, 12)}`).join('+')}:${recipe}:${spec.flip ? 'flip' : 'plain'}`;
}

/** Corrections of faces whose photo is present and readable, oldest first. */
export function readLibraryCorrections(dbFile: string): LibraryCorrection[] {
  if (!existsSync(dbFile)) throw new Error(`no library at ${dbFile}`);
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        `SELECT c.face_id AS faceId, c.attribute, c.value, c.corrected_at AS correctedAt, p.path AS photo,
                p.content_hash AS contentHash, f.x, f.y, f.w, f.h, f.landmarks
           FROM corrections c JOIN faces f ON f.id = c.face_id JOIN photos p ON p.id = f.photo_id
          WHERE p.status = 'ok' AND p.missing_since IS NULL
          ORDER BY c.corrected_at, c.face_id, c.attribute`,
      )
      .all() as {
      faceId: number;
      attribute: string;
      value: string;
      correctedAt: string;
      photo: string;
      contentHash: string | null;
      x: number;
      y: number;
      w: number;
      h: number;
      landmarks: string;
    }[];
    return rows.map((r) => ({
      faceId: r.faceId,
      attribute: r.attribute,
      value: r.value,
      correctedAt: r.correctedAt,
      photo: r.photo,
      contentHash: r.contentHash,
      box: { x: r.x, y: r.y, w: r.w, h: r.h },
      landmarks: JSON.parse(r.landmarks) as Point[],
    }));
  } finally {
    db.close();
  }
}

/** Stored vectors of a `face_embeddings` table for one spec, where the library has one. */
function storedEmbeddings(dbFile: string, key: string): Map<number, Float32Array> {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const table = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'face_embeddings'`).get();
    if (!table) return new Map();
    const rows = db.prepare('SELECT face_id AS faceId, vector FROM face_embeddings WHERE spec = ?').all(key) as {
      faceId: number;
      vector: Buffer;
    }[];
    return new Map(
      rows.map((r) => [
        r.faceId,
        new Float32Array(r.vector.buffer.slice(r.vector.byteOffset, r.vector.byteOffset + r.vector.byteLength)),
      ]),
    );
  } finally {
    db.close();
  }
}

/**
 * The corrections with the heads' input embedding of each face: from the library's face_embeddings
 * table where present, else re-embedded from the photo (cached).
 */
export async function correctionsWithEmbeddings(
  models: ModelStore,
  dbFile: string,
  spec: EmbeddingSpec,
  shas: readonly string[],
  progress?: (done: number, total: number) => void,
): Promise<{ corrections: Correction[]; skipped: { faceId: number; reason: string }[] }> {
  const rows = readLibraryCorrections(dbFile).filter((r): r is LibraryCorrection & { attribute: Correction['attribute'] } =>
    ['ageGroup', 'gender', 'ethnicity', 'emotion'].includes(r.attribute),
  );
  // Each task's embedding is cut with that task's recipe (emotion: FER2013's framing).
  const recipeOf = (r: LibraryCorrection) =>
    spec.taskRecipes?.[r.attribute === 'ageGroup' ? 'age' : (r.attribute as HeadTask)] ?? spec.recipe;
  const keyOf = (recipe: CropRecipe) => specKey({ ...spec, recipe }, shas);
  const stored = new Map<string, Map<number, Float32Array>>();
  const cacheFile = path.join(cacheDir(), 'corrections', `${shortHash(specKey(spec, shas))}.json`);
  const cache: Record<string, number[]> = existsSync(cacheFile)
    ? (JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<string, number[]>)
    : {};
  const faceKey = (r: LibraryCorrection, recipeKey: string) =>
    `${recipeKey}|${r.contentHash ?? r.photo}|${r.landmarks.map(([x, y]) => `${x.toFixed(2)},${y.toFixed(2)}`).join(';')}|` +
    `${r.box.x.toFixed(1)},${r.box.y.toFixed(1)},${r.box.w.toFixed(1)}`;
  const vectors = new Map<string, Float32Array>();
  const skipped: { faceId: number; reason: string }[] = [];
  const todo = new Map<string, { row: LibraryCorrection; recipe: CropRecipe; key: string }[]>();
  for (const r of rows) {
    const recipe = recipeOf(r);
    const recipeKey = keyOf(recipe);
    const key = `${r.faceId}|${recipeKey}`;
    if (vectors.has(key) || todo.get(r.photo)?.some((t) => t.key === key)) continue;
    if (!stored.has(recipeKey)) stored.set(recipeKey, storedEmbeddings(dbFile, recipeKey));
    const s = stored.get(recipeKey)?.get(r.faceId);
    const c = cache[faceKey(r, recipeKey)];
    if (s) vectors.set(key, s);
    else if (c) vectors.set(key, Float32Array.from(c));
    else todo.set(r.photo, [...(todo.get(r.photo) ?? []), { row: r, recipe, key }]);
  }
  let done = 0;
  const total = [...todo.values()].reduce((n, l) => n + l.length, 0);
  for (const [photo, items] of todo) {
    try {
      const image = await decodeForAnalysis(photo);
      const sampler = new AreaSampler(image);
      const k = image.scale;
      for (const item of items) {
        const f = item.row;
        const face: Detection = {
          box: { x1: f.box.x * k, y1: f.box.y * k, x2: (f.box.x + f.box.w) * k, y2: (f.box.y + f.box.h) * k },
          score: 1,
          landmarks: f.landmarks.map(([x, y]) => [x * k, y * k] as Point),
        };
        const [v] = await headsInput(models, { ...spec, recipe: item.recipe }, [{ sampler, face }]);
        if (!v) continue;
        vectors.set(item.key, v);
        cache[faceKey(f, keyOf(item.recipe))] = Array.from(v);
      }
    } catch (err) {
      for (const item of items) skipped.push({ faceId: item.row.faceId, reason: (err as Error).message });
    }
    done += items.length;
    progress?.(done, total);
  }
  if (total > 0) {
    mkdirSync(path.dirname(cacheFile), { recursive: true });
    writeFileSync(`${cacheFile}.tmp`, JSON.stringify(cache));
    renameSync(`${cacheFile}.tmp`, cacheFile);
  }
  const corrections: Correction[] = [];
  for (const r of rows) {
    const embedding = vectors.get(`${r.faceId}|${keyOf(recipeOf(r))}`);
    if (embedding) corrections.push({ embedding, attribute: r.attribute, value: r.value, faceId: r.faceId });
  }
  return { corrections, skipped };
}
