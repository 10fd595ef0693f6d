/**
 * "Heads": small classifiers trained by `facets train-heads` on face embeddings (the paper's classifier).
 *
 * A face is cut out per the heads' recorded recipe, embedded by frozen embedding networks (facenet128,
 * optionally faceres' 1024-d descriptor, concatenated; optionally averaged with the embedding of the
 * mirrored face), and the heads ONNX model (input 'embedding' [batch, D] → one softmax output per
 * attribute) turns the embedding into attributes. The heads live in the heads folder (HEADS_DIR,
 * default models/heads/, git-ignored: they are trained on research data that must not be committed),
 * described by its manifest.json; the engine uses them for an attribute only where they are present and
 * their recorded dev accuracy beats the default network's (`measuredAssignment`).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import '../no-telemetry.js'; // before any session: [Note: onnxruntime telemetry]
import ort from 'onnxruntime-node';
import { appDataDir, modelsDir, packageVersion } from '../../paths.js';
import type { Detection } from '../detection/mtcnn.js';
import { type CropRecipe, appendMirrored, cropFace, recipeKey } from '../faces/crop.js';
import type { AreaSampler } from '../image/resample.js';
import type { ModelStore } from '../sessions.js';
import {
  AGE_GROUPS,
  EMOTIONS,
  ETHNICITIES,
  ETHNICITIES7,
  GENDERS,
  type AgeGroup,
  ETHNICITY7_TO_5,
  argmaxLabel,
  mergeEthnicity7,
} from './labels.js';
import { type Attributes, type ModelRef, NETWORKS, genderFromMale } from './networks.js';

/**
 * The key naming an embedding spec (networks with their model hashes, recipe, flip): the `spec` of the
 * library's face_embeddings rows, and the fine-tune's cache key.
 */
export function specKey(spec: Pick<EmbeddingSpec, 'models' | 'recipe' | 'flip'>, shas: readonly string[]): string {
  const recipe = recipeKey(spec.recipe);
  return `${spec.models.map((m, i) => `${m}@${(shas[i] ?? '').slice(0, 12)}`).join('+')}:${recipe}:${spec.flip ? 'flip' : 'plain'}`;
}

/** A face's vector under one embedding spec, as the library stores it (face_embeddings). */
export interface StoredVector {
  spec: string;
  vector: Float32Array;
}

/** The name an assignment uses for the heads, alone ('heads') or in an ensemble ('gear+heads'). */
export const HEADS_NETWORK = 'heads';

export type HeadTask = 'age' | 'gender' | 'ethnicity' | 'ethnicity7' | 'emotion';
export const HEAD_TASKS: readonly HeadTask[] = ['age', 'gender', 'ethnicity', 'ethnicity7', 'emotion'];

/** Output labels of each task, in the heads' output order (main/engine/attributes/labels.ts). */
export const TASK_LABELS: Record<HeadTask, readonly string[]> = {
  age: AGE_GROUPS,
  gender: GENDERS,
  ethnicity: ETHNICITIES,
  ethnicity7: ETHNICITIES7,
  emotion: EMOTIONS,
};

/** Name of each task's output in the heads ONNX model. */
export const TASK_OUTPUTS: Record<HeadTask, string> = {
  age: 'age_group',
  gender: 'gender',
  ethnicity: 'ethnicity',
  ethnicity7: 'ethnicity7',
  emotion: 'emotion',
};

/** How faces become the heads' input. */
export interface EmbeddingSpec {
  /** Embedding networks (NETWORKS names providing 'embedding'), concatenated in this order. */
  models: string[];
  /** How the face is cut out for every embedding network. */
  recipe: CropRecipe;
  /**
   * Tasks whose training faces were framed differently (FER2013's emotion crops sit lower and larger
   * than UTKFace's): their outputs come from an embedding of the face cut this way.
   */
  taskRecipes?: Partial<Record<HeadTask, CropRecipe>>;
  /** Average each embedding with that of the horizontally mirrored crop. */
  flip: boolean;
}

export interface EmbeddingModelRef {
  name: string;
  sha256: string;
  dim: number;
}

/** One attribute's calibration on the dev sets (research/heads/calibration.ts fits it). */
export interface Calibration {
  temperature: number;
  /** Expected calibration error (15 equal-width confidence bins) before and after the temperature. */
  eceBefore: number;
  eceAfter: number;
  /** Calibrated confidence below which the estimate is uncertain ([Note: uncertain means the same]). */
  uncertainBelow: number;
  count: number;
}

/** Dev-set measurements of one candidate for one attribute (accuracy: group accuracy for age). */
export interface AttributeScore {
  accuracy: number;
  worstClassRecall?: number;
  perClassRecall?: Record<string, number>;
  mae?: number;
  count: number;
  /** Scored on several dev sets: the figures above are the worst set's (`worstSet`); each set's here. */
  perSet?: Record<string, AttributeScore>;
  worstSet?: string;
  /** Mean accuracy over the dev sets. */
  mean?: number;
}

export interface HeadsEntry {
  /** ONNX file, relative to the heads folder. */
  file: string;
  sha256: string;
  createdAt: string;
  /** 'dataset' (facets train-heads) or 'corrections' (fine-tuned on the user's corrections). */
  origin: 'dataset' | 'corrections';
  seed: number;
  embedding: EmbeddingSpec & { dim: number; networks: EmbeddingModelRef[] };
  tasks: HeadTask[];
  /** Labels of a task that never occurred in training: the heads cannot predict them (e.g. no Black faces in utkface-train). */
  unseen: Partial<Record<HeadTask, string[]>>;
  /** Representative years per age group (median training age in the group), for age in years. */
  ageGroupYears: number[];
  /** Architecture, optimiser and task weighting. */
  training: Record<string, unknown>;
  /** What the heads were trained on (counts per set and label). */
  data: Record<string, unknown>;
  /**
   * Dev-set accuracy per attribute of each candidate, under the same framing: 'heads', the default
   * network ('default:<name>') and ensembles such as 'gear+heads'. `choice` is the candidate the engine
   * uses for that attribute when no assignment is given.
   */
  dev: Partial<Record<HeadTask, { set: string; candidates: Record<string, AttributeScore>; choice: string }>>;
  /** Accuracy on held-out corrections before and after a corrections fine-tune. */
  corrections?: Record<string, unknown>;
  /** Per task, the temperature applied to its probabilities and the uncertain threshold (calibration.ts). */
  calibration?: Partial<Record<HeadTask, Calibration>>;
  /** Shipped heads: their recipe, and the training data's licence and attribution ([Note: shipped heads]). */
  provenance?: { recipe: string; licence: string; attribution: string };
}

export interface HeadsManifest {
  version: 1;
  /** The heads in use. */
  active: HeadsEntry | null;
  /** Earlier heads (newest first), kept so `facets train-heads --revert` can restore them. */
  history: HeadsEntry[];
}

/**
 * The user's heads folder — heads trained locally (`facets train-heads`) and fine-tuned on the user's
 * corrections: FACETS_HEADS_DIR, else `heads/` in the application-data folder (user state never goes
 * next to the shipped models, which are read-only in a packaged app).
 */
export function headsDir(): string {
  const fromEnv = process.env['FACETS_HEADS_DIR'];
  return fromEnv ? path.resolve(fromEnv) : path.join(appDataDir(), 'heads');
}

/**
 * The heads that ship with Facets (models/shipped: trained only on FairFace, CC BY 4.0, rebuilt by
 * `facets train-heads --recipe shipped`); read-only. FACETS_SHIPPED_HEADS=off ignores them (to measure
 * the pretrained networks alone).
 */
export function shippedHeadsDir(): string | null {
  if (process.env['FACETS_SHIPPED_HEADS'] === 'off') return null;
  return path.join(modelsDir(), 'shipped');
}

function hasActiveHeads(dir: string): boolean {
  try {
    const active = readHeadsManifest(dir)?.active;
    return !!active && existsSync(path.join(dir, active.file));
  } catch {
    return false;
  }
}

/**
 * [Note: heads in use] The folder of the heads the engine uses: the user's own (a fine-tune or locally
 * trained heads) when it has active heads, else the shipped heads, else the user's (empty) folder.
 * Fine-tuning starts from these and always installs into the user's folder (headsDir); reverting the
 * user's first heads falls back to the shipped ones.
 */
export function activeHeadsDir(user: string = headsDir()): string {
  if (hasActiveHeads(user)) return user;
  const shipped = shippedHeadsDir();
  return shipped && hasActiveHeads(shipped) ? shipped : user;
}

export function readHeadsManifest(dir: string = headsDir()): HeadsManifest | null {
  const file = path.join(dir, 'manifest.json');
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8')) as HeadsManifest;
}

/**
 * The assignment the engine uses when none is given: `base`, except that an attribute moves to the
 * heads (or an ensemble with them) when heads are present and their recorded dev accuracy beats the
 * default network's.
 */
export function measuredAssignment<A extends Partial<Record<HeadTask, string | null>>>(
  base: A,
  dir: string = activeHeadsDir(),
): A {
  let manifest: HeadsManifest | null;
  try {
    manifest = readHeadsManifest(dir);
  } catch {
    return base;
  }
  const active = manifest?.active;
  if (!active || !existsSync(path.join(dir, active.file))) return base;
  const result = { ...base };
  for (const task of HEAD_TASKS) {
    if (!(task in base)) continue; // ethnicity7 serves through ethnicity's assignment
    const dev = active.dev[task];
    const current = base[task as keyof A] as string | null;
    if (!dev || current === null || !dev.choice.split('+').includes(HEADS_NETWORK)) continue;
    const chosen = dev.candidates[dev.choice]?.accuracy;
    const baseline = dev.candidates[`default:${current}`]?.accuracy;
    if (chosen !== undefined && baseline !== undefined && chosen > baseline) {
      (result as Record<HeadTask, string | null>)[task] = dev.choice;
    }
  }
  return result;
}

/** Temperature scaling of one probability vector: p ∝ p^(1/T) (logits divided by T; the argmax stays). */
export function withTemperature(p: ArrayLike<number>, temperature: number): Float32Array {
  const out = Float32Array.from(p as ArrayLike<number>);
  if (temperature === 1) return out;
  let total = 0;
  for (let i = 0; i < out.length; i++) {
    const v = Math.exp(Math.log(Math.max(out[i] as number, 1e-12)) / temperature);
    out[i] = v;
    total += v;
  }
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / total;
  return out;
}

/**
 * [Note: attribute batches] Faces per embedding run. All of a photo's faces in one run was measured
 * slower per face than a few (bench/networks.ts, 16 faces, interleaved, loaded 2-core machine, ms per
 * face at batch 1 / 4 / 16 — 2 intra-op threads: faceres 21.4 / 17.9 / 48.2, facenet128 7.8 / 4.6 /
 * 5.5, faceapi-age-gender 2.2 / 1.6 / 2.1; 1 thread: faceres 16.1 / 18.4 / 21.9, the others flat), and
 * a bounded batch bounds the memory a run takes ([Note: session memory] in sessions.ts).
 */
export const EMBED_BATCH = 4;

/** A face to embed: the sampler of its (decoded) image and the face's geometry there. */
export interface FaceToEmbed {
  sampler: AreaSampler;
  face: Detection;
}

/** Reads the other outputs of an embedding run: row `row` of `outputs` is face `face`'s plain crop. */
export type RowReader = (outputs: ort.InferenceSession.OnnxValueMapType, row: number, face: number) => void;

/**
 * [Note: shared runs] A network that serves an attribute itself and also feeds the heads under the same
 * framing (face-api's age/gender network: gender) runs once: the heads' embedding run decodes it too.
 * `network` is the network's name, `recipe` the framing it serves with, `decode` its estimate of a row.
 */
export interface SharedRun {
  network: string;
  recipe: CropRecipe;
  decode: (outputs: ort.InferenceSession.OnnxValueMapType, row: number) => Attributes;
  /** Filled by runHeads, one per face, where the heads ran the network under `recipe`. */
  results?: Attributes[];
}

/**
 * Embeddings of faces by one embedding network under one recipe, EMBED_BATCH faces per run: the plain
 * crop's and, with `mirrored`, the mirrored crop's. A face without five landmarks is cut by its box (as the engine
 * does).
 */
export async function embedFaces(
  models: ModelStore,
  network: string,
  faces: readonly FaceToEmbed[],
  recipe: CropRecipe,
  mirrored: boolean,
  onRow?: RowReader,
): Promise<{ plain: Float32Array[]; mirrored: Float32Array[] }> {
  const net = NETWORKS[network];
  const features = net?.features;
  if (!net || !features) throw new Error(`${network} exposes no features`);
  if (faces.length === 0) return { plain: [], mirrored: [] };
  const loaded = await models.load(net.model);
  const channels = net.grey ? 1 : 3;
  const per = net.size * net.size * channels;
  const copies = mirrored ? 2 : 1;
  const plain: Float32Array[] = [];
  const flipped: Float32Array[] = [];
  // [Note: attribute batches] A few faces per run, not all of a photo's: see EMBED_BATCH.
  for (let start = 0; start < faces.length; start += EMBED_BATCH) {
    const chunk = faces.slice(start, start + EMBED_BATCH);
    const n = chunk.length;
    const input = new Float32Array(per * n * copies);
    chunk.forEach(({ sampler, face }, i) => {
      const r: CropRecipe =
        recipe.method === 'align' && face.landmarks.length !== 5 ? { method: 'box', margin: 1 } : recipe;
      cropFace(sampler, face, r, net.size, input, i * per, net.pixel);
    });
    if (mirrored) appendMirrored(input, n, net.size, channels);
    const outputs = await loaded.session.run({
      [loaded.entry.input.name]: new ort.Tensor('float32', input, [n * copies, net.size, net.size, channels]),
    });
    const out = outputs[features];
    if (!out) throw new Error(`${network} gave no ${features} output`);
    const dim = (out.dims as number[]).slice(1).reduce((a, b) => a * b, 1);
    const data = out.data as Float32Array;
    for (let i = 0; i < n; i++) plain.push(data.slice(i * dim, (i + 1) * dim));
    if (onRow) for (let i = 0; i < n; i++) onRow(outputs, i, start + i);
    for (let i = n; i < n * copies; i++) flipped.push(data.slice(i * dim, (i + 1) * dim));
  }
  return { plain, mirrored: flipped };
}

/** The heads' input for faces: each network's embedding (mirror-averaged per the spec), concatenated. */
export async function headsInput(
  models: ModelStore,
  spec: EmbeddingSpec,
  faces: readonly FaceToEmbed[],
  readers: Partial<Record<string, RowReader>> = {},
): Promise<Float32Array[]> {
  const parts: Float32Array[][] = [];
  for (const network of spec.models) {
    const { plain, mirrored } = await embedFaces(models, network, faces, spec.recipe, spec.flip, readers[network]);
    parts.push(plain.map((p, i) => (spec.flip ? averageVectors(p, mirrored[i] as Float32Array) : p)));
  }
  return faces.map((_, i) => concatVectors(parts.map((p) => p[i] as Float32Array)));
}

export function averageVectors(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let k = 0; k < a.length; k++) out[k] = ((a[k] as number) + (b[k] as number)) / 2;
  return out;
}

export function concatVectors(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Per-task probabilities of a batch, as read from the heads model. */
export type HeadsOutput = Partial<Record<HeadTask, Float32Array[]>>;

/** Turns one face's head probabilities into Facets attributes. */
export function headsAttributes(
  probabilities: Partial<Record<HeadTask, ArrayLike<number>>>,
  entry: Pick<HeadsEntry, 'ageGroupYears' | 'unseen'>,
  model: ModelRef,
): Attributes {
  const out: Attributes = {};
  const age = probabilities.age;
  if (age) {
    const { label, probabilities: groupProbabilities } = argmaxLabel(AGE_GROUPS, age);
    let years = 0;
    for (let g = 0; g < AGE_GROUPS.length; g++) years += (age[g] as number) * (entry.ageGroupYears[g] ?? 0);
    out.age = { years, group: label as AgeGroup, groupProbabilities, model };
  }
  const gender = probabilities.gender;
  if (gender) {
    const male = gender[0] as number;
    out.gender = genderFromMale(male, model);
  }
  // [Note: seven classes] The five come from the five-way branch (what the filters use and the user's
  // corrections fine-tune); the seven-class branch refines the shown five (its probabilities within the
  // shown class), or gives the five as its merge where the heads have no five-way branch.
  const seven = probabilities.ethnicity7;
  const five = probabilities.ethnicity ?? (seven ? mergeEthnicity7(seven) : undefined);
  if (five) {
    const unseen = entry.unseen.ethnicity as (typeof ETHNICITIES)[number][] | undefined;
    out.ethnicity = {
      ...argmaxLabel(ETHNICITIES, five),
      model,
      ...(unseen?.length ? { unseen } : {}),
    };
  }
  if (seven) {
    const shown = out.ethnicity?.label;
    const within = ETHNICITIES7.map((l, i) => (shown && ETHNICITY7_TO_5[l] !== shown ? 0 : (seven[i] as number)));
    const total = within.reduce((a, b) => a + b, 0);
    out.ethnicity7 = {
      ...argmaxLabel(ETHNICITIES7, total > 0 ? within.map((p) => p / total) : Array.from(seven)),
      model,
    };
  }
  if (probabilities.emotion) out.emotion = { ...argmaxLabel(EMOTIONS, probabilities.emotion), model };
  return out;
}

interface LoadedHeads {
  entry: HeadsEntry;
  session: ort.InferenceSession;
  ref: ModelRef;
}

const loadedHeads = new Map<string, Promise<LoadedHeads>>();

/** The active heads of a heads folder, verified against the manifest's sha256 (one session per file). */
export function loadHeads(dir: string = activeHeadsDir()): Promise<LoadedHeads> {
  const manifest = readHeadsManifest(dir);
  const entry = manifest?.active;
  if (!entry) {
    return Promise.reject(new Error(`no heads in ${dir}: train them with \`facets train-heads\``));
  }
  const file = path.join(dir, entry.file);
  const key = `${file}|${entry.sha256}`;
  let pending = loadedHeads.get(key);
  if (!pending) {
    pending = (async () => {
      if (!existsSync(file)) throw new Error(`heads file ${file} is missing: retrain with \`facets train-heads\``);
      const bytes = readFileSync(file);
      const digest = createHash('sha256').update(bytes).digest('hex');
      if (digest !== entry.sha256) throw new Error(`heads file ${file} has sha256 ${digest}, expected ${entry.sha256}`);
      const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
      // Facets' convention "<source version>+<12 hex of the sha256>"; the source of heads is Facets itself.
      return {
        entry,
        session,
        ref: { name: HEADS_NETWORK, version: `${packageVersion()}+${entry.sha256.slice(0, 12)}` },
      };
    })();
    loadedHeads.set(key, pending);
    pending.catch(() => loadedHeads.delete(key));
  }
  return pending;
}

/** Runs a heads session on a batch of embeddings: per task, one probability row per face. */
export async function runHeadsSession(
  session: ort.InferenceSession,
  tasks: readonly HeadTask[],
  inputs: readonly Float32Array[],
): Promise<HeadsOutput> {
  const dim = inputs[0]?.length ?? 0;
  const batch = new Float32Array(inputs.length * dim);
  inputs.forEach((v, i) => batch.set(v, i * dim));
  const outputs = await session.run({ embedding: new ort.Tensor('float32', batch, [inputs.length, dim]) });
  const result: HeadsOutput = {};
  for (const task of tasks) {
    const t = outputs[TASK_OUTPUTS[task]];
    if (!t) continue;
    const width = TASK_LABELS[task].length;
    const data = t.data as Float32Array;
    result[task] = inputs.map((_, i) => data.slice(i * width, (i + 1) * width));
  }
  return result;
}

/** The engine's entry point: attributes of faces of one image from the active heads. */
export async function runHeads(
  models: ModelStore,
  sampler: AreaSampler,
  faces: readonly Detection[],
  dir: string = activeHeadsDir(),
  shared: readonly SharedRun[] = [],
): Promise<Attributes[]> {
  const heads = await loadHeads(dir);
  const spec = heads.entry.embedding;
  const out: HeadsOutput = {};
  // Without landmarks every recipe falls back to the face box: one embedding pass serves all tasks.
  const groups = faces.every((f) => f.landmarks.length !== 5)
    ? [{ recipe: spec.recipe, tasks: heads.entry.tasks }]
    : recipeGroups(spec, heads.entry.tasks);
  const shas = spec.networks.map((n) => n.sha256);
  const vectors: StoredVector[][] = faces.map(() => []);
  for (const { recipe, tasks } of groups) {
    // [Note: shared runs] Unmirrored embeddings only: the network serves from its plain crop.
    const readers: Partial<Record<string, RowReader>> = {};
    for (const share of shared) {
      if (
        spec.flip ||
        share.results ||
        !spec.models.includes(share.network) ||
        recipeKey(recipe) !== recipeKey(share.recipe)
      ) {
        continue;
      }
      const results = new Array<Attributes>(faces.length);
      readers[share.network] = (outputs, row, face) => {
        results[face] = share.decode(outputs, row);
      };
      share.results = results;
    }
    const inputs = await headsInput(
      models,
      { ...spec, recipe },
      faces.map((face) => ({ sampler, face })),
      readers,
    );
    // The heads' input is kept (AnalyzedFace.vectors): the library stores it for fine-tuning.
    const key = specKey({ ...spec, recipe }, shas);
    inputs.forEach((v, i) => vectors[i]?.push({ spec: key, vector: v }));
    Object.assign(out, await runHeadsSession(heads.session, tasks, inputs));
  }
  const calibration = heads.entry.calibration ?? {};
  const calibrated = (t: HeadTask, p: Float32Array | undefined) => {
    const temperature = calibration[t]?.temperature;
    return p && temperature && temperature !== 1 ? withTemperature(p, temperature) : p;
  };
  return faces.map((_, i) => ({
    ...headsAttributes(
      Object.fromEntries(heads.entry.tasks.map((t) => [t, calibrated(t, out[t]?.[i])])) as Partial<
        Record<HeadTask, Float32Array>
      >,
      heads.entry,
      heads.ref,
    ),
    vectors: vectors[i] ?? [],
  }));
}

/** The recipe each task's embedding is cut with, grouped: one embedding pass per distinct recipe. */
export function recipeGroups(
  spec: EmbeddingSpec,
  tasks: readonly HeadTask[],
): { recipe: CropRecipe; tasks: HeadTask[] }[] {
  const groups = new Map<string, { recipe: CropRecipe; tasks: HeadTask[] }>();
  for (const task of tasks) {
    const recipe = spec.taskRecipes?.[task] ?? spec.recipe;
    const key = JSON.stringify(recipe);
    const group = groups.get(key) ?? { recipe, tasks: [] };
    group.tasks.push(task);
    groups.set(key, group);
  }
  return [...groups.values()];
}

/** What the heads estimate, for the analyzer's assignment check. */
export const HEADS_PROVIDES: readonly (keyof Attributes)[] = ['age', 'gender', 'ethnicity', 'emotion'];
