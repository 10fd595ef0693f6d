import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  carryBox,
  fix,
  nms,
  overlap,
  pnetCandidates,
  pyramidScales,
  regress,
  square,
  type ScoredBox,
} from '../../main/engine/detection/geometry.js';

test('overlap: union and min modes on inclusive pixel boxes', () => {
  const a = { x1: 0, y1: 0, x2: 9, y2: 9 }; // 10×10 = 100 px
  const b = { x1: 5, y1: 0, x2: 14, y2: 9 }; // 10×10, shares 5×10 = 50 px
  assert.equal(overlap(a, b, 'union'), 50 / 150);
  assert.equal(overlap(a, b, 'min'), 50 / 100);
  const inner = { x1: 2, y1: 2, x2: 5, y2: 5 }; // 16 px, inside a
  assert.equal(overlap(a, inner, 'union'), 16 / 100);
  assert.equal(overlap(a, inner, 'min'), 1);
  assert.equal(overlap(a, { x1: 20, y1: 20, x2: 30, y2: 30 }, 'union'), 0);
});

/** Greedy NMS as the reference writes it: every kept box against every lower-scored box. */
function referenceNms(boxes: readonly ScoredBox[], threshold: number, mode: 'union' | 'min'): number[] {
  const order = boxes.map((_, i) => i).sort((i, j) => boxes[j]!.score - boxes[i]!.score || i - j);
  const suppressed = new Set<number>();
  const kept: number[] = [];
  order.forEach((i, k) => {
    if (suppressed.has(i)) return;
    kept.push(i);
    for (const j of order.slice(k + 1)) if (overlap(boxes[i]!, boxes[j]!, mode) > threshold) suppressed.add(j);
  });
  return kept;
}

test('nms over many boxes (its grid path) keeps exactly what the all-pairs reference keeps', () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let trial = 0; trial < 40; trial++) {
    // P-Net-like: clusters of same-size boxes on integer pixels, plus a few large and fractional ones.
    const boxes: ScoredBox[] = [];
    const n = 40 + Math.floor(random() * 600);
    const side = 12 + Math.floor(random() * 60);
    for (let i = 0; i < n; i++) {
      const big = random() < 0.05;
      const s = big ? side * (2 + random() * 8) : side;
      const x = Math.floor(random() * 800) - 20;
      const y = Math.floor(random() * 500) - 20;
      const frac = random() < 0.3 ? random() : 0;
      boxes.push({ x1: x + frac, y1: y, x2: x + s - 1 + frac, y2: y + s - 1, score: Math.round(random() * 50) / 50 });
    }
    // Touching edges (overlap in the inclusive convention) and a degenerate box.
    boxes.push({ x1: 0, y1: 0, x2: 9, y2: 9, score: 0.5 }, { x1: 9, y1: 9, x2: 18, y2: 18, score: 0.4 });
    boxes.push({ x1: 5, y1: 5, x2: 4.5, y2: 4.5, score: 0.45 });
    for (const [threshold, mode] of [
      [0.5, 'union'],
      [0.7, 'union'],
      [0.7, 'min'],
      [0, 'union'],
    ] as const) {
      assert.deepEqual(
        nms(boxes, threshold, mode),
        referenceNms(boxes, threshold, mode),
        `trial ${trial}, ${mode} ${threshold}`,
      );
    }
  }
});

test('nms keeps the best box of each cluster, highest score first', () => {
  const boxes = [
    { x1: 0, y1: 0, x2: 9, y2: 9, score: 0.8 },
    { x1: 1, y1: 1, x2: 10, y2: 10, score: 0.9 }, // IoU with #0 = 81/119 ≈ 0.68
    { x1: 50, y1: 50, x2: 59, y2: 59, score: 0.7 },
    { x1: 5, y1: 0, x2: 14, y2: 9, score: 0.95 }, // IoU with #1 = 45/155 ≈ 0.29
  ];
  assert.deepEqual(nms(boxes, 0.5, 'union'), [3, 1, 2]);
  assert.deepEqual(nms(boxes, 0.7, 'union'), [3, 1, 0, 2]);
  assert.deepEqual(nms(boxes, 0.25, 'union'), [3, 2]);
  // 'min' suppresses a small box nested in a bigger, better one.
  const nested = [
    { x1: 0, y1: 0, x2: 99, y2: 99, score: 0.99 },
    { x1: 10, y1: 10, x2: 29, y2: 29, score: 0.98 },
  ];
  assert.deepEqual(nms(nested, 0.7, 'union'), [0, 1]);
  assert.deepEqual(nms(nested, 0.7, 'min'), [0]);
  assert.deepEqual(nms([], 0.5, 'union'), []);
});

test('regress: exclusive (P-Net) and inclusive (R-Net, O-Net) box sizes', () => {
  const box = { x1: 10, y1: 20, x2: 29, y2: 59, score: 1 };
  assert.deepEqual(regress(box, [0.1, -0.05, 0.2, 0.5], false), { x1: 11.9, y1: 18.05, x2: 32.8, y2: 78.5, score: 1 });
  assert.deepEqual(regress(box, [0.1, -0.05, 0.2, 0.5], true), { x1: 12, y1: 18, x2: 33, y2: 79, score: 1 });
});

test('square grows the shorter side around the centre; fix truncates toward zero', () => {
  assert.deepEqual(square({ x1: 10, y1: 20, x2: 30, y2: 60 }), { x1: 0, y1: 20, x2: 40, y2: 60 });
  assert.deepEqual(square({ x1: 0, y1: 0, x2: 10, y2: 4 }), { x1: 0, y1: -3, x2: 10, y2: 7 });
  assert.deepEqual(fix({ x1: -3.7, y1: 2.9, x2: 10.5, y2: -0.2 }), { x1: -3, y1: 2, x2: 10, y2: -0 });
});

test('pyramid scales: from 12/minFace down by the factor until the short side is under 12 px', () => {
  const scales = pyramidScales(200, 100, 20, 0.709);
  // short side 100 → 60 at 0.6, then ×0.709 while ≥ 12: 60, 42.5, 30.2, 21.4, 15.2 → 5 levels
  assert.equal(scales.length, 5);
  assert.equal(scales[0], 0.6);
  for (let i = 1; i < scales.length; i++) assert.ok(Math.abs((scales[i] as number) - 0.6 * 0.709 ** i) < 1e-12);
  assert.deepEqual(pyramidScales(30, 30, 40, 0.709), []);
  assert.throws(() => pyramidScales(100, 100, 8, 0.709), /at least 12/);
});

test('P-Net cells map to image boxes with stride 2 and a 12-px window', () => {
  // A 2×3 map (h=2, w=3): only cell (x=2, y=1) passes.
  const prob = new Float32Array([0.9, 0.1, 0.8, 0.2, 0.5, 0.5, 0.7, 0.3, 0.6, 0.4, 0.05, 0.95]);
  const reg = new Float32Array(6 * 4).map((_, i) => i / 100);
  const found = pnetCandidates(prob, reg, 3, 2, 0.5, 0.6);
  assert.equal(found.length, 1);
  assert.deepEqual(found[0], {
    x1: Math.trunc((2 * 2 + 1) / 0.5),
    y1: Math.trunc((2 * 1 + 1) / 0.5),
    x2: Math.trunc((2 * 2 + 12) / 0.5),
    y2: Math.trunc((2 * 1 + 12) / 0.5),
    score: prob[11],
    offsets: [reg[20], reg[21], reg[22], reg[23]],
  });
});

test('carryBox: the box keeps its size around its mapped centre, and its other fields', () => {
  const turnQuarter = (x: number, y: number): [number, number] => [100 - y, x]; // 90° clockwise in a 100-high image
  const carried = carryBox({ x1: 20, y1: 30, x2: 60, y2: 70, score: 0.9 }, turnQuarter);
  assert.deepEqual(carried, { x1: 30, y1: 20, x2: 70, y2: 60, score: 0.9 });
});
