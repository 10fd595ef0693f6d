import { FaceAnalyzer } from './main/engine/analyzer.js';
import { ModelStore } from './main/engine/sessions.js';
import { loadEvalSet } from './main/eval/datasets.js';
import { iou } from './main/eval/metrics.js';
const set = loadEvalSet('../shared/data/eval/afw-dev');
if (set.kind !== 'detection') throw 0;
const a = new FaceAnalyzer(new ModelStore('/tmp/ms'), {
  assignment: { age: null, gender: null, ethnicity: null, emotion: null },
});
const fps: string[] = [];
const tps: number[][] = [];
for (const img of set.images) {
  const r = await a.analyze(img.path);
  for (const f of r.faces) {
    const p = {
      x1: f.storedBox.x,
      y1: f.storedBox.y,
      x2: f.storedBox.x + f.storedBox.width,
      y2: f.storedBox.y + f.storedBox.height,
    };
    const best = Math.max(0, ...img.faces.map((t) => iou(p, t)));
    if (best < 0.4)
      fps.push(
        `${img.path.split('/').pop()} score ${f.score.toFixed(3)} size ${f.box.width.toFixed(0)} sharp ${f.quality.sharpness.toFixed(0)} bestIoU ${best.toFixed(2)} img ${r.width}x${r.height}`,
      );
    else tps.push([f.score, f.box.width, f.quality.sharpness]);
  }
}
console.log(fps.join('\n'));
tps.sort((x, y) => x[0]! - y[0]!);
console.log(
  'lowest TPs',
  tps
    .slice(0, 8)
    .map((t) => t.map((v) => v.toFixed(2)).join('/'))
    .join('  '),
);
