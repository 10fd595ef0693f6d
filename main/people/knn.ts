/**
 * [Note: neighbour graph on onnxruntime] A full re-cluster needs every face's nearest faces: at 100,000
 * faces that is billions of 128-d distances, which plain JavaScript loops computed at a fraction of a
 * GFLOP/s (397 s for the graph alone, docs/people.md). The distances are a matrix product, so they run
 * as one: a tiny ONNX graph (built here in memory, never a file) computes ‖x‖² − 2 q·x for a block of
 * queries against a block of points and keeps the K smallest per query (MatMul + TopK in onnxruntime's
 * optimised kernels, on every core). An inverted file keeps the work sub-quadratic: k-means centroids
 * (trained with the same kernel) split the faces into lists; each face is compared with the faces of its
 * `probes` nearest lists. Sets up to EXACT_BELOW faces are compared with every face (exact).
 * cluster.ts takes the graph; the incremental path (vectors.ts' IvfIndex) is unchanged.
 */
import '../engine/no-telemetry.js'; // before any session: [Note: onnxruntime telemetry]
import ort from 'onnxruntime-node';
import { OnnxGraph } from '../learning/onnx-graph.js';
import type { IvfIndex, Neighbour, VectorSet } from './vectors.js';

/** Below this many faces the graph is exact: one block, every face against every face. */
export const EXACT_BELOW = 4096;

export interface GraphIndexOptions {
  /** Faces per inverted list, on average. */
  listSize: number;
  /** Lists each face is compared with (its nearest centroids). */
  probes: number;
  seed?: number;
}

/**
 * Measured on 100,000 synthetic faces (docs/people.md; 2-core machine at load 5–6): lists of 1,000
 * probed 6 → recall 0.983 of the exact 30 nearest within the radius, 18 s; 2,000 × 8 → 0.991, 22 s;
 * 500 × 10 → 0.995, 23 s (chosen); 250 × 16 → 0.9997, 39 s. The work grows with probes × list size.
 */
export const GRAPH_LISTS: GraphIndexOptions = { listSize: 500, probes: 10 };

/** Queries per kernel call: bounds the distance block (queries × list size floats). */
const QUERY_BLOCK = 2048;

const sessions = new Map<number, Promise<ort.InferenceSession>>();

/** The kernel for K nearest: inputs q [m, d], xt [d, n], xx [1, n]; outputs values, indices [m, K]. */
function kernel(K: number): Promise<ort.InferenceSession> {
  let s = sessions.get(K);
  if (!s) {
    const g = new OnnxGraph(`facets_nearest_${K}`);
    const q = g.addInput('q', ['m', 'd']);
    const xt = g.addInput('xt', ['d', 'n']);
    const xx = g.addInput('xx', [1, 'n']);
    const dot = g.node('MatMul', [q, xt]);
    const twice = g.node('Mul', [dot, g.addFloat('two', [2], [])]);
    const partial = g.node('Sub', [xx, twice]);
    g.node('TopK', [partial, g.addInt64('k', [K])], { axis: 1, largest: 0, sorted: 1 }, ['values', 'indices_i64']);
    // Declared outputs are float; list positions stay far below 2^24, so float holds them exactly.
    g.node('Cast', ['indices_i64'], { to: 1 }, ['indices']);
    g.addOutput('values', ['m', K]);
    g.addOutput('indices', ['m', K]);
    s = ort.InferenceSession.create(g.toBytes(), { graphOptimizationLevel: 'all' });
    sessions.set(K, s);
    s.catch(() => sessions.delete(K));
  }
  return s;
}

/** Points prepared as a kernel operand: transposed, with their squared norms (padded to at least K). */
interface Block {
  n: number;
  cols: number;
  xt: Float32Array;
  xx: Float32Array;
}

/** `n` rows of `data` (row j at offset(j)) as a kernel operand. */
function transposed(data: Float32Array, d: number, n: number, offset: (j: number) => number, minCols: number): Block {
  const cols = Math.max(n, minCols);
  const xt = new Float32Array(d * cols);
  const xx = new Float32Array(cols).fill(Infinity);
  for (let j = 0; j < n; j++) {
    const o = offset(j);
    let s = 0;
    for (let c = 0; c < d; c++) {
      const v = data[o + c] as number;
      xt[c * cols + j] = v;
      s += v * v;
    }
    xx[j] = s;
  }
  return { n, cols, xt, xx };
}

function block(set: VectorSet, rows: ArrayLike<number>, minCols: number): Block {
  return transposed(set.data, set.dim, rows.length, (j) => (rows[j] as number) * set.dim, minCols);
}

function centroidBlock(centroids: Float32Array, d: number, minCols: number): Block {
  return transposed(centroids, d, centroids.length / d, (j) => j * d, minCols);
}

/**
 * For each query row (indices into `set`), its K nearest block columns: calls `visit(query position,
 * column, squared distance)` in ascending distance order, padding columns left out.
 */
async function nearest(
  set: VectorSet,
  queries: ArrayLike<number>,
  target: Block,
  K: number,
  visit: (qi: number, column: number, d2: number) => void,
): Promise<void> {
  const d = set.dim;
  const session = await kernel(K);
  const xt = new ort.Tensor('float32', target.xt, [d, target.cols]);
  const xx = new ort.Tensor('float32', target.xx, [1, target.cols]);
  for (let start = 0; start < queries.length; start += QUERY_BLOCK) {
    const m = Math.min(QUERY_BLOCK, queries.length - start);
    const q = new Float32Array(m * d);
    const qq = new Float32Array(m);
    for (let r = 0; r < m; r++) {
      const o = (queries[start + r] as number) * d;
      q.set(set.data.subarray(o, o + d), r * d);
      let s = 0;
      for (let c = 0; c < d; c++) s += (set.data[o + c] as number) ** 2;
      qq[r] = s;
    }
    const out = await session.run({ q: new ort.Tensor('float32', q, [m, d]), xt, xx });
    const values = out['values']?.data as Float32Array;
    const indices = out['indices']?.data as Float32Array;
    for (let r = 0; r < m; r++) {
      for (let j = 0; j < K; j++) {
        const column = indices[r * K + j] as number;
        if (column >= target.n) continue;
        visit(start + r, column, Math.max(0, (values[r * K + j] as number) + (qq[r] as number)));
      }
    }
  }
}

function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1_103_515_245) + 12_345) >>> 0; // integer LCG: a float product loses bits and cycles
    return s / 4_294_967_296;
  };
}

/** k-means centroids on a sample of `rows` (default: the whole set; Lloyd's iterations, assignments by the kernel). */
async function trainCentroids(
  set: VectorSet,
  lists: number,
  seed: number,
  rows?: readonly number[],
): Promise<Float32Array> {
  const d = set.dim;
  const rand = lcg(seed);
  const count = rows?.length ?? set.count;
  const sample = Array.from({ length: Math.min(count, lists * 64) }, () => {
    const r = Math.floor(rand() * count);
    return rows ? (rows[r] as number) : r;
  });
  const centroids = new Float32Array(lists * d);
  for (let c = 0; c < lists; c++) {
    const o = (sample[c % sample.length] as number) * d;
    centroids.set(set.data.subarray(o, o + d), c * d);
  }
  for (let iter = 0; iter < 8; iter++) {
    const sums = new Float64Array(lists * d);
    const counts = new Uint32Array(lists);
    await nearest(set, sample, centroidBlock(centroids, d, 1), 1, (qi, c) => {
      const o = (sample[qi] as number) * d;
      counts[c] = (counts[c] as number) + 1;
      for (let k = 0; k < d; k++) sums[c * d + k] = (sums[c * d + k] as number) + (set.data[o + k] as number);
    });
    for (let c = 0; c < lists; c++) {
      const m = counts[c] as number;
      // An empty list takes a random sample face, so no centroid is wasted.
      if (m === 0) {
        const o = (sample[Math.floor(rand() * sample.length)] as number) * d;
        centroids.set(set.data.subarray(o, o + d), c * d);
      } else for (let k = 0; k < d; k++) centroids[c * d + k] = (sums[c * d + k] as number) / m;
    }
  }
  return centroids;
}

/**
 * Each face's `k` nearest other faces closer than `radius` (ascending), exact below EXACT_BELOW faces,
 * through the inverted lists above (see the note at the top).
 */
export async function knnGraph(
  set: VectorSet,
  k: number,
  radius: number,
  options: GraphIndexOptions = GRAPH_LISTS,
): Promise<Neighbour[][]> {
  const n = set.count;
  const r2 = radius * radius;
  // Per face, its best k (+ itself) so far, sorted ascending: merged across the lists it probes.
  const K = k + 1;
  const bestD = new Float32Array(n * K).fill(Infinity);
  const bestI = new Int32Array(n * K).fill(-1);
  const offer = (i: number, j: number, d2: number) => {
    if (j === i || d2 >= r2) return;
    const base = i * K;
    if (d2 >= (bestD[base + K - 1] as number)) return;
    let p = K - 1;
    while (p > 0 && (bestD[base + p - 1] as number) > d2) {
      bestD[base + p] = bestD[base + p - 1] as number;
      bestI[base + p] = bestI[base + p - 1] as number;
      p--;
    }
    bestD[base + p] = d2;
    bestI[base + p] = j;
  };
  const all = Int32Array.from({ length: n }, (_, i) => i);
  if (n <= EXACT_BELOW) {
    await nearest(set, all, block(set, all, K), K, (qi, j, d2) => offer(qi, j, d2));
  } else {
    const lists = Math.max(2, Math.round(n / options.listSize));
    const probes = Math.min(options.probes, lists);
    const centroids = await trainCentroids(set, lists, options.seed ?? 1);
    // Every face's nearest centroids: the first files it, all of them are the lists it is compared with.
    const members: number[][] = Array.from({ length: lists }, () => []);
    const probing: number[][] = Array.from({ length: lists }, () => []);
    const seen = new Int32Array(n);
    await nearest(set, all, centroidBlock(centroids, set.dim, probes), probes, (qi, c) => {
      if ((seen[qi] as number) === 0) (members[c] as number[]).push(qi);
      seen[qi] = (seen[qi] as number) + 1;
      (probing[c] as number[]).push(qi);
    });
    for (let c = 0; c < lists; c++) {
      const rows = members[c] as number[];
      const queries = probing[c] as number[];
      if (rows.length === 0 || queries.length === 0) continue;
      await nearest(set, queries, block(set, rows, K), K, (qi, j, d2) =>
        offer(queries[qi] as number, rows[j] as number, d2),
      );
    }
  }
  const graph: Neighbour[][] = [];
  for (let i = 0; i < n; i++) {
    const list: Neighbour[] = [];
    for (let p = 0; p < K && list.length < k; p++) {
      const j = bestI[i * K + p] as number;
      if (j < 0) break;
      list.push({ index: j, distance: Math.sqrt(bestD[i * K + p] as number) });
    }
    graph.push(list);
  }
  return graph;
}

/**
 * Trains an incremental index's lists with the kernel: at 1,000,000 faces its own JavaScript k-means and
 * filing (every face against every centroid) took over half an hour; here it is seconds. Below the
 * index's exact threshold nothing is trained (a search scans every face).
 */
export async function trainIndex(index: IvfIndex): Promise<void> {
  const rows = index.filed;
  if (rows.length < (index.options.exactBelow ?? 20_000)) return;
  const lists = Math.max(1, Math.round(rows.length / (index.options.listSize ?? 1000)));
  const centroids = await trainCentroids(index.set, lists, index.options.seed ?? 1, rows);
  const filed: number[][] = Array.from({ length: lists }, () => []);
  await nearest(index.set, rows, centroidBlock(centroids, index.set.dim, 1), 1, (qi, c) =>
    (filed[c] as number[]).push(rows[qi] as number),
  );
  index.install(centroids, filed);
}
