/** Temperature scaling, expected calibration error and the uncertain threshold (research/heads/calibration.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { withTemperature } from '../../main/engine/attributes/heads.js';
import { mergeEthnicity7 } from '../../main/engine/attributes/labels.js';
import { calibrate, expectedCalibrationError, uncertainThreshold } from '../../research/heads/calibration.js';
import { Rng } from '../../main/learning/rng.js';

describe('calibration', () => {
  test('a temperature keeps the argmax and sharpens (T < 1) or softens (T > 1)', () => {
    const p = [0.6, 0.3, 0.1];
    const sharp = withTemperature(p, 0.5);
    const soft = withTemperature(p, 2);
    assert.ok((sharp[0] as number) > 0.6 && (soft[0] as number) < 0.6);
    for (const q of [sharp, soft]) {
      assert.ok(Math.abs(q.reduce((a, b) => a + b, 0) - 1) < 1e-6);
      assert.ok((q[0] as number) > (q[1] as number) && (q[1] as number) > (q[2] as number));
    }
    assert.deepEqual(Array.from(withTemperature(p, 1)), Array.from(Float32Array.from(p)));
  });

  test('ECE is 0 for a calibrated predictor and the gap for an overconfident one', () => {
    const pairs = Array.from({ length: 1000 }, (_, i) => ({ confidence: 0.7, right: i % 10 < 7 }));
    assert.ok(expectedCalibrationError(pairs) < 1e-9);
    const over = pairs.map((p) => ({ ...p, confidence: 0.95 }));
    assert.ok(Math.abs(expectedCalibrationError(over) - 0.25) < 1e-9);
  });

  test('fitting recovers a softening temperature for overconfident probabilities, and lowers ECE', () => {
    // Truth drawn from softened probabilities; the model reports them sharpened (raw = true^(1/0.5)).
    const rng = new Rng(7);
    const K = 4;
    const n = 3000;
    const probs = new Float32Array(n * K);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const logits = Array.from({ length: K }, () => rng.next() * 3);
      const truth = withTemperature(
        logits.map((l) => Math.exp(l)),
        1,
      );
      const norm = truth.reduce((a, b) => a + b, 0);
      let u = rng.next() * norm;
      let y = 0;
      while (y < K - 1 && (u -= truth[y] as number) > 0) y++;
      labels[i] = y;
      probs.set(withTemperature(truth, 0.5), i * K);
    }
    const c = calibrate(probs, labels, K);
    assert.ok(c);
    assert.ok(c.temperature > 1.6 && c.temperature < 2.5, `temperature ${c.temperature}`);
    assert.ok(c.eceAfter < c.eceBefore, `${c.eceAfter} < ${c.eceBefore}`);
  });

  test('the uncertain threshold is where the running accuracy reaches the bar', () => {
    // Right exactly when confidence ≥ 0.5: below it the estimates are always wrong.
    const pairs = Array.from({ length: 400 }, (_, i) => ({ confidence: i / 400, right: i >= 200 }));
    const t = uncertainThreshold(pairs, 0.6);
    assert.ok(t > 0.4 && t < 0.55, `threshold ${t}`);
  });

  test('seven FairFace classes merge into the five', () => {
    // white, black, east_asian, southeast_asian, indian, middle_eastern, latino_hispanic
    const five = mergeEthnicity7([0.1, 0.1, 0.2, 0.1, 0.1, 0.25, 0.15]);
    const expected = [0.1, 0.1, 0.3, 0.1, 0.4];
    five.forEach((v, i) => assert.ok(Math.abs(v - (expected[i] as number)) < 1e-9));
  });
});
