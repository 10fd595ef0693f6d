/**
 * Learning from the user's corrections: fine-tune the installed heads on the faces the user corrected,
 * offline, keeping what the base training taught them (an L2 pull toward the base weights — which needs
 * no training data on the user's machine — and, where the base embeddings are at hand, replayed base
 * samples), and measure before/after on corrections held out from that fine-tune.
 */
import { HEAD_TASKS, type HeadTask, TASK_LABELS } from '../engine/attributes/heads.js';
import { classMetrics } from '../eval/metrics.js';
import { type Dataset, concatDatasets, subsetDataset } from './data.js';
import { type ModelConfig, type Params, cloneParams, predict } from './model.js';
import { Rng } from './rng.js';
import { DEFAULT_TRAIN, type TrainOptions, trainHeads } from './train.js';

/** One corrected attribute of one face. The library's attribute 'ageGroup' is accepted for 'age'. */
export interface Correction {
  embedding: Float32Array;
  attribute: HeadTask | 'ageGroup';
  value: string;
  /** Corrections of the same face stay on the same side of the held-out split. */
  faceId?: number | string;
}

export interface FineTuneOptions {
  /** Fraction of corrected faces held out to measure before/after. */
  holdout: number;
  seed: number;
  /** Optimiser steps (mini-batches) in all: a few hundred corrections still get a real fine-tune. */
  steps: number;
  lr: number;
  batch: number;
  /** Strength of the L2 pull toward the base weights. */
  anchor: number;
  /** Base training samples (embeddings + labels) to mix in, `replayRatio` per correction. */
  replay?: Dataset;
  replayRatio: number;
  /** Refuse below this many corrections (see models/README.md for the learning curve behind it). */
  minCorrections: number;
}

export const DEFAULT_FINE_TUNE: FineTuneOptions = {
  holdout: 0.25,
  seed: 1,
  steps: 400,
  lr: 3e-3,
  batch: 32,
  anchor: 1e-2,
  replayRatio: 4,
  minCorrections: 50,
};

export interface HeadsModel {
  config: ModelConfig;
  params: Params;
}

/** Accuracy on corrections, per attribute and overall (each correction counts once). */
export interface CorrectionScore {
  accuracy: number;
  count: number;
  perAttribute: Partial<Record<HeadTask, { accuracy: number; count: number }>>;
}

export interface FineTuneResult {
  heads: HeadsModel;
  before: CorrectionScore;
  after: CorrectionScore;
  /** Corrected faces fine-tuned on, and held out. */
  trained: number;
  heldOut: number;
  /** Per attribute, the labels the fine-tune corrections contain (the caller compares with the base's unseen ones). */
  learned: Partial<Record<HeadTask, string[]>>;
  seconds: number;
}

function taskOf(attribute: Correction['attribute']): HeadTask {
  return attribute === 'ageGroup' ? 'age' : attribute;
}

/**
 * Corrections as a dataset: one sample per face and embedding (a face's emotion may be embedded with a
 * different framing from its other attributes), labelled for the attributes corrected on it. `groups`
 * gives each sample's face, so a split never separates one face's samples.
 */
export function correctionsDataset(corrections: readonly Correction[], tasks: readonly HeadTask[]): Dataset & { groups: unknown[] } {
  const samples = new Map<unknown, Map<Float32Array, Map<HeadTask, number>>>();
  for (const c of corrections) {
    const task = taskOf(c.attribute);
    const label = TASK_LABELS[task].indexOf(c.value);
    if (!tasks.includes(task) || label < 0) continue;
    const face = c.faceId ?? c.embedding;
    const byEmbedding = samples.get(face) ?? new Map<Float32Array, Map<HeadTask, number>>();
    const labels = byEmbedding.get(c.embedding) ?? new Map<HeadTask, number>();
    labels.set(task, label);
    byEmbedding.set(c.embedding, labels);
    samples.set(face, byEmbedding);
  }
  const list = [...samples].flatMap(([face, byEmbedding]) =>
    [...byEmbedding].map(([embedding, labels]) => ({ face, embedding, labels })),
  );
  const dim = list[0]?.embedding.length ?? 0;
  const x = new Float32Array(list.length * dim);
  list.forEach((f, i) => x.set(f.embedding, i * dim));
  return {
    x,
    dim,
    n: list.length,
    tasks: [...tasks],
    labels: tasks.map((t) => Int32Array.from(list, (f) => f.labels.get(t) ?? -1)),
    years: new Float64Array(list.length).fill(NaN),
    source: list.map(() => 'corrections'),
    paths: list.map(() => ''),
    groups: list.map((f) => f.face),
  };
}

/** How well heads agree with corrections. */
export function scoreOnCorrections(heads: HeadsModel, d: Dataset): CorrectionScore {
  const probs = predict(heads.config, heads.params, d.x, d.n);
  const perAttribute: CorrectionScore['perAttribute'] = {};
  let correct = 0;
  let count = 0;
  heads.config.tasks.forEach((t, ti) => {
    const task = t.name as HeadTask;
    const di = d.tasks.indexOf(task);
    if (di < 0) return;
    const labels = d.labels[di] as Int32Array;
    const pairs: { truth: string; predicted: string }[] = [];
    const p = probs[ti] as Float32Array;
    for (let i = 0; i < d.n; i++) {
      const y = labels[i] as number;
      if (y < 0) continue;
      let best = 0;
      for (let k = 1; k < t.classes; k++)
        if ((p[i * t.classes + k] as number) > (p[i * t.classes + best] as number)) best = k;
      pairs.push({ truth: TASK_LABELS[task][y] as string, predicted: TASK_LABELS[task][best] as string });
    }
    if (!pairs.length) return;
    const m = classMetrics(TASK_LABELS[task], pairs);
    perAttribute[task] = { accuracy: m.accuracy, count: m.count };
    correct += m.accuracy * m.count;
    count += m.count;
  });
  return { accuracy: count ? correct / count : NaN, count, perAttribute };
}

/**
 * Fine-tunes `base` on the user's corrections. The corrected faces are split (by face, seeded) into a
 * fine-tune part and a held-out part (`holdout`); `before` and `after` are the base and the fine-tuned
 * heads' accuracy on the held-out corrections. Equal task weights: on a few hundred corrections, some
 * attributes never corrected, the dynamic weights would have little to go on.
 */
export function fineTuneOnCorrections(
  base: HeadsModel,
  corrections: readonly Correction[],
  options: Partial<FineTuneOptions> = {},
): FineTuneResult {
  const opts = { ...DEFAULT_FINE_TUNE, ...options };
  const started = performance.now();
  const tasks = base.config.tasks.map((t) => t.name as HeadTask).filter((t) => HEAD_TASKS.includes(t));
  const all = correctionsDataset(corrections, tasks);
  if (corrections.length < opts.minCorrections) {
    throw new Error(`${corrections.length} corrections; fine-tuning needs at least ${opts.minCorrections}`);
  }
  if (all.dim !== base.config.inputDim) {
    throw new Error(`corrections have ${all.dim}-d embeddings, the heads take ${base.config.inputDim}-d`);
  }
  const rng = new Rng(opts.seed);
  // Split by face: a face's corrections all land on one side.
  const faces = rng.shuffle([...new Set(all.groups)]);
  const heldFaces = new Set(faces.slice(0, Math.max(1, Math.round(faces.length * opts.holdout))));
  const indices = Array.from({ length: all.n }, (_, i) => i);
  const heldOut = subsetDataset(all, indices.filter((i) => heldFaces.has(all.groups[i])));
  const tune = subsetDataset(all, indices.filter((i) => !heldFaces.has(all.groups[i])));
  const heads = fineTuneHeads(base, tune, opts, rng);
  const learned: FineTuneResult['learned'] = {};
  tasks.forEach((task, ti) => {
    const seen = new Set([...(tune.labels[ti] as Int32Array)].filter((y) => y >= 0));
    const labels = [...seen].map((y) => TASK_LABELS[task][y] as string);
    if (labels.length) learned[task] = labels;
  });
  return {
    heads,
    before: scoreOnCorrections(base, heldOut),
    after: scoreOnCorrections(heads, heldOut),
    trained: faces.length - heldFaces.size,
    heldOut: heldFaces.size,
    learned,
    seconds: (performance.now() - started) / 1000,
  };
}

/** The fine-tune itself: `tune` (plus replayed base samples), starting from and pulled toward `base`. */
export function fineTuneHeads(
  base: HeadsModel,
  tune: Dataset,
  options: Partial<FineTuneOptions> = {},
  rng: Rng = new Rng(options.seed ?? DEFAULT_FINE_TUNE.seed),
): HeadsModel {
  const opts = { ...DEFAULT_FINE_TUNE, ...options };
  let train = tune;
  if (opts.replay && opts.replayRatio > 0) {
    const replay = reTask(opts.replay, tune.tasks);
    const k = Math.min(replay.n, Math.round(tune.n * opts.replayRatio));
    const picks = rng.shuffle(Array.from({ length: replay.n }, (_, i) => i)).slice(0, k);
    train = concatDatasets([tune, subsetDataset(replay, picks)]);
  }
  const trainOptions: TrainOptions = {
    ...DEFAULT_TRAIN,
    epochs: Math.max(1, Math.ceil(opts.steps / Math.ceil(train.n / opts.batch))),
    lr: opts.lr,
    batch: opts.batch,
    weighting: 'equal',
    flipAugment: false,
    balance: 0,
    seed: opts.seed,
    anchor: { params: cloneParams(base.params), strength: opts.anchor },
  };
  return { config: base.config, params: trainHeads(train, trainOptions, base.params).params };
}

function reTask(d: Dataset, tasks: readonly HeadTask[]): Dataset {
  return {
    ...d,
    tasks: [...tasks],
    labels: tasks.map((t) => {
      const i = d.tasks.indexOf(t);
      return i >= 0 ? (d.labels[i] as Int32Array) : new Int32Array(d.n).fill(-1);
    }),
  };
}
