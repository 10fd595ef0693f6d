/**
 * Static int8 quantisation of a float ONNX model's convolutions (QOperator format: QLinearConv).
 *
 * [Note: int8 models] A quantised model is a pure function of its float model and of the activation
 * ranges recorded in models/quantization/<model>.json (`facets models calibrate` measures them on the
 * sample photos of a pinned package), so `facets models build` reproduces its bytes on any machine
 * and checks them against the manifest's sha256 like every other model. The engine loads the int8
 * file in place of the float one when the manifest names one; the builder here, the ranges file, the
 * manifest entry and main/engine/sessions.ts change together.
 *
 * What is quantised: every Conv whose weights are constant, with the per-channel scale and shift that
 * follows it (unfused batch normalisation: Mul, Add) folded into its weights and bias, and the Relu or
 * Relu6 (Relu, Min, Max) after it folded into its output range. Weights: int8, symmetric, one scale per
 * output channel; activations: uint8, one scale per tensor. Everything else (residual Add, pooling
 * over floats, the dense layers and softmax at the end) runs in float, with DequantizeLinear where a
 * quantised tensor feeds it and QuantizeLinear where a float tensor feeds a convolution.
 */
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type Model = onnxProto.onnx.IModelProto;
type Node = onnxProto.onnx.INodeProto;
type Tensor = onnxProto.onnx.ITensorProto;

export type Ranges = Record<string, [number, number]>;

/** models/quantization/<model>.json, written by `facets models calibrate` (models/build/calibrate.ts). */
export interface RangesFile {
  model: string;
  from: string;
  /** sha256 of the float model the ranges were measured on. */
  fromSha256: string;
  photos: { file: string; sha256: string }[];
  /** Network inputs measured (faces, each also mirrored). */
  inputs: number;
  ranges: Ranges;
}

export function readRanges(file: string): RangesFile {
  return JSON.parse(readFileSync(file, 'utf8')) as RangesFile;
}

/**
 * Weights use all of int8 (−127..127). Seven bits (−63..63), which keeps x86 CPUs without VNNI from
 * saturating int16 sums of uint8 × int8 pairs, cost too much here: faceres' descriptor cosine with the
 * float network fell from 0.990 to 0.860 (faces of 40 px and more, photos outside the calibration set).
 * Instead the engine checks an int8 model against its float model on the machine it runs on and uses
 * the float one where they disagree (ModelStore in main/engine/sessions.ts).
 */
const WEIGHT_MAX = 127;

/** A convolution with what is folded into it. */
interface Unit {
  conv: Node;
  /** The float tensor it reads. */
  input: string;
  /** The tensor after the folded nodes: what the quantised unit produces. */
  output: string;
  weight: Float32Array;
  weightDims: number[];
  bias: Float32Array;
  /** Lower and upper clip of the folded activation, if any. */
  clip?: [number, number];
  absorbed: Node[];
}

function floats(t: Tensor): Float32Array {
  if (t.dataType !== onnx.TensorProto.DataType.FLOAT) throw new Error(`${t.name}: not float32`);
  if (t.rawData && t.rawData.length > 0) {
    const raw = t.rawData;
    return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  }
  return Float32Array.from(t.floatData ?? []);
}

function raw(data: Float32Array | Int8Array | Uint8Array | Int32Array): Uint8Array {
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

class Graph {
  readonly inits = new Map<string, Tensor>();
  readonly consumers = new Map<string, Node[]>();
  readonly outputs: Set<string>;

  constructor(readonly model: Model) {
    const g = model.graph ?? {};
    for (const t of g.initializer ?? []) this.inits.set(t.name ?? '', t);
    for (const n of g.node ?? []) {
      for (const i of ins(n)) this.consumers.set(i, [...(this.consumers.get(i) ?? []), n]);
    }
    this.outputs = new Set((g.output ?? []).map((o) => o.name ?? ''));
  }

  /** The one node that reads `tensor`, if exactly one does and it is not a graph output. */
  sole(tensor: string): Node | undefined {
    const c = this.consumers.get(tensor) ?? [];
    return c.length === 1 && !this.outputs.has(tensor) ? c[0] : undefined;
  }

  constant(name: string): Float32Array | undefined {
    const t = this.inits.get(name);
    return t && t.dataType === onnx.TensorProto.DataType.FLOAT ? floats(t) : undefined;
  }

  /** The constant operand of a binary node whose other operand is `tensor`. */
  otherConstant(node: Node, tensor: string): Float32Array | undefined {
    if (ins(node).length !== 2) return undefined;
    const other = ins(node)[0] === tensor ? ins(node)[1] : ins(node)[1] === tensor ? ins(node)[0] : undefined;
    return other === undefined ? undefined : this.constant(other);
  }
}

const ins = (n: Node): string[] => n.input ?? [];
const outs = (n: Node): string[] => n.output ?? [];

/** Per-channel values of a constant that broadcasts along axis 1 of NCHW (or a scalar). */
function perChannel(values: Float32Array, channels: number): Float32Array | undefined {
  if (values.length === 1) return new Float32Array(channels).fill(values[0] as number);
  return values.length === channels ? values : undefined;
}

function findUnits(g: Graph): Unit[] {
  const units: Unit[] = [];
  for (const conv of g.model.graph?.node ?? []) {
    if (conv.opType !== 'Conv') continue;
    const wt = g.inits.get(ins(conv)[1] as string);
    if (!wt) continue;
    const weightDims = (wt.dims ?? []).map(Number);
    const out = weightDims[0] as number;
    const weight = floats(wt).slice();
    const per = weight.length / out;
    const biasName = ins(conv)[2];
    const bias = (biasName ? g.constant(biasName)?.slice() : undefined) ?? new Float32Array(out);
    const absorbed: Node[] = [];
    let output = outs(conv)[0] as string;
    let clip: [number, number] | undefined;
    for (;;) {
      const next = g.sole(output);
      if (!next) break;
      if (!clip && next.opType === 'Mul') {
        const m = g.otherConstant(next, output);
        const c = m && perChannel(m, out);
        if (!c) break;
        for (let o = 0; o < out; o++) {
          for (let k = 0; k < per; k++) weight[o * per + k] = (weight[o * per + k] as number) * (c[o] as number);
          bias[o] = (bias[o] as number) * (c[o] as number);
        }
      } else if (!clip && next.opType === 'Add') {
        const a = g.otherConstant(next, output);
        const c = a && perChannel(a, out);
        if (!c) break;
        for (let o = 0; o < out; o++) bias[o] = (bias[o] as number) + (c[o] as number);
      } else if (!clip && next.opType === 'Relu') {
        clip = [0, Infinity];
      } else if (clip && next.opType === 'Min') {
        const c = g.otherConstant(next, output);
        if (!c || c.length !== 1) break;
        clip = [clip[0], Math.min(clip[1], c[0] as number)];
      } else if (clip && next.opType === 'Max') {
        const c = g.otherConstant(next, output);
        if (!c || c.length !== 1) break;
        clip = [Math.max(clip[0], c[0] as number), clip[1]];
      } else break;
      absorbed.push(next);
      output = outs(next)[0] as string;
    }
    units.push({ conv, input: ins(conv)[0] as string, output, weight, weightDims, bias, clip, absorbed });
  }
  return units;
}

function valueInfo(name: string) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({ elemType: onnx.TensorProto.DataType.FLOAT }),
    }),
  });
}

/** The tensors whose ranges quantisation needs: every unit's input and output. */
export function rangeTensors(bytes: Uint8Array): string[] {
  const units = findUnits(new Graph(onnx.ModelProto.decode(bytes)));
  return [...new Set(units.flatMap((u) => [u.input, u.output]))];
}

/** The float model with every tensor `rangeTensors` names also exposed as a graph output. */
export function calibrationModel(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph as NonNullable<Model['graph']>;
  const have = new Set((graph.output ?? []).map((o) => o.name));
  for (const name of rangeTensors(bytes)) if (!have.has(name)) (graph.output ?? []).push(valueInfo(name));
  return onnx.ModelProto.encode(model).finish();
}

function scalarTensor(name: string, type: number, data: Float32Array | Uint8Array | Int8Array): Tensor {
  return onnx.TensorProto.create({ name, dims: [], dataType: type, rawData: raw(data) });
}

/**
 * How the int8 weights are stored. `int8`: as they are (zero point 0). `uint8`: the same integers plus
 * 128, with zero point 128 — the same products, which onnxruntime computes on x86 CPUs without VNNI
 * without the int16 saturation of its uint8 × int8 path (its uint8 × uint8 path widens first).
 */
export type WeightStorage = 'int8' | 'uint8';

/** Quantises `bytes` with the activation `ranges` (tensor name → [min, max]). Deterministic. */
export function quantizeModel(bytes: Uint8Array, ranges: Ranges, weights: WeightStorage = 'int8'): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const g = new Graph(model);
  const graph = model.graph as NonNullable<Model['graph']>;
  const units = findUnits(g);
  const T = onnx.TensorProto.DataType;
  const newInits: Tensor[] = [];
  const absorbed = new Set(units.flatMap((u) => u.absorbed));
  const byConv = new Map(units.map((u) => [u.conv, u]));

  // Per tensor: its uint8 scale and zero point (shared by every reader).
  const qparams = new Map<string, { scale: string; zero: string; s: number }>();
  const params = (tensor: string, clip?: [number, number]) => {
    const known = qparams.get(tensor);
    if (known) return known;
    const r = ranges[tensor];
    if (!r) throw new Error(`no calibrated range for ${tensor}`);
    let [lo, hi] = r;
    if (clip) [lo, hi] = [Math.max(lo, clip[0]), Math.min(hi, clip[1])];
    lo = Math.min(lo, 0);
    hi = Math.max(hi, 0);
    const s = hi > lo ? (hi - lo) / 255 : 1;
    const zp = Math.min(255, Math.max(0, Math.round(-lo / s)));
    const p = { scale: `${tensor}__qscale`, zero: `${tensor}__qzero`, s };
    newInits.push(scalarTensor(p.scale, T.FLOAT, Float32Array.of(s)), scalarTensor(p.zero, T.UINT8, Uint8Array.of(zp)));
    qparams.set(tensor, p);
    return p;
  };
  // Tensors with a uint8 copy `<name>__q`: every unit's output (its QLinearConv makes it), and the
  // float inputs a QuantizeLinear has been emitted for.
  const quantised = new Set(units.map((u) => u.output));
  const nodes: Node[] = [];
  const qname = (tensor: string) => `${tensor}__q`;

  for (const node of graph.node ?? []) {
    if (absorbed.has(node)) continue;
    const unit = byConv.get(node);
    if (!unit) {
      nodes.push(node);
      continue;
    }
    const x = params(unit.input);
    if (!quantised.has(unit.input)) {
      nodes.push(
        onnx.NodeProto.create({
          opType: 'QuantizeLinear',
          name: `${unit.input}__quantize`,
          input: [unit.input, x.scale, x.zero],
          output: [qname(unit.input)],
        }),
      );
      quantised.add(unit.input);
    }
    const y = params(unit.output, unit.clip);
    const out = unit.weightDims[0] as number;
    const per = unit.weight.length / out;
    const wq = new Int8Array(unit.weight.length);
    const ws = new Float32Array(out);
    const bq = new Int32Array(out);
    for (let o = 0; o < out; o++) {
      let m = 0;
      for (let k = 0; k < per; k++) m = Math.max(m, Math.abs(unit.weight[o * per + k] as number));
      const s = m > 0 ? m / WEIGHT_MAX : 1;
      ws[o] = s;
      for (let k = 0; k < per; k++) wq[o * per + k] = Math.round((unit.weight[o * per + k] as number) / s);
      bq[o] = Math.round((unit.bias[o] as number) / (x.s * s));
    }
    const base = outs(node)[0] as string;
    const unsigned = weights === 'uint8';
    const wType = unsigned ? T.UINT8 : T.INT8;
    const stored = unsigned ? Uint8Array.from(wq, (v) => v + 128) : wq;
    const zeros = unsigned ? new Uint8Array(out).fill(128) : new Int8Array(out);
    newInits.push(
      onnx.TensorProto.create({ name: `${base}__wq`, dims: unit.weightDims, dataType: wType, rawData: raw(stored) }),
      onnx.TensorProto.create({ name: `${base}__ws`, dims: [out], dataType: T.FLOAT, rawData: raw(ws) }),
      onnx.TensorProto.create({ name: `${base}__wz`, dims: [out], dataType: wType, rawData: raw(zeros) }),
      onnx.TensorProto.create({ name: `${base}__bq`, dims: [out], dataType: T.INT32, rawData: raw(bq) }),
    );
    nodes.push(
      onnx.NodeProto.create({
        opType: 'QLinearConv',
        name: `${base}__qconv`,
        input: [
          qname(unit.input),
          x.scale,
          x.zero,
          `${base}__wq`,
          `${base}__ws`,
          `${base}__wz`,
          y.scale,
          y.zero,
          `${base}__bq`,
        ],
        output: [qname(unit.output)],
        attribute: node.attribute ?? [],
      }),
    );
    // Float readers of the output (or a graph output) get it dequantised under its own name.
    const readers = g.consumers.get(unit.output) ?? [];
    const floatReaders = readers.some((r) => !byConv.has(r)) || g.outputs.has(unit.output);
    if (floatReaders) {
      nodes.push(
        onnx.NodeProto.create({
          opType: 'DequantizeLinear',
          name: `${unit.output}__dequantize`,
          input: [qname(unit.output), y.scale, y.zero],
          output: [unit.output],
        }),
      );
    }
  }
  // Keep only the initializers something still reads, in their original order, then the new ones.
  const read = new Set(nodes.flatMap((n) => ins(n)));
  graph.initializer = [...(graph.initializer ?? []).filter((t) => read.has(t.name ?? '')), ...newInits];
  graph.node = nodes;
  return onnx.ModelProto.encode(model).finish();
}
