/**
 * The paper's baseline: a support vector machine with an RBF kernel on the embeddings, trained by SMO
 * (sequential minimal optimisation with LIBSVM's second-order working-set selection, Fan, Chen & Lin
 * 2005) on a precomputed kernel matrix; multi-class by one-vs-one voting, as LIBSVM does.
 */

export interface SvmOptions {
  /** Box constraint. */
  C: number;
  /** RBF width: K(a, b) = exp(−gamma ‖a − b‖²). */
  gamma: number;
  /** Stopping tolerance on the KKT gap. */
  tolerance: number;
  maxIterations: number;
  /** Per class, a multiplier of C (class balancing); absent = 1. */
  classWeights?: number[];
}

export const DEFAULT_SVM: SvmOptions = { C: 1, gamma: 0, tolerance: 1e-3, maxIterations: 1_000_000 };

/** Symmetric RBF kernel matrix of n row vectors (n × n, float32). */
export function rbfKernelMatrix(x: Float32Array, n: number, dim: number, gamma: number): Float32Array {
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < dim; k++) s += (x[i * dim + k] as number) ** 2;
    norms[i] = s;
  }
  const K = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    const xi = i * dim;
    K[i * n + i] = 1;
    for (let j = i + 1; j < n; j++) {
      const xj = j * dim;
      let dot = 0;
      for (let k = 0; k < dim; k++) dot += (x[xi + k] as number) * (x[xj + k] as number);
      const v = Math.exp(-gamma * Math.max(0, (norms[i] as number) + (norms[j] as number) - 2 * dot));
      K[i * n + j] = v;
      K[j * n + i] = v;
    }
  }
  return K;
}

export interface BinarySvm {
  /** Indices (into the training set) of the support vectors and their α·y. */
  support: Int32Array;
  coef: Float64Array;
  bias: number;
  iterations: number;
}

/**
 * Trains a binary SVM on the samples `idx` (indices into the n × n kernel `K`) with labels y = ±1.
 * Solves min ½ αᵀQα − Σα, 0 ≤ α_i ≤ C_i, yᵀα = 0, Q_ij = y_i y_j K_ij.
 */
export function trainBinary(
  K: Float32Array,
  n: number,
  idx: Int32Array,
  y: Int8Array,
  Cs: Float64Array,
  tolerance: number,
  maxIterations: number,
): BinarySvm {
  const m = idx.length;
  const alpha = new Float64Array(m);
  const G = new Float64Array(m).fill(-1); // gradient of the dual: Qα − 1
  const row = (i: number) => (idx[i] as number) * n;
  let iterations = 0;
  const TAU = 1e-12;
  while (iterations < maxIterations) {
    // Working set: i maximises −y_i G_i over I_up; j by the second-order gain over I_low.
    let gmax = -Infinity;
    let i = -1;
    for (let t = 0; t < m; t++) {
      const yt = y[t] as number;
      const a = alpha[t] as number;
      const up = (yt === 1 && a < (Cs[t] as number)) || (yt === -1 && a > 0);
      if (!up) continue;
      const v = -yt * (G[t] as number);
      if (v >= gmax) {
        gmax = v;
        i = t;
      }
    }
    if (i < 0) break;
    const Ki = row(i);
    const yi = y[i] as number;
    let gmin = Infinity;
    let j = -1;
    let objMin = Infinity;
    for (let t = 0; t < m; t++) {
      const yt = y[t] as number;
      const a = alpha[t] as number;
      const low = (yt === 1 && a > 0) || (yt === -1 && a < (Cs[t] as number));
      if (!low) continue;
      const v = -yt * (G[t] as number);
      if (v < gmin) gmin = v;
      const b = gmax - v;
      if (b > 0) {
        const kit = K[Ki + (idx[t] as number)] as number;
        let a2 = 2 - 2 * kit; // K_ii + K_tt − 2 K_it with K_ii = 1 (RBF)
        if (a2 <= 0) a2 = TAU;
        const obj = -(b * b) / a2;
        if (obj <= objMin) {
          objMin = obj;
          j = t;
        }
      }
    }
    if (gmax - gmin < tolerance || j < 0) break;
    iterations++;
    const Kj = row(j);
    const yj = y[j] as number;
    const Ci = Cs[i] as number;
    const Cj = Cs[j] as number;
    const kij = K[Ki + (idx[j] as number)] as number;
    const oldAi = alpha[i] as number;
    const oldAj = alpha[j] as number;
    // LIBSVM's two-variable update (Solver::Solve), with K_ii = K_jj = 1.
    if (yi !== yj) {
      let quad = 2 + 2 * kij;
      if (quad <= 0) quad = TAU;
      const delta = (-(G[i] as number) - (G[j] as number)) / quad;
      const diff = oldAi - oldAj;
      let ai = oldAi + delta;
      let aj = oldAj + delta;
      if (diff > 0) {
        if (aj < 0) {
          aj = 0;
          ai = diff;
        }
      } else if (ai < 0) {
        ai = 0;
        aj = -diff;
      }
      if (diff > Ci - Cj) {
        if (ai > Ci) {
          ai = Ci;
          aj = Ci - diff;
        }
      } else if (aj > Cj) {
        aj = Cj;
        ai = Cj + diff;
      }
      alpha[i] = ai;
      alpha[j] = aj;
    } else {
      let quad = 2 - 2 * kij;
      if (quad <= 0) quad = TAU;
      const delta = ((G[i] as number) - (G[j] as number)) / quad;
      const sum = oldAi + oldAj;
      let ai = oldAi - delta;
      let aj = oldAj + delta;
      if (sum > Ci) {
        if (ai > Ci) {
          ai = Ci;
          aj = sum - Ci;
        }
      } else if (aj < 0) {
        aj = 0;
        ai = sum;
      }
      if (sum > Cj) {
        if (aj > Cj) {
          aj = Cj;
          ai = sum - Cj;
        }
      } else if (ai < 0) {
        ai = 0;
        aj = sum;
      }
      alpha[i] = ai;
      alpha[j] = aj;
    }
    const dAi = (alpha[i] as number) - oldAi;
    const dAj = (alpha[j] as number) - oldAj;
    for (let t = 0; t < m; t++) {
      const yt = y[t] as number;
      const kt = idx[t] as number;
      G[t] = (G[t] as number) + yt * (yi * dAi * (K[Ki + kt] as number) + yj * dAj * (K[Kj + kt] as number));
    }
  }
  // Bias: average −y G over free vectors, else the midpoint of the feasible range (LIBSVM calculate_rho).
  let sumFree = 0;
  let nFree = 0;
  let ub = Infinity;
  let lb = -Infinity;
  for (let t = 0; t < m; t++) {
    const yG = (y[t] as number) * (G[t] as number);
    const a = alpha[t] as number;
    if (a > 0 && a < (Cs[t] as number)) {
      sumFree += yG;
      nFree++;
    } else if ((a >= (Cs[t] as number) && y[t] === -1) || (a <= 0 && y[t] === 1)) ub = Math.min(ub, yG);
    else lb = Math.max(lb, yG);
  }
  const rho = nFree > 0 ? sumFree / nFree : (ub + lb) / 2;
  const support: number[] = [];
  const coef: number[] = [];
  for (let t = 0; t < m; t++) {
    if ((alpha[t] as number) > 0) {
      support.push(idx[t] as number);
      coef.push((alpha[t] as number) * (y[t] as number));
    }
  }
  return { support: Int32Array.from(support), coef: Float64Array.from(coef), bias: -rho, iterations };
}

export interface MulticlassSvm {
  classes: number[];
  pairs: { a: number; b: number; model: BinarySvm }[];
  gamma: number;
  /** Training inputs (n × dim) the support indices refer to. */
  x: Float32Array;
  dim: number;
  seconds: number;
  iterations: number;
}

/**
 * One-vs-one multi-class SVM over the samples with a label (≥ 0) among `labels`; `K` is the kernel of
 * all n training inputs.
 */
export function trainMulticlass(
  K: Float32Array,
  x: Float32Array,
  n: number,
  dim: number,
  labels: Int32Array,
  options: SvmOptions,
): MulticlassSvm {
  const started = performance.now();
  const classes = [...new Set([...labels].filter((l) => l >= 0))].sort((a, b) => a - b);
  const pairs: MulticlassSvm['pairs'] = [];
  let iterations = 0;
  for (let p = 0; p < classes.length; p++) {
    for (let q = p + 1; q < classes.length; q++) {
      const a = classes[p] as number;
      const b = classes[q] as number;
      const members: number[] = [];
      for (let i = 0; i < n; i++) if (labels[i] === a || labels[i] === b) members.push(i);
      const idx = Int32Array.from(members);
      const y = Int8Array.from(members, (i) => (labels[i] === a ? 1 : -1));
      const Cs = Float64Array.from(members, (i) => options.C * (options.classWeights?.[labels[i] as number] ?? 1));
      const model = trainBinary(K, n, idx, y, Cs, options.tolerance, options.maxIterations);
      iterations += model.iterations;
      pairs.push({ a, b, model });
    }
  }
  return { classes, pairs, gamma: options.gamma, x, dim, seconds: (performance.now() - started) / 1000, iterations };
}

/** Class votes per input (m × number of label indices up to max class + 1), normalised to sum 1. */
export function predictMulticlass(
  svm: MulticlassSvm,
  inputs: Float32Array,
  m: number,
  numClasses: number,
): Float32Array {
  const { dim, x, gamma } = svm;
  const used = new Set<number>();
  for (const p of svm.pairs) for (const s of p.model.support) used.add(s);
  const sv = [...used];
  const svIndex = new Map(sv.map((s, i) => [s, i]));
  const svNorm = sv.map((s) => {
    let t = 0;
    for (let k = 0; k < dim; k++) t += (x[s * dim + k] as number) ** 2;
    return t;
  });
  const positions = svm.pairs.map((p) => Int32Array.from(p.model.support, (s) => svIndex.get(s) as number));
  const votes = new Float32Array(m * numClasses);
  const kv = new Float64Array(sv.length);
  for (let r = 0; r < m; r++) {
    const q = r * dim;
    let qn = 0;
    for (let k = 0; k < dim; k++) qn += (inputs[q + k] as number) ** 2;
    sv.forEach((s, i) => {
      let dot = 0;
      const o = s * dim;
      for (let k = 0; k < dim; k++) dot += (inputs[q + k] as number) * (x[o + k] as number);
      kv[i] = Math.exp(-gamma * Math.max(0, qn + (svNorm[i] as number) - 2 * dot));
    });
    svm.pairs.forEach(({ a, b, model }, pi) => {
      const pos = positions[pi] as Int32Array;
      let f = model.bias;
      for (let t = 0; t < pos.length; t++) f += (model.coef[t] as number) * (kv[pos[t] as number] as number);
      const winner = f > 0 ? a : b;
      votes[r * numClasses + winner] = (votes[r * numClasses + winner] as number) + 1;
    });
    const total = svm.pairs.length || 1;
    for (let c = 0; c < numClasses; c++) votes[r * numClasses + c] = (votes[r * numClasses + c] as number) / total;
  }
  return votes;
}
