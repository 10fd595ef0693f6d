/**
 * The engine running heads: an assignment naming 'heads' or an ensemble with them ('gear+heads') on a
 * real photo, with heads trained here on synthetic 128-d embeddings (the real ones come from
 * `facets train-heads` on research data and are not committed).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { DEFAULT_ASSIGNMENT, FaceAnalyzer } from '../../main/engine/analyzer.js';
import { ETHNICITIES } from '../../main/engine/attributes/labels.js';
import { ModelStore } from '../../main/engine/sessions.js';
import { exportHeadsOnnx } from '../../main/learning/onnx.js';
import { installHeads } from '../../main/learning/store.js';
import { DEFAULT_TRAIN, trainHeads } from '../../main/learning/train.js';
import { ROOT } from '../helpers/cli.js';
import { syntheticDataset } from '../helpers/heads-synthetic.js';

let dir: string;
const saved = process.env['FACETS_HEADS_DIR'];
before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'facets-heads-'));
  process.env['FACETS_HEADS_DIR'] = dir;
});
after(() => {
  if (saved === undefined) delete process.env['FACETS_HEADS_DIR'];
  else process.env['FACETS_HEADS_DIR'] = saved;
  rmSync(dir, { recursive: true, force: true });
});

test('assignments naming heads, alone or in an ensemble, run on a real photo; the default takes them where measured better', async () => {
  const store = new ModelStore();
  const r = trainHeads(syntheticDataset(800, 128, 1, { noBlack: true }), { ...DEFAULT_TRAIN, hidden: 16, epochs: 2 });
  const score = (accuracy: number) => ({ accuracy, count: 100 });
  installHeads(exportHeadsOnnx(r.config, r.params), {
    createdAt: new Date().toISOString(),
    origin: 'dataset',
    seed: 1,
    embedding: {
      models: ['facenet128'],
      recipe: { method: 'align', margin: 1, template: 'utkface' },
      taskRecipes: { emotion: { method: 'align', margin: 1, template: 'fer' } },
      flip: true,
      dim: 128,
      networks: [{ name: 'facenet128', sha256: store.entry('facenet128').sha256, dim: 128 }],
    },
    tasks: ['age', 'gender', 'ethnicity', 'emotion'],
    unseen: { ethnicity: ['black'] },
    ageGroupYears: [1, 6, 15, 25, 35, 45, 55, 65, 78],
    training: {},
    data: {},
    dev: {
      ethnicity: {
        set: 'dev',
        candidates: { 'default:gear': score(0.6), 'gear+heads': score(0.7) },
        choice: 'gear+heads',
      },
    },
  });
  const photo = path.join(ROOT, 'node_modules/@vladmandic/face-api/demo/sample1.jpg');
  const analyzer = new FaceAnalyzer(store, {
    assignment: { age: 'heads', gender: 'heads', ethnicity: 'gear+heads', emotion: 'heads' },
  });
  const result = await analyzer.analyze(photo);
  assert.ok(result.faces.length >= 2);
  for (const f of result.faces) {
    assert.equal(f.age?.model.name, 'heads');
    assert.match(f.age?.model.version ?? '', /^\d+\.\d+\.\d+\+[0-9a-f]{12}$/);
    assert.ok(f.age && f.age.years > 0 && f.age.years < 100);
    assert.ok(f.gender && f.gender.probability >= 0.5);
    assert.equal(f.ethnicity?.model.name, 'gear+heads');
    assert.ok(ETHNICITIES.includes(f.ethnicity!.label));
    assert.ok(Math.abs(Object.values(f.ethnicity!.probabilities).reduce((a, b) => a + b, 0) - 1) < 1e-5);
    assert.ok(f.emotion);
  }
  // No assignment given: ethnicity moves to gear+heads (recorded better), the rest stay.
  const defaults = new FaceAnalyzer(store);
  assert.equal(defaults.options.assignment.ethnicity, 'gear+heads');
  assert.equal(defaults.options.assignment.age, DEFAULT_ASSIGNMENT.age);
  assert.equal(defaults.options.assignment.emotion, DEFAULT_ASSIGNMENT.emotion);
  await store.release();
});
