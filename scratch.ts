import { FaceAnalyzer } from './main/engine/analyzer.js';
import { ModelStore } from './main/engine/sessions.js';
const a = new FaceAnalyzer(new ModelStore('/tmp/ms'), {
  assignment: { age: null, gender: null, ethnicity: null, emotion: null },
});
for (const f of [
  '../shared/data/eval/mtcnn-parity/ipazc-mtcnn/ivan.jpg',
  '../shared/data/eval/mtcnn-parity/ipazc-mtcnn/no-faces.jpg',
  '../shared/data/eval/mtcnn-parity/faceapi-faces/faces.jpg',
]) {
  const t = performance.now();
  const r = await a.analyze(f);
  console.log(
    f,
    r.width,
    r.height,
    (performance.now() - t).toFixed(0) + 'ms',
    JSON.stringify(
      r.faces.map((x) => ({
        box: Object.values(x.box).map((v) => +v.toFixed(1)),
        score: +x.score.toFixed(4),
        lm: x.landmarks.map((p) => p.map((v) => +v.toFixed(0))),
      })),
    ),
    a.detector.stats,
  );
}
