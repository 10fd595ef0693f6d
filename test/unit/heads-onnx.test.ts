import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import ort from 'onnxruntime-node';
import { TASK_OUTPUTS, type HeadTask } from '../../main/engine/attributes/heads.js';
import { decodeHeadsOnnx, exportHeadsOnnx } from '../../main/learning/onnx.js';
import { predict } from '../../main/learning/model.js';
import { DEFAULT_TRAIN, trainHeads } from '../../main/learning/train.js';
import { Rng } from '../../main/learning/rng.js';
import { syntheticDataset } from '../helpers/heads-synthetic.js';

for (const hidden of [0, 24]) {
  test(`ONNX export (hidden ${hidden}) computes the TypeScript forward pass to 1e-5 and reads back exactly`, async () => {
    const data = syntheticDataset(600, 20, 4);
    const r = trainHeads(data, { ...DEFAULT_TRAIN, hidden, epochs: 3, flipAugment: false });
    const bytes = exportHeadsOnnx(r.config, r.params);
    const session = await ort.InferenceSession.create(bytes);
    assert.deepEqual([...session.inputNames], ['embedding']);
    assert.deepEqual([...session.outputNames], ['age_group', 'gender', 'ethnicity', 'emotion']);
    const rng = new Rng(8);
    const n = 64;
    // Raw (unstandardised) embeddings, off the training distribution too.
    const x = new Float32Array(n * 20).map(() => rng.normal() * 3 + 0.5);
    const out = await session.run({ embedding: new ort.Tensor('float32', x, [n, 20]) });
    const ts = predict(r.config, r.params, x, n);
    let worst = 0;
    r.config.tasks.forEach((task, t) => {
      const onnx = out[TASK_OUTPUTS[task.name as HeadTask]]!.data as Float32Array;
      assert.equal(onnx.length, ts[t]!.length);
      onnx.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - ts[t]![i]!))));
    });
    assert.ok(worst <= 1e-5, `largest difference ${worst}`);
    await session.release();

    const back = decodeHeadsOnnx(bytes);
    assert.deepEqual(back.config, r.config);
    assert.deepEqual(back.params.W1, r.params.W1);
    assert.deepEqual(back.params.W, r.params.W);
    assert.deepEqual(back.params.mean, r.params.mean);
  });
}

test('the same seed gives the same ONNX bytes', () => {
  const data = syntheticDataset(300, 12, 2);
  const sha = (seed: number) => {
    const r = trainHeads(data, { ...DEFAULT_TRAIN, hidden: 8, epochs: 2, seed });
    return createHash('sha256')
      .update(exportHeadsOnnx(r.config, r.params, { seed: String(seed) }))
      .digest('hex');
  };
  assert.equal(sha(3), sha(3));
  assert.notEqual(sha(3), sha(4));
});
