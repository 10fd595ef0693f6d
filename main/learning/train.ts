/**
 * Training and evaluating heads: mini-batch Adam (or SGD with momentum) over shuffled batches of the
 * union of the training sets, cosine learning-rate decay, optional flip augmentation, class-balanced
 * loss, and equal or dynamic task weighting (main/learning/model.ts).
 */
import { TASK_LABELS } from '../engine/attributes/heads.js';
import type { Dataset } from './data.js';
import {
  Adam,
  type ModelConfig,
  type Params,
  Sgd,
  type Weighting,
  cloneParams,
  computeGradients,
  initParams,
  trainable,
  weightUnit,
} from './model.js';
import { Rng } from './rng.js';

export interface TrainOptions {
  hidden: number;
  epochs: number;
  batch: number;
  lr: number;
  optimizer: 'adam' | 'sgd';
  weighting: Weighting;
  /** Learning rate of the dynamic-weight unit. */
  weightLr: number;
  dropout: number;
  weightDecay: number;
  /** Class balancing exponent: class weight ∝ count^−balance (0 = none, 1 = inverse frequency). */
  balance: number;
  /** Train on mirrored embeddings too (each epoch picks plain or mirrored per sample at random). */
  flipAugment: boolean;
  seed: number;
  /** Fine-tuning: L2 pull toward these parameters. */
  anchor?: { params: Params; strength: number };
  /** Fine-tuning: keep the shared hidden layer as it is (only the branches learn). */
  freezeShared?: boolean;
  log?: (line: string) => void;
}

export const DEFAULT_TRAIN: TrainOptions = {
  hidden: 128,
  epochs: 30,
  batch: 128,
  lr: 1e-3,
  optimizer: 'adam',
  weighting: 'dynamic',
  weightLr: 1e-2,
  dropout: 0.3,
  weightDecay: 1e-4,
  balance: 1,
  flipAugment: true,
  seed: 1,
};

export interface EpochRecord {
  epoch: number;
  losses: number[];
  /** Mean, min and max over the epoch's batches of the batch-mean task weights w̄. */
  weights: { mean: number[]; min: number[]; max: number[] };
}

export interface TrainResult {
  config: ModelConfig;
  params: Params;
  history: EpochRecord[];
  seconds: number;
}

/** Per-dimension mean and 1/std of the inputs (the heads' fixed standardisation). */
export function standardisation(d: Dataset): { mean: Float32Array; invStd: Float32Array } {
  const mean = new Float64Array(d.dim);
  const sq = new Float64Array(d.dim);
  for (let i = 0; i < d.n; i++) {
    for (let k = 0; k < d.dim; k++) {
      const v = d.x[i * d.dim + k] as number;
      mean[k] = (mean[k] as number) + v;
      sq[k] = (sq[k] as number) + v * v;
    }
  }
  const invStd = new Float32Array(d.dim);
  const m32 = new Float32Array(d.dim);
  for (let k = 0; k < d.dim; k++) {
    const m = (mean[k] as number) / d.n;
    const variance = Math.max(0, (sq[k] as number) / d.n - m * m);
    m32[k] = m;
    invStd[k] = 1 / Math.sqrt(variance + 1e-8);
  }
  return { mean: m32, invStd };
}

export function classWeights(d: Dataset, balance: number): (Float32Array | undefined)[] {
  if (balance === 0) return d.tasks.map(() => undefined);
  return d.tasks.map((task, ti) => {
    const K = TASK_LABELS[task].length;
    const counts = new Float64Array(K);
    for (const y of d.labels[ti] as Int32Array) if (y >= 0) counts[y] = (counts[y] as number) + 1;
    const present = [...counts].filter((c) => c > 0);
    if (present.length === 0) return undefined;
    const raw = Array.from(counts, (c) => (c > 0 ? c ** -balance : 0));
    // Normalised so the average weight per sample is 1.
    const total = present.reduce((s, c) => s + c, 0);
    const mean = Array.from(counts).reduce((s, c, k) => s + c * (raw[k] as number), 0) / total;
    return Float32Array.from(raw, (r) => r / mean);
  });
}

/**
 * Per task, the (class-weighted) loss of always predicting the (class-weighted) training priors: the
 * entropy of those priors. 'dynamic' weighting measures difficulty relative to it.
 */
export function chanceLosses(d: Dataset, cw: readonly (Float32Array | undefined)[]): number[] {
  return d.tasks.map((task, ti) => {
    const K = TASK_LABELS[task].length;
    const mass = new Float64Array(K);
    for (const y of d.labels[ti] as Int32Array) if (y >= 0) mass[y] = (mass[y] as number) + (cw[ti]?.[y] ?? 1);
    const total = mass.reduce((a, b) => a + b, 0);
    let h = 0;
    for (const m of mass) if (m > 0) h -= (m / total) * Math.log(m / total);
    return h > 0 ? h : 1;
  });
}

export function trainHeads(train: Dataset, opts: TrainOptions, init?: Params): TrainResult {
  const started = performance.now();
  const rng = new Rng(opts.seed);
  const config: ModelConfig = {
    inputDim: train.dim,
    hidden: init ? init.b1.length : opts.hidden,
    tasks: train.tasks.map((t) => ({ name: t, classes: TASK_LABELS[t].length })),
  };
  const { mean, invStd } = standardisation(train);
  const params = init ? cloneParams(init) : initParams(config, rng, mean, invStd);
  // The arrays the optimiser moves (fine-tuning with freezeShared: the branches only), in one order.
  const learnable = (p: Params) => (opts.freezeShared ? [...p.W, ...p.b] : trainable(p));
  const main = learnable(params);
  const unit = weightUnit(params);
  const optimiser = opts.optimizer === 'adam' ? new Adam(main, opts.lr) : new Sgd(main, opts.lr);
  const unitOptimiser = new Adam(unit, opts.weightLr);
  const cw = classWeights(train, opts.balance);
  const chanceLoss = chanceLosses(train, cw);
  const T = config.tasks.length;
  const runningLoss = new Array<number>(T).fill(NaN);
  const history: EpochRecord[] = [];
  const order = Array.from({ length: train.n }, (_, i) => i);
  const stepsPerEpoch = Math.ceil(train.n / opts.batch);
  const totalSteps = stepsPerEpoch * opts.epochs;
  let step = 0;
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    rng.shuffle(order);
    const lossSum = new Array<number>(T).fill(0);
    const lossCount = new Array<number>(T).fill(0);
    const wSum = new Array<number>(T).fill(0);
    const wMin = new Array<number>(T).fill(Infinity);
    const wMax = new Array<number>(T).fill(-Infinity);
    let batches = 0;
    for (let start = 0; start < train.n; start += opts.batch) {
      const idx = order.slice(start, start + opts.batch);
      const B = idx.length;
      const x = new Float32Array(B * train.dim);
      idx.forEach((r, i) => {
        const source = opts.flipAugment && train.mirrored && rng.next() < 0.5 ? train.mirrored : train.x;
        x.set(source.subarray(r * train.dim, (r + 1) * train.dim), i * train.dim);
      });
      const labels = train.labels.map((l) => Int32Array.from(idx, (r) => l[r] as number));
      const soft = train.soft?.map((s, ti) => {
        if (!s) return undefined;
        const K = config.tasks[ti]?.classes ?? 0;
        const out = new Float32Array(B * K);
        idx.forEach((r, i) => out.set(s.subarray(r * K, (r + 1) * K), i * K));
        return out;
      });
      const { grads, result } = computeGradients(
        config,
        params,
        { x, size: B, labels, ...(soft ? { soft } : {}) },
        {
          weighting: opts.weighting,
          classWeights: cw,
          chanceLoss,
          dropout: opts.dropout,
          weightDecay: opts.weightDecay,
          ...(opts.anchor ? { anchor: opts.anchor } : {}),
        },
        runningLoss,
        rng,
      );
      const lr = opts.lr * 0.5 * (1 + Math.cos((Math.PI * step) / totalSteps));
      optimiser.step(main, learnable(grads), lr);
      if (opts.weighting !== 'equal') unitOptimiser.step(unit, weightUnit(grads));
      step++;
      batches++;
      result.losses.forEach((l, t) => {
        if (Number.isNaN(l)) return;
        lossSum[t] = (lossSum[t] as number) + l;
        lossCount[t] = (lossCount[t] as number) + 1;
      });
      result.weights.forEach((w, t) => {
        wSum[t] = (wSum[t] as number) + w;
        wMin[t] = Math.min(wMin[t] as number, w);
        wMax[t] = Math.max(wMax[t] as number, w);
      });
    }
    const record: EpochRecord = {
      epoch,
      losses: lossSum.map((s, t) => (lossCount[t] ? s / (lossCount[t] as number) : NaN)),
      weights: { mean: wSum.map((s) => s / batches), min: wMin, max: wMax },
    };
    history.push(record);
    opts.log?.(
      `epoch ${epoch}/${opts.epochs}: loss ${record.losses.map((l, t) => `${train.tasks[t]} ${l.toFixed(3)}`).join(', ')}; ` +
        `weights ${record.weights.mean.map((w, t) => `${train.tasks[t]} ${w.toFixed(3)}`).join(', ')}`,
    );
  }
  return { config, params, history, seconds: (performance.now() - started) / 1000 };
}
