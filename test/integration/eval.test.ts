import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { facets, SHARED_DATA } from '../helpers/cli.js';

const AFW = path.join(SHARED_DATA, 'eval', 'afw-dev');
const UTK = path.join(SHARED_DATA, 'eval', 'utkface-dev');
const absent = (dir: string) =>
  existsSync(dir) ? false : `../shared/data absent (${dir}): evaluation set unavailable`;

test('facets eval afw-dev: MTCNN meets the detection targets (recall ≥ 0.95, AP ≥ 0.93 at IoU 0.4, ≤ 0.3 FP/image)', async (t) => {
  const missing = absent(AFW);
  if (missing) return t.skip(missing);
  const r = facets(['eval', AFW, '--json'], { timeoutMs: 900_000 });
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as {
    detection: Record<'recall40' | 'precision40' | 'ap40' | 'recall50' | 'precision50' | 'ap50' | 'fpPerImage', number>;
    pose: { yawOver45: { faces: number; recall40: number } };
    images: number;
    faces: number;
  };
  assert.equal(report.images, 110);
  assert.equal(report.faces, 257);
  assert.ok(report.detection.recall40 >= 0.95, `recall40 ${report.detection.recall40}`);
  assert.ok(report.detection.ap40 >= 0.93, `ap40 ${report.detection.ap40}`);
  assert.ok(report.detection.fpPerImage <= 0.3, `fpPerImage ${report.detection.fpPerImage}`);
  assert.ok(report.detection.recall50 <= report.detection.recall40);
  assert.ok(report.pose.yawOver45.faces > 0);
});

test('facets eval on a face-crop set reports both "crop" and "detect" modes with the documented keys', async (t) => {
  const missing = absent(UTK);
  if (missing) return t.skip(missing);
  const r = facets(['eval', UTK, '--json', '--limit', '60'], { timeoutMs: 600_000 });
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as {
    mode: string;
    images: number;
    noFace: number;
    age: { mae: number; groupAccuracy: number; groupWithinOne: number; count: number };
    ethnicity: {
      accuracy: number;
      perClassRecall: Record<string, number>;
      confusion: Record<string, Record<string, number>>;
    };
    gender: { accuracy: number };
    calibration: Record<
      string,
      {
        ece: number;
        count: number;
        fit?: { temperature: number; eceAfter: number; byTemperature: { temperature: number; ece: number }[] };
      }
    >;
    other: { mode: string; noFace: number; age: { count: number } }[];
    modes: Record<string, { mode: string; images: number }>;
  };
  assert.equal(report.mode, 'crop');
  assert.equal(report.images, 60);
  assert.equal(report.noFace, 0, 'in crop mode every image is a face');
  assert.equal(report.age.count, 60);
  assert.ok(report.age.groupWithinOne >= report.age.groupAccuracy);
  const confusionTotal = Object.values(report.ethnicity.confusion)
    .flatMap((row) => Object.values(row))
    .reduce((a, b) => a + b, 0);
  assert.equal(confusionTotal, 60, 'the confusion matrix counts every face once');
  // Calibration per attribute, with the temperature that would fit this set: the NLL-best temperature's
  // ECE is what the report says it is at that temperature, and temperature 1 is the uncalibrated ECE.
  for (const attr of ['age', 'gender', 'ethnicity']) {
    const c = report.calibration[attr];
    assert.ok(c && c.count === 60 && c.ece >= 0 && c.ece <= 1, `${attr} calibration ${JSON.stringify(c)}`);
    assert.ok(c.fit && c.fit.temperature >= 0.5 && c.fit.temperature <= 4, `${attr} fit`);
    const atOne = c.fit.byTemperature.find((b) => b.temperature === 1);
    // Equal up to float32 rounding: the fit rescales probabilities in a Float32Array (withTemperature), the
    // report's ECE reads them as the estimates carry them (doubles): ~6e-8 a face.
    assert.ok(atOne && Math.abs(atOne.ece - c.ece) < 1e-6, `${attr}: ECE at temperature 1`);
  }
  assert.deepEqual(Object.keys(report.ethnicity.perClassRecall).sort(), ['asian', 'black', 'indian', 'other', 'white']);
  const [detect] = report.other;
  assert.equal(detect?.mode, 'detect');
  assert.equal(
    (detect?.age.count ?? 0) + (detect?.noFace ?? 0),
    60,
    'detect mode: every image classified or counted as no face',
  );
  // --mode both (the default) carries both modes by name.
  assert.deepEqual(Object.keys(report.modes).sort(), ['crop', 'detect']);
  assert.deepEqual([report.modes['crop']?.mode, report.modes['detect']?.images], ['crop', 60]);
});

test('facets eval checks --limit and --pick before it reads anything', () => {
  for (const bad of ['0', '-3', '2.5', 'ten']) {
    const r = facets(['eval', 'no-such-set', `--limit=${bad}`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--limit wants a whole number of samples ≥ 1/);
  }
  const r = facets(['eval', 'no-such-set', '--pick', 'smallest']);
  assert.match(r.stderr, /--pick must be largest or central/);
});
