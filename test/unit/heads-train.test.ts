import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ModelConfig, computeGradients, initParams, predict, taskWeights } from '../../main/learning/model.js';
import { Rng } from '../../main/learning/rng.js';
import { DEFAULT_TRAIN, trainHeads } from '../../main/learning/train.js';
import { syntheticDataset } from '../helpers/heads-synthetic.js';

const quick = { ...DEFAULT_TRAIN, hidden: 32, epochs: 12, batch: 64, flipAugment: false };

test('a small multi-task run with partial labels: every loss falls; dynamic weights positive and summing to 1', () => {
  const data = syntheticDataset(1500, 16, 7);
  const r = trainHeads(data, { ...quick, weighting: 'dynamic' });
  const first = r.history[0]!;
  const last = r.history.at(-1)!;
  data.tasks.forEach((task, t) => {
    assert.ok(last.losses[t]! < first.losses[t]! * 0.9, `${task}: ${first.losses[t]} → ${last.losses[t]}`);
  });
  for (const e of r.history) {
    const sum = e.weights.mean.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-6, `epoch ${e.epoch}: mean weights sum to ${sum}`);
    e.weights.min.forEach((w, t) => assert.ok(w > 0.02, `epoch ${e.epoch} task ${t}: weight ${w} collapsed`));
  }
});

test('dynamic weights of every batch are positive and sum to 1 (per sample and averaged)', () => {
  const data = syntheticDataset(300, 8, 3);
  const config: ModelConfig = {
    inputDim: 8,
    hidden: 16,
    tasks: data.tasks.map((t, i) => ({ name: t, classes: [9, 2, 5, 7][i]! })),
  };
  const rng = new Rng(1);
  const p = initParams(config, rng);
  // Nonzero weight unit, so the weights differ per sample.
  p.V.forEach((_, i) => (p.V[i] = rng.normal()));
  const B = 50;
  const h = new Float32Array(B * 16).map(() => Math.max(0, rng.normal()));
  const w = taskWeights(config, p, h, B);
  for (let i = 0; i < B; i++) {
    const row = w.subarray(i * 4, i * 4 + 4);
    assert.ok(row.every((v) => v > 0));
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  }
  const batch = { x: data.x.subarray(0, B * 8), size: B, labels: data.labels.map((l) => l.subarray(0, B)) };
  const { result } = computeGradients(
    config,
    p,
    batch,
    { weighting: 'dynamic', dropout: 0, weightDecay: 0 },
    [NaN, NaN, NaN, NaN],
    rng,
  );
  assert.ok(result.weights.every((v) => v > 0));
  assert.ok(Math.abs(result.weights.reduce((a, b) => a + b, 0) - 1) < 1e-6);
});

test('how the weights are learned: naive → easiest task, inverse-loss → hardest, dynamic stays inside', () => {
  const data = syntheticDataset(1500, 16, 11);
  const final = (weighting: 'dynamic' | 'dynamic-inverse' | 'dynamic-naive') =>
    trainHeads(data, { ...quick, epochs: 25, weighting }).history.at(-1)!.weights.mean;
  const naive = final('dynamic-naive');
  const gender = data.tasks.indexOf('gender');
  assert.ok(naive[gender]! > 0.9, `naive: weights ${naive} should collapse onto gender (the easiest task)`);
  const inverse = final('dynamic-inverse');
  assert.ok(Math.max(...inverse) > 0.8, `inverse-loss: weights ${inverse} should collapse onto one hard task`);
  assert.ok(inverse[gender]! < 0.05);
  const dynamic = final('dynamic');
  assert.ok(Math.max(...dynamic) < 0.6 && Math.min(...dynamic) > 0.05, `dynamic: weights ${dynamic}`);
});

test('gradients match finite differences (equal weights, no dropout)', () => {
  const data = syntheticDataset(40, 6, 5);
  const config: ModelConfig = {
    inputDim: 6,
    hidden: 5,
    tasks: data.tasks.map((t, i) => ({ name: t, classes: [9, 2, 5, 7][i]! })),
  };
  const p = initParams(config, new Rng(2));
  const B = 12;
  const batch = { x: data.x.subarray(0, B * 6), size: B, labels: data.labels.map((l) => l.subarray(0, B)) };
  const T = config.tasks.length;
  const loss = () => {
    const probs = predict(config, p, batch.x, B);
    let total = 0;
    batch.labels.forEach((labels, t) => {
      let s = 0;
      let c = 0;
      for (let i = 0; i < B; i++) {
        if (labels[i]! < 0) continue;
        s -= Math.log(probs[t]![i * config.tasks[t]!.classes + labels[i]!]!);
        c++;
      }
      if (c) total += s / c / T;
    });
    return total;
  };
  const { grads } = computeGradients(
    config,
    p,
    batch,
    { weighting: 'equal', dropout: 0, weightDecay: 0 },
    new Array(T).fill(NaN),
    new Rng(1),
  );
  let worst = 0;
  const check = (values: Float32Array, g: Float32Array) => {
    for (let i = 0; i < values.length; i++) {
      const old = values[i]!;
      values[i] = old + 1e-3;
      const up = loss();
      values[i] = old - 1e-3;
      const down = loss();
      values[i] = old;
      worst = Math.max(worst, Math.abs((up - down) / 2e-3 - g[i]!));
    }
  };
  check(p.W1, grads.W1);
  check(p.b1, grads.b1);
  p.W.forEach((w, t) => check(w, grads.W[t]!));
  p.b.forEach((b, t) => check(b, grads.b[t]!));
  assert.ok(worst < 1e-3, `largest gradient error ${worst}`);
});

test('training is deterministic given a seed', () => {
  const data = syntheticDataset(400, 8, 9);
  const a = trainHeads(data, { ...quick, epochs: 3, seed: 4, flipAugment: true });
  const b = trainHeads(data, { ...quick, epochs: 3, seed: 4, flipAugment: true });
  assert.deepEqual(a.params.W1, b.params.W1);
  assert.deepEqual(a.params.W, b.params.W);
  const c = trainHeads(data, { ...quick, epochs: 3, seed: 5 });
  assert.notDeepEqual(a.params.W1, c.params.W1);
});

test('equal weighting: every task weighs 1/T', () => {
  const data = syntheticDataset(300, 8, 1);
  const r = trainHeads(data, { ...quick, epochs: 2, weighting: 'equal' });
  for (const w of r.history.at(-1)!.weights.mean) assert.ok(Math.abs(w - 0.25) < 1e-9);
});
