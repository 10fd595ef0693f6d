import assert from 'node:assert/strict';
import { test } from 'node:test';
import ort from 'onnxruntime-node';
import { combineEstimates } from '../../main/engine/attributes/ensemble.js';
import { ageGroupOf } from '../../main/engine/attributes/labels.js';
import { NETWORKS, ageFromDistribution, groupDistribution } from '../../main/engine/attributes/networks.js';
import { TEMPLATES, cropTransform } from '../../main/engine/faces/crop.js';

const ref = { name: 'm', version: '1.0.0+000000000000' };
const tensor = (data: number[], dims: number[]) => new ort.Tensor('float32', Float32Array.from(data), dims);

test('age groups: bucket edges', () => {
  const cases: [number, string][] = [
    [0, '0-2'],
    [2.99, '0-2'],
    [3, '3-9'],
    [9.5, '3-9'],
    [10, '10-19'],
    [19.99, '10-19'],
    [20, '20-29'],
    [45, '40-49'],
    [69.9, '60-69'],
    [70, '70+'],
    [104, '70+'],
  ];
  for (const [years, group] of cases) assert.equal(ageGroupOf(years), group, `${years}`);
});

test('a per-year distribution sums into the nine groups; years are its mean', () => {
  const perYear = new Array<number>(100).fill(0);
  perYear[25] = 0.5;
  perYear[35] = 0.25;
  perYear[2] = 0.25;
  const groups = groupDistribution(perYear);
  assert.deepEqual(groups, {
    '0-2': 0.25,
    '3-9': 0,
    '10-19': 0,
    '20-29': 0.5,
    '30-39': 0.25,
    '40-49': 0,
    '50-59': 0,
    '60-69': 0,
    '70+': 0,
  });
  const age = ageFromDistribution(perYear, ref);
  assert.equal(age.years, 0.5 * 25 + 0.25 * 35 + 0.25 * 2);
  assert.equal(age.group, '20-29');
});

test('gear: race labels in Human order, gender [male, female], age from bin weights', () => {
  const out = {
    age_output: tensor([0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.5, 0.5], [2, 7]),
    gender_output: tensor([0.2, 0.8, 0.9, 0.1], [2, 2]),
    race_output: tensor([0, 0, 0, 1, 0, 0.6, 0.1, 0.1, 0.1, 0.1], [2, 5]),
  };
  const a = NETWORKS['gear']!.decode(out, 0, ref);
  assert.equal(a.ethnicity?.label, 'indian');
  assert.equal(a.gender?.label, 'female');
  assert.ok(Math.abs((a.gender?.probability ?? 0) - 0.8) < 1e-6);
  assert.equal(a.age?.years, 28);
  const b = NETWORKS['gear']!.decode(out, 1, ref);
  assert.equal(b.ethnicity?.label, 'white');
  assert.equal(b.gender?.label, 'male');
  assert.equal(b.age?.years, (55.5 + 65) / 2);
});

test('face-api expressions are reordered into Facets emotion labels', () => {
  // face-api order: neutral, happy, sad, angry, fearful, disgusted, surprised
  const out = { expressions: tensor([0.05, 0.1, 0.05, 0.6, 0.1, 0.05, 0.05], [1, 7]) };
  const e = NETWORKS['faceapi-expression']!.decode(out, 0, ref).emotion;
  assert.equal(e?.label, 'angry');
  assert.ok(Math.abs((e?.probabilities.fear ?? 0) - 0.1) < 1e-6);
  assert.ok(Math.abs((e?.probabilities.neutral ?? 0) - 0.05) < 1e-6);
});

test('Human emotion labels in FER order; face-api age regression becomes a distribution', () => {
  const e = NETWORKS['emotion']!.decode({ 'Identity:0': tensor([0, 0, 0, 0, 0, 0.9, 0.1], [1, 7]) }, 0, ref).emotion;
  assert.equal(e?.label, 'surprise');
  const a = NETWORKS['faceapi-age-gender']!.decode(
    { age: tensor([33.4], [1, 1]), gender: tensor([0.3, 0.7], [1, 2]) },
    0,
    ref,
  );
  assert.ok(Math.abs((a.age?.years ?? 0) - 33.4) < 1e-5);
  assert.equal(a.age?.group, '30-39');
  assert.equal(a.gender?.label, 'female');
  assert.ok(Math.abs(Object.values(a.age?.groupProbabilities ?? {}).reduce((x, y) => x + y, 0) - 1) < 1e-9);
});

test('an ensemble averages probabilities and names every model', () => {
  const one = NETWORKS['emotion']!.decode({ 'Identity:0': tensor([0.6, 0, 0, 0.4, 0, 0, 0], [1, 7]) }, 0, {
    name: 'a',
    version: '1',
  });
  const two = NETWORKS['emotion']!.decode({ 'Identity:0': tensor([0, 0, 0, 0.8, 0, 0, 0.2], [1, 7]) }, 0, {
    name: 'b',
    version: '2',
  });
  const both = combineEstimates('emotion', [one, two]).emotion;
  assert.equal(both?.label, 'happy');
  assert.ok(Math.abs((both?.probabilities.happy ?? 0) - 0.6) < 1e-6);
  assert.deepEqual(both?.model, { name: 'a+b', version: '1,2' });
});

test('box crops are square around the box centre; aligned crops put the landmarks on the template', () => {
  const face = {
    box: { x1: 100, y1: 50, x2: 140, y2: 130 },
    landmarks: TEMPLATES.utkface.map(([x, y]) => [300 + x * 80, 200 + y * 80] as [number, number]),
  };
  // Box: 80 px square (the longer side) around (120, 90), sampled onto 40 px → 2 source px per pixel.
  assert.deepEqual(cropTransform(face, { method: 'box', margin: 1 }, 40), { a: 2, b: 0, tx: 80, ty: 50 });
  // Aligned to the same template the landmarks were made from: a pure scale 80/100 plus the offset.
  const t = cropTransform(face, { method: 'align', margin: 1, template: 'utkface' }, 100);
  assert.ok(Math.abs(t.a - 0.8) < 1e-9 && Math.abs(t.b) < 1e-9);
  assert.ok(Math.abs(t.tx - 300) < 1e-9 && Math.abs(t.ty - 200) < 1e-9);
});
