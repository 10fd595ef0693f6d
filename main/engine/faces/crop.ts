/**
 * Cutting a detected face out for an attribute network, in one of two ways (which one each network
 * gets is decided by measurement, see main/engine/attributes/catalog.ts):
 *
 * - 'box': the detector box, squared on its centre and enlarged by `margin` (1 = the box itself);
 * - 'align': a similarity transform putting the five landmarks onto a canonical template (TEMPLATES),
 *   with the face shrunk by `margin` around the crop centre (1 = exactly the template's framing).
 */
import type { Box } from '../detection/geometry.js';
import type { Point } from '../detection/mtcnn.js';
import { type AreaSampler, type Similarity, fitSimilarity, invertSimilarity } from '../image/resample.js';

export type TemplateName = 'arcface' | 'utkface' | 'fer' | 'fairface';

export interface CropRecipe {
  method: 'box' | 'align';
  /** Enlargement of the face region: 1 = as the box or template frames it; 1.4 = 40 % larger. */
  margin: number;
  /** Landmark template for 'align' (default 'arcface'). */
  template?: TemplateName;
}

/** A recipe's name, e.g. "align-fairface-1" or "box-1.2": equal names frame a face alike. */
export function recipeKey(r: CropRecipe): string {
  return r.method === 'align' ? `align-${r.template ?? 'arcface'}-${r.margin}` : `box-${r.margin}`;
}

/**
 * Canonical positions of the five landmarks (eyes, nose tip, mouth corners) as fractions of the crop.
 *
 * - arcface: the widely used 112×112 ArcFace alignment template (face fills the crop, forehead cut).
 * - utkface: how UTKFace's "aligned & cropped" faces are framed — the training data of several attribute
 *   networks. Mean MTCNN landmarks over the 386 of 400 evenly spaced utkface-train crops with exactly one
 *   face (measured with this engine; no dev data used).
 * - fer: the same for FER2013's 48×48 faces (315 of 400 fer2013-train crops).
 * - fairface: the same for FairFace's 224×224 faces (dlib-aligned, padding 0.25: 369 of 400 evenly spaced
 *   fairface-train crops, detector minimum face 40 px) — the framing of the shipped heads' training data.
 */
export const TEMPLATES: Record<TemplateName, readonly Point[]> = {
  arcface: [
    [38.2946 / 112, 51.6963 / 112],
    [73.5318 / 112, 51.5014 / 112],
    [56.0252 / 112, 71.7366 / 112],
    [41.5493 / 112, 92.3655 / 112],
    [70.7299 / 112, 92.2041 / 112],
  ],
  utkface: [
    [0.2963, 0.2913],
    [0.6934, 0.2922],
    [0.49, 0.5239],
    [0.3161, 0.689],
    [0.6718, 0.6894],
  ],
  fairface: [
    [0.3254, 0.3004],
    [0.6814, 0.2982],
    [0.5002, 0.5137],
    [0.3503, 0.6976],
    [0.6568, 0.6959],
  ],
  fer: [
    [0.3172, 0.3918],
    [0.6709, 0.3829],
    [0.4899, 0.5983],
    [0.3517, 0.7803],
    [0.6437, 0.7728],
  ],
};

export interface FaceGeometry {
  box: Box;
  landmarks: Point[];
}

/** The transform mapping output-crop pixels to source pixels for a face, per the recipe. */
export function cropTransform(face: FaceGeometry, recipe: CropRecipe, size: number): Similarity {
  if (recipe.method === 'align') {
    // Template points in output pixels, shrunk toward the centre by the margin.
    const target = TEMPLATES[recipe.template ?? 'arcface'].map(
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

/**
 * Test-time mirroring's batch: `data` holds `count` NHWC crops followed by room for as many again; the
 * second half becomes the first half mirrored.
 */
export function appendMirrored(data: Float32Array, count: number, size: number, channels: number): void {
  const half = count * size * size * channels;
  data.copyWithin(half, 0, half);
  mirrorCrops(data.subarray(half), count, size, channels);
}

/** Horizontally mirrors `count` NHWC crops of size × size × channels in place. */
export function mirrorCrops(data: Float32Array, count: number, size: number, channels: number): void {
  for (let n = 0; n < count; n++) {
    for (let y = 0; y < size; y++) {
      const row = (n * size + y) * size * channels;
      for (let x = 0; x < size >> 1; x++) {
        const a = row + x * channels;
        const b = row + (size - 1 - x) * channels;
        for (let c = 0; c < channels; c++) {
          const t = data[a + c] as number;
          data[a + c] = data[b + c] as number;
          data[b + c] = t;
        }
      }
    }
  }
}
