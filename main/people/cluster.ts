/**
 * Grouping faces into people from their identity vectors. Every algorithm works on the same sparse
 * neighbour graph (each face's `k` nearest faces closer than a search radius), so a full re-cluster of
 * 100,000 faces costs 100,000 index searches plus work linear in the edges, never a distance matrix.
 *
 * - 'average': agglomerative average linkage; a pair of faces missing from the graph counts as the
 *   search radius apart (it is at least that far). Merges while the average distance < threshold.
 * - 'whispers': Chinese whispers (dlib's own face-clustering example) over the edges < threshold.
 * - 'vote': faces in arrival order, each joining the cluster most of its k nearest earlier faces
 *   (< threshold) belong to, else starting one — what incremental assignment does as scans proceed.
 * - 'components': connected components of the edges < threshold (single linkage), for reference.
 *
 * Which one the product uses, and at which threshold, is measured on people-dev (docs/people.md).
 */
import { knnGraph } from './knn.js';
import { IvfIndex, type Neighbour, type VectorSet } from './vectors.js';

export type ClusterAlgorithm = 'average' | 'whispers' | 'vote' | 'components';

export interface ClusterOptions {
  algorithm: ClusterAlgorithm;
  /** Euclidean distance below which two faces (or, for 'average', two clusters) are one person. */
  threshold: number;
  /** Neighbours per face in the graph (default 30). */
  k?: number;
  /** 'vote': neighbours that must agree (default 1). */
  minVotes?: number;
  /** Faces that may not join any cluster (too small or blurred): their label is −1. */
  excluded?: ReadonlySet<number>;
  seed?: number;
}

/** Which 'average' searches beyond the threshold, so that missing pairs are known to be that far. */
const RADIUS_OVER_THRESHOLD = 0.12;

/**
 * The graph's index: shorter lists and fewer probes than assignment's (a re-cluster searches once per
 * face, 100,000 times); faces of one person share their nearest lists, which the recall check in
 * test/unit/people-cluster.test.ts holds it to.
 */
export const GRAPH_INDEX = { listSize: 400, probes: 4 };

/** Each face's neighbours (index order), via the IVF index. */
export function neighbourGraph(set: VectorSet, k: number, radius: number): Neighbour[][] {
  const index = new IvfIndex(set, GRAPH_INDEX);
  for (let i = 0; i < set.count; i++) index.add(i);
  index.build();
  const graph: Neighbour[][] = [];
  for (let i = 0; i < set.count; i++) graph.push(index.search(set.row(i), k, radius, i));
  return graph;
}

/** The search radius of the graph an algorithm needs. */
export function graphRadius(options: Pick<ClusterOptions, 'algorithm' | 'threshold'>): number {
  return options.algorithm === 'average' ? options.threshold + RADIUS_OVER_THRESHOLD : options.threshold;
}

/**
 * A full clustering as the product runs it: the neighbour graph on onnxruntime ([Note: neighbour graph
 * on onnxruntime], knn.ts), then the algorithm. `cluster` below builds its graph in plain JavaScript
 * (small sets, unit tests) and otherwise gives the same labels.
 */
export async function clusterFaces(set: VectorSet, options: ClusterOptions): Promise<Int32Array> {
  if (options.algorithm === 'vote') return cluster(set, options);
  return cluster(set, options, await knnGraph(set, options.k ?? 30, graphRadius(options)));
}

/**
 * Cluster labels 0..m−1 per face (−1: excluded), renumbered in order of first appearance. `graph`: each
 * face's neighbours within graphRadius(options), if already computed.
 */
export function cluster(set: VectorSet, options: ClusterOptions, graph?: Neighbour[][]): Int32Array {
  const k = options.k ?? 30;
  const excluded = options.excluded ?? new Set<number>();
  let labels: Int32Array;
  if (options.algorithm === 'vote') labels = voteCluster(set, options.threshold, k, options.minVotes ?? 1, excluded);
  else {
    const radius = graphRadius(options);
    const edges = (graph ?? neighbourGraph(set, k, radius)).map((list, i) =>
      excluded.has(i) ? [] : list.filter((n) => !excluded.has(n.index)),
    );
    if (options.algorithm === 'average') labels = averageLinkage(edges, options.threshold, radius);
    else if (options.algorithm === 'whispers') labels = whispers(edges, options.threshold, options.seed ?? 1);
    else labels = components(edges, options.threshold);
  }
  for (const i of excluded) labels[i] = -1;
  return renumber(labels);
}

export function renumber(labels: Int32Array): Int32Array {
  const map = new Map<number, number>();
  return labels.map((l) => {
    if (l < 0) return -1;
    let m = map.get(l);
    if (m === undefined) map.set(l, (m = map.size));
    return m;
  });
}

function voteCluster(
  set: VectorSet,
  threshold: number,
  k: number,
  minVotes: number,
  excluded: ReadonlySet<number>,
): Int32Array {
  const labels = new Int32Array(set.count).fill(-1);
  const index = new IvfIndex(set, GRAPH_INDEX);
  let next = 0;
  for (let i = 0; i < set.count; i++) {
    if (excluded.has(i)) continue;
    const near = index.search(set.row(i), k, threshold);
    const votes = new Map<number, number>();
    for (const n of near) votes.set(labels[n.index] as number, (votes.get(labels[n.index] as number) ?? 0) + 1);
    let best = -1;
    let bestVotes = 0;
    for (const [label, v] of votes) if (v > bestVotes) [best, bestVotes] = [label, v];
    labels[i] = bestVotes >= minVotes ? best : next++;
    index.add(i);
  }
  return labels;
}

function components(graph: Neighbour[][], threshold: number): Int32Array {
  const parent = Int32Array.from(graph.keys());
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x] as number] as number;
    return x;
  };
  graph.forEach((list, i) => {
    for (const n of list) if (n.distance < threshold) parent[find(i)] = find(n.index);
  });
  return Int32Array.from(graph.keys(), (i) => find(i));
}

function whispers(graph: Neighbour[][], threshold: number, seed: number): Int32Array {
  const n = graph.length;
  // Undirected edges < threshold, weighted by closeness.
  const adj: Map<number, number>[] = Array.from({ length: n }, () => new Map());
  graph.forEach((list, i) => {
    for (const nb of list) {
      if (nb.distance >= threshold) continue;
      const w = 1;
      (adj[i] as Map<number, number>).set(nb.index, w);
      (adj[nb.index] as Map<number, number>).set(i, w);
    }
  });
  const labels = Int32Array.from(graph.keys());
  const order = Array.from(graph.keys());
  let s = seed;
  const rand = () => {
    s = (Math.imul(s, 1_103_515_245) + 12_345) >>> 0; // integer LCG: a float product loses bits and cycles
    return s / 4_294_967_296;
  };
  for (let iter = 0; iter < 50; iter++) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    let changed = 0;
    for (const i of order) {
      const scores = new Map<number, number>();
      for (const [j, w] of adj[i] as Map<number, number>) {
        const l = labels[j] as number;
        scores.set(l, (scores.get(l) ?? 0) + w);
      }
      let best = labels[i] as number;
      let bestScore = 0;
      for (const [l, v] of scores) if (v > bestScore || (v === bestScore && l < best)) [best, bestScore] = [l, v];
      if (bestScore > 0 && best !== labels[i]) {
        labels[i] = best;
        changed++;
      }
    }
    if (changed === 0) break;
  }
  return labels;
}

/**
 * Average linkage over a sparse graph: clusters keep, per neighbouring cluster, the sum and count of
 * the known pair distances; unknown pairs count as `far`. Always merges the closest pair below the
 * threshold (a binary heap with stale entries skipped).
 */
function averageLinkage(graph: Neighbour[][], threshold: number, far: number): Int32Array {
  const n = graph.length;
  const size = new Int32Array(n).fill(1);
  const links: Map<number, { sum: number; count: number }>[] = Array.from({ length: n }, () => new Map());
  graph.forEach((list, i) => {
    for (const nb of list) {
      if (nb.index === i) continue;
      (links[i] as Map<number, { sum: number; count: number }>).set(nb.index, { sum: nb.distance, count: 1 });
      (links[nb.index] as Map<number, { sum: number; count: number }>).set(i, { sum: nb.distance, count: 1 });
    }
  });
  const version = new Int32Array(n);
  const alive = new Uint8Array(n).fill(1);
  const average = (a: number, b: number, l: { sum: number; count: number }) => {
    const pairs = (size[a] as number) * (size[b] as number);
    return (l.sum + (pairs - l.count) * far) / pairs;
  };
  const heap = new PairHeap();
  for (let a = 0; a < n; a++) {
    for (const [b, l] of links[a] as Map<number, { sum: number; count: number }>) {
      if (a < b) {
        const d = average(a, b, l);
        if (d < threshold) heap.push(d, a, b, 0, 0);
      }
    }
  }
  const parent = Int32Array.from(graph.keys());
  for (let top = heap.pop(); top; top = heap.pop()) {
    const { a, b, va, vb } = top;
    if (!alive[a] || !alive[b] || version[a] !== va || version[b] !== vb) continue;
    // Merge the smaller into the larger.
    const [keep, gone] = (size[a] as number) >= (size[b] as number) ? [a, b] : [b, a];
    alive[gone] = 0;
    parent[gone] = keep;
    const kl = links[keep] as Map<number, { sum: number; count: number }>;
    kl.delete(gone);
    for (const [c, l] of links[gone] as Map<number, { sum: number; count: number }>) {
      if (c === keep) continue;
      const cl = links[c] as Map<number, { sum: number; count: number }>;
      cl.delete(gone);
      const merged = kl.get(c) ?? { sum: 0, count: 0 };
      merged.sum += l.sum;
      merged.count += l.count;
      kl.set(c, merged);
      cl.set(keep, merged);
    }
    (links[gone] as Map<number, unknown>).clear();
    size[keep] = (size[keep] as number) + (size[gone] as number);
    version[keep] = (version[keep] as number) + 1;
    for (const [c, l] of kl) {
      const d = average(keep, c, l);
      if (d < threshold) heap.push(d, keep, c, version[keep] as number, version[c] as number);
    }
  }
  const root = (x: number): number => {
    while (parent[x] !== x) x = parent[x] as number;
    return x;
  };
  return Int32Array.from(graph.keys(), (i) => root(i));
}

class PairHeap {
  private d: number[] = [];
  private items: { a: number; b: number; va: number; vb: number }[] = [];
  push(d: number, a: number, b: number, va: number, vb: number): void {
    this.d.push(d);
    this.items.push({ a, b, va, vb });
    let i = this.d.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((this.d[p] as number) <= d) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): { a: number; b: number; va: number; vb: number } | undefined {
    if (this.d.length === 0) return undefined;
    const top = this.items[0];
    const lastD = this.d.pop() as number;
    const lastItem = this.items.pop() as { a: number; b: number; va: number; vb: number };
    if (this.d.length > 0) {
      this.d[0] = lastD;
      this.items[0] = lastItem;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.d.length && (this.d[l] as number) < (this.d[m] as number)) m = l;
        if (r < this.d.length && (this.d[r] as number) < (this.d[m] as number)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
  private swap(i: number, j: number): void {
    [this.d[i], this.d[j]] = [this.d[j] as number, this.d[i] as number];
    [this.items[i], this.items[j]] = [
      this.items[j] as { a: number; b: number; va: number; vb: number },
      this.items[i] as { a: number; b: number; va: number; vb: number },
    ];
  }
}
