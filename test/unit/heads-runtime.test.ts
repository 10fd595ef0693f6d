import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { combineEstimates, mixProbabilities } from '../../main/engine/attributes/ensemble.js';
import {
  type HeadsEntry,
  headsAttributes,
  measuredAssignment,
  readHeadsManifest,
  shippedHeadsDir,
} from '../../main/engine/attributes/heads.js';
import { mirrorCrops } from '../../main/engine/faces/crop.js';
import { installHeads, revertHeads } from '../../main/learning/store.js';

const ref = { name: 'm', version: '1' };

test('mixing probabilities: a model takes no part in labels it never saw', () => {
  // gear-like: knows all five; heads: never saw "black" (index 1).
  const gear = [0.1, 0.6, 0.1, 0.1, 0.1];
  const heads = [0.7, 0.0001, 0.1, 0.1, 0.0999];
  const mixed = mixProbabilities([
    { probabilities: gear },
    { probabilities: heads, unseen: [false, true, false, false, false] },
  ]);
  assert.ok(Math.abs(mixed.reduce((a, b) => a + b, 0) - 1) < 1e-9);
  assert.equal(mixed[1], 0.6, 'the unseen label keeps the knowing model’s mass');
  // The rest (0.4) is split by the average of the conditionals over the known labels.
  assert.ok(Math.abs(mixed[0]! - (0.4 * (0.25 + 0.7 / 0.9999)) / 2) < 1e-9);
  // No unseen labels: the plain average.
  assert.deepEqual(
    mixProbabilities([{ probabilities: [0.2, 0.8] }, { probabilities: [0.6, 0.4] }]),
    [0.4, 0.6000000000000001],
  );
});

test('combineEstimates honours unseen labels from heads estimates', () => {
  const a = combineEstimates('ethnicity', [
    {
      ethnicity: {
        label: 'black',
        probabilities: { white: 0.1, black: 0.6, asian: 0.1, indian: 0.1, other: 0.1 },
        model: ref,
      },
    },
    {
      ethnicity: {
        label: 'white',
        probabilities: { white: 0.9, black: 0, asian: 0.05, indian: 0.05, other: 0 },
        model: ref,
        unseen: ['black'],
      },
    },
  ]);
  assert.equal(a.ethnicity?.label, 'black');
  assert.equal(a.ethnicity?.probabilities.black, 0.6);
});

test('heads probabilities become attributes: group by argmax, years from group probabilities', () => {
  const age = [0, 0, 0, 0.2, 0.7, 0.1, 0, 0, 0];
  const a = headsAttributes(
    { age, gender: [0.3, 0.7], ethnicity: [0.5, 0, 0.3, 0.1, 0.1], emotion: [0, 0, 0, 0.9, 0, 0, 0.1] },
    { ageGroupYears: [1, 6, 15, 25, 35, 45, 55, 65, 78], unseen: { ethnicity: ['black'] } },
    ref,
  );
  assert.equal(a.age?.group, '30-39');
  assert.ok(Math.abs(a.age!.years - (0.2 * 25 + 0.7 * 35 + 0.1 * 45)) < 1e-9);
  assert.equal(a.gender?.label, 'female');
  assert.ok(Math.abs(a.gender!.probability - 0.7) < 1e-7);
  assert.equal(a.ethnicity?.label, 'white');
  assert.deepEqual(a.ethnicity?.unseen, ['black']);
  assert.equal(a.emotion?.label, 'happy');
});

test('mirroring crops in place flips each row', () => {
  const size = 3;
  const data = Float32Array.from({ length: 2 * size * size * 2 }, (_, i) => i);
  const copy = data.slice();
  mirrorCrops(data, 2, size, 2);
  // Crop 1, row 0, pixel 0 ← pixel 2.
  assert.deepEqual([...data.subarray(0, 2)], [...copy.subarray(4, 6)]);
  mirrorCrops(data, 2, size, 2);
  assert.deepEqual(data, copy);
});

function entry(dev: HeadsEntry['dev']): Omit<HeadsEntry, 'file' | 'sha256'> {
  return {
    createdAt: '2024-01-01T00:00:00Z',
    origin: 'dataset',
    seed: 1,
    embedding: { models: ['facenet128'], recipe: { method: 'box', margin: 1 }, flip: false, dim: 2, networks: [] },
    tasks: ['age', 'gender', 'ethnicity'],
    unseen: {},
    ageGroupYears: [],
    training: {},
    data: {},
    dev,
  };
}

test('the engine takes the heads for an attribute only when present and measured better than the default', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'facets-heads-'));
  try {
    const base = { age: 'faceapi-age-gender', gender: 'faceapi-age-gender', ethnicity: 'gear', emotion: 'emotion' };
    assert.deepEqual(measuredAssignment(base, dir), base, 'no heads: the defaults');
    const score = (accuracy: number) => ({ accuracy, count: 100 });
    installHeads(
      new Uint8Array([1, 2, 3]),
      entry({
        ethnicity: {
          set: 'dev',
          candidates: { 'default:gear': score(0.6), 'gear+heads': score(0.7), heads: score(0.65) },
          choice: 'gear+heads',
        },
        gender: {
          set: 'dev',
          candidates: { 'default:faceapi-age-gender': score(0.9), heads: score(0.85) },
          choice: 'faceapi-age-gender',
        },
        age: { set: 'dev', candidates: { 'default:faceres': score(0.5), heads: score(0.6) }, choice: 'heads' },
      }),
      dir,
    );
    const chosen = measuredAssignment(base, dir);
    assert.equal(chosen.ethnicity, 'gear+heads');
    assert.equal(chosen.gender, 'faceapi-age-gender', 'the default network measured better');
    assert.equal(chosen.age, 'faceapi-age-gender', 'no measurement of the current default: keep it');
    assert.equal(chosen.emotion, 'emotion');
    // Heads file gone: defaults.
    rmSync(path.join(dir, 'heads-039058c6f2c0cb49.onnx'), { force: true });
    assert.deepEqual(measuredAssignment(base, dir), base);
    // A corrupt manifest never breaks the engine.
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'manifest.json'), '{');
    assert.deepEqual(measuredAssignment(base, dir), base);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('installing keeps the previous heads; revert restores them', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'facets-heads-'));
  try {
    const first = installHeads(new Uint8Array([1]), entry({}), dir);
    const second = installHeads(new Uint8Array([2]), { ...entry({}), origin: 'corrections' }, dir);
    assert.notEqual(first.file, second.file);
    assert.equal(revertHeads(dir).sha256, first.sha256);
    // Without shipped heads there is nothing before the first; with them, the first reverts to them.
    process.env['FACETS_SHIPPED_HEADS'] = 'off';
    assert.throws(() => revertHeads(dir), /no earlier heads/);
    delete process.env['FACETS_SHIPPED_HEADS'];
    const shipped = readHeadsManifest(shippedHeadsDir() as string)?.active;
    assert.ok(shipped, 'the repository ships heads');
    assert.equal(revertHeads(dir).sha256, shipped.sha256);
    assert.equal(readHeadsManifest(dir)?.active, null, "the user's folder is left with none active");
  } finally {
    delete process.env['FACETS_SHIPPED_HEADS'];
    rmSync(dir, { recursive: true, force: true });
  }
});
