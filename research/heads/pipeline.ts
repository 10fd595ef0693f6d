/**
 * `facets train-heads` end to end: embed the training and dev sets (cached), train heads with equal
 * and with dynamic task weights, the SVM-RBF baseline, score every candidate per attribute on the dev
 * sets next to the pretrained default network and the ensemble of both, export the chosen heads as
 * ONNX and install them with a manifest entry recording all of it.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_ASSIGNMENT } from '../../main/engine/analyzer.js';
import { combineEstimates } from '../../main/engine/attributes/ensemble.js';
import {
  type AttributeScore,
  type EmbeddingSpec,
  HEAD_TASKS,
  type HeadTask,
  type HeadsEntry,
  TASK_LABELS,
  headsAttributes,
  readHeadsManifest,
} from '../../main/engine/attributes/heads.js';
import {
  AGE_GROUPS,
  type AgeGroup,
  EMOTIONS,
  ETHNICITIES,
  ageGroupOf,
  argmaxLabel,
} from '../../main/engine/attributes/labels.js';
import { type Attributes, type ModelRef, NETWORKS } from '../../main/engine/attributes/networks.js';
import type { ModelStore } from '../../main/engine/sessions.js';
import { ageMetrics, classMetrics } from '../../main/learning/metrics.js';
import { packageRoot } from '../../main/paths.js';
import { type NetworkPrediction, networkPredictions } from './baseline.js';
import { type Dataset, ageGroupYears, classCounts, concatDatasets, reTask } from '../../main/learning/data.js';
import { type FlipMode, buildDataset } from './dataset.js';
import { type EmbeddingTable, FRAMINGS, type Framing, type FramingName, embedSet } from './embeddings.js';
import { evenlySpaced } from '../eval/datasets.js';
import { type ModelConfig, type Params, argmaxRow, predict, standardise } from '../../main/learning/model.js';
import { exportHeadsOnnx, headsMetadata } from '../../main/learning/onnx.js';
import { calibrateOnDev } from './calibration.js';
import { activeHeadsBytes, installHeads, readHeadsParams, sha256Hex } from '../../main/learning/store.js';
import { DEFAULT_SVM, predictMulticlass, rbfKernelMatrix, trainMulticlass } from './svm.js';
import {
  DEFAULT_TRAIN,
  type TrainOptions,
  type TrainResult,
  classWeights,
  trainHeads,
} from '../../main/learning/train.js';

export const SHARED_DATA = path.join(packageRoot(), '..', 'shared', 'data');

/**
 * [Note: shipped heads] The recipe of the heads committed in models/shipped: trained on FairFace alone
 * (CC BY 4.0, the only training set here whose licence allows redistributing what is learned from it),
 * selected on FairFace and UTKFace dev faces framed as the engine frames them. `facets train-heads
 * --recipe shipped` rebuilds the committed ONNX file byte for byte from ../shared (same seed, same
 * features: onnxruntime on the same CPU kind); test/integration/shipped-heads.test.ts checks it.
 * Changing anything here means rebuilding and committing models/shipped (and its figures in
 * models/README.md).
 */
export const SHIPPED_RECIPE: Omit<PipelineOptions, 'log' | 'dir'> = {
  trainSets: [path.join(SHARED_DATA, 'train', 'fairface-train')],
  devSets: ['eval/fairface-dev', 'eval/utkface-dev'].map((s) => path.join(SHARED_DATA, s)),
  networks: ['facenet128', 'faceres', 'faceapi-age-gender'],
  // Training faces framed as the engine frames faces at run time (MTCNN landmarks, FairFace's
  // template), not as FairFace cropped them: +1 point of age on both dev sets over 3 seeds.
  framing: 'align-fairface',
  devFraming: 'align-fairface',
  flip: 'augment',
  runtimeFlip: false,
  train: { ...DEFAULT_TRAIN, hidden: 128, epochs: 20, weighting: 'dynamic', flipAugment: true },
  compare: false,
  maxPerSet: 30_000,
  svm: false,
  svmLimit: 6_000,
  svmC: 1,
  install: true,
  replace: true,
  provenance: {
    recipe: 'shipped',
    licence: 'CC BY 4.0 (FairFace: training data and the weights learned from it)',
    attribution:
      'FairFace: Kärkkäinen, K. and Joo, J., "FairFace: Face Attribute Dataset for Balanced Race, Gender, and Age ' +
      'for Bias Measurement and Mitigation", WACV 2021',
  },
};

/**
 * Why the shipped recipe cannot give the committed heads' bytes on this machine, if it cannot: each
 * network whose features they read must run here as the build they were trained on. On an x86 CPU
 * without VNNI faceres-int8 gives way to faceres-uint8 ([Note: int8 models]), so heads trained here would
 * differ too. Empty: nothing known stands in the way (kernels chosen by CPU can still change the floats).
 */
export async function shippedRecipeBlockers(
  models: ModelStore,
  committed: HeadsEntry | null | undefined,
): Promise<string[]> {
  const blockers: string[] = [];
  for (const n of committed?.embedding.networks ?? []) {
    const model = NETWORKS[n.name]?.model ?? n.name;
    const loaded = await models.load(model);
    if (loaded.entry.sha256 !== n.sha256) {
      const why = loaded.fallbacks.filter((f) => f.startsWith('int8:')).join('; ');
      blockers.push(
        `the committed heads read ${n.name} features from ${model} (sha256 ${n.sha256.slice(0, 12)}…), ` +
          `which runs here as ${loaded.entry.name} (sha256 ${loaded.entry.sha256.slice(0, 12)}…${why ? `; ${why}` : ''})`,
      );
    }
  }
  return blockers;
}

export const DEFAULT_TRAIN_SETS = ['train/utkface-train', 'train/fer2013-train'].map((s) => path.join(SHARED_DATA, s));
export const DEFAULT_DEV_SETS = ['eval/utkface-dev', 'eval/fer2013-dev'].map((s) => path.join(SHARED_DATA, s));

export interface PipelineOptions {
  trainSets: string[];
  devSets: string[];
  /** Embedding networks, concatenated. */
  networks: string[];
  framing: FramingName;
  /**
   * How the dev sets are framed (default: as the training sets). Heads trained on a set's own crops
   * (`fairface`) are scored on faces framed as the engine frames them at run time (`align-fairface`:
   * MTCNN, then the template), so sets framed differently from the training set score fairly.
   */
  devFraming?: FramingName;
  /**
   * Per training set (by folder name), a framing other than `framing`: e.g. UTKFace's crops framed as
   * the engine frames faces at run time (`align-fairface`) next to FairFace's own crops (`fairface`).
   */
  trainFramings?: Readonly<Record<string, FramingName>>;
  /**
   * More views of every training face: each training set also embedded under these framings, every view
   * a training sample of its own (e.g. FairFace's crops as they are and as the engine frames them).
   */
  trainViews?: readonly FramingName[];
  flip: FlipMode;
  /**
   * Average each face's features with its mirror image's at run time (default: unless flip is 'none').
   * Off halves the heads' cost per face; the dev sets are then scored on the plain faces too.
   */
  runtimeFlip?: boolean;
  train: TrainOptions;
  /** Also train with the other weighting (equal vs dynamic) for the comparison. */
  compare: boolean;
  /** Evenly spaced subsample of any training set larger than this. */
  maxPerSet: number;
  /** SVM-RBF baseline; training samples per task at most this many (the kernel is n²). */
  svm: boolean;
  svmLimit: number;
  svmC: number;
  /** Install the heads (else only report). */
  install: boolean;
  dir?: string;
  /** Install as the folder's only heads (the shipped heads keep no history). */
  replace?: boolean;
  /** Recorded in the manifest entry: the recipe's name, the training data's licence and attribution. */
  provenance?: { recipe: string; licence: string; attribution: string };
  log: (line: string) => void;
  progress?: (label: string) => (done: number, total: number) => void;
}

export const DEFAULT_PIPELINE: Omit<PipelineOptions, 'log'> = {
  trainSets: DEFAULT_TRAIN_SETS,
  devSets: DEFAULT_DEV_SETS,
  networks: ['facenet128'],
  framing: 'crop',
  flip: 'augment',
  train: DEFAULT_TRAIN,
  compare: true,
  maxPerSet: 30_000,
  svm: true,
  svmLimit: 6_000,
  svmC: 1,
  install: true,
};

/** One row of the results table: a candidate's dev scores per attribute. */
export interface ResultRow {
  candidate: string;
  scores: Partial<Record<HeadTask, AttributeScore>>;
  seconds?: number;
}

export interface PipelineResult {
  entry: Omit<HeadsEntry, 'file' | 'sha256'>;
  installed?: HeadsEntry;
  /** sha256 of the chosen heads' ONNX bytes (installed or not). */
  bytesSha256?: string;
  rows: ResultRow[];
  timings: Record<string, number>;
}

interface LoadedSet {
  name: string;
  root: string;
  framing: FramingName;
  data: Dataset;
  tables: EmbeddingTable[];
}

function tasksOf(
  samples: readonly {
    ageGroup?: string;
    age?: number;
    gender?: string;
    ethnicity?: string;
    ethnicity7?: string;
    emotion?: string;
  }[],
): HeadTask[] {
  return HEAD_TASKS.filter((t) =>
    samples.some((s) => (t === 'age' ? s.ageGroup !== undefined || s.age !== undefined : s[t] !== undefined)),
  );
}

async function loadSets(
  models: ModelStore,
  folders: readonly string[],
  options: PipelineOptions,
  limit: number,
  flip: FlipMode,
  framing: FramingName = options.framing,
  framingOf: Readonly<Record<string, FramingName>> = {},
): Promise<{ sets: LoadedSet[]; tasks: HeadTask[] }> {
  const loaded: {
    name: string;
    root: string;
    samples: Awaited<ReturnType<typeof embedSet>>['samples'];
    tables: EmbeddingTable[];
    framing: FramingName;
  }[] = [];
  for (const folder of folders) {
    if (!existsSync(folder)) throw new Error(`${folder} does not exist`);
    const name = path.basename(folder);
    const { root, samples, tables } = await embedSet(models, folder, options.networks, framingOf[name] ?? framing, {
      limit,
      ...(options.progress ? { progress: options.progress(`embedding ${name}`) } : {}),
    });
    loaded.push({ name, root, samples, tables, framing: framingOf[name] ?? framing });
  }
  const tasks = HEAD_TASKS.filter((t) => loaded.some((l) => tasksOf(l.samples).includes(t)));
  return {
    tasks,
    sets: loaded.map((l) => ({
      name: l.name,
      root: l.root,
      framing: l.framing,
      tables: l.tables,
      data: buildDataset(l.samples, l.tables, tasks, flip, l.name),
    })),
  };
}

const ref = (name: string): ModelRef => ({ name, version: '' });

/** A pretrained network's cached prediction as Facets attributes (as the network's decoder gives them). */
export function predictionAttributes(p: NetworkPrediction, name: string): Attributes {
  const model = ref(name);
  const a: Attributes = {};
  if (p.age) {
    const groupProbabilities = Object.fromEntries(AGE_GROUPS.map((g, i) => [g, p.age?.groups[i] ?? 0])) as Record<
      AgeGroup,
      number
    >;
    a.age = { years: p.age.years, group: ageGroupOf(p.age.years), groupProbabilities, model };
  }
  if (p.gender !== undefined) {
    a.gender =
      p.gender >= 0.5
        ? { label: 'male', probability: p.gender, model }
        : { label: 'female', probability: 1 - p.gender, model };
  }
  if (p.ethnicity) a.ethnicity = { ...argmaxLabel(ETHNICITIES, p.ethnicity), model };
  if (p.emotion) a.emotion = { ...argmaxLabel(EMOTIONS, p.emotion), model };
  return a;
}

/** Scores attributes against a dataset's labels for one task, as `facets eval` does. */
export function scoreTask(
  task: HeadTask,
  d: Dataset,
  attrs: readonly (Attributes | undefined)[],
): AttributeScore | undefined {
  const ti = d.tasks.indexOf(task);
  if (ti < 0) return undefined;
  const labels = d.labels[ti] as Int32Array;
  const names = TASK_LABELS[task];
  // Per labelled face with an estimate: true and predicted label (age: group), and for age the years.
  const pairs: { truth: string; predicted: string }[] = [];
  const ages: Parameters<typeof ageMetrics>[0][number][] = [];
  for (let i = 0; i < d.n; i++) {
    const a = attrs[i];
    const predicted = task === 'age' ? a?.age?.group : a?.[task]?.label;
    if ((labels[i] as number) < 0 || predicted === undefined) continue;
    const truth = names[labels[i] as number] as string;
    pairs.push({ truth, predicted });
    if (a?.age && task === 'age') {
      const years = d.years[i] as number;
      ages.push({
        ...(Number.isNaN(years) ? {} : { years }),
        group: truth,
        predictedYears: a.age.years,
        predictedGroup: predicted,
      });
    }
  }
  if (pairs.length === 0) return undefined;
  const c = classMetrics(names, pairs);
  const m = task === 'age' ? ageMetrics(ages) : undefined;
  return {
    accuracy: m ? m.groupAccuracy : c.accuracy,
    ...(m ? { mae: m.mae } : {}),
    worstClassRecall: c.worstClassRecall,
    perClassRecall: c.perClassRecall,
    count: c.count,
  };
}

/** Heads probabilities of a dataset as attributes. */
export function headsDatasetAttributes(
  config: ModelConfig,
  params: Params,
  d: Dataset,
  entry: Pick<HeadsEntry, 'ageGroupYears' | 'unseen'>,
  name = 'heads',
): Attributes[] {
  const probs = predict(config, params, d.x, d.n);
  return Array.from({ length: d.n }, (_, i) =>
    headsAttributes(
      Object.fromEntries(
        config.tasks.map((t, ti) => [t.name, (probs[ti] as Float32Array).subarray(i * t.classes, (i + 1) * t.classes)]),
      ),
      entry,
      ref(name),
    ),
  );
}

/** Labels of a task that never occur in the training data. */
function unseenLabels(train: Dataset): Partial<Record<HeadTask, string[]>> {
  const counts = classCounts(train);
  const out: Partial<Record<HeadTask, string[]>> = {};
  for (const task of train.tasks) {
    const missing = Object.entries(counts[task] ?? {})
      .filter(([, n]) => n === 0)
      .map(([label]) => label);
    if (missing.length) out[task] = missing;
  }
  return out;
}

/** A candidate may serve an attribute only if it can output every label the dev set has. */
function coversDev(score: AttributeScore | undefined, unseen: readonly string[]): boolean {
  if (!score) return false;
  const inDev = Object.keys(score.perClassRecall ?? {});
  return !inDev.some((l) => unseen.includes(l));
}

/** The dev sets as the run-time engine frames them (their own framing; mirror-averaged only if the engine averages). */
function loadDevSets(models: ModelStore, options: Omit<PipelineOptions, 'dir'>) {
  return loadSets(
    models,
    options.devSets,
    options,
    Infinity,
    options.flip === 'none' || options.runtimeFlip === false ? 'none' : 'average',
    options.devFraming ?? options.framing,
  );
}

function logCalibration(calibration: NonNullable<HeadsEntry['calibration']>, log: (line: string) => void): void {
  for (const [task, c] of Object.entries(calibration)) {
    log(
      `calibration ${task}: temperature ${c.temperature}, ECE ${(c.eceBefore * 100).toFixed(1)}% → ` +
        `${(c.eceAfter * 100).toFixed(1)}%, uncertain below ${c.uncertainBelow.toFixed(2)} (${c.count} dev faces)`,
    );
  }
}

export async function runPipeline(models: ModelStore, options: PipelineOptions): Promise<PipelineResult> {
  const timings: Record<string, number> = {};
  const clock = () => performance.now();
  let t0 = clock();
  const trainLoaded = await loadSets(
    models,
    options.trainSets,
    options,
    options.maxPerSet,
    options.flip,
    options.framing,
    options.trainFramings,
  );
  for (const view of options.trainViews ?? []) {
    const more = await loadSets(models, options.trainSets, options, options.maxPerSet, options.flip, view);
    trainLoaded.sets.push(...more.sets.map((s) => ({ ...s, name: `${s.name} (${view})` })));
  }
  const devLoaded = await loadDevSets(models, options);
  timings['embeddings (cached where present)'] = (clock() - t0) / 1000;
  const tasks = trainLoaded.tasks;
  const train = concatDatasets(trainLoaded.sets.map((s) => s.data));
  // Dev data under the training tasks (a dev set's other labels are ignored).
  const devSets = devLoaded.sets.map((s) => ({ ...s, data: reTask(s.data, tasks) }));
  const years = ageGroupYears(train);
  const unseen = unseenLabels(train);
  options.log(
    `training data: ${trainLoaded.sets.map((s) => `${s.name} ${s.data.n}`).join(', ')}; ${train.dim}-d ${options.networks.join('+')} ` +
      `embeddings, framing ${options.framing}, flip ${options.flip}` +
      (Object.keys(unseen).length ? `; labels absent from training: ${JSON.stringify(unseen)}` : ''),
  );

  const weightings = options.compare
    ? [options.train.weighting, options.train.weighting === 'equal' ? 'dynamic' : 'equal']
    : [options.train.weighting];
  const runs = new Map<string, TrainResult>();
  for (const weighting of weightings) {
    t0 = clock();
    const r = trainHeads(train, {
      ...options.train,
      weighting: weighting as TrainOptions['weighting'],
      log: options.log,
    });
    runs.set(weighting, r);
    timings[`heads (${weighting} weights)`] = (clock() - t0) / 1000;
  }

  const rows: ResultRow[] = [];
  // Per task, candidate and dev set: its score. A candidate's figure for a task is its worst dev set's
  // (acrossSets): the choice must hold on every face distribution, not on the one it was tuned on.
  const perSet: Partial<Record<HeadTask, Record<string, Record<string, AttributeScore>>>> = {};
  const rowKeys = new Map<ResultRow, Partial<Record<HeadTask, string>>>();
  const record = (
    row: ResultRow | null,
    candidate: string,
    task: HeadTask,
    set: string,
    score: AttributeScore | undefined,
  ) => {
    if (!score) return;
    ((perSet[task] ??= {})[candidate] ??= {})[set] = score;
    if (row) rowKeys.set(row, { ...rowKeys.get(row), [task]: candidate });
  };
  const devsFor = (task: HeadTask) =>
    devSets.filter((s) => (s.data.labels[s.data.tasks.indexOf(task)] ?? []).some((y) => y >= 0));

  // Pretrained default networks on the same dev faces, same framing.
  t0 = clock();
  const baselineFraming = FRAMINGS[options.devFraming ?? options.framing].detect ? 'detect' : 'crop';
  // Per default network (or each member of a default ensemble), its attributes per dev face.
  const baseline = new Map<string, Attributes[][]>();
  const defaultRow: ResultRow = { candidate: 'pretrained (default networks)', scores: {} };
  for (const task of tasks) {
    const net = defaultNetwork(task);
    if (!net) continue;
    for (const dev of devsFor(task)) {
      const key = `${net}|${dev.name}`;
      if (!baseline.has(key)) {
        // A default such as 'emotion+faceapi-expression' is an ensemble: combined as the engine does.
        const parts: Attributes[][] = [];
        for (const part of net.split('+')) {
          const preds = await networkPredictions(models, part, baselineFraming, dev.root, dev.data.paths, {
            ...(options.progress ? { progress: options.progress(`${part} on ${dev.name}`) } : {}),
          });
          parts.push(preds.map((p) => predictionAttributes(p, part)));
        }
        baseline.set(key, parts);
      }
      record(
        defaultRow,
        `default:${net}`,
        task,
        dev.name,
        scoreTask(task, dev.data, combineParts(task, baseline.get(key) as Attributes[][])),
      );
    }
  }
  rows.push(defaultRow);
  timings['pretrained networks on dev (cached where present)'] = (clock() - t0) / 1000;

  const attrsByRun = new Map<string, Map<string, Attributes[]>>();
  for (const [weighting, r] of runs) {
    const row: ResultRow = { candidate: `heads, ${weighting} weights`, scores: {}, seconds: r.seconds };
    const perDev = new Map<string, Attributes[]>();
    for (const dev of devSets)
      perDev.set(dev.name, headsDatasetAttributes(r.config, r.params, dev.data, { ageGroupYears: years, unseen }));
    attrsByRun.set(weighting, perDev);
    for (const task of tasks) {
      for (const dev of devsFor(task))
        record(
          row,
          `heads:${weighting}`,
          task,
          dev.name,
          scoreTask(task, dev.data, perDev.get(dev.name) as Attributes[]),
        );
    }
    rows.push(row);
  }

  // Which weighting to install: the better mean dev accuracy over the attributes.
  const meanAccuracy = (w: string) => {
    const s = tasks.map((t) => acrossSets(perSet[t]?.[`heads:${w}`])?.accuracy ?? 0);
    return s.reduce((a, b) => a + b, 0) / s.length;
  };
  const installed = [...runs.keys()].sort((a, b) => meanAccuracy(b) - meanAccuracy(a))[0] as string;
  const chosenRun = runs.get(installed) as TrainResult;
  const chosenAttrs = attrsByRun.get(installed) as Map<string, Attributes[]>;

  // Ensembles with the default network, per attribute.
  const ensembleRow: ResultRow = { candidate: `default network + heads (${installed})`, scores: {} };
  for (const task of tasks) {
    const net = defaultNetwork(task);
    if (!net) continue;
    for (const dev of devsFor(task)) {
      const base = baseline.get(`${net}|${dev.name}`) as Attributes[][];
      // As the engine combines an assignment 'a+b+heads': every member with the same weight.
      const mixed = combineParts(task, [...base, chosenAttrs.get(dev.name) as Attributes[]]);
      record(ensembleRow, `${net}+heads`, task, dev.name, scoreTask(task, dev.data, mixed));
    }
  }
  rows.push(ensembleRow);

  // SVM-RBF baseline, one model per task on the samples labelled for it.
  if (options.svm) {
    t0 = clock();
    const row: ResultRow = { candidate: 'SVM-RBF (one-vs-one, SMO)', scores: {} };
    const std = chosenRun.params;
    for (const task of tasks) {
      const devs = devsFor(task);
      if (devs.length === 0) continue;
      const ti = train.tasks.indexOf(task);
      const labelled: number[] = [];
      (train.labels[ti] as Int32Array).forEach((y, i) => y >= 0 && labelled.push(i));
      const chosen = evenlySpaced(labelled, options.svmLimit);
      const n = chosen.length;
      const raw = new Float32Array(n * train.dim);
      chosen.forEach((r, i) => raw.set(train.x.subarray(r * train.dim, (r + 1) * train.dim), i * train.dim));
      const x = standardise(std, raw, n, train.dim);
      const labels = Int32Array.from(chosen, (r) => (train.labels[ti] as Int32Array)[r] as number);
      const gamma = 1 / train.dim;
      const started = clock();
      const K = rbfKernelMatrix(x, n, train.dim, gamma);
      // The same class balancing as the heads (C scaled per class).
      const cw = classWeights(train, options.train.balance)[ti];
      const svm = trainMulticlass(K, x, n, train.dim, labels, {
        ...DEFAULT_SVM,
        C: options.svmC,
        gamma,
        ...(cw ? { classWeights: Array.from(cw) } : {}),
      });
      for (const dev of devs) {
        const devTi = dev.data.tasks.indexOf(task);
        const devIdx: number[] = [];
        (dev.data.labels[devTi] as Int32Array).forEach((y, i) => y >= 0 && devIdx.push(i));
        const devRaw = new Float32Array(devIdx.length * train.dim);
        devIdx.forEach((r, i) => devRaw.set(dev.data.x.subarray(r * train.dim, (r + 1) * train.dim), i * train.dim));
        const K2 = TASK_LABELS[task].length;
        const votes = predictMulticlass(svm, standardise(std, devRaw, devIdx.length, train.dim), devIdx.length, K2);
        const attrs: (Attributes | undefined)[] = new Array(dev.data.n);
        devIdx.forEach((r, i) => {
          const best = argmaxRow(votes, i, K2);
          const onehot = Array.from({ length: K2 }, (_, k) => (k === best ? 1 : 0));
          // Age in years: the predicted group's representative age.
          attrs[r] = headsAttributes({ [task]: onehot }, { ageGroupYears: years, unseen }, ref('svm'));
        });
        record(row, 'svm', task, dev.name, scoreTask(task, dev.data, attrs));
      }
      options.log(
        `SVM ${task}: ${n} samples, ${svm.pairs.length} pairs, ${svm.iterations} SMO iterations, ` +
          `${((clock() - started) / 1000).toFixed(1)} s (kernel, SMO, prediction)`,
      );
    }
    row.seconds = (clock() - t0) / 1000;
    timings['SVM-RBF'] = row.seconds;
    rows.push(row);
  }

  const candidates: Partial<Record<HeadTask, Record<string, AttributeScore>>> = {};
  for (const task of tasks) {
    for (const [candidate, sets] of Object.entries(perSet[task] ?? {})) {
      const score = acrossSets(sets);
      if (score) (candidates[task] ??= {})[candidate] = score;
    }
  }
  for (const [row, keys] of rowKeys) {
    for (const [task, key] of Object.entries(keys) as [HeadTask, string][]) {
      const score = candidates[task]?.[key];
      if (score) row.scores[task] = score;
    }
  }

  // Per attribute: the default network, unless the heads or the ensemble beat it by more than the
  // sampling error of its dev accuracy (one standard error) — and can output every dev label.
  const dev: HeadsEntry['dev'] = {};
  for (const task of tasks) {
    const c = candidates[task];
    const net = defaultNetwork(task);
    const sets = devsFor(task);
    if (!c || sets.length === 0) continue;
    const def = c[`default:${net}`];
    const bar = def
      ? def.accuracy + Math.sqrt((def.accuracy * (1 - def.accuracy)) / Math.max(1, def.count))
      : -Infinity;
    let choice = net ?? 'heads';
    let best = -Infinity;
    for (const [key, name] of [
      [`heads:${installed}`, 'heads'],
      [`${net}+heads`, `${net}+heads`],
    ] as const) {
      const s = c[key];
      const gaps = key.startsWith('heads:') ? (unseen[task] ?? []) : [];
      if (!s || !coversDev(s, gaps) || s.accuracy <= bar) continue;
      if (s.accuracy > best) {
        best = s.accuracy;
        choice = name;
      }
    }
    // Recorded under the names the engine's assignment uses.
    const named: Record<string, AttributeScore> = {};
    for (const [key, score] of Object.entries(c)) named[key === `heads:${installed}` ? 'heads' : key] = score;
    dev[task] = { set: sets.map((d) => d.name).join(','), candidates: named, choice };
  }

  // Temperatures and uncertain thresholds of the chosen heads, on every dev set labelled for a task.
  const calibration = calibrateOnDev(
    chosenRun.config,
    chosenRun.params,
    devSets.map((s) => s.data),
    tasks,
  );
  logCalibration(calibration, options.log);

  const entry: Omit<HeadsEntry, 'file' | 'sha256'> = {
    createdAt: new Date().toISOString(),
    origin: 'dataset',
    seed: options.train.seed,
    embedding: {
      models: options.networks,
      recipe: FRAMINGS[options.framing].runtime,
      ...(runtimeByTask(options.framing, tasks) ?? {}),
      flip: options.runtimeFlip ?? options.flip !== 'none',
      dim: train.dim,
      networks: options.networks.map((n, i) => ({
        name: n,
        sha256: trainLoaded.sets[0]?.tables[i]?.sha256 ?? '',
        dim: trainLoaded.sets[0]?.tables[i]?.dim ?? 0,
      })),
    },
    tasks,
    unseen,
    ageGroupYears: years,
    training: {
      framing: options.framing,
      flip: options.flip,
      weighting: installed,
      ...Object.fromEntries(Object.entries(options.train).filter(([k]) => k !== 'log' && k !== 'anchor')),
      weighting_requested: options.train.weighting,
      finalTaskWeights: Object.fromEntries(
        [...runs].map(([w, r]) => [w, Object.fromEntries(tasks.map((t, i) => [t, r.history.at(-1)?.weights.mean[i]]))]),
      ),
      seconds: Object.fromEntries([...runs].map(([w, r]) => [w, r.seconds])),
    },
    data: {
      train: Object.fromEntries(
        trainLoaded.sets.map((s) => [
          s.name,
          {
            samples: s.data.n,
            labels: classCounts(s.data),
            framing: s.framing,
          },
        ]),
      ),
      dev: Object.fromEntries(devSets.map((s) => [s.name, { samples: s.data.n }])),
    },
    dev,
    ...(Object.keys(calibration).length ? { calibration } : {}),
    ...(options.provenance ? { provenance: options.provenance } : {}),
  };
  const bytes = exportHeadsOnnx(
    chosenRun.config,
    chosenRun.params,
    headsMetadata(entry.embedding, tasks, options.train.seed),
  );
  const result: PipelineResult = { entry, rows, timings, bytesSha256: sha256Hex(bytes) };
  if (options.install) {
    result.installed = installHeads(bytes, entry, options.dir, { replace: options.replace ?? false });
  }
  return result;
}

/** The per-task run-time recipes of a framing, for the tasks trained. */
function runtimeByTask(
  framing: FramingName,
  tasks: readonly HeadTask[],
): Pick<EmbeddingSpec, 'taskRecipes'> | undefined {
  const byTask = (FRAMINGS[framing] as Framing).runtimeByTask;
  if (!byTask) return undefined;
  const taskRecipes = Object.fromEntries(tasks.filter((t) => byTask[t]).map((t) => [t, byTask[t]]));
  return Object.keys(taskRecipes).length ? { taskRecipes } : undefined;
}

/**
 * A candidate's score over several dev sets: its worst set's score (the figure selection maximises),
 * with every set's score and the mean accuracy beside it.
 */
export function acrossSets(sets: Record<string, AttributeScore> | undefined): AttributeScore | undefined {
  const entries = Object.entries(sets ?? {});
  if (entries.length === 0) return undefined;
  const [worstSet, worst] = entries.reduce((a, b) => (b[1].accuracy < a[1].accuracy ? b : a));
  if (entries.length === 1) return worst;
  const mean = entries.reduce((sum, [, s]) => sum + s.accuracy, 0) / entries.length;
  return { ...worst, worstSet, mean, perSet: Object.fromEntries(entries) };
}

/** The pretrained network serving a task by default (none for the seven classes: only heads estimate them). */
function defaultNetwork(task: HeadTask): string | null {
  return task === 'ethnicity7' ? null : DEFAULT_ASSIGNMENT[task];
}

/** Per face, the members' estimates combined as the engine combines an ensemble assignment. */
function combineParts(task: HeadTask, parts: readonly Attributes[][]): Attributes[] {
  const first = parts[0] ?? [];
  if (parts.length === 1 || task === 'ethnicity7') return [...first];
  return first.map((_, i) =>
    combineEstimates(
      task,
      parts.map((p) => p[i] ?? {}),
    ),
  );
}

/**
 * Re-fits the calibration of the heads installed in `dir` on the options' dev sets (embeddings from the
 * cache where present) and records it in their manifest entry; the ONNX file is untouched.
 */
export async function recalibrate(
  models: ModelStore,
  options: Omit<PipelineOptions, 'log' | 'dir'> & { log: (line: string) => void },
  dir: string,
): Promise<NonNullable<HeadsEntry['calibration']>> {
  const { entry, bytes } = activeHeadsBytes(dir);
  const { config, params } = readHeadsParams(bytes);
  const dev = await loadDevSets(models, options);
  const calibration = calibrateOnDev(
    config,
    params,
    dev.sets.map((s) => reTask(s.data, entry.tasks)),
    entry.tasks,
  );
  const manifest = readHeadsManifest(dir);
  if (manifest?.active?.sha256 === entry.sha256) {
    manifest.active = { ...manifest.active, calibration };
    writeFileSync(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  }
  logCalibration(calibration, options.log);
  return calibration;
}
