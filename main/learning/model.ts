/**
 * The paper's classifier, trained in TypeScript on the CPU: multi-task heads on a frozen face
 * embedding, with partial labels and joint dynamic task weighting.
 *
 *   x = (embedding − mean) / std                       standardisation (from the training data)
 *   h = ReLU(x W1 + b1)                                optional shared hidden layer (hidden = 0: h = x)
 *   p_t = softmax(h W_t + b_t)                         one fully connected branch per task
 *   w(x) = softmax(h V + c)                            the dynamic-weight unit: per-sample task weights
 *   w̄ = mean of w(x_i) over the mini-batch            positive, summing to 1, recomputed every batch
 *   L = Σ_t w̄_t L_t                                   L_t: task t's cross-entropy over the batch's
 *                                                       samples labelled for t (masked: partial labels)
 *
 * How the weights are learned (our interpretation; the paper says only "learned dynamically").
 * Minimising L itself over the weight unit (V, c) has the gradient ∂L/∂s_it = w_it (L_t − Σ_u w_iu L_u)/B:
 * weight always flows to the task whose loss is smallest, so it collapses onto the easiest task (gender)
 * and the others stop shaping the shared layer — 'dynamic-naive', kept to show exactly that.
 * Ming et al. (2019) train the unit on a loss of its own, L_w = Σ_t w̄_t / L_t ('dynamic-inverse'),
 * gradient w_it (1/L_t − Σ_u w_iu / L_u)/B: weight flows to the harder tasks — but L_w is linear in w̄,
 * so once the losses plateau (they do: the embedding is frozen) it collapses onto the task with the
 * highest plateau (emotion) just the same. 'dynamic' (the default) keeps the idea — harder tasks get
 * more weight, recomputed every batch, no tuned constants — with an objective whose optimum is inside
 * the simplex: the unit minimises KL(q ‖ w̄), where q_t = r_t / Σ_u r_u is task t's share of the
 * remaining difficulty, r_t = L_t / L_t^chance (its loss relative to a guess from the class priors,
 * so a 9-class task is not "harder" merely for having more classes). At the optimum w̄ = q.
 *
 * In every variant the task losses' gradient does not reach the unit and the unit's does not reach
 * the task parameters: the branches and shared layer learn from L with w̄ held constant, and the unit
 * reads h without shaping it. A task with no labelled sample in a batch keeps its last loss (running
 * mean) in the unit's objective.
 */
import type { Rng } from './rng.js';

export interface TaskSpec {
  name: string;
  classes: number;
}

export type Weighting = 'equal' | 'dynamic' | 'dynamic-inverse' | 'dynamic-naive';

export interface ModelConfig {
  inputDim: number;
  /** Shared hidden layer width; 0 = the branches sit directly on the embedding. */
  hidden: number;
  tasks: TaskSpec[];
}

/** All parameters, as named float32 arrays (the order is the ONNX export's and the optimiser's). */
export interface Params {
  mean: Float32Array;
  invStd: Float32Array;
  W1: Float32Array;
  b1: Float32Array;
  /** Per task: weights (F × K, row-major) and bias (K). F = hidden || inputDim. */
  W: Float32Array[];
  b: Float32Array[];
  /** Dynamic-weight unit: F × T and T. */
  V: Float32Array;
  c: Float32Array;
}

export function featureDim(config: ModelConfig): number {
  return config.hidden > 0 ? config.hidden : config.inputDim;
}

export function initParams(config: ModelConfig, rng: Rng, mean?: Float32Array, invStd?: Float32Array): Params {
  const D = config.inputDim;
  const H = config.hidden;
  const F = featureDim(config);
  const gauss = (n: number, std: number) => Float32Array.from({ length: n }, () => rng.normal() * std);
  return {
    mean: mean ?? new Float32Array(D),
    invStd: invStd ?? new Float32Array(D).fill(1),
    W1: H > 0 ? gauss(D * H, Math.sqrt(2 / D)) : new Float32Array(0),
    b1: new Float32Array(H),
    W: config.tasks.map((t) => gauss(F * t.classes, Math.sqrt(1 / F))),
    b: config.tasks.map((t) => new Float32Array(t.classes)),
    // Zero: every task starts at weight 1/T.
    V: new Float32Array(F * config.tasks.length),
    c: new Float32Array(config.tasks.length),
  };
}

export function cloneParams(p: Params): Params {
  return {
    mean: p.mean.slice(),
    invStd: p.invStd.slice(),
    W1: p.W1.slice(),
    b1: p.b1.slice(),
    W: p.W.map((w) => w.slice()),
    b: p.b.map((w) => w.slice()),
    V: p.V.slice(),
    c: p.c.slice(),
  };
}

/** The trainable arrays in a fixed order (standardisation is fixed, not trained). */
export function trainable(p: Params): Float32Array[] {
  return [p.W1, p.b1, ...p.W, ...p.b];
}

export function weightUnit(p: Params): Float32Array[] {
  return [p.V, p.c];
}

/**
 * out (B × N) = a (B × M) · w (M × N) + bias. Four rows at a time: every weight read serves four
 * samples (twice the speed of the plain loop in V8).
 */
function matmulBias(
  a: Float32Array,
  w: Float32Array,
  bias: Float32Array,
  B: number,
  M: number,
  N: number,
  out: Float32Array,
): void {
  let i = 0;
  for (; i + 4 <= B; i += 4) {
    const o0 = i * N;
    const o1 = o0 + N;
    const o2 = o1 + N;
    const o3 = o2 + N;
    for (let j = 0; j < N; j++) {
      const b = bias[j] as number;
      out[o0 + j] = b;
      out[o1 + j] = b;
      out[o2 + j] = b;
      out[o3 + j] = b;
    }
    const a0 = i * M;
    for (let k = 0; k < M; k++) {
      const x0 = a[a0 + k] as number;
      const x1 = a[a0 + M + k] as number;
      const x2 = a[a0 + 2 * M + k] as number;
      const x3 = a[a0 + 3 * M + k] as number;
      const wk = k * N;
      for (let j = 0; j < N; j++) {
        const wv = w[wk + j] as number;
        out[o0 + j] = (out[o0 + j] as number) + x0 * wv;
        out[o1 + j] = (out[o1 + j] as number) + x1 * wv;
        out[o2 + j] = (out[o2 + j] as number) + x2 * wv;
        out[o3 + j] = (out[o3 + j] as number) + x3 * wv;
      }
    }
  }
  for (; i < B; i++) {
    const o = i * N;
    for (let j = 0; j < N; j++) out[o + j] = bias[j] as number;
    const ai = i * M;
    for (let k = 0; k < M; k++) {
      const x = a[ai + k] as number;
      if (x === 0) continue;
      const wk = k * N;
      for (let j = 0; j < N; j++) out[o + j] = (out[o + j] as number) + x * (w[wk + j] as number);
    }
  }
}

/** g (M × N) += aᵀ · d, for a (B × M) and d (B × N): the weight gradient of a dense layer. */
function addOuterProducts(a: Float32Array, d: Float32Array, B: number, M: number, N: number, g: Float32Array): void {
  let i = 0;
  for (; i + 4 <= B; i += 4) {
    const d0 = i * N;
    const d1 = d0 + N;
    const d2 = d1 + N;
    const d3 = d2 + N;
    const a0 = i * M;
    for (let k = 0; k < M; k++) {
      const x0 = a[a0 + k] as number;
      const x1 = a[a0 + M + k] as number;
      const x2 = a[a0 + 2 * M + k] as number;
      const x3 = a[a0 + 3 * M + k] as number;
      const gk = k * N;
      for (let j = 0; j < N; j++) {
        g[gk + j] =
          (g[gk + j] as number) +
          x0 * (d[d0 + j] as number) +
          x1 * (d[d1 + j] as number) +
          x2 * (d[d2 + j] as number) +
          x3 * (d[d3 + j] as number);
      }
    }
  }
  for (; i < B; i++) {
    const di = i * N;
    const ai = i * M;
    for (let k = 0; k < M; k++) {
      const x = a[ai + k] as number;
      const gk = k * N;
      for (let j = 0; j < N; j++) g[gk + j] = (g[gk + j] as number) + x * (d[di + j] as number);
    }
  }
}

function softmaxRows(z: Float32Array, B: number, K: number): void {
  for (let i = 0; i < B; i++) {
    const o = i * K;
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, z[o + k] as number);
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const e = Math.exp((z[o + k] as number) - max);
      z[o + k] = e;
      sum += e;
    }
    for (let k = 0; k < K; k++) z[o + k] = (z[o + k] as number) / sum;
  }
}

/** Standardised inputs of a batch (B × D). */
export function standardise(p: Params, x: Float32Array, B: number, D: number): Float32Array {
  const out = new Float32Array(B * D);
  for (let i = 0; i < B; i++) {
    for (let k = 0; k < D; k++)
      out[i * D + k] = ((x[i * D + k] as number) - (p.mean[k] as number)) * (p.invStd[k] as number);
  }
  return out;
}

export interface Forward {
  x: Float32Array;
  /** Shared features h (B × F): the hidden layer's output, or x itself. */
  h: Float32Array;
  /** Hidden pre-activation mask (B × H), for backprop through ReLU and dropout. */
  mask: Float32Array;
  /** Per task: probabilities (B × K). */
  probs: Float32Array[];
}

/** Forward pass of a batch; with `dropout` > 0 (training) the hidden units are dropped at random. */
export function forward(
  config: ModelConfig,
  p: Params,
  input: Float32Array,
  B: number,
  dropout = 0,
  rng?: Rng,
): Forward {
  const D = config.inputDim;
  const H = config.hidden;
  const x = standardise(p, input, B, D);
  let h = x;
  const mask = new Float32Array(B * H);
  if (H > 0) {
    h = new Float32Array(B * H);
    matmulBias(x, p.W1, p.b1, B, D, H, h);
    const keep = 1 - dropout;
    for (let i = 0; i < h.length; i++) {
      if ((h[i] as number) <= 0) h[i] = 0;
      else if (dropout > 0 && rng && rng.next() >= keep) h[i] = 0;
      else {
        const m = dropout > 0 ? 1 / keep : 1;
        mask[i] = m;
        h[i] = (h[i] as number) * m;
      }
    }
  }
  const F = featureDim(config);
  const probs = config.tasks.map((t, ti) => {
    const z = new Float32Array(B * t.classes);
    matmulBias(h, p.W[ti] as Float32Array, p.b[ti] as Float32Array, B, F, t.classes, z);
    softmaxRows(z, B, t.classes);
    return z;
  });
  return { x, h, mask, probs };
}

/** Per-sample task weights w(x) = softmax(h V + c), B × T. */
export function taskWeights(config: ModelConfig, p: Params, h: Float32Array, B: number): Float32Array {
  const T = config.tasks.length;
  const s = new Float32Array(B * T);
  matmulBias(h, p.V, p.c, B, featureDim(config), T, s);
  softmaxRows(s, B, T);
  return s;
}

/** Label value marking a soft target: the sample's row of `soft` for that task. */
export const SOFT = -2;

/**
 * A mini-batch: inputs (B × D) and per task one label per sample (−1: not labelled for that task;
 * SOFT: a probability target in `soft[task]`, B × K — distillation from the base heads when fine-tuning).
 */
export interface Batch {
  x: Float32Array;
  size: number;
  labels: Int32Array[];
  soft?: (Float32Array | undefined)[];
}

export interface StepOptions {
  weighting: Weighting;
  /** Per task, per class: loss weight (class balancing); absent = 1. */
  classWeights?: (Float32Array | undefined)[];
  dropout: number;
  /** L2 weight decay on W1 and branch weights. */
  weightDecay: number;
  /** Per task, the loss of a guess from the class priors (normalises difficulty for 'dynamic'). */
  chanceLoss?: number[];
  /** L2 pull toward these parameters (fine-tuning: keep what the base training taught). */
  anchor?: { params: Params; strength: number };
}

export interface StepResult {
  /** Per task: the batch loss (NaN where the batch has no label for the task). */
  losses: number[];
  /** Batch-mean task weights w̄ used for this step. */
  weights: number[];
}

/**
 * Loss and gradients of one batch. `runningLoss` (per task, updated here) stands in for a task's loss
 * in the weight unit's objective when the batch has no label for it.
 */
export function computeGradients(
  config: ModelConfig,
  p: Params,
  batch: Batch,
  options: StepOptions,
  runningLoss: number[],
  rng: Rng,
): { grads: Params; result: StepResult } {
  const B = batch.size;
  const D = config.inputDim;
  const H = config.hidden;
  const F = featureDim(config);
  const T = config.tasks.length;
  const fw = forward(config, p, batch.x, B, options.dropout, rng);
  const g = zeroLike(p);

  // Task losses (masked, optionally class-weighted means over labelled samples).
  const losses = config.tasks.map((t, ti) => {
    const labels = batch.labels[ti] as Int32Array;
    const cw = options.classWeights?.[ti];
    const probs = fw.probs[ti] as Float32Array;
    let sum = 0;
    let weight = 0;
    const soft = batch.soft?.[ti];
    for (let i = 0; i < B; i++) {
      const y = labels[i] as number;
      if (y === SOFT && soft) {
        for (let k = 0; k < t.classes; k++) {
          const q = soft[i * t.classes + k] as number;
          if (q > 0) sum -= q * Math.log(Math.max(1e-12, probs[i * t.classes + k] as number));
        }
        weight += 1;
        continue;
      }
      if (y < 0) continue;
      const a = cw ? (cw[y] as number) : 1;
      sum -= a * Math.log(Math.max(1e-12, probs[i * t.classes + y] as number));
      weight += a;
    }
    return weight > 0 ? sum / weight : NaN;
  });
  losses.forEach((l, ti) => {
    if (!Number.isNaN(l))
      runningLoss[ti] = Number.isNaN(runningLoss[ti] as number) ? l : 0.9 * (runningLoss[ti] as number) + 0.1 * l;
  });

  // Task weights for this batch.
  let sampleWeights: Float32Array | undefined;
  const wbar = new Array<number>(T).fill(1 / T);
  if (options.weighting !== 'equal') {
    sampleWeights = taskWeights(config, p, fw.h, B);
    wbar.fill(0);
    for (let i = 0; i < B; i++)
      for (let t = 0; t < T; t++) wbar[t] = (wbar[t] as number) + (sampleWeights[i * T + t] as number) / B;
  }

  // Branches: dL/dz = w̄_t · a_y (p − onehot) / Σa over labelled samples.
  const dh = new Float32Array(B * F);
  config.tasks.forEach((t, ti) => {
    if (Number.isNaN(losses[ti] as number)) return;
    const labels = batch.labels[ti] as Int32Array;
    const cw = options.classWeights?.[ti];
    const probs = fw.probs[ti] as Float32Array;
    const K = t.classes;
    const soft = batch.soft?.[ti];
    let norm = 0;
    for (let i = 0; i < B; i++) {
      const y = labels[i] as number;
      if (y >= 0) norm += cw ? (cw[y] as number) : 1;
      else if (y === SOFT && soft) norm += 1;
    }
    const scale = (wbar[ti] as number) / norm;
    const W = p.W[ti] as Float32Array;
    const gW = g.W[ti] as Float32Array;
    const gb = g.b[ti] as Float32Array;
    const dz = new Float32Array(K);
    for (let i = 0; i < B; i++) {
      const y = labels[i] as number;
      if (y === SOFT && soft) {
        for (let k = 0; k < K; k++) dz[k] = scale * ((probs[i * K + k] as number) - (soft[i * K + k] as number));
      } else if (y < 0) continue;
      else {
        const a = (cw ? (cw[y] as number) : 1) * scale;
        for (let k = 0; k < K; k++) dz[k] = a * ((probs[i * K + k] as number) - (k === y ? 1 : 0));
      }
      for (let k = 0; k < K; k++) gb[k] = (gb[k] as number) + (dz[k] as number);
      const hi = i * F;
      for (let f = 0; f < F; f++) {
        const hv = fw.h[hi + f] as number;
        const wf = f * K;
        let back = 0;
        for (let k = 0; k < K; k++) {
          if (hv !== 0) gW[wf + k] = (gW[wf + k] as number) + hv * (dz[k] as number);
          back += (W[wf + k] as number) * (dz[k] as number);
        }
        dh[hi + f] = (dh[hi + f] as number) + back;
      }
    }
  });

  // Shared hidden layer.
  if (H > 0) {
    for (let i = 0; i < B * H; i++) dh[i] = (dh[i] as number) * (fw.mask[i] as number);
    for (let i = 0; i < B; i++) for (let j = 0; j < H; j++) g.b1[j] = (g.b1[j] as number) + (dh[i * H + j] as number);
    addOuterProducts(fw.x, dh, B, D, H, g.W1);
  }

  // Regularisers.
  const decay = (grad: Float32Array, value: Float32Array, anchor: Float32Array | undefined, strength: number) => {
    for (let i = 0; i < value.length; i++) {
      let d = options.weightDecay * (value[i] as number);
      if (anchor) d += strength * ((value[i] as number) - (anchor[i] as number));
      grad[i] = (grad[i] as number) + d;
    }
  };
  const anchor = options.anchor;
  decay(g.W1, p.W1, anchor?.params.W1, anchor?.strength ?? 0);
  p.W.forEach((w, ti) => decay(g.W[ti] as Float32Array, w, anchor?.params.W[ti], anchor?.strength ?? 0));
  if (anchor) {
    const pull = (grad: Float32Array, value: Float32Array, base: Float32Array) => {
      for (let i = 0; i < value.length; i++)
        grad[i] = (grad[i] as number) + anchor.strength * ((value[i] as number) - (base[i] as number));
    };
    pull(g.b1, p.b1, anchor.params.b1);
    p.b.forEach((b, ti) => pull(g.b[ti] as Float32Array, b, anchor.params.b[ti] as Float32Array));
  }

  // The weight unit's own objective (see the file comment); its gradient stops at h.
  if (sampleWeights) {
    const current = config.tasks.map((_, ti) =>
      Number.isNaN(losses[ti] as number) ? (runningLoss[ti] as number) : (losses[ti] as number),
    );
    const known = current.map((l) => !Number.isNaN(l));
    // ds[i·T + t] = ∂objective/∂s_it.
    const ds = new Float64Array(B * T);
    if (options.weighting === 'dynamic') {
      const r = current.map((l, t) => (known[t] ? l / (options.chanceLoss?.[t] ?? 1) : 0));
      const total = r.reduce((a, b) => a + b, 0);
      const q = r.map((v) => (total > 0 ? v / total : 0));
      // KL(q ‖ w̄): ∂/∂s_it = (1/B) w_it (Σ_u q_u w_iu / w̄_u − q_t / w̄_t).
      for (let i = 0; i < B; i++) {
        let inner = 0;
        for (let u = 0; u < T; u++)
          inner += ((q[u] as number) * (sampleWeights[i * T + u] as number)) / (wbar[u] as number);
        for (let t = 0; t < T; t++) {
          const w = sampleWeights[i * T + t] as number;
          ds[i * T + t] = (w * (inner - (q[t] as number) / (wbar[t] as number))) / B;
        }
      }
    } else {
      // Linear objectives Σ_t w̄_t a_t: a_t = L_t (naive) or 1/L_t (Ming et al.), over known tasks.
      const a = current.map((l) => (options.weighting === 'dynamic-inverse' ? 1 / Math.max(l, 1e-6) : l));
      for (let i = 0; i < B; i++) {
        let mean = 0;
        for (let t = 0; t < T; t++) if (known[t]) mean += (sampleWeights[i * T + t] as number) * (a[t] as number);
        for (let t = 0; t < T; t++) {
          const w = sampleWeights[i * T + t] as number;
          ds[i * T + t] = known[t] ? (w * ((a[t] as number) - mean)) / B : 0;
        }
      }
    }
    for (let i = 0; i < B; i++) {
      for (let t = 0; t < T; t++) {
        const d = ds[i * T + t] as number;
        g.c[t] = (g.c[t] as number) + d;
        for (let f = 0; f < F; f++) g.V[f * T + t] = (g.V[f * T + t] as number) + (fw.h[i * F + f] as number) * d;
      }
    }
  }
  return { grads: g, result: { losses, weights: wbar } };
}

function zeroLike(p: Params): Params {
  return {
    mean: new Float32Array(0),
    invStd: new Float32Array(0),
    W1: new Float32Array(p.W1.length),
    b1: new Float32Array(p.b1.length),
    W: p.W.map((w) => new Float32Array(w.length)),
    b: p.b.map((w) => new Float32Array(w.length)),
    V: new Float32Array(p.V.length),
    c: new Float32Array(p.c.length),
  };
}

/** Adam (Kingma & Ba) over a fixed list of arrays. */
export class Adam {
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private t = 0;

  constructor(
    shapes: readonly Float32Array[],
    private readonly lr: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly eps = 1e-8,
  ) {
    this.m = shapes.map((s) => new Float32Array(s.length));
    this.v = shapes.map((s) => new Float32Array(s.length));
  }

  step(params: readonly Float32Array[], grads: readonly Float32Array[], lr = this.lr): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    params.forEach((p, a) => {
      const g = grads[a] as Float32Array;
      const m = this.m[a] as Float32Array;
      const v = this.v[a] as Float32Array;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i] as number;
        m[i] = this.beta1 * (m[i] as number) + (1 - this.beta1) * gi;
        v[i] = this.beta2 * (v[i] as number) + (1 - this.beta2) * gi * gi;
        p[i] = (p[i] as number) - (lr * ((m[i] as number) / c1)) / (Math.sqrt((v[i] as number) / c2) + this.eps);
      }
    });
  }
}

/** Plain SGD with momentum. */
export class Sgd {
  private readonly velocity: Float32Array[];

  constructor(
    shapes: readonly Float32Array[],
    private readonly lr: number,
    private readonly momentum = 0.9,
  ) {
    this.velocity = shapes.map((s) => new Float32Array(s.length));
  }

  step(params: readonly Float32Array[], grads: readonly Float32Array[], lr = this.lr): void {
    params.forEach((p, a) => {
      const g = grads[a] as Float32Array;
      const vel = this.velocity[a] as Float32Array;
      for (let i = 0; i < p.length; i++) {
        vel[i] = this.momentum * (vel[i] as number) + (g[i] as number);
        p[i] = (p[i] as number) - lr * (vel[i] as number);
      }
    });
  }
}

/** The class of row `i` of an n × K probability table: the index of its largest value (the first on a tie). */
export function argmaxRow(p: Float32Array, i: number, K: number): number {
  const o = i * K;
  let best = 0;
  for (let k = 1; k < K; k++) if ((p[o + k] as number) > (p[o + best] as number)) best = k;
  return best;
}

/** Probabilities per task for many inputs (inference), in batches. */
export function predict(config: ModelConfig, p: Params, inputs: Float32Array, n: number, batch = 512): Float32Array[] {
  const D = config.inputDim;
  const out = config.tasks.map((t) => new Float32Array(n * t.classes));
  for (let start = 0; start < n; start += batch) {
    const B = Math.min(batch, n - start);
    const fw = forward(config, p, inputs.subarray(start * D, (start + B) * D), B);
    config.tasks.forEach((t, ti) => (out[ti] as Float32Array).set(fw.probs[ti] as Float32Array, start * t.classes));
  }
  return out;
}
