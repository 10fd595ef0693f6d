/**
 * Embeddings of a labelled face set, for training heads: every image's face embedded by one embedding
 * network under one framing, plain and mirrored, cached on disk so retraining never re-runs a network.
 *
 * Cache key: the embedding model's sha256 + the framing (recipe) + the image path (with its size and
 * mtime, so a changed file is re-embedded). One file pair per (model, framing, set):
 * `<cache>/embeddings/<model>@<sha12>/<framing>/<set hash>.{json,f32}`; the .f32 holds, per image, the
 * plain then the mirrored embedding.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { embedFaces, type FaceToEmbed, type HeadTask } from '../../main/engine/attributes/heads.js';
import { NETWORKS } from '../../main/engine/attributes/networks.js';
import { type Detection, MtcnnDetector } from '../../main/engine/detection/mtcnn.js';
import type { CropRecipe } from '../../main/engine/faces/crop.js';
import { decodeForAnalysis } from '../../main/engine/image/decode.js';
import { AreaSampler } from '../../main/engine/image/resample.js';
import type { ModelStore } from '../../main/engine/sessions.js';
import { type AttributeSample, evenlySpaced, loadEvalSet } from '../eval/datasets.js';
import { cacheDir, fileStamp, shortHash } from '../../main/learning/cache.js';

/** How a face of a face-crop set is framed for the embedding network. */
export interface Framing {
  /** Run MTCNN (on the crop mirror-extended by half its size) and use the largest face. */
  detect: boolean;
  /** Recipe applied to the face (the whole crop without `detect`, or where detection found nothing). */
  recipe: CropRecipe;
  /** The recipe the engine uses at run time (faces always come from MTCNN there). */
  runtime: CropRecipe;
  /** Per task, a different run-time recipe (the framing of that task's training set). */
  runtimeByTask?: Partial<Record<HeadTask, CropRecipe>>;
}

export const FRAMINGS = {
  /**
   * The crop is the face; at run time each set's own framing through its landmark template: UTKFace's
   * for age, gender and ethnicity, FER2013's for emotion (TEMPLATES in main/engine/faces/crop.ts).
   */
  crop: {
    detect: false,
    recipe: { method: 'box', margin: 1 },
    runtime: { method: 'align', margin: 1, template: 'utkface' },
    runtimeByTask: { emotion: { method: 'align', margin: 1, template: 'fer' } },
  },
  /**
   * FairFace's own framing (the crop is the face, dlib-aligned with padding 0.25); at run time MTCNN
   * landmarks aligned to the FairFace template for every task.
   */
  fairface: {
    detect: false,
    recipe: { method: 'box', margin: 1 },
    runtime: { method: 'align', margin: 1, template: 'fairface' },
  },
  /**
   * MTCNN landmarks aligned to the FairFace template, as the engine frames faces at run time for heads
   * trained under `fairface`: scores sets of other framings (UTKFace) as the app will see them.
   */
  'align-fairface': {
    detect: true,
    recipe: { method: 'align', margin: 1, template: 'fairface' },
    runtime: { method: 'align', margin: 1, template: 'fairface' },
  },
  /** MTCNN landmarks aligned to the ArcFace template (the engine's facenet128 default). */
  'align-arcface': {
    detect: true,
    recipe: { method: 'align', margin: 1, template: 'arcface' },
    runtime: { method: 'align', margin: 1, template: 'arcface' },
  },
  /** MTCNN landmarks aligned to UTKFace's framing. */
  'align-utkface': {
    detect: true,
    recipe: { method: 'align', margin: 1, template: 'utkface' },
    runtime: { method: 'align', margin: 1, template: 'utkface' },
  },
} as const satisfies Record<string, Framing>;

export type FramingName = keyof typeof FRAMINGS;

export function isFramingName(name: string): name is FramingName {
  return Object.hasOwn(FRAMINGS, name);
}

export interface EmbeddingTable {
  network: string;
  sha256: string;
  framing: FramingName;
  dim: number;
  /** Absolute image paths, row order. */
  paths: string[];
  /** Per image: the detector found a face (false: framed as the whole crop). */
  detected: boolean[];
  /** Per image: plain embedding at (2i)·dim, mirrored at (2i+1)·dim. */
  vectors: Float32Array;
}

interface IndexFile {
  network: string;
  sha256: string;
  framing: string;
  dim: number;
  paths: string[];
  stamps: string[];
  detected: boolean[];
}

function tableFiles(network: string, sha256: string, framing: string, root: string): { index: string; data: string } {
  const dir = path.join(cacheDir(), 'embeddings', `${network}@${sha256.slice(0, 12)}`, framing);
  const base = path.join(dir, shortHash(path.resolve(root)));
  return { index: `${base}.json`, data: `${base}.f32` };
}

function readTable(files: { index: string; data: string }): { index: IndexFile; vectors: Float32Array } | null {
  if (!existsSync(files.index) || !existsSync(files.data)) return null;
  try {
    const index = JSON.parse(readFileSync(files.index, 'utf8')) as IndexFile;
    const buf = readFileSync(files.data);
    const vectors = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    if (vectors.length !== index.paths.length * 2 * index.dim) return null;
    return { index, vectors };
  } catch {
    return null;
  }
}

function writeTable(files: { index: string; data: string }, index: IndexFile, vectors: Float32Array): void {
  mkdirSync(path.dirname(files.index), { recursive: true });
  writeFileSync(`${files.data}.tmp`, new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength));
  writeFileSync(`${files.index}.tmp`, JSON.stringify(index));
  renameSync(`${files.data}.tmp`, files.data);
  renameSync(`${files.index}.tmp`, files.index);
}

/** Mirror-extends a face crop by half its size on every side: a stand-in for a real photo's surroundings. */
async function mirrorPadded(file: string): Promise<{ buffer: Buffer; pad: number }> {
  const meta = await sharp(file).metadata();
  const pad = Math.round(Math.max(meta.width ?? 0, meta.height ?? 0) / 2);
  const buffer = await sharp(file)
    .extend({ top: pad, bottom: pad, left: pad, right: pad, extendWith: 'mirror' })
    .png()
    .toBuffer();
  return { buffer, pad };
}

function largest(faces: readonly Detection[]): Detection | undefined {
  let best: Detection | undefined;
  const area = (d: Detection) => (d.box.x2 - d.box.x1) * (d.box.y2 - d.box.y1);
  for (const f of faces) if (!best || area(f) > area(best)) best = f;
  return best;
}

/** The largest face MTCNN found in each mirror-padded crop (null: none), by file and stamp. */
const detectedFaces = new Map<string, Detection | null>();

/** A face of a face-crop set, framed: the image's sampler, the face, and whether MTCNN found it. */
export type Framed = FaceToEmbed & { detected: boolean; side?: number };

/**
 * Frames the face of each face-crop image: the whole crop (`detect` false), or the largest MTCNN face
 * of the crop mirror-extended by half its size (falling back to the crop's own box, without landmarks).
 * `detectors` caches one detector per minimum face size across calls.
 */
export async function frameFaces(
  models: ModelStore,
  detect: boolean,
  files: readonly string[],
  detectors: Map<number, MtcnnDetector> = new Map(),
): Promise<Framed[]> {
  // Faces fill a face crop: searching only for faces ≥ 30 % of the crop's side skips most of the pyramid.
  const detectorFor = (side: number) => {
    const minFaceSize = Math.max(20, Math.round(side * 0.3));
    let d = detectors.get(minFaceSize);
    if (!d) detectors.set(minFaceSize, (d = new MtcnnDetector(models, { minFaceSize })));
    return d;
  };
  const faces: Framed[] = await Promise.all(
    files.map(async (file): Promise<Framed> => {
      if (!detect) {
        const image = await decodeForAnalysis(file);
        const face: Detection = { box: { x1: 0, y1: 0, x2: image.width, y2: image.height }, score: 1, landmarks: [] };
        return { sampler: new AreaSampler(image), face, detected: false };
      }
      const { buffer, pad } = await mirrorPadded(file);
      const image = await decodeForAnalysis(buffer);
      // Where the detector finds nothing, the face is the original crop inside the padding.
      const face: Detection = {
        box: { x1: pad, y1: pad, x2: image.width - pad, y2: image.height - pad },
        score: 0,
        landmarks: [],
      };
      return { sampler: new AreaSampler(image), face, detected: false, side: image.width - 2 * pad };
    }),
  );
  if (detect) {
    // MTCNN runs one image at a time (it batches within an image); each image once per process, however
    // many embedding networks frame it.
    for (const [i, f] of faces.entries()) {
      const key = `${files[i]}|${fileStamp(files[i] as string)}`;
      let found = detectedFaces.get(key);
      if (found === undefined) {
        found = largest(await detectorFor(f.side ?? 0).detect(f.sampler.image, f.sampler)) ?? null;
        detectedFaces.set(key, found);
      }
      if (found) Object.assign(f, { face: found, detected: true });
    }
  }
  return faces;
}

export interface ExtractOptions {
  /** Images per batch through the embedding network. */
  batch?: number;
  progress?: (done: number, total: number) => void;
  /** Fail instead of computing embeddings missing from the cache. */
  cachedOnly?: boolean;
}

/**
 * Embeddings of `files` (absolute paths of one set under `root`) by `network` under `framing`, from
 * the cache where present; missing rows are computed in batches and the cache is rewritten.
 */
export async function extractEmbeddings(
  models: ModelStore,
  network: string,
  framingName: FramingName,
  root: string,
  files: readonly string[],
  options: ExtractOptions = {},
): Promise<EmbeddingTable> {
  const net = NETWORKS[network];
  if (!net?.features) throw new Error(`${network} exposes no features`);
  // The build that runs here, which is not the one named where an int8 model falls back to float
  // ([Note: int8 models]): features of the two must not share a cache entry.
  const sha256 = (await models.load(net.model)).entry.sha256;
  const framing: Framing = FRAMINGS[framingName];
  const tf = tableFiles(network, sha256, framingName, root);
  const cached = readTable(tf);
  const known = new Map<string, number>();
  if (cached && cached.index.sha256 === sha256) {
    cached.index.paths.forEach((p, i) => known.set(`${p}|${cached.index.stamps[i]}`, i));
  }
  const stamps = files.map(fileStamp);
  const missing = files.map((_, i) => i).filter((i) => !known.has(`${files[i]}|${stamps[i]}`));
  if (missing.length > 0 && options.cachedOnly) {
    throw new Error(
      `${missing.length} of ${files.length} ${network}/${framingName} embeddings of ${root} are not cached`,
    );
  }
  let dim = cached?.index.dim ?? 0;
  const computed = new Map<number, { plain: Float32Array; mirrored: Float32Array; detected: boolean }>();
  const detectors = new Map<number, MtcnnDetector>();
  const batch = options.batch ?? 32;
  for (let start = 0; start < missing.length; start += batch) {
    const chunk = missing.slice(start, start + batch);
    const faces = await frameFaces(
      models,
      framing.detect,
      chunk.map((i) => files[i] as string),
      detectors,
    );
    const { plain, mirrored } = await embedFaces(models, network, faces, framing.recipe, true);
    chunk.forEach((i, k) => {
      const p = plain[k] as Float32Array;
      dim = p.length;
      computed.set(i, { plain: p, mirrored: mirrored[k] as Float32Array, detected: (faces[k] as Framed).detected });
    });
    options.progress?.(Math.min(start + batch, missing.length), missing.length);
  }
  if (dim === 0) throw new Error(`no embeddings for ${root}`);
  const vectors = new Float32Array(files.length * 2 * dim);
  const detected: boolean[] = [];
  files.forEach((file, i) => {
    const fresh = computed.get(i);
    if (fresh) {
      vectors.set(fresh.plain, 2 * i * dim);
      vectors.set(fresh.mirrored, (2 * i + 1) * dim);
      detected.push(fresh.detected);
      return;
    }
    const row = known.get(`${file}|${stamps[i]}`) as number;
    const old = cached as { index: IndexFile; vectors: Float32Array };
    vectors.set(old.vectors.subarray(2 * row * dim, (2 * row + 2) * dim), 2 * i * dim);
    detected.push(old.index.detected[row] ?? false);
  });
  if (computed.size > 0 || !cached || cached.index.paths.length !== files.length) {
    // Keep rows of images not asked for this time, so subsets and supersets share one cache.
    const asked = new Set(files);
    const extra = cached ? cached.index.paths.map((p, r) => ({ p, r })).filter(({ p }) => !asked.has(p)) : [];
    const all = new Float32Array(vectors.length + extra.length * 2 * dim);
    all.set(vectors);
    extra.forEach(({ r }, k) =>
      all.set(
        (cached as { vectors: Float32Array }).vectors.subarray(2 * r * dim, (2 * r + 2) * dim),
        vectors.length + 2 * k * dim,
      ),
    );
    writeTable(
      tf,
      {
        network,
        sha256,
        framing: framingName,
        dim,
        paths: [...files, ...extra.map((e) => e.p)],
        stamps: [...stamps, ...extra.map((e) => (cached as { index: IndexFile }).index.stamps[e.r] as string)],
        detected: [...detected, ...extra.map((e) => (cached as { index: IndexFile }).index.detected[e.r] ?? false)],
      },
      all,
    );
  }
  return { network, sha256, framing: framingName, dim, paths: [...files], detected, vectors };
}

/** A labelled set's samples and, per embedding network, its embedding table (from the cache where present). */
export async function embedSet(
  models: ModelStore,
  folder: string,
  networks: readonly string[],
  framing: FramingName,
  options: ExtractOptions & { limit?: number } = {},
): Promise<{ root: string; samples: AttributeSample[]; tables: EmbeddingTable[] }> {
  const set = loadEvalSet(folder);
  if (set.kind !== 'attributes') throw new Error(`${folder} is not an attribute set (labels.csv)`);
  const samples = evenlySpaced(set.samples, options.limit ?? Infinity);
  const tables: EmbeddingTable[] = [];
  for (const network of networks) {
    tables.push(
      await extractEmbeddings(
        models,
        network,
        framing,
        set.root,
        samples.map((s) => s.path),
        options,
      ),
    );
  }
  return { root: set.root, samples, tables };
}
