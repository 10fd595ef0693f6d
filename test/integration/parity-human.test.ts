/**
 * Parity of the TF.js → ONNX converter (models/build/tfjs-graph.ts) for Human's gear, emotion and faceres:
 * the original graph model runs in @tensorflow/tfjs-converter (cpu backend), the ONNX model in
 * onnxruntime-node, on the same real face crops, and every output must agree to 1e-4.
 *
 * Also: a synthetic graph exercising the ops the three models do not use (asymmetric SAME padding,
 * dilations, depthwise multipliers, quantised weights, layout-sensitive ops), and the converter's refusal
 * of unsupported ops/attributes.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { type GraphModel, loadGraphModel } from '@tensorflow/tfjs-converter';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { readManifest } from '../../main/engine/manifest.js';
import { sourceDir } from '../../models/build/sources.js';
import { convertTfjsGraph } from '../../models/build/tfjs-graph.js';
import { ROOT, SHARED_DATA } from '../helpers/cli.js';

/** Max |TF.js − ONNX| allowed on every output value. */
const TOLERANCE = 1e-4;

const manifest = readManifest(path.join(ROOT, 'models'));
const humanSource = manifest.sources['human-models'];
assert.ok(humanSource, 'manifest pins the human-models source');
const HUMAN_MODELS = path.join(sourceDir(humanSource, ROOT), 'models');
const SAMPLES = path.join(ROOT, 'node_modules', '@vladmandic', 'face-api', 'demo');
const UTKFACE = path.join(SHARED_DATA, 'eval', 'utkface-dev');

type HumanModel = 'gear' | 'emotion' | 'faceres';

/**
 * How Human (vladmandic/human, src/gear/gear.ts, src/gear/emotion.ts, src/face/faceres.ts) prepares a face
 * for each model. Its face tensor is RGB / 255 (src/face/facemesh.ts: `tf.div(cut, 255)`); then
 * gear: crop+resize to 198x198, fed as is (0..1); faceres: resize to 224x224, × 255 (0..255);
 * emotion: resize to 64x64, grey = 0.2989 R + 0.5870 G + 0.1140 B (of 0..1 values), then (grey − 0.5) × 2.
 */
const PREP: Record<
  HumanModel,
  { size: number; channels: number; pixel: (r: number, g: number, b: number) => number[] }
> = {
  gear: { size: 198, channels: 3, pixel: (r, g, b) => [r / 255, g / 255, b / 255] },
  faceres: { size: 224, channels: 3, pixel: (r, g, b) => [r, g, b] },
  emotion: {
    size: 64,
    channels: 1,
    pixel: (r, g, b) => [((0.2989 * r) / 255 + (0.587 * g) / 255 + (0.114 * b) / 255 - 0.5) * 2],
  },
};

/** One face per demo photo (pixel boxes in the 1920-wide originals), picked by eye. */
const SAMPLE_FACES: { file: string; left: number; top: number; width: number; height: number }[] = [
  { file: 'sample1.jpg', left: 760, top: 352, width: 360, height: 360 },
  { file: 'sample2.jpg', left: 1476, top: 116, width: 320, height: 320 },
  { file: 'sample3.jpg', left: 1048, top: 200, width: 320, height: 320 },
  { file: 'sample4.jpg', left: 1184, top: 132, width: 320, height: 320 },
  { file: 'sample5.jpg', left: 1444, top: 368, width: 320, height: 320 },
  { file: 'sample6.jpg', left: 660, top: 316, width: 320, height: 320 },
];

// ---------------------------------------------------------------------------------------------------------------
// Loading both sides

interface ModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  signature?: object;
  userDefinedMetadata?: { [key: string]: object };
}

/** Loads a graph model from disk through an in-memory IOHandler (no fetch, no file:// handler needed). */
async function loadTfjs(modelJsonPath: string): Promise<GraphModel> {
  const dir = path.dirname(modelJsonPath);
  const json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as ModelJson;
  const shards = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(path.join(dir, p))));
  const data = Buffer.concat(shards);
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: json.modelTopology,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
    signature: json.signature,
    userDefinedMetadata: json.userDefinedMetadata,
  };
  return loadGraphModel({ load: async () => artifacts });
}

const onnxCache = new Map<string, Uint8Array>();

/** The ONNX model under test: the generated file when `facets models build` has made it, else converted now. */
function onnxBytesFor(name: HumanModel): Uint8Array {
  let bytes = onnxCache.get(name);
  if (!bytes) {
    const generated = path.join(ROOT, 'models', 'generated', `${name}.onnx`);
    bytes = existsSync(generated)
      ? new Uint8Array(readFileSync(generated))
      : convertTfjsGraph(path.join(HUMAN_MODELS, `${name}.json`), { graphName: name });
    onnxCache.set(name, bytes);
  }
  return bytes;
}

/** RGB bytes of an image region resized to size×size. */
async function rgb(file: string, size: number, box?: { left: number; top: number; width: number; height: number }) {
  let image = sharp(file);
  if (box) image = image.extract(box);
  const { data, info } = await image
    .resize(size, size, { fit: 'fill' })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3);
  return new Uint8Array(data);
}

/** A [batch, size, size, channels] float32 batch prepared as Human prepares it. */
function prepare(name: HumanModel, images: Uint8Array[]): { data: Float32Array; shape: number[] } {
  const { size, channels, pixel } = PREP[name];
  const data = new Float32Array(images.length * size * size * channels);
  let o = 0;
  for (const image of images) {
    for (let p = 0; p < size * size; p++) {
      for (const v of pixel(image[3 * p] as number, image[3 * p + 1] as number, image[3 * p + 2] as number)) {
        data[o++] = v;
      }
    }
  }
  return { data, shape: [images.length, size, size, channels] };
}

interface Comparison {
  output: string;
  dims: readonly number[];
  maxDiff: number;
}

/** Runs both models on the same input and returns max |difference| per output (asserting names and shapes). */
async function compare(
  model: GraphModel,
  session: ort.InferenceSession,
  input: { data: Float32Array; shape: number[] },
  /** Intermediate outputs the manifest adds (ONNX output name → TF node), compared like the others. */
  extra: Record<string, string> = {},
): Promise<Comparison[]> {
  const inputName = model.inputs[0]?.name as string;
  assert.deepEqual(session.inputNames, [inputName], 'the ONNX model keeps the TF.js input (placeholder) name');
  const outputNames = [...model.outputNodes, ...Object.keys(extra)];
  assert.deepEqual(
    [...session.outputNames].sort(),
    [...outputNames].sort(),
    "the ONNX model keeps TF.js output names (and adds the manifest's intermediate outputs)",
  );

  const x = tf.tensor(input.data, input.shape, 'float32');
  const result = model.execute({ [inputName]: x }, [...model.outputNodes, ...Object.values(extra)]);
  const tfOut = Array.isArray(result) ? result : [result];
  const onnxOut = await session.run({ [inputName]: new ort.Tensor('float32', input.data, input.shape) });
  const comparisons: Comparison[] = [];
  outputNames.forEach((output, i) => {
    const expected = tfOut[i] as tf.Tensor;
    const actual = onnxOut[output];
    assert.ok(actual, `ONNX output ${output}`);
    assert.deepEqual([...actual.dims], expected.shape, `${output}: shape`);
    const a = actual.data as Float32Array;
    const e = expected.dataSync() as Float32Array;
    let maxDiff = 0;
    for (let k = 0; k < e.length; k++) {
      const d = Math.abs((a[k] as number) - (e[k] as number));
      if (!(d <= maxDiff)) maxDiff = d; // NaN propagates as a failure
    }
    comparisons.push({ output, dims: actual.dims, maxDiff });
  });
  tf.dispose([x, ...tfOut]);
  return comparisons;
}

/** The intermediate outputs models/manifest.json adds to a TF.js graph model (e.g. gear's features). */
function extraOutputs(name: string): Record<string, string> {
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'models', 'manifest.json'), 'utf8')) as {
    models: { name: string; outputs: { name: string; node?: string }[] }[];
  };
  const entry = manifest.models.find((m) => m.name === name);
  return Object.fromEntries((entry?.outputs ?? []).flatMap((o) => (o.node ? [[o.name, o.node]] : [])));
}

function assertClose(t: { diagnostic: (m: string) => void }, label: string, comparisons: Comparison[]): void {
  for (const c of comparisons) {
    t.diagnostic(`${label} ${c.output} [${c.dims.join('x')}]: max |diff| = ${c.maxDiff.toExponential(2)}`);
    assert.ok(c.maxDiff <= TOLERANCE, `${label} ${c.output}: max |diff| ${c.maxDiff} > ${TOLERANCE}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The three Human models

before(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

for (const name of ['gear', 'emotion', 'faceres'] as const) {
  describe(`${name}: ONNX matches TF.js`, () => {
    let model: GraphModel;
    let session: ort.InferenceSession;

    before(async () => {
      model = await loadTfjs(path.join(HUMAN_MODELS, `${name}.json`));
      session = await ort.InferenceSession.create(onnxBytesFor(name));
    });
    after(async () => {
      model?.dispose();
      await session?.release();
    });

    test('six demo-photo faces in one batch (dynamic batch axis)', async (t) => {
      const images = await Promise.all(SAMPLE_FACES.map((f) => rgb(path.join(SAMPLES, f.file), PREP[name].size, f)));
      const comparisons = await compare(model, session, prepare(name, images), extraOutputs(name));
      for (const c of comparisons) assert.equal(c.dims[0], SAMPLE_FACES.length, `${c.output}: batch dimension`);
      assertClose(t, 'demo faces', comparisons);
    });

    test('UTKFace dev crops, one at a time (batch 1)', async (t) => {
      if (!existsSync(path.join(UTKFACE, 'labels.csv'))) {
        t.skip(`${UTKFACE} is absent (../shared is only present on development machines)`);
        return;
      }
      const rows = readFileSync(path.join(UTKFACE, 'labels.csv'), 'utf8').trim().split('\n').slice(1);
      // Four rows spread over the file (it is sorted by file name, i.e. by age).
      const picks = [0, 1, 2, 3].map((k) => rows[Math.floor((k * rows.length) / 4)] as string);
      for (const row of picks) {
        const file = row.split(',')[0] as string;
        const image = await rgb(path.join(UTKFACE, file), PREP[name].size);
        assertClose(t, path.basename(file), await compare(model, session, prepare(name, [image]), extraOutputs(name)));
      }
    });
  });
}

test('conversion is deterministic', () => {
  for (const name of ['emotion', 'gear'] as const) {
    const file = path.join(HUMAN_MODELS, `${name}.json`);
    const a = convertTfjsGraph(file, { graphName: name, metadata: { source: 'x' } });
    const b = convertTfjsGraph(file, { graphName: name, metadata: { source: 'x' } });
    assert.ok(Buffer.from(a).equals(Buffer.from(b)), `${name}: same bytes on every run`);
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Synthetic graphs: op coverage beyond the three models, and loud failures

interface TfAttr {
  s?: string;
  i?: string;
  f?: number;
  b?: boolean;
  type?: string;
  list?: { s?: string[]; i?: string[] };
  shape?: { dim: { size: string }[] };
}

const A = {
  T: { type: 'DT_FLOAT' } as TfAttr,
  s: (v: string): TfAttr => ({ s: Buffer.from(v).toString('base64') }),
  i: (v: number): TfAttr => ({ i: String(v) }),
  f: (v: number): TfAttr => ({ f: v }),
  b: (v: boolean): TfAttr => ({ b: v }),
  ints: (v: number[]): TfAttr => ({ list: { i: v.map(String) } }),
  strs: (v: string[]): TfAttr => ({ list: { s: v.map((s) => Buffer.from(s).toString('base64')) } }),
};

/** Writes a small graph-model (model.json + one .bin) with seeded random weights. */
class SyntheticModel {
  readonly nodes: { name: string; op: string; input?: string[]; attr?: Record<string, TfAttr> }[] = [];
  private readonly specs: tf.io.WeightsManifestEntry[] = [];
  private readonly chunks: Buffer[] = [];
  private seed = 12345;

  private random(): number {
    // mulberry32
    this.seed = (this.seed + 0x6d2b79f5) | 0;
    let r = Math.imul(this.seed ^ (this.seed >>> 15), 1 | this.seed);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  }

  placeholder(name: string, shape: number[]): string {
    const dim = shape.map((d) => ({ size: String(d) }));
    this.nodes.push({
      name,
      op: 'Placeholder',
      attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim } } as TfAttr },
    });
    return name;
  }

  /** A float constant, stored plainly or quantised (float16 / uint8 affine) like tfjs-converter does. */
  weight(name: string, shape: number[], scale = 0.5, quantization?: 'float16' | 'uint8', offset = 0): string {
    const size = shape.reduce((a, b) => a * b, 1);
    this.nodes.push({ name, op: 'Const', attr: { dtype: { type: 'DT_FLOAT' } } });
    if (quantization === 'float16') {
      // Random halves with exponents 8..15 (|v| in [2^-7, 2)), sign random: exact in float32.
      const bits = new Uint16Array(size).map(() => {
        const sign = this.random() < 0.5 ? 0x8000 : 0;
        return sign | ((8 + Math.floor(this.random() * 8)) << 10) | Math.floor(this.random() * 1024);
      });
      this.chunks.push(Buffer.from(bits.buffer));
      this.specs.push({ name, shape, dtype: 'float32', quantization: { dtype: 'float16' } });
    } else if (quantization === 'uint8') {
      const bytes = new Uint8Array(size).map(() => Math.floor(this.random() * 256));
      this.chunks.push(Buffer.from(bytes.buffer));
      this.specs.push({ name, shape, dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.0037, min: -0.47 } });
    } else {
      const values = Float32Array.from({ length: size }, () => offset + (this.random() * 2 - 1) * scale);
      this.chunks.push(Buffer.from(values.buffer));
      this.specs.push({ name, shape, dtype: 'float32' });
    }
    return name;
  }

  ints(name: string, values: number[], shape = [values.length]): string {
    this.nodes.push({ name, op: 'Const', attr: { dtype: { type: 'DT_INT32' } } });
    this.chunks.push(Buffer.from(Int32Array.from(values).buffer));
    this.specs.push({ name, shape, dtype: 'int32' });
    return name;
  }

  op(name: string, op: string, input: string[], attr: Record<string, TfAttr> = {}): string {
    this.nodes.push({ name, op, input, attr: { T: A.T, ...attr } });
    return name;
  }

  write(dir: string): string {
    writeFileSync(path.join(dir, 'weights.bin'), Buffer.concat(this.chunks));
    const json = {
      format: 'graph-model',
      modelTopology: { node: this.nodes, library: {}, versions: {} },
      weightsManifest: [{ paths: ['weights.bin'], weights: this.specs }],
    };
    const file = path.join(dir, 'model.json');
    writeFileSync(file, JSON.stringify(json));
    return file;
  }
}

const conv = (strides: number[], padding: string, extra: Record<string, TfAttr> = {}) => ({
  strides: A.ints(strides),
  padding: A.s(padding),
  data_format: A.s('NHWC'),
  dilations: A.ints([1, 1, 1, 1]),
  ...extra,
});
const fused = (ops: string[], numArgs: number, extra: Record<string, TfAttr> = {}) => ({
  fused_ops: A.strs(ops),
  num_args: A.i(numArgs),
  epsilon: A.f(0),
  ...extra,
});
const pool = (k: number, s: number, padding: string) => ({
  ksize: A.ints([1, k, k, 1]),
  strides: A.ints([1, s, s, 1]),
  padding: A.s(padding),
  data_format: A.s('NHWC'),
});

describe('synthetic op coverage', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'facets-tfjs-graph-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('odd sizes, asymmetric SAME, dilations, depthwise ×2, quantised weights, layout-sensitive ops', async (t) => {
    const m = new SyntheticModel();
    const x = m.placeholder('x', [-1, 12, 14, 3]);
    // stride-2 SAME on 12x14 pads 1 pixel at the bottom/right only (TF's asymmetric rule) → 6x7
    const c1 = m.op('c1', '_FusedConv2D', [x, m.weight('w1', [3, 3, 3, 8], 0.5, 'float16'), m.weight('b1', [8])], {
      ...conv([1, 2, 2, 1], 'SAME'),
      ...fused(['BiasAdd', 'Relu6'], 1),
    });
    const c2 = m.op('c2', 'Conv2D', [c1, m.weight('w2', [2, 2, 8, 8], 0.5, 'uint8')], {
      ...conv([1, 1, 1, 1], 'SAME', { dilations: A.ints([1, 2, 3, 1]) }),
    });
    const bnParams = [
      m.weight('g', [8]),
      m.weight('be', [8]),
      m.weight('mu', [8]),
      m.weight('var', [8], 0.2, undefined, 0.5),
    ];
    const bn = m.op('bn', 'FusedBatchNormV3', [c2, ...bnParams], {
      epsilon: A.f(0.001),
      data_format: A.s('NHWC'),
      is_training: A.b(false),
    });
    const d1 = m.op('d1', 'DepthwiseConv2dNative', [bn, m.weight('dw', [3, 3, 8, 2])], conv([1, 1, 1, 1], 'VALID'));
    const p1 = m.op('p1', 'AvgPool', [d1], pool(3, 2, 'SAME'));
    const c3 = m.op(
      'c3',
      '_FusedConv2D',
      [d1, m.weight('w3', [1, 1, 16, 16]), m.weight('b3', [16]), m.weight('al', [16])],
      {
        ...conv([1, 1, 1, 1], 'VALID'),
        ...fused(['BiasAdd', 'Prelu'], 2),
      },
    );
    const m1 = m.op('m1', 'MaxPool', [c3], pool(2, 2, 'SAME'));
    const a1 = m.op('a1', 'AddV2', [p1, m1]);
    const e1 = m.op('e1', '_FusedConv2D', [a1, m.weight('w4', [3, 3, 16, 4]), m.weight('b4', [4])], {
      ...conv([1, 1, 1, 1], 'EXPLICIT', { explicit_paddings: A.ints([0, 0, 1, 2, 0, 1, 0, 0]) }),
      ...fused(['BiasAdd', 'LeakyRelu'], 1, { leakyrelu_alpha: A.f(0.1) }),
    });
    const s1 = m.op('s1', 'Sigmoid', [e1]);
    const el = m.op('el', 'Elu', [m.op('ba', 'BiasAdd', [e1, m.weight('bb', [4])], { data_format: A.s('NHWC') })]);
    const cat = m.op('cat', 'ConcatV2', [s1, el, m.ints('axis', [-1], [])], { N: A.i(2), Tidx: { type: 'DT_INT32' } });
    const pd = m.op('pd', 'Pad', [cat, m.ints('pads', [0, 0, 1, 0, 0, 1, 0, 0], [4, 2])]);
    const tr = m.op('tr', 'Transpose', [pd, m.ints('perm', [0, 3, 1, 2])]);
    const su = m.op('su', 'Sum', [tr, m.ints('sax', [3])], { keep_dims: A.b(true) });
    const sq = m.op('sq', 'Squeeze', [su], { squeeze_dims: A.ints([3]) });
    const ss = m.op(
      'ss',
      'StridedSlice',
      [sq, m.ints('sb', [0, 1, 0]), m.ints('se', [0, 7, 4]), m.ints('st', [1, 2, 1])],
      {
        begin_mask: A.i(1),
        end_mask: A.i(1),
        ellipsis_mask: A.i(0),
        new_axis_mask: A.i(0),
        shrink_axis_mask: A.i(0),
      },
    );
    const rs = m.op('rs', 'Reshape', [ss, m.ints('shape', [-1, 12])]);
    const mm = m.op('mm', '_FusedMatMul', [rs, m.weight('mw', [5, 12]), m.weight('mb', [5])], {
      transpose_a: A.b(false),
      transpose_b: A.b(true),
      ...fused(['BiasAdd', 'Elu'], 1),
    });
    const mm2 = m.op('mm2', 'MatMul', [mm, m.weight('mw2', [5, 3])], {
      transpose_a: A.b(false),
      transpose_b: A.b(false),
    });
    m.op('probs', 'Softmax', [m.op('tanh', 'Tanh', [mm2])]);
    const ex = m.op('ex', 'ExpandDims', [mm2, m.ints('eax', [1], [])]);
    const mx = m.op('mx', 'Max', [ex, m.ints('mxa', [1])], { keep_dims: A.b(false) });
    const dv = m.op('dv', 'RealDiv', [mx, m.weight('den', [3], 0.5, undefined, 1)]);
    const sb = m.op('sb2', 'Sub', [dv, m.weight('off', [], 1)]);
    m.op('clipped', 'Maximum', [
      m.op('mn', 'Minimum', [sb, m.weight('hi', [1], 0.5, undefined, 1)]),
      m.weight('lo', [1], 0.5, undefined, -1),
    ]);
    // NCHW-tracked tensors meeting TF-layout-sensitive ops: mean over H,W, a channel slice, relu6, mul
    m.op('pooled', 'Mean', [m.op('r6', 'Relu6', [c3]), m.ints('hw', [1, 2])], { keep_dims: A.b(false) });
    m.op(
      'chan',
      'StridedSlice',
      [
        m.op('mul', 'Mul', [m.op('relu', 'Relu', [c2]), m.weight('sc', [8])]),
        m.ints('b0', [0, 0, 0, 2]),
        m.ints('e0', [0, 0, 0, 3]),
        m.ints('s0', [1, 1, 1, 1]),
      ],
      {
        begin_mask: A.i(7),
        end_mask: A.i(7),
        shrink_axis_mask: A.i(8),
      },
    );
    m.op('flat', 'Reshape', [m1, m.ints('fshape', [-1, 96])]);
    // fused depthwise (SAME, stride 2 on 6x7) → standalone Prelu / LeakyRelu → PadV2 with a fill value
    const fdw = m.op('fdw', 'FusedDepthwiseConv2dNative', [c1, m.weight('dw2', [3, 3, 8, 1]), m.weight('db2', [8])], {
      ...conv([1, 2, 2, 1], 'SAME'),
      ...fused(['BiasAdd'], 1),
    });
    const lr = m.op('lr', 'LeakyRelu', [m.op('pr', 'Prelu', [fdw, m.weight('pa', [8])])], { alpha: A.f(0.3) });
    const p2 = m.op('p2', 'PadV2', [lr, m.ints('pads2', [0, 0, 0, 1, 1, 0, 0, 0], [4, 2]), m.weight('fill', [], 1)]);
    m.op('dwflat', 'Reshape', [p2, m.ints('fshape3', [-1, 4 * 5 * 8])]);
    // the remaining unary ops, on a TF-layout tensor
    const u = m.op('u1', 'Exp', [m.op('u0', 'Neg', [m.op('ua', 'Abs', [mx])])]);
    m.op('unary', 'Log', [
      m.op('us', 'Sqrt', [m.op('ur', 'Rsqrt', [m.op('u2', 'AddV2', [u, m.weight('one', [], 0, undefined, 1)])])]),
    ]);
    m.op('cat1', 'Concat', [m.ints('cax', [0], []), mx, dv], { N: A.i(2) });
    const ex5 = m.op('ex5', 'ExpandDims', [m.op('sq4', 'Square', [m1]), m.ints('ax5', [-2], [])]);
    m.op('flat2', 'Reshape', [ex5, m.ints('fshape2', [-1, 96])]);

    const file = m.write(dir);
    const model = await loadTfjs(file);
    const session = await ort.InferenceSession.create(convertTfjsGraph(file, { graphName: 'synthetic' }));
    const batch = 3;
    const data = Float32Array.from({ length: batch * 12 * 14 * 3 }, (_, i) => Math.sin(i * 0.37) * 1.5);
    const comparisons = await compare(model, session, { data, shape: [batch, 12, 14, 3] });
    assert.deepEqual(
      comparisons.map((c) => c.output).sort(),
      ['cat1', 'chan', 'clipped', 'dwflat', 'flat', 'flat2', 'pooled', 'probs', 'unary'].sort(),
    );
    assertClose(t, 'synthetic', comparisons);
    model.dispose();
    await session.release();
  });

  test('an unsupported op fails loudly, naming the op and the node', () => {
    const m = new SyntheticModel();
    m.op('model/gelu/Erf', 'Erf', [m.placeholder('x', [-1, 4])]);
    const file = m.write(dir);
    assert.throws(
      () => convertTfjsGraph(file, { graphName: 'bad' }),
      (err: Error) => {
        assert.match(err.message, /\bErf\b/);
        assert.match(err.message, /model\/gelu\/Erf/);
        return true;
      },
    );
  });

  test('unsupported attribute combinations fail loudly, naming the op and the node', () => {
    const cases: [string, (m: SyntheticModel, x: string) => void, RegExp][] = [
      [
        'fused FusedBatchNorm',
        (m, x) =>
          m.op(
            'net/bn_conv',
            '_FusedConv2D',
            [x, m.weight('w', [1, 1, 3, 2]), ...['s', 'o', 'm', 'v'].map((n) => m.weight(n, [2]))],
            {
              ...conv([1, 1, 1, 1], 'SAME'),
              ...fused(['FusedBatchNorm', 'Relu'], 4),
            },
          ),
        /FusedBatchNorm/,
      ],
      [
        'NCHW data',
        (m, x) => m.op('net/pool', 'MaxPool', [x], { ...pool(2, 2, 'VALID'), data_format: A.s('NCHW') }),
        /NCHW/,
      ],
      ['unknown attribute', (m, x) => m.op('net/relu', 'Relu', [x], { fancy_mode: A.b(true) }), /fancy_mode/],
      [
        'ellipsis slice',
        (m, x) =>
          m.op('net/slice', 'StridedSlice', [x, m.ints('b', [0]), m.ints('e', [1]), m.ints('s', [1])], {
            ellipsis_mask: A.i(1),
          }),
        /ellipsis_mask/,
      ],
    ];
    for (const [label, build, reason] of cases) {
      const m = new SyntheticModel();
      build(m, m.placeholder('x', [-1, 8, 8, 3]));
      const file = m.write(dir);
      const node = m.nodes[m.nodes.length - 1] as { name: string; op: string };
      assert.throws(
        () => convertTfjsGraph(file, { graphName: 'bad' }),
        (err: Error) => {
          assert.match(err.message, reason, label);
          assert.ok(
            err.message.includes(node.op) && err.message.includes(`"${node.name}"`),
            `${label}: ${err.message}`,
          );
          return true;
        },
      );
    }
  });
});
