/**
 * Which framing of the face suits dlib's face recognition network (facenet128) for clustering — the
 * measurement behind [Note: identity framing] (not a test; figures in docs/people.md).
 *
 *   node --import tsx scripts/people-framings.ts ../shared/data/eval/people-dev
 *
 * Each photo's centre face (MTCNN) is embedded under several crop recipes, plain and mirror-averaged,
 * and every recipe is clustered by every algorithm at thresholds 0.40–0.60.
 */
import path from 'node:path';
import { averageVectors, embedFaces } from '../main/engine/attributes/heads.js';
import { FaceAnalyzer } from '../main/engine/analyzer.js';
import type { CropRecipe } from '../main/engine/faces/crop.js';
import { decodeForAnalysis } from '../main/engine/image/decode.js';
import { AreaSampler } from '../main/engine/image/resample.js';
import { loadEvalSet } from '../research/eval/datasets.js';
import { type ClusterAlgorithm, cluster } from '../main/people/cluster.js';
import { peopleMetrics } from '../main/people/metrics.js';
import { VectorSet } from '../main/people/vectors.js';

const RECIPES: Record<string, CropRecipe> = {
  'box 1.0': { method: 'box', margin: 1 },
  'box 1.2': { method: 'box', margin: 1.2 },
  'align arcface': { method: 'align', margin: 1, template: 'arcface' },
  'align fairface (dlib chip)': { method: 'align', margin: 1, template: 'fairface' },
  'align fairface 0.9': { method: 'align', margin: 0.9, template: 'fairface' },
};
const ALGORITHMS: ClusterAlgorithm[] = ['average', 'whispers', 'vote', 'components'];
const THRESHOLDS = [0.4, 0.45, 0.5, 0.55, 0.6];

const set = loadEvalSet(path.resolve(process.argv[2] ?? ''));
if (set.kind !== 'attributes') throw new Error('a people set (labels.csv with person) is needed');
const analyzer = new FaceAnalyzer(undefined, {
  assignment: { age: null, gender: null, ethnicity: null, emotion: null },
});
const vectors: Record<string, (Float32Array | null)[]> = {};
for (const name of Object.keys(RECIPES)) vectors[name] = vectors[`${name} +mirror`] = [];
const truth: string[] = [];
for (const sample of set.samples) {
  truth.push(sample.person ?? '');
  const image = await decodeForAnalysis(sample.path);
  const sampler = new AreaSampler(image);
  const faces = await analyzer.detector.detect(image, sampler);
  const centre = (d: (typeof faces)[number]) =>
    Math.hypot((d.box.x1 + d.box.x2 - image.width) / 2, (d.box.y1 + d.box.y2 - image.height) / 2);
  const face = faces.toSorted((a, b) => centre(a) - centre(b))[0];
  for (const [name, recipe] of Object.entries(RECIPES)) {
    if (!face) {
      vectors[name]?.push(null);
      vectors[`${name} +mirror`]?.push(null);
      continue;
    }
    const { plain, mirrored } = await embedFaces(analyzer.models, 'facenet128', [{ sampler, face }], recipe, true);
    vectors[name]?.push(plain[0] as Float32Array);
    vectors[`${name} +mirror`]?.push(averageVectors(plain[0] as Float32Array, mirrored[0] as Float32Array));
  }
}
await analyzer.models.release();
console.log('framing\talgorithm\tthreshold\tbcubedF\tbcubedP\tbcubedR\tpairwiseP\tpairwiseR\tclusters\tunassigned');
for (const [name, list] of Object.entries(vectors)) {
  const placed = list.flatMap((v, i) => (v ? [i] : []));
  const vs = VectorSet.from(placed.map((i) => list[i] as Float32Array));
  for (const algorithm of ALGORITHMS) {
    for (const threshold of THRESHOLDS) {
      const labels = cluster(vs, { algorithm, threshold });
      const all = new Int32Array(list.length).fill(-1);
      placed.forEach((i, j) => (all[i] = labels[j] as number));
      const m = peopleMetrics(truth, all);
      console.log(
        [
          name,
          algorithm,
          threshold.toFixed(2),
          m.bcubedF,
          m.bcubedPrecision,
          m.bcubedRecall,
          m.pairwisePrecision,
          m.pairwiseRecall,
        ]
          .map((v) => (typeof v === 'number' ? v.toFixed(3) : v))
          .concat([String(m.clusters), String(m.unassigned)])
          .join('\t'),
      );
    }
  }
}
