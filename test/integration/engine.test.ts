import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { FaceAnalyzer } from '../../main/engine/analyzer.js';
import { AGE_GROUPS, EMOTIONS, ETHNICITIES } from '../../main/engine/attributes/labels.js';
import { MtcnnDetector } from '../../main/engine/detection/mtcnn.js';
import { decodeForAnalysis } from '../../main/engine/image/decode.js';
import { rotateImage } from '../../main/engine/image/resample.js';
import { facets, ROOT, SHARED_DATA } from '../helpers/cli.js';

const PARITY = path.join(SHARED_DATA, 'eval', 'mtcnn-parity');
const SAMPLES = path.join(ROOT, 'node_modules', '@vladmandic', 'face-api', 'demo');
const sharedMissing = existsSync(PARITY) ? false : `../shared/data absent (${PARITY}): reference photos unavailable`;

function iou(a: { x: number; y: number; width: number; height: number }, b: typeof a): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  return (w * h) / (a.width * a.height + b.width * b.height - w * h);
}

describe('face analysis engine on real photos with the real models', () => {
  const analyzer = new FaceAnalyzer();
  after(() => analyzer.models.release());

  test('ivan.jpg: one face matching the reference MTCNN box, landmarks and score', async (t) => {
    if (sharedMissing) return t.skip(sharedMissing);
    const expected = JSON.parse(readFileSync(path.join(PARITY, 'ipazc-mtcnn', 'expected.json'), 'utf8')) as Record<
      string,
      { box: [number, number, number, number]; confidence: number; keypoints: Record<string, [number, number]> }[]
    >;
    const [ref] = expected['ivan.jpg'] ?? [];
    assert.ok(ref);
    const result = await analyzer.analyze(path.join(PARITY, 'ipazc-mtcnn', 'ivan.jpg'));
    assert.equal(result.faces.length, 1);
    const face = result.faces[0]!;
    const [x, y, width, height] = ref.box;
    assert.ok(iou(face.box, { x, y, width, height }) >= 0.85, `IoU ${iou(face.box, { x, y, width, height })}`);
    assert.ok(Math.abs(face.score - ref.confidence) < 0.01, `score ${face.score}`);
    // Landmarks in the reference's order: left eye, right eye, nose, mouth left, mouth right (image left/right).
    const order = ['left_eye', 'right_eye', 'nose', 'mouth_left', 'mouth_right'];
    face.landmarks.forEach(([lx, ly], i) => {
      const [rx, ry] = ref.keypoints[order[i] as string] as [number, number];
      assert.ok(Math.hypot(lx - rx, ly - ry) < 4, `${order[i]}: (${lx}, ${ly}) vs (${rx}, ${ry})`);
    });
  });

  test('no-faces.jpg: no face', async (t) => {
    if (sharedMissing) return t.skip(sharedMissing);
    const result = await analyzer.analyze(path.join(PARITY, 'ipazc-mtcnn', 'no-faces.jpg'));
    assert.deepEqual(result.faces, []);
  });

  test('every face of a group photo gets every attribute, with labels, probabilities and model', async () => {
    const result = await analyzer.analyze(path.join(SAMPLES, 'sample1.jpg'));
    assert.ok(result.faces.length >= 3, `found ${result.faces.length} faces`);
    for (const f of result.faces) {
      assert.ok(f.age && AGE_GROUPS.includes(f.age.group) && f.age.years > 0 && f.age.years < 100);
      assert.ok(Math.abs(Object.values(f.age.groupProbabilities).reduce((a, b) => a + b, 0) - 1) < 1e-3);
      assert.ok(f.gender && f.gender.probability >= 0.5 && f.gender.probability <= 1);
      assert.ok(f.ethnicity && ETHNICITIES.includes(f.ethnicity.label));
      assert.ok(f.emotion && EMOTIONS.includes(f.emotion.label));
      for (const p of [f.ethnicity.probabilities, f.emotion.probabilities]) {
        assert.ok(Math.abs(Object.values(p).reduce((a: number, b) => a + (b as number), 0) - 1) < 1e-3);
      }
      for (const m of [f.age.model, f.gender.model, f.ethnicity.model, f.emotion.model]) {
        assert.match(m.name, /\w/);
        // One version per contributing model (ensembles join theirs with commas).
        assert.match(m.version, /^\d+\.\d+\.\d+\+[0-9a-f]{12}(,\d+\.\d+\.\d+\+[0-9a-f]{12})*$/);
      }
      assert.equal(typeof f.quality.uncertain, 'boolean');
      assert.ok(f.landmarks.length === 5);
    }
  });

  test('faces rolled 60°: the upright pass misses most, extra turned passes find them where they are', async () => {
    const photo = await decodeForAnalysis(path.join(SAMPLES, 'sample5.jpg'), { maxSide: 960 });
    const upright = await new MtcnnDetector(analyzer.models).detect(photo);
    const turned = rotateImage(photo, 60);
    const plain = await new MtcnnDetector(analyzer.models).detect(turned.image);
    const withPasses = new MtcnnDetector(analyzer.models, { rotations: [-60, 60] });
    const found = await withPasses.detect(turned.image);
    assert.equal(withPasses.stats.rotatedPasses, 2);
    // Every upright face, carried into the turned photo, is matched by a face the passes found.
    const expected = upright.map((d) => {
      const [cx, cy] = turned.fromSource((d.box.x1 + d.box.x2) / 2, (d.box.y1 + d.box.y2) / 2);
      const w = d.box.x2 - d.box.x1;
      const h = d.box.y2 - d.box.y1;
      return { x: cx - w / 2, y: cy - h / 2, width: w, height: h };
    });
    const asRect = (d: { box: { x1: number; y1: number; x2: number; y2: number } }) => ({
      x: d.box.x1,
      y: d.box.y1,
      width: d.box.x2 - d.box.x1,
      height: d.box.y2 - d.box.y1,
    });
    const matched = (list: typeof found) => expected.filter((e) => list.some((d) => iou(asRect(d), e) >= 0.5)).length;
    assert.ok(upright.length >= 5);
    assert.equal(matched(found), expected.length, `turned passes found ${matched(found)} of ${expected.length}`);
    assert.ok(matched(plain) < expected.length, `the upright pass alone found ${matched(plain)} of ${expected.length}`);
    assert.ok(found.length <= expected.length + 1, `${found.length} faces for ${expected.length}`);
  });

  test('facets analyze --json and --draw work from the command line', async () => {
    const out = path.join(ROOT, 'test-results', 'analyze-draw.png');
    const r = facets(['analyze', path.join(SAMPLES, 'sample2.jpg'), '--json', '--draw', out]);
    assert.equal(r.code, 0, r.stderr);
    const [img] = JSON.parse(r.stdout) as { path: string; width: number; height: number; faces: unknown[] }[];
    assert.ok(img && img.faces.length >= 1 && img.width > 0);
    assert.ok(existsSync(out));
  });
});
