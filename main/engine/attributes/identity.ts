/**
 * The identity vector of a face: what people are clustered on (main/people/).
 *
 * [Note: identity framing] dlib's face recognition network (facenet128) was trained on dlib's own face
 * chips: a similarity alignment of the landmarks, 150×150, padding 0.25 — the framing of FairFace's
 * crops, whose MTCNN landmark template is TEMPLATES.fairface. Measured on people-dev (docs/people.md):
 * that framing gives BCubed F 0.97 where the detector box gives 0.77 and the ArcFace template 0.71, and
 * mirror-averaging adds nothing that pays for its second run. The shipped heads embed faces with this
 * same network and framing, so at scan time the identity vector is the first 128 values of the heads'
 * input and costs no inference of its own; without such heads it is computed here.
 */
import type { Detection } from '../detection/mtcnn.js';
import type { CropRecipe } from '../faces/crop.js';
import type { AreaSampler } from '../image/resample.js';
import type { ModelStore } from '../sessions.js';
import { type StoredVector, embedFaces, specKey } from './heads.js';

export const IDENTITY_NETWORK = 'facenet128';
export const IDENTITY_RECIPE: CropRecipe = { method: 'align', margin: 1, template: 'fairface' };
export const IDENTITY_DIM = 128;

/** The face_embeddings spec of identity vectors (names the network's build by its sha256). */
export function identitySpec(models: ModelStore): string {
  return specKey({ models: [IDENTITY_NETWORK], recipe: IDENTITY_RECIPE, flip: false }, [
    models.entry(IDENTITY_NETWORK).sha256,
  ]);
}

/**
 * The identity vector inside another stored vector, where that one begins with the identity network
 * under the identity framing, unmirrored (the shipped heads' input does).
 */
export function identityWithin(vectors: readonly StoredVector[], models: ModelStore): Float32Array | undefined {
  const key = identitySpec(models);
  const [network, recipe, flip] = key.split(':');
  for (const v of vectors) {
    const [networks, r, f] = v.spec.split(':');
    if (r === recipe && f === flip && networks?.split('+')[0] === network) return v.vector.slice(0, IDENTITY_DIM);
  }
  return undefined;
}

/** Identity vectors of faces computed directly (one network run per face). */
export async function identityVectors(
  models: ModelStore,
  sampler: AreaSampler,
  faces: readonly Detection[],
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const face of faces) {
    const { plain } = await embedFaces(models, IDENTITY_NETWORK, [{ sampler, face }], IDENTITY_RECIPE, false);
    out.push(plain[0] as Float32Array);
  }
  return out;
}
