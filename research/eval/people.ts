/**
 * People evaluation: a set whose labels.csv has a `person` column (the label is the photo's centre
 * face). Each photo is analysed as a scan would (MTCNN, the identity vector of main/people/), its
 * face nearest the centre kept, and the faces clustered as the library clusters them: incrementally in
 * the set's order (what a scan does) and by a full re-cluster. With `sweep`, every algorithm × threshold.
 */
import type { FaceAnalyzer } from '../../main/engine/analyzer.js';
import { type ClusterAlgorithm, type ClusterOptions, cluster } from '../../main/people/cluster.js';
import { type PeopleMetrics, peopleMetrics } from '../../main/people/metrics.js';
import { FULL, INCREMENTAL, MIN_FACE_PX, MIN_SHARPNESS } from '../../main/people/service.js';
import { VectorSet } from '../../main/people/vectors.js';
import type { AttributeSample } from './datasets.js';
import type { Progress } from './evaluate.js';

export interface PeopleSweepRow extends PeopleMetrics {
  algorithm: ClusterAlgorithm;
  threshold: number;
}

export interface PeopleReport extends PeopleMetrics {
  /** How the figures above were made (the product's incremental assignment). */
  algorithm: ClusterAlgorithm;
  threshold: number;
  /** The product's full re-cluster on the same faces. */
  recluster: PeopleMetrics & { algorithm: ClusterAlgorithm; threshold: number };
  images: number;
  /** Photos where the detector found no face, or whose face was too small or blurred to place. */
  noFace: number;
  lowQuality: number;
  failed: { path: string; error: string }[];
  msPerImage: number;
  sweep?: PeopleSweepRow[];
}

export const SWEEP_ALGORITHMS: readonly ClusterAlgorithm[] = ['average', 'whispers', 'vote', 'components'];
export const SWEEP_THRESHOLDS: readonly number[] = Array.from({ length: 11 }, (_, i) => 0.4 + i * 0.02);

export async function evaluatePeople(
  analyzer: FaceAnalyzer,
  samples: readonly AttributeSample[],
  options: { sweep?: boolean; progress?: Progress } = {},
): Promise<PeopleReport> {
  const started = performance.now();
  const truth: string[] = [];
  const vectors: (Float32Array | null)[] = [];
  const failed: { path: string; error: string }[] = [];
  let noFace = 0;
  let lowQuality = 0;
  for (const [i, sample] of samples.entries()) {
    truth.push(sample.person ?? '');
    vectors.push(null);
    try {
      const analysis = await analyzer.analyze(sample.path);
      const cx = analysis.width / 2;
      const cy = analysis.height / 2;
      let best: (typeof analysis.faces)[number] | undefined;
      let bestD = Infinity;
      for (const f of analysis.faces) {
        const d = Math.hypot(f.box.x + f.box.width / 2 - cx, f.box.y + f.box.height / 2 - cy);
        if (d < bestD) [best, bestD] = [f, d];
      }
      const identity = best?.vectors?.[0]?.vector;
      if (!best || !identity) noFace++;
      else if (best.quality.faceSize < MIN_FACE_PX || best.quality.sharpness < MIN_SHARPNESS) lowQuality++;
      else vectors[i] = identity;
    } catch (err) {
      failed.push({ path: sample.path, error: (err as Error).message });
    }
    options.progress?.(i + 1, samples.length);
  }
  const msPerImage = (performance.now() - started) / Math.max(1, samples.length);
  const placed = vectors.flatMap((v, i) => (v ? [i] : []));
  const set = VectorSet.from(
    placed.map((i) => vectors[i] as Float32Array),
    128,
  );
  const run = (o: ClusterOptions) => {
    const labels = cluster(set, o);
    const all = new Int32Array(samples.length).fill(-1);
    placed.forEach((i, j) => (all[i] = labels[j] as number));
    return peopleMetrics(truth, all);
  };
  const report: PeopleReport = {
    ...run(INCREMENTAL),
    algorithm: INCREMENTAL.algorithm,
    threshold: INCREMENTAL.threshold,
    recluster: { ...run(FULL), algorithm: FULL.algorithm, threshold: FULL.threshold },
    images: samples.length,
    noFace,
    lowQuality,
    failed,
    msPerImage,
  };
  if (options.sweep) {
    report.sweep = SWEEP_ALGORITHMS.flatMap((algorithm) =>
      SWEEP_THRESHOLDS.map((threshold) => ({ algorithm, threshold, ...run({ algorithm, threshold }) })),
    );
  }
  return report;
}
