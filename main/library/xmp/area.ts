/**
 * MWG region areas ↔ face boxes. Faces are stored in upright (EXIF-rotated) full-resolution pixels;
 * an MWG `stArea` is relative to the image as stored in the file (before EXIF orientation), its x, y
 * the region's centre and w, h its size, all normalised to 0..1.
 */
import { uprightToStored } from '../../engine/image/decode.js';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A normalised MWG area: centre and size, 0..1 of the stored image. */
export interface Area {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface PhotoGeometry {
  /** Upright size. */
  width: number;
  height: number;
  /** EXIF orientation 1–8 (null: 1). */
  orientation: number | null;
}

const DECIMALS = 1e6;
const round = (v: number) => Math.round(v * DECIMALS) / DECIMALS;

function swaps(orientation: number | null): boolean {
  return orientation !== null && orientation >= 5 && orientation <= 8;
}

/** The size of the image as stored in the file. */
export function storedSize(photo: PhotoGeometry): { width: number; height: number } {
  return swaps(photo.orientation)
    ? { width: photo.height, height: photo.width }
    : { width: photo.width, height: photo.height };
}

/** An upright face box as the MWG area of the stored image (rounded to 6 decimals). */
export function storedArea(box: Box, photo: PhotoGeometry): Area {
  const o = photo.orientation ?? 1;
  const stored = storedSize(photo);
  const [ax, ay] = uprightToStored(box.x, box.y, o, stored.width, stored.height);
  const [bx, by] = uprightToStored(box.x + box.width, box.y + box.height, o, stored.width, stored.height);
  // In pixels first, divided last: the same doubles as a reader's (x + w / 2) / W.
  const x0 = clamp(Math.min(ax, bx), stored.width);
  const x1 = clamp(Math.max(ax, bx), stored.width);
  const y0 = clamp(Math.min(ay, by), stored.height);
  const y1 = clamp(Math.max(ay, by), stored.height);
  return {
    x: round((x0 + x1) / 2 / stored.width),
    y: round((y0 + y1) / 2 / stored.height),
    w: round((x1 - x0) / stored.width),
    h: round((y1 - y0) / stored.height),
  };
}

/** Orientation whose mapping undoes `o`'s (the quarter turns swap; flips and 180° undo themselves). */
const INVERSE: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6 };

/** An MWG area of the stored image as a box in upright pixels (what faces are stored in). */
export function uprightBox(area: Area, photo: PhotoGeometry): Box {
  const inverse = INVERSE[photo.orientation ?? 1] ?? 1;
  const stored = storedSize(photo);
  const sx0 = (area.x - area.w / 2) * stored.width;
  const sy0 = (area.y - area.h / 2) * stored.height;
  const sx1 = (area.x + area.w / 2) * stored.width;
  const sy1 = (area.y + area.h / 2) * stored.height;
  const [ax, ay] = uprightToStored(sx0, sy0, inverse, photo.width, photo.height);
  const [bx, by] = uprightToStored(sx1, sy1, inverse, photo.width, photo.height);
  return { x: Math.min(ax, bx), y: Math.min(ay, by), width: Math.abs(bx - ax), height: Math.abs(by - ay) };
}

function clamp(v: number, max: number): number {
  return Math.min(max, Math.max(0, v));
}
