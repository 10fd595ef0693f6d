/**
 * Calibration of the heads' probabilities on the dev sets: one temperature per attribute (temperature
 * scaling: p ∝ p_raw^(1/T), the same as dividing the logits by T, so the argmax — and accuracy — never
 * changes), the expected calibration error before and after, and the per-attribute confidence below
 * which an estimate is marked uncertain.
 *
 * [Note: uncertain means the same] An estimate is "uncertain" where, on the dev sets, estimates of that
 * attribute at that calibrated confidence were right less than UNCERTAIN_ACCURACY of the time — the
 * same meaning for every attribute, a different confidence threshold for each (binary gender at 0.6 is
 * a coin toss; nine age groups at 0.6 are not).
 */

import { type Calibration, type HeadTask, TASK_LABELS, withTemperature } from '../../main/engine/attributes/heads.js';
import type { Dataset } from '../../main/learning/data.js';
import { type ModelConfig, type Params, predict } from '../../main/learning/model.js';

export type { Calibration };

/** Estimates right less often than this (on the dev sets, at their confidence) are marked uncertain. */
export const UNCERTAIN_ACCURACY = 0.6;

/** Expected calibration error of (confidence, right) pairs over `bins` equal-width bins. */
export function expectedCalibrationError(pairs: readonly { confidence: number; right: boolean }[], bins = 15): number {
  if (pairs.length === 0) return NaN;
  const sums = Array.from({ length: bins }, () => ({ n: 0, conf: 0, right: 0 }));
  for (const { confidence, right } of pairs) {
    const b = sums[Math.min(bins - 1, Math.floor(confidence * bins))] as { n: number; conf: number; right: number };
    b.n++;
    b.conf += confidence;
    b.right += right ? 1 : 0;
  }
  let ece = 0;
  for (const b of sums) if (b.n > 0) ece += (b.n / pairs.length) * Math.abs(b.conf / b.n - b.right / b.n);
  return ece;
}

/**
 * The confidence below which estimates are right less than `accuracy` of the time: estimates sorted by
 * confidence, a window of a tenth of them (at least 20) slides up from the least confident; the
 * threshold is the lowest confidence of the first window whose accuracy reaches `accuracy`.
 */
export function uncertainThreshold(
  pairs: readonly { confidence: number; right: boolean }[],
  accuracy = UNCERTAIN_ACCURACY,
): number {
  const sorted = [...pairs].sort((a, b) => a.confidence - b.confidence);
  const window = Math.max(20, Math.round(sorted.length / 10));
  if (sorted.length < window) return accuracy;
  let right = 0;
  for (let i = 0; i < sorted.length; i++) {
    right += sorted[i]?.right ? 1 : 0;
    if (i >= window) right -= sorted[i - window]?.right ? 1 : 0;
    // The window ending here: its accuracy reaches the bar → confidences from its start on count as sure.
    if (i >= window - 1 && right / window >= accuracy)
      return (sorted[i - window + 1] as { confidence: number }).confidence;
  }
  return 1;
}

/**
 * Fits one temperature to probability rows (n × K) against labels (−1 = unknown) by the negative log
 * likelihood over a grid (0.5–4), and reports ECE before/after and the uncertain threshold.
 */
export function calibrate(probs: Float32Array, labels: Int32Array, K: number): Calibration | undefined {
  const rows: number[] = [];
  labels.forEach((y, i) => y >= 0 && rows.push(i));
  if (rows.length < 50) return undefined;
  const nll = (t: number) => {
    let sum = 0;
    for (const i of rows) {
      const p = withTemperature(probs.subarray(i * K, (i + 1) * K), t);
      sum -= Math.log(Math.max(p[labels[i] as number] as number, 1e-12));
    }
    return sum / rows.length;
  };
  let best = 1;
  let bestLoss = nll(1);
  for (let t = 0.5; t <= 4.0001; t += 0.05) {
    const loss = nll(t);
    if (loss < bestLoss - 1e-9) {
      bestLoss = loss;
      best = Math.round(t * 100) / 100;
    }
  }
  const pairsAt = (t: number) =>
    rows.map((i) => {
      const p = withTemperature(probs.subarray(i * K, (i + 1) * K), t);
      let arg = 0;
      for (let k = 1; k < K; k++) if ((p[k] as number) > (p[arg] as number)) arg = k;
      return { confidence: p[arg] as number, right: arg === labels[i] };
    });
  const after = pairsAt(best);
  return {
    temperature: best,
    eceBefore: expectedCalibrationError(pairsAt(1)),
    eceAfter: expectedCalibrationError(after),
    uncertainBelow: uncertainThreshold(after),
    count: rows.length,
  };
}

/** Calibration of each task of trained heads, pooled over the dev sets labelled for it. */
export function calibrateOnDev(
  config: ModelConfig,
  params: Params,
  devSets: readonly Dataset[],
  tasks: readonly HeadTask[],
): Partial<Record<HeadTask, Calibration>> {
  const out: Partial<Record<HeadTask, Calibration>> = {};
  const predictions = devSets.map((d) => predict(config, params, d.x, d.n));
  for (const task of tasks) {
    const ti = config.tasks.findIndex((t) => t.name === task);
    if (ti < 0) continue;
    const K = TASK_LABELS[task].length;
    const probs: number[] = [];
    const labels: number[] = [];
    devSets.forEach((d, di) => {
      const y = d.labels[d.tasks.indexOf(task)];
      if (!y) return;
      const p = predictions[di]?.[ti] as Float32Array;
      for (let i = 0; i < d.n; i++) {
        if ((y[i] as number) < 0) continue;
        labels.push(y[i] as number);
        for (let k = 0; k < K; k++) probs.push(p[i * K + k] as number);
      }
    });
    const c = calibrate(Float32Array.from(probs), Int32Array.from(labels), K);
    if (c) out[task] = c;
  }
  return out;
}
