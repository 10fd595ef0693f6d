/**
 * Learning from the user's corrections: fine-tune the installed heads on the faces the user corrected,
 * offline, while keeping what the base training taught them.
 *
 * Corrections are a biased sample: they exist only where Facets was wrong. Trained on them alone the
 * heads learn to avoid their own right answers (measured: −10 to −17 points on the user's other faces,
 * models/README.md). So the fine-tune also sees
 * - confirmations: on a corrected face, the attributes the user left standing (Correction.confirmed);
 * - anchor faces: a sample of the user's uncorrected faces, labelled with the base heads' own
 *   predictions, so behaviour on the user's faces changes only where the corrections say so;
 * - an L2 pull toward the base weights (no training data needed on the user's machine), and, where
 *   the base embeddings are at hand, replayed base samples;
 * and only the per-attribute branches learn (the shared layer is frozen), so each attribute's
 * fine-tune is kept or dropped on its own: kept where it does better on held-out faces.
 */
import { HEAD_TASKS, type HeadTask, TASK_LABELS } from '../engine/attributes/heads.js';
import { classMetrics } from './metrics.js';
import { type Dataset, concatDatasets, reTask, subsetDataset } from './data.js';
import { type ModelConfig, type Params, SOFT, argmaxRow, cloneParams, predict } from './model.js';
import { Rng } from './rng.js';
import { DEFAULT_TRAIN, type TrainOptions, trainHeads } from './train.js';

/** One corrected attribute of one face. The library's attribute 'ageGroup' is accepted for 'age'. */
export interface Correction {
  embedding: Float32Array;
  attribute: HeadTask | 'ageGroup';
  value: string;
  /** Corrections of the same face stay on the same side of the held-out split. */
  faceId?: number | string;
  /**
   * Not a correction but a confirmation: the value Facets showed for another attribute of a face the
   * user corrected, left standing.
   */
  confirmed?: boolean;
}

/** An uncorrected face of the user's library (its heads input), for the tasks whose embedding it is. */
export interface AnchorFace {
  embedding: Float32Array;
  faceId?: number | string;
  /** Default: every task of the heads. */
  tasks?: HeadTask[];
}

export interface FineTuneOptions {
  /** Fraction of faces (corrected and anchors) held out to measure before/after. */
  holdout: number;
  seed: number;
  /** Optimiser steps (mini-batches) in all. */
  steps: number;
  /**
   * SGD with momentum by default: its steps follow the size of the evidence. Adam's first steps move
   * every weight by about the learning rate whatever its gradient — fine from scratch, but in a
   * fine-tune it changes predictions nobody corrected.
   */
  optimizer: 'sgd' | 'adam';
  lr: number;
  batch: number;
  /** Strength of the L2 pull toward the base weights. */
  anchor: number;
  /** The user's uncorrected faces; up to `anchorRatio` per corrected face are used. */
  anchors?: AnchorFace[];
  anchorRatio: number;
  /** Faces in the library (weights the held-out estimate); default: corrected + anchor faces. */
  libraryFaces?: number;
  /** Base training samples (embeddings + labels) to mix in, `replayRatio` per corrected face. */
  replay?: Dataset;
  replayRatio: number;
  /** Refuse below this many corrections (see models/README.md for the learning curve behind it). */
  minCorrections: number;
  /** Use confirmations (see Correction.confirmed). */
  confirmations: boolean;
  /** 'estimate' (default): keep a branch only where the held-out estimate rises; 'all': keep every branch. */
  accept: 'estimate' | 'all';
}

export const DEFAULT_FINE_TUNE: FineTuneOptions = {
  holdout: 0.25,
  seed: 1,
  steps: 300,
  optimizer: 'sgd',
  lr: 0.05,
  batch: 32,
  anchor: 1e-2,
  anchorRatio: 4,
  replayRatio: 4,
  minCorrections: 200,
  confirmations: true,
  accept: 'estimate',
};

/** Held-out labels an attribute needs before its fine-tune can be judged (and kept). */
const MIN_HELD_OUT = 10;

export interface HeadsModel {
  config: ModelConfig;
  params: Params;
}

/** Accuracy against labels, per attribute and overall (each label counts once). */
export interface CorrectionScore {
  accuracy: number;
  count: number;
  perAttribute: Partial<Record<HeadTask, { accuracy: number; count: number }>>;
}

export interface FineTuneResult {
  heads: HeadsModel;
  /** Held-out corrections only: base heads vs the result. */
  before: CorrectionScore;
  after: CorrectionScore;
  /** Held-out corrected faces, every label (corrections and confirmations). */
  beforeFaces: CorrectionScore;
  afterFaces: CorrectionScore;
  /** Held-out anchor faces: share of the base's predictions the result keeps. */
  agreement: CorrectionScore | null;
  /**
   * Per attribute, the held-out estimate of accuracy over the library, taking uncorrected faces'
   * shown values as right (so every change there counts against): before → after.
   */
  estimate: Partial<Record<HeadTask, { before: number; candidate: number; after: number }>>;
  /** Per attribute: the fine-tuned branch kept (its estimate rose) or the base's. */
  accepted: Partial<Record<HeadTask, boolean>>;
  /** Corrected faces fine-tuned on, and held out; anchor faces used. */
  trained: number;
  heldOut: number;
  anchors: number;
  /** Per attribute kept, the labels its fine-tune data contain (the caller compares with the base's unseen ones). */
  learned: Partial<Record<HeadTask, string[]>>;
  seconds: number;
}

function taskOf(attribute: Correction['attribute']): HeadTask {
  return attribute === 'ageGroup' ? 'age' : attribute;
}

type Grouped = Dataset & { groups: unknown[]; explicit: Int32Array[] };

/**
 * Corrections as a dataset: one sample per face and embedding (a face's emotion may be embedded with a
 * different framing from its other attributes), labelled for the attributes corrected (or confirmed)
 * on it. `explicit` has only the corrections' labels; `groups` gives each sample's face, so a split
 * never separates one face's samples.
 */
export function correctionsDataset(corrections: readonly Correction[], tasks: readonly HeadTask[]): Grouped {
  type Entry = { face: unknown; embedding: Float32Array; labels: Map<HeadTask, { label: number; explicit: boolean }> };
  const samples = new Map<unknown, Map<Float32Array, Entry>>();
  for (const c of corrections) {
    const task = taskOf(c.attribute);
    const label = TASK_LABELS[task].indexOf(c.value);
    if (!tasks.includes(task) || label < 0) continue;
    const face = c.faceId ?? c.embedding;
    const byEmbedding = samples.get(face) ?? new Map<Float32Array, Entry>();
    const entry = byEmbedding.get(c.embedding) ?? { face, embedding: c.embedding, labels: new Map() };
    entry.labels.set(task, { label, explicit: !c.confirmed });
    byEmbedding.set(c.embedding, entry);
    samples.set(face, byEmbedding);
  }
  const list = [...samples.values()].flatMap((byEmbedding) => [...byEmbedding.values()]);
  return fromRows(list, tasks);
}

function fromRows(
  rows: readonly {
    face: unknown;
    embedding: Float32Array;
    labels: Map<HeadTask, { label: number; explicit: boolean }>;
  }[],
  tasks: readonly HeadTask[],
): Grouped {
  const dim = rows[0]?.embedding.length ?? 0;
  const x = new Float32Array(rows.length * dim);
  rows.forEach((f, i) => x.set(f.embedding, i * dim));
  return {
    x,
    dim,
    n: rows.length,
    tasks: [...tasks],
    labels: tasks.map((t) => Int32Array.from(rows, (f) => f.labels.get(t)?.label ?? -1)),
    explicit: tasks.map((t) =>
      Int32Array.from(rows, (f) => (f.labels.get(t)?.explicit ? (f.labels.get(t)?.label ?? -1) : -1)),
    ),
    years: new Float64Array(rows.length).fill(NaN),
    source: rows.map(() => 'corrections'),
    paths: rows.map(() => ''),
    groups: rows.map((f) => f.face),
  };
}

/**
 * Anchor faces with the base heads' own predictions: as soft targets for training (distillation: the
 * base itself is the optimum, so nothing moves unless the corrections pull), and as argmax labels in
 * `explicit` for measuring agreement.
 */
function anchorDataset(base: HeadsModel, anchors: readonly AnchorFace[], tasks: readonly HeadTask[]): Grouped {
  const dim = base.config.inputDim;
  const n = anchors.length;
  const x = new Float32Array(n * dim);
  anchors.forEach((a, i) => x.set(a.embedding, i * dim));
  const probs = predict(base.config, base.params, x, n);
  const labels: Int32Array[] = [];
  const argmax: Int32Array[] = [];
  const soft: (Float32Array | undefined)[] = [];
  for (const task of tasks) {
    const ti = base.config.tasks.findIndex((t) => t.name === task);
    const K = TASK_LABELS[task].length;
    const p = probs[ti] as Float32Array;
    const uses = (i: number) => ti >= 0 && (!anchors[i]?.tasks || (anchors[i]?.tasks as HeadTask[]).includes(task));
    labels.push(Int32Array.from({ length: n }, (_, i) => (uses(i) ? SOFT : -1)));
    argmax.push(Int32Array.from({ length: n }, (_, i) => (uses(i) ? argmaxRow(p, i, K) : -1)));
    soft.push(ti >= 0 ? p : undefined);
  }
  return {
    x,
    dim,
    n,
    tasks: [...tasks],
    labels,
    soft,
    explicit: argmax,
    years: new Float64Array(n).fill(NaN),
    source: anchors.map(() => 'anchor'),
    paths: anchors.map(() => ''),
    groups: anchors.map((a) => a.faceId ?? a.embedding),
  };
}

/** How well heads agree with labels. */
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
      const best = argmaxRow(p, i, t.classes);
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

/** Splits a grouped dataset by face into (held out, rest). */
function splitByFace(
  d: Grouped,
  holdout: number,
  rng: Rng,
): { held: Grouped; rest: Grouped; heldFaces: number; faces: number } {
  const faces = rng.shuffle([...new Set(d.groups)]);
  const heldFaces = new Set(faces.slice(0, Math.round(faces.length * holdout)));
  const indices = Array.from({ length: d.n }, (_, i) => i);
  const pick = (keep: (i: number) => boolean): Grouped => {
    const idx = indices.filter(keep);
    return {
      ...subsetDataset(d, idx),
      groups: idx.map((i) => d.groups[i]),
      explicit: d.explicit.map((l) => Int32Array.from(idx, (i) => l[i] as number)),
    };
  };
  return {
    held: pick((i) => heldFaces.has(d.groups[i])),
    rest: pick((i) => !heldFaces.has(d.groups[i])),
    heldFaces: heldFaces.size,
    faces: faces.length,
  };
}

/**
 * Fine-tunes `base` on the user's corrections. Corrected faces and anchor faces are each split (by
 * face, seeded) into a fine-tune part and a held-out part (`holdout`). An attribute keeps its
 * fine-tuned branch only if the held-out estimate of library accuracy rises; `before`/`after` are the
 * base's and the result's accuracy on the held-out corrections.
 */
export function fineTuneOnCorrections(
  base: HeadsModel,
  corrections: readonly Correction[],
  options: Partial<FineTuneOptions> = {},
): FineTuneResult {
  const opts = { ...DEFAULT_FINE_TUNE, ...options };
  const started = performance.now();
  const tasks = base.config.tasks.map((t) => t.name as HeadTask).filter((t) => HEAD_TASKS.includes(t));
  const usable = opts.confirmations ? corrections : corrections.filter((c) => !c.confirmed);
  const explicitCount = usable.filter((c) => !c.confirmed).length;
  if (explicitCount < opts.minCorrections) {
    throw new Error(`${explicitCount} corrections; fine-tuning needs at least ${opts.minCorrections}`);
  }
  const corrected = correctionsDataset(usable, tasks);
  if (corrected.dim !== base.config.inputDim) {
    throw new Error(`corrections have ${corrected.dim}-d embeddings, the heads take ${base.config.inputDim}-d`);
  }
  const rng = new Rng(opts.seed);
  const c = splitByFace(corrected, opts.holdout, rng);
  const correctedFaces = c.faces;
  const pickedAnchors = rng.shuffle([...(opts.anchors ?? [])]).slice(0, Math.round(correctedFaces * opts.anchorRatio));
  const a = pickedAnchors.length
    ? splitByFace(anchorDataset(base, pickedAnchors, tasks), opts.holdout, rng)
    : undefined;
  const anchorFaces = a?.faces ?? 0;

  let tune: Dataset = a ? concatDatasets([c.rest, a.rest]) : c.rest;
  if (opts.replay && opts.replayRatio > 0) {
    const replay = reTask(opts.replay, tasks);
    const k = Math.min(replay.n, Math.round((c.faces - c.heldFaces) * opts.replayRatio));
    const picks = rng.shuffle(Array.from({ length: replay.n }, (_, i) => i)).slice(0, k);
    tune = concatDatasets([tune, subsetDataset(replay, picks)]);
  }
  const tuned = fineTuneHeads(base, tune, opts);

  const heldCorrections: Dataset = { ...c.held, labels: c.held.explicit };
  const scores = (h: HeadsModel) => ({
    faces: scoreOnCorrections(h, c.held),
    anchors: a && a.held.n ? scoreOnCorrections(h, { ...a.held, labels: a.held.explicit }) : null,
  });
  const beforeScores = scores(base);
  const tunedScores = scores(tuned);
  // Library estimate: corrected faces at their held-out accuracy, the other faces at their agreement
  // with what Facets showed (taken as right: the user left them).
  const library = opts.libraryFaces ?? correctedFaces + anchorFaces;
  const share = library > 0 ? Math.min(1, correctedFaces / library) : 1;
  const estimateOf = (s: ReturnType<typeof scores>, task: HeadTask) => {
    const f = s.faces.perAttribute[task]?.accuracy;
    const g = s.anchors?.perAttribute[task]?.accuracy;
    if (f === undefined) return undefined;
    return g === undefined ? f : share * f + (1 - share) * g;
  };
  const accepted: FineTuneResult['accepted'] = {};
  const estimate: FineTuneResult['estimate'] = {};
  const params = cloneParams(base.params);
  tasks.forEach((task) => {
    const ti = base.config.tasks.findIndex((t) => t.name === task);
    const before = estimateOf(beforeScores, task);
    const after = estimateOf(tunedScores, task);
    const held =
      (beforeScores.faces.perAttribute[task]?.count ?? 0) + (beforeScores.anchors?.perAttribute[task]?.count ?? 0);
    const keep =
      opts.accept === 'all' || (before !== undefined && after !== undefined && after > before && held >= MIN_HELD_OUT);
    accepted[task] = keep;
    if (before !== undefined && after !== undefined)
      estimate[task] = { before, candidate: after, after: keep ? after : before };
    if (keep) {
      params.W[ti] = (tuned.params.W[ti] as Float32Array).slice();
      params.b[ti] = (tuned.params.b[ti] as Float32Array).slice();
    }
  });
  const heads: HeadsModel = { config: base.config, params };
  const learned: FineTuneResult['learned'] = {};
  tasks.forEach((task, ti) => {
    if (!accepted[task]) return;
    const seen = new Set([...(c.rest.labels[ti] as Int32Array)].filter((y) => y >= 0));
    const labels = [...seen].map((y) => TASK_LABELS[task][y] as string);
    if (labels.length) learned[task] = labels;
  });
  return {
    heads,
    before: scoreOnCorrections(base, heldCorrections),
    after: scoreOnCorrections(heads, heldCorrections),
    beforeFaces: beforeScores.faces,
    afterFaces: scoreOnCorrections(heads, c.held),
    agreement: a && a.held.n ? scoreOnCorrections(heads, { ...a.held, labels: a.held.explicit }) : null,
    estimate,
    accepted,
    trained: c.faces - c.heldFaces,
    heldOut: c.heldFaces,
    anchors: anchorFaces,
    learned,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * The fine-tune itself: the branches (the shared layer frozen) learn from `tune`, starting from and
 * pulled toward `base`; equal task weights (a few hundred corrections give the dynamic weights little
 * to go on), no class balancing, no dropout, no weight decay (the pull replaces it).
 */
export function fineTuneHeads(base: HeadsModel, tune: Dataset, options: Partial<FineTuneOptions> = {}): HeadsModel {
  const opts = { ...DEFAULT_FINE_TUNE, ...options };
  const trainOptions: TrainOptions = {
    ...DEFAULT_TRAIN,
    epochs: Math.max(1, Math.ceil(opts.steps / Math.ceil(tune.n / opts.batch))),
    lr: opts.lr,
    optimizer: opts.optimizer,
    batch: opts.batch,
    weighting: 'equal',
    flipAugment: false,
    balance: 0,
    weightDecay: 0,
    dropout: 0,
    seed: opts.seed,
    anchor: { params: cloneParams(base.params), strength: opts.anchor },
    freezeShared: true,
  };
  return { config: base.config, params: trainHeads(tune, trainOptions, base.params).params };
}
