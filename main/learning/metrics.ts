/**
 * Evaluation metrics: detection (greedy matching at an IoU threshold, recall, precision, VOC-style
 * average precision, false positives per image) and classification (accuracy, per-class recall,
 * confusion matrix, age error).
 */
import { ageGroupIndex } from '../engine/attributes/labels.js';

export interface Rect {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** Continuous IoU of corner boxes (no +1 pixel convention: annotation boxes are real-valued). */
export function iou(a: Rect, b: Rect): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / ((a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter);
}

export interface ImageDetections {
  truth: Rect[];
  predicted: (Rect & { score: number })[];
}

export interface DetectionMetrics {
  recall: number;
  precision: number;
  ap: number;
  falsePositivesPerImage: number;
  truePositives: number;
  falsePositives: number;
  faces: number;
  images: number;
  /** Per ground-truth face, in input order: matched or not. */
  matched: boolean[][];
}

/**
 * Matches predictions to ground truth per image, best score first, each truth used once; a prediction
 * is a true positive when its best still-free truth overlaps at ≥ `threshold` IoU.
 */
export function detectionMetrics(images: readonly ImageDetections[], threshold: number): DetectionMetrics {
  const scored: { score: number; tp: boolean }[] = [];
  const matched: boolean[][] = [];
  let faces = 0;
  for (const img of images) {
    faces += img.truth.length;
    const used = img.truth.map(() => false);
    const order = img.predicted
      .map((_, i) => i)
      .sort((a, b) => (img.predicted[b]?.score ?? 0) - (img.predicted[a]?.score ?? 0));
    for (const i of order) {
      const p = img.predicted[i] as Rect & { score: number };
      let best = -1;
      let bestIou = threshold;
      img.truth.forEach((t, j) => {
        if (used[j]) return;
        const o = iou(p, t);
        if (o >= bestIou) [best, bestIou] = [j, o];
      });
      if (best >= 0) used[best] = true;
      scored.push({ score: p.score, tp: best >= 0 });
    }
    matched.push(used);
  }
  scored.sort((a, b) => b.score - a.score);
  const tpTotal = scored.filter((s) => s.tp).length;
  const fpTotal = scored.length - tpTotal;
  // Average precision: area under the precision/recall curve with precision made monotone (VOC 2010+).
  const precisions: number[] = [];
  const recalls: number[] = [];
  let tp = 0;
  scored.forEach((s, k) => {
    if (s.tp) tp++;
    precisions.push(tp / (k + 1));
    recalls.push(faces === 0 ? 0 : tp / faces);
  });
  for (let k = precisions.length - 2; k >= 0; k--) {
    precisions[k] = Math.max(precisions[k] as number, precisions[k + 1] as number);
  }
  let ap = 0;
  let previousRecall = 0;
  recalls.forEach((r, k) => {
    ap += (r - previousRecall) * (precisions[k] as number);
    previousRecall = r;
  });
  return {
    recall: faces === 0 ? 0 : tpTotal / faces,
    precision: scored.length === 0 ? 0 : tpTotal / scored.length,
    ap,
    falsePositivesPerImage: images.length === 0 ? 0 : fpTotal / images.length,
    truePositives: tpTotal,
    falsePositives: fpTotal,
    faces,
    images: images.length,
    matched,
  };
}

export interface ClassMetrics {
  accuracy: number;
  perClassRecall: Record<string, number>;
  /** confusion[truth][predicted] = count */
  confusion: Record<string, Record<string, number>>;
  worstClassRecall: number;
  count: number;
}

export function classMetrics(
  labels: readonly string[],
  pairs: readonly { truth: string; predicted: string }[],
): ClassMetrics {
  const confusion: Record<string, Record<string, number>> = {};
  for (const t of labels) confusion[t] = Object.fromEntries(labels.map((p) => [p, 0]));
  let correct = 0;
  for (const { truth, predicted } of pairs) {
    const row = confusion[truth];
    if (!row) throw new Error(`unknown label "${truth}"`);
    row[predicted] = (row[predicted] ?? 0) + 1;
    if (truth === predicted) correct++;
  }
  const perClassRecall: Record<string, number> = {};
  for (const t of labels) {
    const row = confusion[t] as Record<string, number>;
    const total = Object.values(row).reduce((a, b) => a + b, 0);
    if (total > 0) perClassRecall[t] = (row[t] as number) / total;
  }
  const recalls = Object.values(perClassRecall);
  return {
    accuracy: pairs.length === 0 ? 0 : correct / pairs.length,
    perClassRecall,
    confusion,
    worstClassRecall: recalls.length === 0 ? 0 : Math.min(...recalls),
    count: pairs.length,
  };
}

export interface AgeMetrics {
  mae: number;
  groupAccuracy: number;
  groupWithinOne: number;
  count: number;
}

export function ageMetrics(
  pairs: readonly { years?: number; group: string; predictedYears: number; predictedGroup: string }[],
): AgeMetrics {
  let absErr = 0;
  let withYears = 0;
  let exact = 0;
  let withinOne = 0;
  for (const p of pairs) {
    if (p.years !== undefined) {
      absErr += Math.abs(p.years - p.predictedYears);
      withYears++;
    }
    const d = Math.abs(ageGroupIndex(p.group) - ageGroupIndex(p.predictedGroup));
    if (d === 0) exact++;
    if (d <= 1) withinOne++;
  }
  const n = pairs.length || 1;
  return {
    mae: withYears ? absErr / withYears : NaN,
    groupAccuracy: exact / n,
    groupWithinOne: withinOne / n,
    count: pairs.length,
  };
}
