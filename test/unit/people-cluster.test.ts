/**
 * Clustering on synthetic identities (no research data): tight groups far apart are recovered by every
 * algorithm; the metrics give known values on hand-made labelings; the IVF index finds what a full
 * scan finds.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GRAPH_INDEX, cluster } from '../../main/people/cluster.js';
import { peopleMetrics } from '../../main/people/metrics.js';
import { IvfIndex, VectorSet, bruteForce } from '../../main/people/vectors.js';

function rng(seed: number) {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1_103_515_245) + 12_345) >>> 0; // integer LCG: a float product loses bits and cycles
    return s / 4_294_967_296;
  };
}

/** `people` identities of `per` faces each, plus `singles` one-off faces: centres ~N(0, 1/√dim·σ), faces jittered. */
function synthetic(people: number, per: number, singles: number, seed = 1) {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  const dim = 128;
  const centre = () => Float32Array.from({ length: dim }, () => gauss() * 0.08);
  const vectors: Float32Array[] = [];
  const truth: string[] = [];
  for (let p = 0; p < people; p++) {
    const c = centre();
    for (let i = 0; i < per; i++) {
      vectors.push(c.map((v) => v + gauss() * 0.015));
      truth.push(`p${p}`);
    }
  }
  for (let s = 0; s < singles; s++) {
    vectors.push(centre());
    truth.push(`s${s}`);
  }
  return { set: VectorSet.from(vectors), truth };
}

describe('people clustering', () => {
  test('metrics: perfect, all-in-one and all-apart labelings', () => {
    const truth = ['a', 'a', 'b', 'b', 'c'];
    const perfect = peopleMetrics(truth, [0, 0, 1, 1, 2]);
    assert.equal(perfect.bcubedF, 1);
    assert.equal(perfect.pairwisePrecision, 1);
    assert.equal(perfect.clusters, 2);
    assert.equal(perfect.unassigned, 1);
    assert.equal(perfect.identities, 3);
    const one = peopleMetrics(truth, [0, 0, 0, 0, 0]);
    assert.equal(one.bcubedRecall, 1);
    assert.equal(one.pairwisePrecision, 2 / 10);
    const apart = peopleMetrics(truth, [-1, -1, -1, -1, -1]);
    assert.equal(apart.bcubedPrecision, 1);
    assert.equal(apart.pairwiseRecall, 0);
    assert.equal(apart.bcubedRecall, (0.5 * 4 + 1) / 5);
  });

  for (const algorithm of ['average', 'whispers', 'vote', 'components'] as const) {
    test(`${algorithm} recovers well separated identities`, () => {
      const { set, truth } = synthetic(20, 8, 40);
      const m = peopleMetrics(truth, cluster(set, { algorithm, threshold: 0.5 }));
      assert.ok(m.bcubedF > 0.99, `${algorithm}: F ${m.bcubedF}`);
      assert.ok(m.pairwisePrecision > 0.99, `${algorithm}: pairwise precision ${m.pairwisePrecision}`);
    });
  }

  test('excluded faces stay unassigned', () => {
    const { set } = synthetic(3, 4, 0);
    const labels = cluster(set, { algorithm: 'average', threshold: 0.5, excluded: new Set([0, 5]) });
    assert.equal(labels[0], -1);
    assert.equal(labels[5], -1);
    assert.equal(labels[1], labels[2]);
  });

  test('the IVF index finds the same nearest neighbours as a full scan', () => {
    const { set } = synthetic(2000, 6, 8000, 7);
    const index = new IvfIndex(set, { exactBelow: 1000, ...GRAPH_INDEX });
    for (let i = 0; i < set.count; i++) index.add(i);
    index.build();
    let found = 0;
    let total = 0;
    for (let q = 0; q < set.count; q += 97) {
      const exact = bruteForce(set, set.row(q), 5, 0.5, q).map((n) => n.index);
      const approx = new Set(index.search(set.row(q), 5, 0.5, q).map((n) => n.index));
      total += exact.length;
      found += exact.filter((i) => approx.has(i)).length;
    }
    assert.ok(total > 0);
    assert.ok(found / total > 0.97, `recall of the index: ${found}/${total}`);
  });
});
