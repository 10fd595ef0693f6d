/**
 * How well clusters match true identities. Faces left unassigned (label −1) and clusters of one face
 * (no person is shown for them) count as singletons: right for a one-off face, a miss for a face
 * whose person appears elsewhere.
 */

export interface PeopleMetrics {
  bcubedPrecision: number;
  bcubedRecall: number;
  bcubedF: number;
  pairwisePrecision: number;
  pairwiseRecall: number;
  /** Clusters of at least two faces (the people the app would show). */
  clusters: number;
  /** Distinct true identities. */
  identities: number;
  /** Faces in no cluster of two or more. */
  unassigned: number;
  faces: number;
}

export function peopleMetrics(truth: readonly string[], labels: ArrayLike<number>): PeopleMetrics {
  const n = truth.length;
  const sizes = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const l = labels[i] as number;
    if (l >= 0) sizes.set(l, (sizes.get(l) ?? 0) + 1);
  }
  // Singletons and unassigned faces get labels of their own.
  const cluster = Array.from({ length: n }, (_, i) => {
    const l = labels[i] as number;
    return l >= 0 && (sizes.get(l) ?? 0) >= 2 ? `c${l}` : `u${i}`;
  });
  const count = <K>(keys: readonly K[]) => {
    const m = new Map<K, number>();
    for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
    return m;
  };
  const both = count(cluster.map((c, i) => `${c}\u0000${truth[i]}`));
  const byCluster = count(cluster);
  const byTruth = count(truth);
  let p = 0;
  let r = 0;
  for (let i = 0; i < n; i++) {
    const inBoth = both.get(`${cluster[i]}\u0000${truth[i]}`) as number;
    p += inBoth / (byCluster.get(cluster[i] as string) as number);
    r += inBoth / (byTruth.get(truth[i] as string) as number);
  }
  const pairs = (m: Map<unknown, number>) => [...m.values()].reduce((s, v) => s + (v * (v - 1)) / 2, 0);
  const tp = pairs(both);
  const predicted = pairs(byCluster);
  const actual = pairs(byTruth);
  const bp = n ? p / n : 1;
  const br = n ? r / n : 1;
  return {
    bcubedPrecision: bp,
    bcubedRecall: br,
    bcubedF: bp + br > 0 ? (2 * bp * br) / (bp + br) : 0,
    pairwisePrecision: predicted > 0 ? tp / predicted : 1,
    pairwiseRecall: actual > 0 ? tp / actual : 1,
    clusters: [...sizes.values()].filter((s) => s >= 2).length,
    identities: byTruth.size,
    unassigned: cluster.filter((c) => c.startsWith('u')).length,
    faces: n,
  };
}
