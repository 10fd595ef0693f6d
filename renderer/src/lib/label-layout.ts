/**
 * Where the photo viewer puts each face's label: inside the photo, never over another label. Pure
 * geometry (display pixels of the drawn photo), so it is tested without a browser
 * (test/unit/label-layout.test.ts) and checked in one (test/e2e/layout.test.ts, the group photos).
 *
 * Larger faces are placed first (they are the ones people look at). Each label tries, in order: above
 * its box, below it, inside its top edge, inside its bottom edge — each left-aligned with the box,
 * then right-aligned — clamped into the photo. The first spot that overlaps no placed label wins; when
 * none is free the label is collapsed (the viewer shows it on hover or focus of its box).
 */

export interface LabelRequest {
  id: number;
  /** The face box in display pixels. */
  box: { x: number; y: number; width: number; height: number };
  /** The label's size in display pixels. */
  width: number;
  height: number;
}

export interface LabelPlace {
  x: number;
  y: number;
  /** No free spot: hidden until its box is hovered or focused. */
  collapsed: boolean;
}

/** Space kept between a label and its box, and between labels. */
const GAP = 3;

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

function overlaps(a: Rect, b: Rect): boolean {
  return (
    a.x < b.x + b.width + GAP && b.x < a.x + a.width + GAP && a.y < b.y + b.height + GAP && b.y < a.y + a.height + GAP
  );
}

function clamp(v: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, v));
}

export function placeLabels(labels: readonly LabelRequest[], width: number, height: number): Map<number, LabelPlace> {
  const out = new Map<number, LabelPlace>();
  const placed: Rect[] = [];
  const order = [...labels].sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height || a.id - b.id);
  for (const label of order) {
    const w = Math.min(label.width, width);
    const h = Math.min(label.height, height);
    const { box } = label;
    const ys = [box.y - h - GAP, box.y + box.height + GAP, box.y + GAP, box.y + box.height - h - GAP];
    const xs = [box.x, box.x + box.width - w];
    let chosen: Rect | null = null;
    let first: Rect | null = null;
    for (const y of ys) {
      for (const x of xs) {
        const rect = { x: clamp(x, 0, width - w), y: clamp(y, 0, height - h), width: w, height: h };
        first ??= rect;
        if (!placed.some((p) => overlaps(p, rect))) {
          chosen = rect;
          break;
        }
      }
      if (chosen) break;
    }
    if (chosen) placed.push(chosen);
    const at = chosen ?? (first as Rect);
    out.set(label.id, { x: Math.round(at.x), y: Math.round(at.y), collapsed: chosen === null });
  }
  return out;
}

/** A label's width before it is measured: ~6.8 px per character at 12 px, its padding and emotion dot. */
export function estimatedLabelWidth(text: string): number {
  return Math.ceil(text.length * 6.8) + 30;
}
