/**
 * Cutting a detected face out for an attribute network, in one of two ways (which one each network
 * gets is decided by measurement, see main/engine/attributes/catalog.ts):
 *
 * - 'box': the detector box, squared on its centre and enlarged by `margin` (1 = the box itself);
 * - 'align': a similarity transform putting the five landmarks onto a canonical template, scaled so the
 *   template's face occupies the fraction `margin` of the output would occupy at margin 1.
 */
import type { Box } from '../detection/geometry.js';
import type { Point } from '../detection/mtcnn.js';
import { type AreaSampler, type Similarity, fitSimilarity, invertSimilarity } from '../image/resample.js';

export interface CropRecipe {
  method: 'box' | 'align';
  /** Enlargement of the face region: 1 = tight; 1.4 = 40 % larger on each dimension. */
  margin: number;
}

/**
 * Canonical positions of the five landmarks (eyes, nose tip, mouth corners) in a 112×112 face crop —
 * the widely used ArcFace alignment template — as fractions of the crop size.
 */
export const TEMPLATE_112: readonly Point[] = [
  [38.2946 / 112, 51.6963 / 112],
  [73.5318 / 112, 51.5014 / 112],
  [56.0252 / 112, 71.7366 / 112],
  [41.5493 / 112, 92.3655 / 112],
  [70.7299 / 112, 92.2041 / 112],
];

export interface FaceGeometry {
  box: Box;
  landmarks: Point[];
}

/** The transform mapping output-crop pixels to source pixels for a face, per the recipe. */
export function cropTransform(face: FaceGeometry, recipe: CropRecipe, size: number): Similarity {
  if (recipe.method === 'align') {
    // Template points in output pixels, shrunk toward the centre by the margin.
    const target = TEMPLATE_112.map(
      ([x, y]) => [(0.5 + (x - 0.5) / recipe.margin) * size, (0.5 + (y - 0.5) / recipe.margin) * size] as Point,
    );
    // fitSimilarity maps source → output; sampling needs output → source.
    return invertSimilarity(fitSimilarity(face.landmarks, target));
  }
  const { x1, y1, x2, y2 } = face.box;
  const side = Math.max(x2 - x1, y2 - y1) * recipe.margin;
  const cx = (x1 + x2) / 2;
  const cy = (y1 + y2) / 2;
  const s = side / size;
  return { a: s, b: 0, tx: cx - side / 2, ty: cy - side / 2 };
}

/** Writes one face crop (size × size, NHWC) into `out` at `offset`. */
export function cropFace(
  sampler: AreaSampler,
  face: FaceGeometry,
  recipe: CropRecipe,
  size: number,
  out: Float32Array,
  offset: number,
  transform: (v: number) => number,
): void {
  sampler.warp(cropTransform(face, recipe, size), size, size, out, offset, transform);
}
