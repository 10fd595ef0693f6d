/**
 * The re-cluster's neighbour graph on onnxruntime ([Note: neighbour graph on onnxruntime]): exact below
 * EXACT_BELOW faces, and through its inverted lists it finds what a full scan finds; the product's
 * re-cluster (clusterFaces) recovers synthetic identities with it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clusterFaces } from '../../main/people/cluster.js';
import { EXACT_BELOW, GRAPH_LISTS, knnGraph, trainIndex } from '../../main/people/knn.js';
import { peopleMetrics } from '../../main/people/metrics.js';
import { IvfIndex, VectorSet, bruteForce } from '../../main/people/vectors.js';

function synthetic(faces: number, seed = 7): { set: VectorSet; truth: string[] } {
  let s = seed;
  const r = () => {
    s = (Math.imul(s, 1_103_515_245) + 12_345) >>> 0;
    return s / 4_294_967_296;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  const set = new VectorSet(128, faces);
  const truth: string[] = [];
  const v = new Float32Array(128);
  for (let id = 0; set.count < faces; id++) {
    const size = r() < 0.25 ? 1 : 1 + Math.floor(30 * r() ** 2);
    const centre = Float32Array.from({ length: 128 }, () => gauss() * 0.0625);
    for (let i = 0; i < size && set.count < faces; i++) {
      for (let k = 0; k < 128; k++) v[k] = (centre[k] as number) + gauss() * 0.022;
      set.add(v);
      truth.push(`p${id}`);
    }
  }
  return { set, truth };
}

function recall(set: VectorSet, graph: { index: number; distance: number }[][], k: number, radius: number) {
  let found = 0;
  let total = 0;
  let worstError = 0;
  for (let i = 0; i < set.count; i += 7) {
    const got = new Map((graph[i] ?? []).map((n) => [n.index, n.distance]));
    for (const e of bruteForce(set, set.row(i), k, radius, i)) {
      total++;
      const d = got.get(e.index);
      if (d !== undefined) {
        found++;
        worstError = Math.max(worstError, Math.abs(d - e.distance));
      }
    }
    for (const n of graph[i] ?? []) assert.ok(n.index !== i && n.distance < radius, 'no self, nothing past the radius');
  }
  return { recall: found / total, total, worstError };
}

describe('neighbour graph on onnxruntime', () => {
  test('exact below EXACT_BELOW faces', async () => {
    const { set } = synthetic(1500);
    assert.ok(set.count < EXACT_BELOW);
    const r = recall(set, await knnGraph(set, 30, 0.64), 30, 0.64);
    assert.ok(r.total > 1000, `${r.total} neighbours checked`);
    assert.equal(r.recall, 1);
    assert.ok(r.worstError < 1e-4, `distances agree (${r.worstError})`);
  });

  test('through the inverted lists: what a full scan finds', async () => {
    const { set } = synthetic(EXACT_BELOW * 2);
    const r = recall(set, await knnGraph(set, 30, 0.64, GRAPH_LISTS), 30, 0.64);
    assert.ok(r.total > 5000, `${r.total} neighbours checked`);
    assert.ok(r.recall >= 0.99, `recall ${r.recall}`);
  });

  test('clusterFaces (the re-cluster) recovers the identities through the inverted lists', async () => {
    const { set, truth } = synthetic(EXACT_BELOW + 2000, 11);
    const m = peopleMetrics(truth, await clusterFaces(set, { algorithm: 'average', threshold: 0.52 }));
    assert.ok(m.pairwisePrecision >= 0.99, `pairwise precision ${m.pairwisePrecision}`);
    assert.ok(m.bcubedF >= 0.98, `BCubed F ${m.bcubedF}`);
  });

  test('an incremental index trained by the kernel finds what a full scan finds, and keeps filing', async () => {
    const { set } = synthetic(EXACT_BELOW * 2, 5);
    const index = new IvfIndex(set, { exactBelow: 1000, listSize: 300, probes: 8 });
    const first = set.count - 200;
    index.fileAll(Array.from({ length: first }, (_, i) => i));
    await trainIndex(index);
    for (let i = first; i < set.count; i++) index.add(i);
    let found = 0;
    let total = 0;
    for (let i = 0; i < set.count; i += 13) {
      const got = new Set(index.search(set.row(i), 30, 0.48, i).map((n) => n.index));
      for (const e of bruteForce(set, set.row(i), 30, 0.48, i)) {
        total++;
        if (got.has(e.index)) found++;
      }
    }
    assert.equal(index.filed.length, set.count);
    assert.ok(total > 1000, `${total} neighbours checked`);
    assert.ok(found / total >= 0.98, `recall ${found / total}`);
  });
});
