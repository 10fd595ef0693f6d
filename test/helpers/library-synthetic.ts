/**
 * Synthetic analysis results for library tests that need many faces but no inference: they go
 * through the real catalog (the same transactions a scan uses), only the numbers are made up.
 */
import type { Attribute } from '../../main/api/contract.js';
import { AGE_GROUPS, EMOTIONS, ETHNICITIES, GENDERS } from '../../main/engine/attributes/labels.js';
import type { PredictionRow } from '../../main/library/attributes.js';
import type { FaceResult, PhotoResult } from '../../main/library/worker-protocol.js';

/** A small deterministic PRNG (mulberry32), so failures reproduce. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LABELS: Record<Attribute, readonly string[]> = {
  ageGroup: AGE_GROUPS,
  gender: GENDERS,
  ethnicity: ETHNICITIES,
  emotion: EMOTIONS,
};

export function syntheticFace(rnd: () => number, box?: FaceResult['box']): FaceResult {
  const pick = <T>(a: readonly T[]) => a[Math.floor(rnd() * a.length)] as T;
  const prediction = (attribute: Attribute): PredictionRow => {
    const label = pick(LABELS[attribute]);
    const confidence = Math.round(rnd() * 100) / 100;
    const probabilities = Object.fromEntries(LABELS[attribute].map((l) => [l, l === label ? confidence : 0]));
    return {
      attribute,
      label,
      confidence,
      probabilities,
      years: attribute === 'ageGroup' ? 30 : null,
      model: 'synthetic',
      modelVersion: '1',
    };
  };
  return {
    box: box ?? { x: Math.round(rnd() * 500), y: Math.round(rnd() * 500), width: 60, height: 80 },
    score: 0.99,
    landmarks: [
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
      [9, 10],
    ],
    quality: { faceSize: 60, sharpness: 120, uncertain: false, reasons: [] },
    predictions: (['ageGroup', 'gender', 'ethnicity', 'emotion'] as const).map(prediction),
  };
}

export function syntheticPhoto(faces: FaceResult[], takenAt: string | null = null): PhotoResult {
  return { format: 'jpeg', width: 1000, height: 800, orientation: 1, takenAt, camera: null, faces };
}
