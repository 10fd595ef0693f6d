import { FaceAnalyzer } from './main/engine/analyzer.js';
import { decodeForAnalysis } from './main/engine/image/decode.js';
import { AreaSampler } from './main/engine/image/resample.js';
import { loadEvalSet } from './main/eval/datasets.js';
const a = new FaceAnalyzer();
for (const dir of ['../shared/data/train/utkface-train', '../shared/data/train/fer2013-train']) {
  const set = loadEvalSet(dir);
  if (set.kind !== 'attributes') throw 0;
  const n = 400; const sums = Array.from({ length: 5 }, () => [0, 0]); let k = 0;
  for (let i = 0; i < n; i++) {
    const s = set.samples[Math.floor(i * set.samples.length / n)]!;
    const img = await decodeForAnalysis(s.path);
    const dets = await a.detector.detect(img, new AreaSampler(img));
    if (dets.length !== 1) continue;
    k++;
    dets[0]!.landmarks.forEach(([x, y], j) => { sums[j]![0] += x / img.width; sums[j]![1] += y / img.height; });
  }
  console.log(dir, k, JSON.stringify(sums.map(([x, y]) => [+(x / k).toFixed(4), +(y / k).toFixed(4)])));
}
