/**
 * Box arithmetic for MTCNN, following the reference implementation's conventions (ipazc/mtcnn, itself
 * a port of the original MATLAB code): boxes are [x1, y1, x2, y2] in image pixels, regression offsets
 * are fractions of the box's inclusive size (x2 − x1 + 1).
 */

export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface ScoredBox extends Box {
  score: number;
}

export type Offsets = readonly [number, number, number, number];

export function area(b: Box): number {
  return Math.max(0, b.x2 - b.x1 + 1) * Math.max(0, b.y2 - b.y1 + 1);
}

/**
 * Overlap of two boxes: intersection over union, or over the smaller area ('min', used by MTCNN's
 * final stage so a small box inside a larger one is suppressed).
 */
export function overlap(a: Box, b: Box, mode: 'union' | 'min'): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1) + 1;
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1) + 1;
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const denominator = mode === 'min' ? Math.min(area(a), area(b)) : area(a) + area(b) - inter;
  return inter / denominator;
}

/**
 * Greedy non-maximum suppression. Returns the indices of the kept boxes, highest score first; a box is
 * dropped when its overlap with an already kept box exceeds `threshold`. Ties keep the earlier index.
 */
export function nms(boxes: readonly ScoredBox[], threshold: number, mode: 'union' | 'min'): number[] {
  const order = boxes
    .map((_, i) => i)
    .sort((i, j) => (boxes[j] as ScoredBox).score - (boxes[i] as ScoredBox).score || i - j);
  const kept: number[] = [];
  const suppressed = new Uint8Array(boxes.length);
  for (let k = 0; k < order.length; k++) {
    const i = order[k] as number;
    if (suppressed[i]) continue;
    kept.push(i);
    const a = boxes[i] as ScoredBox;
    for (let m = k + 1; m < order.length; m++) {
      const j = order[m] as number;
      if (!suppressed[j] && overlap(a, boxes[j] as ScoredBox, mode) > threshold) suppressed[j] = 1;
    }
  }
  return kept;
}

/**
 * Applies regression offsets (dx1, dy1, dx2, dy2), each a fraction of the box's width/height. The
 * reference measures P-Net boxes exclusively (x2 − x1) and R-Net/O-Net boxes inclusively (x2 − x1 + 1).
 */
export function regress<B extends Box>(box: B, [dx1, dy1, dx2, dy2]: Offsets, inclusive: boolean): B {
  const w = box.x2 - box.x1 + (inclusive ? 1 : 0);
  const h = box.y2 - box.y1 + (inclusive ? 1 : 0);
  return { ...box, x1: box.x1 + dx1 * w, y1: box.y1 + dy1 * h, x2: box.x2 + dx2 * w, y2: box.y2 + dy2 * h };
}

/** Grows the shorter side so the box is square, keeping its centre. */
export function square<B extends Box>(box: B): B {
  const w = box.x2 - box.x1;
  const h = box.y2 - box.y1;
  const side = Math.max(w, h);
  const x1 = box.x1 + w * 0.5 - side * 0.5;
  const y1 = box.y1 + h * 0.5 - side * 0.5;
  return { ...box, x1, y1, x2: x1 + side, y2: y1 + side };
}

/** Truncates coordinates toward zero, as the reference does (np.fix) before cropping. */
export function fix<B extends Box>(box: B): B {
  return { ...box, x1: Math.trunc(box.x1), y1: Math.trunc(box.y1), x2: Math.trunc(box.x2), y2: Math.trunc(box.y2) };
}

/**
 * The image pyramid: scales at which a face of `minFaceSize` pixels becomes P-Net's 12-pixel cell,
 * shrinking by `factor` until the image's shorter side would fall under 12 pixels.
 */
export function pyramidScales(width: number, height: number, minFaceSize: number, factor: number): number[] {
  if (!(factor > 0 && factor < 1)) throw new Error(`scale factor must be in (0, 1), got ${factor}`);
  if (!(minFaceSize >= 12)) throw new Error(`minimum face size must be at least 12 px, got ${minFaceSize}`);
  const m = 12 / minFaceSize;
  const scales: number[] = [];
  let side = Math.min(width, height) * m;
  let scale = m;
  while (side >= 12) {
    scales.push(scale);
    scale *= factor;
    side *= factor;
  }
  return scales;
}

/**
 * P-Net candidates from one pyramid scale: every cell of the probability map (stride 2 over 12×12
 * windows) whose face probability reaches `threshold`, mapped back to image coordinates, with the
 * cell's regression offsets attached for later.
 *
 * `prob` and `reg` are maps of shape [1, mapH, mapW, 2] and [1, mapH, mapW, 4], or with `transposed`
 * [1, mapW, mapH, ·] (the original MTCNN weights expect images with x as the first spatial axis).
 * Coordinates follow the reference's 1-based pixel convention.
 */
export function pnetCandidates(
  prob: Float32Array,
  reg: Float32Array,
  mapW: number,
  mapH: number,
  scale: number,
  threshold: number,
  transposed = false,
): (ScoredBox & { offsets: Offsets })[] {
  const stride = 2;
  const cell = 12;
  const out: (ScoredBox & { offsets: Offsets })[] = [];
  for (let y = 0; y < mapH; y++) {
    for (let x = 0; x < mapW; x++) {
      const i = transposed ? x * mapH + y : y * mapW + x;
      const score = prob[i * 2 + 1] as number;
      if (score < threshold) continue;
      out.push({
        x1: Math.trunc((stride * x + 1) / scale),
        y1: Math.trunc((stride * y + 1) / scale),
        x2: Math.trunc((stride * x + cell) / scale),
        y2: Math.trunc((stride * y + cell) / scale),
        score,
        offsets: [reg[i * 4] as number, reg[i * 4 + 1] as number, reg[i * 4 + 2] as number, reg[i * 4 + 3] as number],
      });
    }
  }
  return out;
}

/**
 * A box carried by a point mapping (into or out of a turned image): the same size around the mapped
 * centre. A face box turned with the face is still the face's size, where the bounding box of the
 * turned square would not be.
 */
export function carryBox<B extends Box>(box: B, map: (x: number, y: number) => [number, number]): B {
  const [cx, cy] = map((box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2);
  const hw = (box.x2 - box.x1) / 2;
  const hh = (box.y2 - box.y1) / 2;
  return { ...box, x1: cx - hw, y1: cy - hh, x2: cx + hw, y2: cy + hh };
}
