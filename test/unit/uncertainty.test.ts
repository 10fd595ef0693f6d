/**
 * [Note: per-attribute uncertainty]: thresholds from the shipped heads' calibration where they serve an
 * attribute, the documented defaults elsewhere; one mark per estimate in the API, the "hide uncertain"
 * filter in queries and facets, and the export's `unsure` list — all from the same thresholds.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Attribute } from '../../main/api/contract.js';
import { DEFAULT_ASSIGNMENT } from '../../main/engine/analyzer.js';
import { calibrateEstimate, networkCalibration } from '../../main/engine/attributes/calibration.js';
import type { HeadsManifest } from '../../main/engine/attributes/heads.js';
import { faceRecords } from '../../main/library/export.js';
import { Library } from '../../main/library/library.js';
import { DEFAULT_UNCERTAIN_BELOW, uncertainThresholds } from '../../main/library/uncertainty.js';
import { ROOT } from '../helpers/cli.js';
import { random, syntheticFace, syntheticPhoto } from '../helpers/library-synthetic.js';

const SHIPPED = path.join(ROOT, 'models', 'shipped');
const ATTRS: Attribute[] = ['ageGroup', 'gender', 'ethnicity', 'emotion'];
const COLUMN: Record<Attribute, [string, string]> = {
  ageGroup: ['age_group', 'age_group_conf'],
  gender: ['gender', 'gender_conf'],
  ethnicity: ['ethnicity', 'ethnicity_conf'],
  emotion: ['emotion', 'emotion_conf'],
};

test("the shipped heads give calibrated thresholds for what they serve; emotion its networks' calibration", () => {
  const manifest = JSON.parse(readFileSync(path.join(SHIPPED, 'manifest.json'), 'utf8')) as HeadsManifest;
  const calibration = manifest.active?.calibration;
  assert.ok(calibration, 'the shipped heads are calibrated');
  const t = uncertainThresholds(SHIPPED);
  assert.deepEqual(t.ageGroup, { below: calibration.age?.uncertainBelow, source: 'calibration' });
  assert.deepEqual(t.gender, { below: calibration.gender?.uncertainBelow, source: 'calibration' });
  assert.deepEqual(t.ethnicity, { below: calibration.ethnicity?.uncertainBelow, source: 'calibration' });
  assert.deepEqual(t.emotion, { below: emotionCalibration()?.uncertainBelow, source: 'calibration' });
});

/** The run-time calibration measured for the networks that serve emotion ([Note: calibrated confidence]). */
function emotionCalibration() {
  const assigned = DEFAULT_ASSIGNMENT.emotion;
  return assigned ? networkCalibration('emotion', assigned) : undefined;
}

test("without heads the networks' measured calibration or else the documented default", () => {
  const empty = mkdtempSync(path.join(tmpdir(), 'facets-noheads-'));
  try {
    const t = uncertainThresholds(empty);
    assert.ok(emotionCalibration(), 'the emotion ensemble has a measured calibration');
    for (const a of ATTRS) {
      const expected =
        a === 'emotion'
          ? { below: emotionCalibration()?.uncertainBelow, source: 'calibration' }
          : { below: DEFAULT_UNCERTAIN_BELOW[a], source: 'default' };
      assert.deepEqual(t[a], expected);
    }
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

test('a run-time calibration tempers only the assignment it was measured for, and keeps the label', () => {
  const probabilities = { angry: 0.05, disgust: 0.02, fear: 0.03, happy: 0.7, sad: 0.05, surprise: 0.05, neutral: 0.1 };
  const value = { label: 'happy' as const, probabilities, model: { name: 'x', version: '1' } };
  const assigned = DEFAULT_ASSIGNMENT.emotion ?? '';
  const c = networkCalibration('emotion', assigned);
  assert.ok(c && c.temperature > 1);
  const tempered = calibrateEstimate('emotion', assigned, value);
  assert.equal(tempered.label, 'happy');
  const p = tempered.probabilities;
  assert.ok(Math.abs(Object.values(p).reduce((a, b) => a + b, 0) - 1) < 1e-6, 'still sums to 1');
  assert.ok(p.happy < 0.7 && p.happy > p.neutral, `flatter, same order: ${p.happy}`);
  // p ∝ p^(1/T): the ratio of two classes is the original ratio to the power 1/T.
  assert.ok(Math.abs(p.happy / p.neutral - Math.pow(0.7 / 0.1, 1 / c.temperature)) < 1e-4);
  assert.equal(calibrateEstimate('emotion', 'emotion', value), value, 'another assignment is left alone');
});

describe('uncertain marks and the hide-uncertain filter on a real library', () => {
  let dir: string;
  let library: Library;
  const thresholds = uncertainThresholds();

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'facets-uncertain-'));
    library = new Library({ dbPath: path.join(dir, 'library.db') });
    const rnd = random(7);
    for (let i = 0; i < 60; i++) {
      const faces = Array.from({ length: 1 + (i % 3) }, () => syntheticFace(rnd));
      library.catalog.recordAnalysed(
        { path: `/lib/p${i}.jpg`, size: 10 + i, mtimeMs: i },
        `h${i}`,
        syntheticPhoto(faces),
      );
    }
    // A correction is never uncertain, whatever the prediction's confidence.
    const low = library.db
      .prepare<[], { id: number }>(`SELECT id FROM faces WHERE gender_conf < 0.2 ORDER BY id LIMIT 1`)
      .get() as { id: number };
    library.catalog.faces.correct(low.id, 'gender', 'female', '2024-01-01T00:00:00Z');
  });

  after(() => {
    library.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const rows = () =>
    library.db.prepare<[], Record<string, number | string | null>>(`SELECT * FROM faces ORDER BY id`).all();
  const isUnsure = (row: Record<string, number | string | null>, a: Attribute) => {
    const bit = { ageGroup: 1, gender: 2, ethnicity: 4, emotion: 8 }[a];
    const [value, conf] = COLUMN[a];
    return (
      row[value] !== null && ((row['corrected'] as number) & bit) === 0 && (row[conf] as number) < thresholds[a].below
    );
  };

  test('each shown estimate carries its own mark, below its own threshold', () => {
    const { items } = library.queries.faces({}, { offset: 0, limit: 500 });
    const byId = new Map(rows().map((r) => [r['id'] as number, r]));
    let marked = 0;
    for (const face of items) {
      for (const a of ATTRS) {
        const v = face[a];
        assert.ok(v);
        assert.equal(v.uncertain, isUnsure(byId.get(face.id) as Record<string, number | null>, a), `${face.id} ${a}`);
        if (v.uncertain) marked++;
        if (v.corrected) assert.equal(v.uncertain, false);
      }
    }
    assert.ok(marked > 0 && marked < items.length * 4, 'some estimates are uncertain, not all');
  });

  test('hide uncertain (per attribute) leaves out exactly the faces unsure of it, in results and counts', () => {
    for (const hide of [['gender'], ['ageGroup', 'emotion']] as Attribute[][]) {
      const expected = rows()
        .filter((r) => r['photo_visible'] === 1 && !hide.some((a) => isUnsure(r, a)))
        .map((r) => r['id'] as number)
        .sort((a, b) => a - b);
      const got = library.queries.faces({ hideUncertain: hide }, { offset: 0, limit: 500 });
      assert.deepEqual(
        got.items.map((f) => f.id).sort((a, b) => a - b),
        expected,
      );
      assert.equal(got.total, expected.length);
      const facets = library.queries.facets({ hideUncertain: hide }, 'faces', ['/lib']);
      assert.equal(facets.total, expected.length);
      assert.equal(
        facets.emotion.reduce((s, c) => s + c.count, 0),
        expected.length,
      );
      const photos = library.queries.photos({ hideUncertain: hide }, { offset: 0, limit: 500 });
      const photoIds = new Set(
        rows()
          .filter((r) => expected.includes(r['id'] as number))
          .map((r) => r['photo_id']),
      );
      assert.equal(photos.total, photoIds.size);
    }
  });

  test('the export lists the unsure attributes of each face (ethnicity left out when hidden)', () => {
    const byId = new Map(rows().map((r) => [r['id'] as number, r]));
    for (const hidden of [false, true]) {
      for (const r of faceRecords(library.queries, {}, hidden)) {
        const row = byId.get(r.faceId) as Record<string, number | null>;
        assert.deepEqual(
          r.unsure,
          ATTRS.filter((a) => isUnsure(row, a) && !(hidden && a === 'ethnicity')),
        );
      }
    }
  });
});
