/**
 * The user's corrections, read from the Facets library (read-only), with what the fine-tune needs
 * around them: the confirmations (a corrected face's other attributes, as shown and left standing)
 * and anchor faces (a seeded sample of uncorrected faces). Every face needs the heads' input
 * embedding: the library's `face_embeddings` table (migration 3, written at scan time and by the
 * backfill) holds it under the heads' spec; a face without one there is re-embedded from its photo and
 * its stored landmarks (cached by photo content hash + landmarks + embedding spec).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  type EmbeddingSpec,
  HEAD_TASKS,
  type HeadTask,
  headsInput,
  specKey as engineSpecKey,
} from '../engine/attributes/heads.js';
import type { Detection, Point } from '../engine/detection/mtcnn.js';
import type { CropRecipe } from '../engine/faces/crop.js';
import type { DecodeOptions } from '../engine/image/decode.js';
import { decodeAsScanned } from '../library/photo-decode.js';
import { AreaSampler } from '../engine/image/resample.js';
import type { ModelStore } from '../engine/sessions.js';
import { cacheDir, shortHash } from './cache.js';
import type { AnchorFace, Correction } from './corrections.js';
import { Rng } from './rng.js';
import { type LearningFaceRow, LearningRepository } from '../library/repositories/learning.js';
import { SettingsRepository } from '../library/repositories/settings.js';

/** A face of the library, where its photo is. */
export interface LibraryFace {
  faceId: number;
  photo: string;
  contentHash: string | null;
  /** Face box and landmarks in upright full-resolution pixels of the photo. */
  box: { x: number; y: number; w: number; h: number };
  landmarks: Point[];
}

export interface LibraryCorrection extends LibraryFace {
  attribute: string;
  value: string;
  correctedAt: string;
}

/** The library's attribute names and the `faces` columns holding their shown values. */
const ATTRIBUTES: Record<string, { task: HeadTask; column: string }> = {
  ageGroup: { task: 'age', column: 'age_group' },
  gender: { task: 'gender', column: 'gender' },
  ethnicity: { task: 'ethnicity', column: 'ethnicity' },
  emotion: { task: 'emotion', column: 'emotion' },
};

/** The key naming an embedding spec in caches and the library's face_embeddings table (the engine's). */
export const specKey = engineSpecKey;

function face(r: LearningFaceRow): LibraryFace {
  return {
    faceId: r.faceId,
    photo: r.photo,
    contentHash: r.contentHash,
    box: { x: r.x, y: r.y, w: r.w, h: r.h },
    landmarks: JSON.parse(r.landmarks) as Point[],
  };
}

/** The learn worker's own read-only connection (it runs in a thread of its own). */
function open(dbFile: string): Database.Database {
  if (!existsSync(dbFile)) throw new Error(`no library at ${dbFile}`);
  return new Database(dbFile, { readonly: true, fileMustExist: true });
}

/** The library's learning queries on a read-only connection, closed afterwards. */
function reading<T>(dbFile: string, read: (repo: LearningRepository) => T): T {
  const db = open(dbFile);
  try {
    return read(new LearningRepository(db));
  } finally {
    db.close();
  }
}

/** Corrections of faces whose photo is present, oldest first. */
export function readLibraryCorrections(dbFile: string): LibraryCorrection[] {
  return reading(dbFile, (repo) =>
    repo.corrections().map((r) => ({ ...face(r), attribute: r.attribute, value: r.value, correctedAt: r.correctedAt })),
  );
}

/** The shown values of the corrected faces' uncorrected attributes (confirmations). */
function readConfirmations(dbFile: string): (LibraryFace & { attribute: string; value: string })[] {
  return reading(dbFile, (repo) =>
    Object.entries(ATTRIBUTES).flatMap(([attribute, { column }]) =>
      repo.confirmations(attribute, column).map((r) => ({ ...face(r), attribute, value: r.value })),
    ),
  );
}

/** A seeded sample of up to `limit` uncorrected faces (anchors). */
function readAnchorFaces(dbFile: string, limit: number, seed: number): LibraryFace[] {
  if (limit <= 0) return [];
  return reading(dbFile, (repo) => new Rng(seed).shuffle(repo.uncorrectedFaces()).slice(0, limit).map(face));
}

/** Stored vectors of a `face_embeddings` table for one spec, where the library has one. */
function storedEmbeddings(dbFile: string, key: string): Map<number, Float32Array> {
  return reading(
    dbFile,
    (repo) =>
      new Map(
        repo
          .storedVectors(key)
          .map((r) => [
            r.faceId,
            new Float32Array(r.vector.buffer.slice(r.vector.byteOffset, r.vector.byteOffset + r.vector.byteLength)),
          ]),
      ),
  );
}

/** How the library's scans decode photos (its settings' analysis size). */
function scanDecodeOptions(dbFile: string): Partial<DecodeOptions> {
  const db = open(dbFile);
  try {
    return { maxSide: new SettingsRepository(db).get().analysis.maxSide };
  } finally {
    db.close();
  }
}

/**
 * The heads' input for library faces, each cut with a given recipe: from the face_embeddings table,
 * the cache, or the photo. Returns vectors keyed `${faceId}|${recipe key}` and the faces it could not embed.
 */
async function libraryEmbeddings(
  models: ModelStore,
  dbFile: string,
  spec: EmbeddingSpec,
  shas: readonly string[],
  items: readonly { face: LibraryFace; recipe: CropRecipe }[],
  progress?: (done: number, total: number) => void,
): Promise<{ vectors: Map<string, Float32Array>; skipped: { faceId: number; reason: string }[] }> {
  const keyOf = (recipe: CropRecipe) => specKey({ ...spec, recipe }, shas);
  const decode = scanDecodeOptions(dbFile);
  const stored = new Map<string, Map<number, Float32Array>>();
  const cacheFile = path.join(cacheDir(), 'corrections', `${shortHash(specKey(spec, shas))}.json`);
  const cache: Record<string, number[]> = existsSync(cacheFile)
    ? (JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<string, number[]>)
    : {};
  // The decode size is part of the key: a face cut from another decode is another embedding.
  const cacheKey = (f: LibraryFace, recipeKey: string) =>
    `${recipeKey}|${decode.maxSide}|${f.contentHash ?? f.photo}|${f.landmarks.map(([x, y]) => `${x.toFixed(2)},${y.toFixed(2)}`).join(';')}|` +
    `${f.box.x.toFixed(1)},${f.box.y.toFixed(1)},${f.box.w.toFixed(1)}`;
  const vectors = new Map<string, Float32Array>();
  const skipped: { faceId: number; reason: string }[] = [];
  const todo = new Map<string, { face: LibraryFace; recipe: CropRecipe; key: string }[]>();
  for (const { face: f, recipe } of items) {
    const recipeKey = keyOf(recipe);
    const key = `${f.faceId}|${recipeKey}`;
    if (vectors.has(key) || todo.get(f.photo)?.some((t) => t.key === key)) continue;
    if (!stored.has(recipeKey)) stored.set(recipeKey, storedEmbeddings(dbFile, recipeKey));
    const s = stored.get(recipeKey)?.get(f.faceId);
    const c = cache[cacheKey(f, recipeKey)];
    if (s) vectors.set(key, s);
    else if (c) vectors.set(key, Float32Array.from(c));
    else todo.set(f.photo, [...(todo.get(f.photo) ?? []), { face: f, recipe, key }]);
  }
  let done = 0;
  const total = [...todo.values()].reduce((n, l) => n + l.length, 0);
  for (const [photo, list] of todo) {
    try {
      const image = await decodeAsScanned(photo, decode);
      const sampler = new AreaSampler(image);
      const k = image.scale;
      for (const item of list) {
        const f = item.face;
        const detection: Detection = {
          box: { x1: f.box.x * k, y1: f.box.y * k, x2: (f.box.x + f.box.w) * k, y2: (f.box.y + f.box.h) * k },
          score: 1,
          landmarks: f.landmarks.map(([x, y]) => [x * k, y * k] as Point),
        };
        const [v] = await headsInput(models, { ...spec, recipe: item.recipe }, [{ sampler, face: detection }]);
        if (!v) continue;
        vectors.set(item.key, v);
        cache[cacheKey(f, keyOf(item.recipe))] = Array.from(v);
      }
    } catch (err) {
      for (const item of list) skipped.push({ faceId: item.face.faceId, reason: (err as Error).message });
    }
    done += list.length;
    progress?.(done, total);
  }
  if (total > 0) {
    mkdirSync(path.dirname(cacheFile), { recursive: true });
    writeFileSync(`${cacheFile}.tmp`, JSON.stringify(cache));
    renameSync(`${cacheFile}.tmp`, cacheFile);
  }
  return { vectors, skipped };
}

export interface LibraryTrainingData {
  /** Corrections and (marked confirmed) the corrected faces' other shown values. */
  corrections: Correction[];
  /** Uncorrected faces, one per face and recipe. */
  anchors: AnchorFace[];
  /** Visible faces in the library. */
  libraryFaces: number;
  skipped: { faceId: number; reason: string }[];
}

/**
 * Everything a fine-tune on the library's corrections needs, with the heads' input of every face:
 * each task's embedding cut with that task's recipe (emotion: FER2013's framing).
 */
export async function correctionsWithEmbeddings(
  models: ModelStore,
  dbFile: string,
  spec: EmbeddingSpec,
  shas: readonly string[],
  options: { anchorRatio?: number; seed?: number; progress?: (done: number, total: number) => void } = {},
): Promise<LibraryTrainingData> {
  const corrected = readLibraryCorrections(dbFile).filter((r) => ATTRIBUTES[r.attribute]);
  const confirmations = readConfirmations(dbFile);
  const correctedFaces = new Set(corrected.map((r) => r.faceId)).size;
  const anchorFaces = readAnchorFaces(
    dbFile,
    Math.round(correctedFaces * (options.anchorRatio ?? 4)),
    options.seed ?? 1,
  );
  const taskOf = (attribute: string) => ATTRIBUTES[attribute]?.task as HeadTask;
  const recipeOf = (task: HeadTask) => spec.taskRecipes?.[task] ?? spec.recipe;
  // Anchors: one sample per distinct recipe, for the tasks cut that way.
  const anchorRecipes = new Map<string, { recipe: CropRecipe; tasks: HeadTask[] }>();
  for (const task of HEAD_TASKS) {
    const recipe = recipeOf(task);
    const key = JSON.stringify(recipe);
    anchorRecipes.set(key, { recipe, tasks: [...(anchorRecipes.get(key)?.tasks ?? []), task] });
  }
  const items = [
    ...[...corrected, ...confirmations].map((r) => ({ face: r as LibraryFace, recipe: recipeOf(taskOf(r.attribute)) })),
    ...anchorFaces.flatMap((f) => [...anchorRecipes.values()].map(({ recipe }) => ({ face: f, recipe }))),
  ];
  const { vectors, skipped } = await libraryEmbeddings(models, dbFile, spec, shas, items, options.progress);
  const vectorOf = (faceId: number, recipe: CropRecipe) =>
    vectors.get(`${faceId}|${specKey({ ...spec, recipe }, shas)}`);
  const corrections: Correction[] = [];
  for (const [rows, confirmed] of [
    [corrected, false],
    [confirmations, true],
  ] as const) {
    for (const r of rows) {
      const embedding = vectorOf(r.faceId, recipeOf(taskOf(r.attribute)));
      if (!embedding) continue;
      corrections.push({
        embedding,
        attribute: r.attribute as Correction['attribute'],
        value: r.value,
        faceId: r.faceId,
        ...(confirmed ? { confirmed: true } : {}),
      });
    }
  }
  const anchors: AnchorFace[] = anchorFaces.flatMap((f) =>
    [...anchorRecipes.values()].flatMap(({ recipe, tasks }) => {
      const embedding = vectorOf(f.faceId, recipe);
      return embedding ? [{ embedding, faceId: f.faceId, tasks }] : [];
    }),
  );
  const libraryFaces = reading(dbFile, (repo) => repo.visibleFaces());
  return { corrections, anchors, libraryFaces, skipped };
}
