/**
 * Identity vectors in memory: Euclidean distance (dlib's face recognition network is trained so that
 * two faces of one person lie within about 0.6 of each other) and a coarse inverted-file index that
 * keeps nearest-neighbour search sub-linear for libraries of a million faces.
 *
 * Why not sqlite-vec: its vec0 tables answer k-NN by a full scan — measured (scripts/people-sqlite-vec.ts,
 * docs/people.md) at 12 ms a query at 100,000 faces and 174 ms at 1,000,000, far above the 10 and 50 ms an
 * incremental assignment may take; the vectors live in the library as plain BLOBs and are searched here.
 */

export function distance2(a: Float32Array, ao: number, b: Float32Array, bo: number, dim: number): number {
  let s = 0;
  for (let k = 0; k < dim; k++) {
    const d = (a[ao + k] as number) - (b[bo + k] as number);
    s += d * d;
  }
  return s;
}

export function distance(a: Float32Array, b: Float32Array): number {
  return Math.sqrt(distance2(a, 0, b, 0, a.length));
}

export interface Neighbour {
  /** Index of the vector in the set. */
  index: number;
  distance: number;
}

/** Keeps the k smallest distances seen (a small sorted array: k is tens). */
class TopK {
  readonly items: Neighbour[] = [];
  constructor(readonly k: number) {}
  get worst(): number {
    return this.items.length < this.k ? Infinity : (this.items[this.items.length - 1] as Neighbour).distance;
  }
  push(index: number, d: number): void {
    if (d >= this.worst) return;
    let i = this.items.length;
    if (i === this.k) this.items.pop();
    i = this.items.length;
    while (i > 0 && (this.items[i - 1] as Neighbour).distance > d) i--;
    this.items.splice(i, 0, { index, distance: d });
  }
}

/** Vectors packed in one Float32Array (row i at i × dim). */
export class VectorSet {
  data: Float32Array;
  count = 0;
  constructor(
    readonly dim: number,
    capacity = 1024,
  ) {
    this.data = new Float32Array(dim * Math.max(1, capacity));
  }

  static from(vectors: readonly Float32Array[], dim = vectors[0]?.length ?? 128): VectorSet {
    const set = new VectorSet(dim, vectors.length);
    for (const v of vectors) set.add(v);
    return set;
  }

  add(v: Float32Array): number {
    if (v.length !== this.dim) throw new Error(`vector of ${v.length} dimensions in a set of ${this.dim}`);
    if ((this.count + 1) * this.dim > this.data.length) {
      const grown = new Float32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data.set(v, this.count * this.dim);
    return this.count++;
  }

  row(i: number): Float32Array {
    return this.data.subarray(i * this.dim, (i + 1) * this.dim);
  }
}

/** Exact k nearest neighbours of `q` within `radius` (a full scan). */
export function bruteForce(set: VectorSet, q: Float32Array, k: number, radius = Infinity, skip = -1): Neighbour[] {
  const top = new TopK(k);
  const r2 = radius * radius;
  for (let i = 0; i < set.count; i++) {
    if (i === skip) continue;
    const d = distance2(set.data, i * set.dim, q, 0, set.dim);
    if (d < r2) top.push(i, d);
  }
  return top.items.map((n) => ({ index: n.index, distance: Math.sqrt(n.distance) }));
}

/**
 * An inverted-file index: vectors filed under the nearest of `lists` coarse centroids (k-means on a
 * sample); a query scans the `probes` lists whose centroids are nearest. Below `exactBelow` vectors it
 * is a plain full scan. Faces of one person sit well within one list's radius, so few probes find them.
 */
export class IvfIndex {
  private centroids: Float32Array | null = null;
  private lists: number[][] = [];
  private readonly pending: number[] = [];
  /** Every vector filed (the set may hold others, not yet or never filed). */
  private readonly members: number[] = [];

  constructor(
    readonly set: VectorSet,
    readonly options: { exactBelow?: number; probes?: number; listSize?: number; seed?: number } = {},
  ) {}

  /** Files vector `i` of the set (call after adding it to the set). */
  add(i: number): void {
    this.members.push(i);
    if (!this.centroids) {
      this.pending.push(i);
      if (this.members.length >= (this.options.exactBelow ?? 20_000)) this.build();
      return;
    }
    (this.lists[this.nearestCentroids(this.set.row(i), 1)[0] as number] as number[]).push(i);
    // Lists stay about listSize long: retrain once the set has doubled since the last training.
    if (this.members.length >= 2 * this.builtAt) this.build();
  }

  private builtAt = 0;

  /** The vectors filed so far (set rows). */
  get filed(): readonly number[] {
    return this.members;
  }

  /**
   * Files many vectors at once without training (train them with knn.ts' trainIndex, which calls
   * install): filing a library's faces one by one would retrain on every doubling, in JavaScript.
   */
  fileAll(rows: Iterable<number>): void {
    for (const i of rows) {
      this.members.push(i);
      if (this.centroids) (this.lists[this.nearestCentroids(this.set.row(i), 1)[0] as number] as number[]).push(i);
      else this.pending.push(i);
    }
  }

  /** Takes centroids and lists trained elsewhere (every filed vector in exactly one list). */
  install(centroids: Float32Array, lists: number[][]): void {
    this.centroids = centroids;
    this.lists = lists;
    this.pending.length = 0;
    this.builtAt = this.members.length;
  }

  /** (Re)trains the coarse centroids on a sample of the filed vectors and files them again. */
  build(): void {
    const n = this.members.length;
    if (n === 0) return;
    const dim = this.set.dim;
    const nLists = Math.max(1, Math.round(n / (this.options.listSize ?? 1000)));
    let seed = this.options.seed ?? 1;
    const rand = () => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0; // integer LCG: a float product loses bits and cycles
      return seed / 4_294_967_296;
    };
    const sample = Array.from(
      { length: Math.min(n, nLists * 40) },
      () => this.members[Math.floor(rand() * n)] as number,
    );
    const centroids = new Float32Array(nLists * dim);
    for (let c = 0; c < nLists; c++) centroids.set(this.set.row(sample[c % sample.length] as number), c * dim);
    this.centroids = centroids;
    for (let iter = 0; iter < 6; iter++) {
      const sums = new Float64Array(nLists * dim);
      const counts = new Uint32Array(nLists);
      for (const i of sample) {
        const c = this.nearestCentroids(this.set.row(i), 1)[0] as number;
        counts[c] = (counts[c] as number) + 1;
        for (let k = 0; k < dim; k++)
          sums[c * dim + k] = (sums[c * dim + k] as number) + (this.set.data[i * dim + k] as number);
      }
      for (let c = 0; c < nLists; c++) {
        const m = counts[c] as number;
        if (m > 0) for (let k = 0; k < dim; k++) centroids[c * dim + k] = (sums[c * dim + k] as number) / m;
      }
    }
    this.lists = Array.from({ length: nLists }, () => []);
    for (const i of this.members)
      (this.lists[this.nearestCentroids(this.set.row(i), 1)[0] as number] as number[]).push(i);
    this.pending.length = 0;
    this.builtAt = n;
  }

  private nearestCentroids(q: Float32Array, m: number): number[] {
    const c = this.centroids as Float32Array;
    const top = new TopK(m);
    const dim = this.set.dim;
    for (let j = 0; j * dim < c.length; j++) top.push(j, distance2(c, j * dim, q, 0, dim));
    return top.items.map((t) => t.index);
  }

  /** The k nearest filed vectors to `q` within `radius` (approximate once the index is built). */
  search(q: Float32Array, k: number, radius = Infinity, skip = -1): Neighbour[] {
    const r2 = radius * radius;
    const top = new TopK(k);
    const dim = this.set.dim;
    const scan = (list: readonly number[]) => {
      for (const i of list) {
        if (i === skip) continue;
        const d = distance2(this.set.data, i * dim, q, 0, dim);
        if (d < r2) top.push(i, d);
      }
    };
    if (!this.centroids) scan(this.pending);
    else for (const l of this.nearestCentroids(q, this.options.probes ?? 8)) scan(this.lists[l] as number[]);
    return top.items.map((n) => ({ index: n.index, distance: Math.sqrt(n.distance) }));
  }
}
