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
  const n = boxes.length;
  const order = boxes
    .map((_, i) => i)
    .sort((i, j) => (boxes[j] as ScoredBox).score - (boxes[i] as ScoredBox).score || i - j);
  const kept: number[] = [];
  const suppressed = new Uint8Array(n);
  // Only boxes that touch can overlap (for any threshold ≥ 0), so each kept box is compared with the
  // boxes in the grid cells it covers instead of with every lower-scored box: the same pairs that
  // matter, the same arithmetic, the same result (self time of NMS was 6 ms a photo, mostly these pairs).
  const grid = threshold >= 0 && n > 32 ? BoxGrid.of(boxes) : null;
  const rank = new Int32Array(n);
  order.forEach((i, k) => (rank[i] = k));
  for (let k = 0; k < n; k++) {
    const i = order[k] as number;
    if (suppressed[i]) continue;
    kept.push(i);
    const a = boxes[i] as ScoredBox;
    if (grid) {
      grid.near(i, (j) => {
        if ((rank[j] as number) > k && !suppressed[j] && overlap(a, boxes[j] as ScoredBox, mode) > threshold)
          suppressed[j] = 1;
      });
      continue;
    }
    for (let m = k + 1; m < n; m++) {
      const j = order[m] as number;
      if (!suppressed[j] && overlap(a, boxes[j] as ScoredBox, mode) > threshold) suppressed[j] = 1;
    }
  }
  return kept;
}

/**
 * Boxes bucketed by the cells of a uniform grid they cover. Two boxes overlap (in `overlap`'s inclusive
 * pixel convention) only if the half-open spans [x1, x2 + 1) and [y1, y2 + 1) intersect, so they then
 * share a cell.
 */
class BoxGrid {
  private readonly seen: Int32Array;
  private stamp = 0;

  private constructor(
    private readonly boxes: readonly Box[],
    private readonly cells: CellGeometry,
    private readonly start: Int32Array,
    private readonly members: Int32Array,
  ) {
    this.seen = new Int32Array(boxes.length);
  }

  /** The grid of these boxes, or null where it would not help (non-finite coordinates). */
  static of(boxes: readonly Box[]): BoxGrid | null {
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    const sides: number[] = [];
    for (const b of boxes) {
      if (!Number.isFinite(b.x1 + b.y1 + b.x2 + b.y2)) return null;
      x0 = Math.min(x0, b.x1);
      y0 = Math.min(y0, b.y1);
      x1 = Math.max(x1, b.x2 + 1);
      y1 = Math.max(y1, b.y2 + 1);
      sides.push(Math.max(1, b.x2 - b.x1 + 1, b.y2 - b.y1 + 1));
    }
    sides.sort((a, b) => a - b);
    // Cells about the size of a typical box, at most 128 a side.
    const size = Math.max(sides[sides.length >> 1] as number, (x1 - x0) / 128, (y1 - y0) / 128);
    const cells: CellGeometry = {
      x0,
      y0,
      size,
      cols: Math.floor((x1 - x0) / size) + 1,
      rows: Math.floor((y1 - y0) / size) + 1,
    };
    const total = cells.cols * cells.rows;
    const start = new Int32Array(total + 1);
    for (const b of boxes) coverCells(cells, b, (c) => void (start[c + 1] = (start[c + 1] as number) + 1));
    for (let c = 0; c < total; c++) start[c + 1] = (start[c + 1] as number) + (start[c] as number);
    const members = new Int32Array(start[total] as number);
    const fill = start.slice(0, total);
    boxes.forEach((b, i) =>
      coverCells(cells, b, (c) => {
        members[fill[c] as number] = i;
        fill[c] = (fill[c] as number) + 1;
      }),
    );
    return new BoxGrid(boxes, cells, start, members);
  }

  /** Calls `visit(j)` once for every box j sharing a cell with box i (i itself included). */
  near(i: number, visit: (j: number) => void): void {
    const stamp = ++this.stamp;
    coverCells(this.cells, this.boxes[i] as Box, (c) => {
      for (let m = this.start[c] as number; m < (this.start[c + 1] as number); m++) {
        const j = this.members[m] as number;
        if (this.seen[j] === stamp) continue;
        this.seen[j] = stamp;
        visit(j);
      }
    });
  }
}

interface CellGeometry {
  x0: number;
  y0: number;
  size: number;
  cols: number;
  rows: number;
}

/** Calls `visit(c)` for the index of every cell the box's spans [x1, x2 + 1) × [y1, y2 + 1) touch. */
function coverCells(g: CellGeometry, b: Box, visit: (c: number) => void): void {
  const ca = Math.max(0, Math.min(g.cols - 1, Math.floor((b.x1 - g.x0) / g.size)));
  const cb = Math.max(0, Math.min(g.cols - 1, Math.floor((b.x2 + 1 - g.x0) / g.size)));
  const ra = Math.max(0, Math.min(g.rows - 1, Math.floor((b.y1 - g.y0) / g.size)));
  const rb = Math.max(0, Math.min(g.rows - 1, Math.floor((b.y2 + 1 - g.y0) / g.size)));
  for (let r = ra; r <= rb; r++) for (let c = ca; c <= cb; c++) visit(r * g.cols + c);
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
