/**
 * Synthetic embeddings for the heads tests (no research data): Gaussian vectors whose labels follow
 * simple rules of a few coordinates, with partial labels like the real sets (UTKFace-like samples
 * carry age/gender/ethnicity, FER-like ones emotion only).
 */
import type { HeadTask } from '../../main/engine/attributes/heads.js';
import type { Dataset } from '../../main/learning/data.js';
import { Rng } from '../../main/learning/rng.js';

export function syntheticDataset(
  n: number,
  dim: number,
  seed: number,
  options: { noBlack?: boolean; blackShift?: number } = {},
): Dataset {
  const rng = new Rng(seed);
  const x = new Float32Array(n * dim).map(() => rng.normal());
  const X = (i: number, k: number) => x[i * dim + k] as number;
  const tasks: HeadTask[] = ['age', 'gender', 'ethnicity', 'emotion'];
  const utk = (i: number) => i % 3 !== 2;
  const age = Int32Array.from({ length: n }, (_, i) =>
    utk(i) ? Math.max(0, Math.min(8, Math.floor(4.5 + 1.5 * X(i, 0) + 0.5 * X(i, 1)))) : -1,
  );
  const gender = Int32Array.from({ length: n }, (_, i) => (utk(i) ? (X(i, 2) > 0 ? 0 : 1) : -1));
  const ethnicity = Int32Array.from({ length: n }, (_, i) => {
    if (!utk(i)) return -1;
    // white, black, asian, indian, other: by the quadrant of (x3, x4); black where x5 > 1 (absent with noBlack).
    if (!options.noBlack && X(i, 5) > 1) return 1;
    return X(i, 3) > 0 ? (X(i, 4) > 0 ? 0 : 2) : X(i, 4) > 0 ? 3 : 4;
  });
  // Black faces set apart along x5 (a user's library where they are plainly different from the rest).
  if (options.blackShift)
    ethnicity.forEach(
      (y, i) => y === 1 && (x[i * dim + 5] = (x[i * dim + 5] as number) + (options.blackShift as number)),
    );
  const emotion = Int32Array.from({ length: n }, (_, i) => (utk(i) ? -1 : X(i, 6) > 0.5 ? 3 : X(i, 7) > 0 ? 6 : 4));
  const years = Float64Array.from(age, (g) => (g < 0 ? NaN : ([1, 6, 15, 25, 35, 45, 55, 65, 78][g] as number)));
  return {
    x,
    dim,
    n,
    tasks,
    labels: [age, gender, ethnicity, emotion],
    years,
    source: Array.from({ length: n }, (_, i) => (utk(i) ? 'utk' : 'fer')),
    paths: Array.from({ length: n }, (_, i) => `synthetic/${i}`),
  };
}
