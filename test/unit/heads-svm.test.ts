import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../main/learning/rng.js';
import { predictMulticlass, rbfKernelMatrix, trainBinary, trainMulticlass } from '../../research/heads/svm.js';

function accuracy(votes: Float32Array, labels: Int32Array, K: number): number {
  let ok = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (votes[i * K + k]! > votes[i * K + best]!) best = k;
    if (best === labels[i]) ok++;
  }
  return ok / labels.length;
}

test('SVM-RBF separates a linearly separable two-class problem perfectly, with few support vectors', (t) => {
  const rng = new Rng(1);
  const n = 400;
  const x = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    labels[i] = c;
    x[i * 2] = (c ? 2 : -2) + rng.normal() * 0.5;
    x[i * 2 + 1] = rng.normal();
  }
  const started = performance.now();
  const K = rbfKernelMatrix(x, n, 2, 0.5);
  const svm = trainMulticlass(K, x, n, 2, labels, { C: 10, gamma: 0.5, tolerance: 1e-3, maxIterations: 100_000 });
  t.diagnostic(`${n} samples: ${svm.iterations} SMO iterations, ${(performance.now() - started).toFixed(0)} ms`);
  assert.equal(accuracy(predictMulticlass(svm, x, n, 2), labels, 2), 1);
  assert.ok(svm.pairs[0]!.model.support.length < n / 4, `${svm.pairs[0]!.model.support.length} support vectors`);
});

test('the SMO solution satisfies the KKT conditions and yᵀα = 0', () => {
  const rng = new Rng(2);
  const n = 120;
  const x = new Float32Array(n * 3).map(() => rng.normal());
  const y = Int8Array.from({ length: n }, (_, i) => (x[i * 3]! + 0.3 * x[i * 3 + 1]! > 0 ? 1 : -1));
  const K = rbfKernelMatrix(x, n, 3, 0.3);
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  const C = 1;
  const model = trainBinary(K, n, idx, y, new Float64Array(n).fill(C), 1e-4, 100_000);
  const alpha = new Float64Array(n);
  model.support.forEach((s, k) => (alpha[s] = model.coef[k]! * y[s]!));
  assert.ok(Math.abs(model.coef.reduce((a, b) => a + b, 0)) < 1e-6, 'yᵀα = 0');
  for (let i = 0; i < n; i++) {
    let f = model.bias;
    model.support.forEach((s, k) => (f += model.coef[k]! * K[s * n + i]!));
    const margin = y[i]! * f;
    if (alpha[i]! < 1e-8) assert.ok(margin >= 1 - 1e-2, `α=0 but margin ${margin}`);
    else if (alpha[i]! > C - 1e-8) assert.ok(margin <= 1 + 1e-2, `α=C but margin ${margin}`);
    else assert.ok(Math.abs(margin - 1) < 1e-2, `free vector with margin ${margin}`);
  }
});

test('RBF kernel solves what no line can: XOR, and three-class one-vs-one on held-out points', () => {
  const rng = new Rng(3);
  const make = (n: number) => {
    const x = new Float32Array(n * 2);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const a = rng.next() * 2 - 1;
      const b = rng.next() * 2 - 1;
      x[i * 2] = a;
      x[i * 2 + 1] = b;
      labels[i] = a * b > 0 ? 0 : 1;
    }
    return { x, labels };
  };
  const train = make(300);
  const held = make(200);
  const K = rbfKernelMatrix(train.x, 300, 2, 4);
  const svm = trainMulticlass(K, train.x, 300, 2, train.labels, {
    C: 10,
    gamma: 4,
    tolerance: 1e-3,
    maxIterations: 100_000,
  });
  assert.ok(accuracy(predictMulticlass(svm, held.x, 200, 2), held.labels, 2) > 0.93);

  const n = 450;
  const x = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  const centres = [
    [0, 0],
    [4, 0],
    [0, 4],
  ];
  for (let i = 0; i < n; i++) {
    labels[i] = i % 3;
    x[i * 2] = centres[i % 3]![0]! + rng.normal() * 0.6;
    x[i * 2 + 1] = centres[i % 3]![1]! + rng.normal() * 0.6;
  }
  const K3 = rbfKernelMatrix(x.subarray(0, 300 * 2), 300, 2, 0.5);
  const svm3 = trainMulticlass(K3, x.subarray(0, 600), 300, 2, labels.subarray(0, 300), {
    C: 1,
    gamma: 0.5,
    tolerance: 1e-3,
    maxIterations: 100_000,
  });
  assert.equal(svm3.pairs.length, 3);
  assert.ok(accuracy(predictMulticlass(svm3, x.subarray(600), 150, 3), labels.subarray(300), 3) > 0.97);
});
