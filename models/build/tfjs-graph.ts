/**
 * Converter from TF.js graph models (model.json "graph-model" format + .bin weight shards) to ONNX.
 *
 * Contract of the generated model:
 * - inputs keep the placeholder name (as GraphModel.inputs reports it), NHWC layout and dtype float32,
 *   so they are fed exactly as TF.js is fed; a dynamic leading dimension becomes the symbol 'batch';
 * - outputs keep TF.js's output names (signature keys, else the leaf node names) and TF layout;
 * - inside, 4-D tensors are kept in NCHW after the first Conv/Pool (the layout ONNX Conv/Pool use), and
 *   each tensor's layout is tracked, so a transpose is only emitted where an op's semantics depend on the
 *   original axis order (Reshape, MatMul, Concat/elementwise with a differently laid out operand, outputs).
 *
 * Op semantics follow @tensorflow/tfjs-converter 4.22's executors (the reference the parity tests compare
 * against), e.g. `_FusedConv2D`'s fused_ops = [BiasAdd, <activation>] with num_args extra inputs, and its
 * rejection of fused FusedBatchNorm. Anything not covered throws an Error naming the op and the node.
 * Output is deterministic: nodes are emitted in a fixed post-order from the outputs, names are counters.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type AttrValue, type Dim, OnnxGraph } from '../../main/learning/onnx-graph.js';

// ---------------------------------------------------------------------------------------------------------------
// model.json shapes (the subset this converter reads)

interface TfShapeProto {
  dim?: { size?: string | number }[];
  unknownRank?: boolean;
}

interface TfAttrValue {
  s?: string;
  i?: string | number;
  f?: number;
  b?: boolean;
  type?: string;
  shape?: TfShapeProto;
  list?: { s?: string[]; i?: (string | number)[]; f?: number[]; b?: boolean[]; type?: string[] };
  tensor?: unknown;
  func?: unknown;
}

interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttrValue>;
  device?: string;
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number; original_dtype?: string };
}

interface WeightGroup {
  paths: string[];
  weights: WeightSpec[];
}

interface SignatureEntry {
  name: string;
}

interface Signature {
  inputs?: Record<string, SignatureEntry>;
  outputs?: Record<string, SignatureEntry>;
}

interface ModelJson {
  format?: string;
  modelTopology?: { node?: TfNode[] };
  weightsManifest?: WeightGroup[];
  signature?: Signature;
  userDefinedMetadata?: { signature?: Signature };
  modelInitializer?: { node?: TfNode[] };
}

export interface ConvertOptions {
  /** Name of the ONNX graph. */
  graphName: string;
  /** Written to the model's metadata_props (provenance, labels). */
  metadata?: Record<string, string>;
  /**
   * Intermediate tensors exposed as extra outputs (output name → TF node name), e.g. a network's
   * penultimate activations as features for heads trained on top of it.
   */
  extraOutputs?: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------------------------
// Values flowing through the conversion

interface ConstTensor {
  kind: 'const';
  /** TF node name (used to name initializers). */
  name: string;
  dtype: 'float32' | 'int32' | 'unsupported';
  /** Original dtype, for error messages. */
  tfDtype: string;
  shape: number[];
  data: Float32Array | Int32Array;
}

interface FloatConst extends ConstTensor {
  dtype: 'float32';
  data: Float32Array;
}

interface DynTensor {
  kind: 'tensor';
  /** ONNX value name. */
  name: string;
  /** Shape in TF's (logical) axis order; strings are symbolic dims. */
  shape: Dim[];
  /**
   * Physical layout: the ONNX tensor is transpose(tf tensor, perm), i.e. ONNX axis j holds TF axis perm[j].
   * null = same order as TF.
   */
  perm: number[] | null;
}

type Value = ConstTensor | DynTensor;

const NCHW = [0, 3, 1, 2];
/** ONNX Slice bound meaning "to the end" (clamped by the runtime); exact in float64. */
const BIG = Number.MAX_SAFE_INTEGER;

// ---------------------------------------------------------------------------------------------------------------
// Public API

/** Converts a TF.js graph model (model.json next to its .bin shards) to serialised ONNX bytes. */
export function convertTfjsGraph(modelJsonPath: string, options: ConvertOptions): Uint8Array {
  const model = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as ModelJson;
  if (model.format !== undefined && model.format !== 'graph-model') {
    throw new Error(`${modelJsonPath}: format "${model.format}" is not a TF.js graph-model`);
  }
  if (model.modelInitializer?.node && model.modelInitializer.node.length > 0) {
    throw new Error(`${modelJsonPath}: models with a modelInitializer graph (hash tables) are not supported`);
  }
  const nodes = model.modelTopology?.node;
  if (!nodes || nodes.length === 0) throw new Error(`${modelJsonPath}: modelTopology has no nodes`);
  const weights = loadWeights(path.dirname(modelJsonPath), model.weightsManifest ?? []);
  // GraphModel prefers userDefinedMetadata.signature over the top-level one (graph_model.js loadWithWeightMap).
  const signature = model.userDefinedMetadata?.signature ?? model.signature;
  const converter = new Converter(options.graphName, nodes, weights, signature, options.extraOutputs ?? {});
  converter.convert();
  return converter.graph.toBytes(options.metadata ?? {});
}

// ---------------------------------------------------------------------------------------------------------------
// Weights: decoded exactly as tfjs-core's io.decodeWeights does (float16 / uint8 / uint16 quantization).

function loadWeights(dir: string, manifest: WeightGroup[]): Map<string, ConstTensor> {
  const out = new Map<string, ConstTensor>();
  for (const group of manifest) {
    const buffer = Buffer.concat(group.paths.map((p) => readFileSync(path.join(dir, p))));
    const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    let offset = 0;
    for (const spec of group.weights) {
      const size = spec.shape.reduce((a, b) => a * b, 1);
      const q = spec.quantization;
      const need = (bytes: number) => {
        if (offset + bytes > buffer.byteLength) {
          throw new Error(`weights for "${spec.name}" run past the end of ${group.paths.join(' + ')}`);
        }
      };
      const base = { kind: 'const' as const, name: spec.name, tfDtype: spec.dtype, shape: spec.shape };
      if (q) {
        const width = q.dtype === 'uint8' ? 1 : q.dtype === 'uint16' || q.dtype === 'float16' ? 2 : 0;
        if (width === 0) throw new Error(`weight "${spec.name}": unknown quantization dtype ${q.dtype}`);
        need(size * width);
        const raw = (i: number) =>
          width === 1 ? view.getUint8(offset + i) : view.getUint16(offset + 2 * i, /* littleEndian */ true);
        if (q.dtype === 'float16') {
          if (spec.dtype !== 'float32') throw new Error(`weight "${spec.name}": float16 quantization of ${spec.dtype}`);
          const data = new Float32Array(size);
          for (let i = 0; i < size; i++) data[i] = halfToFloat(raw(i));
          out.set(spec.name, { ...base, dtype: 'float32', data });
        } else {
          if (q.scale === undefined || q.min === undefined) {
            throw new Error(`weight "${spec.name}": ${q.dtype} quantization without scale/min`);
          }
          const { scale, min } = q;
          if (spec.dtype === 'float32') {
            const data = new Float32Array(size);
            for (let i = 0; i < size; i++) data[i] = raw(i) * scale + min;
            out.set(spec.name, { ...base, dtype: 'float32', data });
          } else if (spec.dtype === 'int32') {
            const data = new Int32Array(size);
            for (let i = 0; i < size; i++) data[i] = Math.round(raw(i) * scale + min);
            out.set(spec.name, { ...base, dtype: 'int32', data });
          } else {
            throw new Error(`weight "${spec.name}": ${q.dtype} quantization of ${spec.dtype}`);
          }
        }
        offset += size * width;
      } else if (spec.dtype === 'float32' || spec.dtype === 'int32') {
        need(size * 4);
        const copy = buffer.buffer.slice(buffer.byteOffset + offset, buffer.byteOffset + offset + size * 4);
        const data = spec.dtype === 'float32' ? new Float32Array(copy) : new Int32Array(copy);
        out.set(spec.name, { ...base, dtype: spec.dtype, data } as ConstTensor);
        offset += size * 4;
      } else if (spec.dtype === 'bool') {
        need(size);
        out.set(spec.name, { ...base, dtype: 'unsupported', data: new Int32Array(0) });
        offset += size;
      } else if (spec.dtype === 'string') {
        // Each element: uint32 byte length, then the bytes. Skipped (no op here consumes strings).
        for (let i = 0; i < size; i++) {
          need(4);
          const length = view.getUint32(offset, true);
          offset += 4;
          need(length);
          offset += length;
        }
        out.set(spec.name, { ...base, dtype: 'unsupported', data: new Int32Array(0) });
      } else {
        throw new Error(`weight "${spec.name}": unsupported dtype ${spec.dtype}`);
      }
    }
  }
  return out;
}

/** IEEE half → float (exact; the same values tfjs-core's table-driven decoder produces). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

function nodeError(node: TfNode, message: string): Error {
  return new Error(`tfjs-graph: op ${node.op} at node "${node.name}": ${message}`);
}

function isIdentityPerm(p: readonly number[]): boolean {
  return p.every((v, i) => v === i);
}

function identityPerm(rank: number): number[] {
  return Array.from({ length: rank }, (_, i) => i);
}

function invertPerm(p: readonly number[]): number[] {
  const inv = new Array<number>(p.length);
  p.forEach((v, i) => (inv[v] = i));
  return inv;
}

function normPerm(p: number[] | null): number[] | null {
  return p && !isIdentityPerm(p) ? p : null;
}

/** Transposes row-major `data` of `shape` so that out axis i is in axis perm[i]. */
function transposeData(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p] as number);
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i] as number;
  }
  const strides = perm.map((p) => inStrides[p] as number);
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < rank; i++) src += (index[i] as number) * (strides[i] as number);
    out[o] = data[src] as number;
    for (let i = rank - 1; i >= 0; i--) {
      index[i] = (index[i] as number) + 1;
      if ((index[i] as number) < (outShape[i] as number)) break;
      index[i] = 0;
    }
  }
  return out;
}

function sameDim(a: Dim, b: Dim): boolean {
  return a === b;
}

/** Physical dims of a TF shape under a layout perm. */
function permute<T>(values: readonly T[], perm: readonly number[] | null): T[] {
  return perm ? perm.map((p) => values[p] as T) : [...values];
}

const decodeString = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

/** Typed, validated access to a node's attributes; rejects attributes the converter does not know. */
class Attrs {
  constructor(
    private readonly node: TfNode,
    allowed: readonly string[],
  ) {
    for (const key of Object.keys(node.attr ?? {})) {
      // '_'-prefixed attributes are TF-internal annotations (e.g. _output_shapes) with no effect on the result.
      if (!key.startsWith('_') && !allowed.includes(key)) {
        throw nodeError(node, `unsupported attribute "${key}"`);
      }
    }
    for (const key of ['T', 'dtype'] as const) {
      const t = node.attr?.[key]?.type;
      if (t !== undefined && t !== 'DT_FLOAT' && !(node.op === 'Const' && t === 'DT_INT32')) {
        throw nodeError(node, `unsupported ${key}=${t} (only float32 tensors are supported)`);
      }
    }
  }

  private get(name: string): TfAttrValue | undefined {
    return this.node.attr?.[name];
  }

  private missing(name: string): Error {
    return nodeError(this.node, `missing attribute "${name}"`);
  }

  str(name: string, fallback?: string): string {
    const a = this.get(name);
    if (!a) {
      if (fallback === undefined) throw this.missing(name);
      return fallback;
    }
    return a.s === undefined ? '' : decodeString(a.s);
  }

  strs(name: string): string[] {
    return (this.get(name)?.list?.s ?? []).map(decodeString);
  }

  int(name: string, fallback?: number): number {
    const a = this.get(name);
    if (!a) {
      if (fallback === undefined) throw this.missing(name);
      return fallback;
    }
    return Number(a.i ?? 0);
  }

  ints(name: string, fallback?: number[]): number[] {
    const a = this.get(name);
    if (!a) {
      if (fallback === undefined) throw this.missing(name);
      return fallback;
    }
    return (a.list?.i ?? []).map(Number);
  }

  float(name: string, fallback: number): number {
    const a = this.get(name);
    if (!a) return fallback;
    return a.f ?? (a.i !== undefined ? Number(a.i) : 0);
  }

  bool(name: string, fallback: boolean): boolean {
    const a = this.get(name);
    if (!a) return fallback;
    return a.b ?? false;
  }

  dataFormatNHWC(): void {
    const format = this.str('data_format', 'NHWC');
    if (format !== 'NHWC') throw nodeError(this.node, `data_format ${format} is not supported (only NHWC)`);
  }
}

const CONV_ATTRS = ['T', 'strides', 'padding', 'explicit_paddings', 'data_format', 'dilations', 'use_cudnn_on_gpu'];
const FUSED_ATTRS = ['fused_ops', 'num_args', 'epsilon', 'leakyrelu_alpha'];
const POOL_ATTRS = ['T', 'ksize', 'strides', 'padding', 'data_format', 'explicit_paddings'];
const REDUCE_OPS: Record<string, string> = {
  Mean: 'ReduceMean',
  Max: 'ReduceMax',
  Min: 'ReduceMin',
  Sum: 'ReduceSum',
  Prod: 'ReduceProd',
};
const BINARY_OPS: Record<string, string> = {
  Add: 'Add',
  AddV2: 'Add',
  BiasAdd: 'Add',
  Sub: 'Sub',
  Mul: 'Mul',
  RealDiv: 'Div',
  Div: 'Div',
  Maximum: 'Max',
  Minimum: 'Min',
};
const UNARY_OPS: Record<string, string> = {
  Relu: 'Relu',
  Sigmoid: 'Sigmoid',
  Tanh: 'Tanh',
  Elu: 'Elu',
  Neg: 'Neg',
  Exp: 'Exp',
  Log: 'Log',
  Sqrt: 'Sqrt',
  Abs: 'Abs',
};

type Activation = 'linear' | 'relu' | 'relu6' | 'elu' | 'sigmoid' | 'leakyrelu' | 'prelu';
const ACTIVATIONS: readonly string[] = ['relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'];

// ---------------------------------------------------------------------------------------------------------------
// The converter

class Converter {
  readonly graph: OnnxGraph;
  private readonly byName = new Map<string, TfNode>();
  private readonly values = new Map<string, Value>();
  /** `${onnxName}|${physical perm}` → ONNX name of the transposed tensor. */
  private readonly layoutCache = new Map<string, string>();
  /** Cache key → initializer name (layout variants of TF constants, small int64/float constants). */
  private readonly initCache = new Map<string, string>();
  private readonly outputs: { key: string; node: string }[] = [];
  private readonly reserved = new Set<string>();
  private symbols = 0;

  constructor(
    graphName: string,
    nodes: TfNode[],
    private readonly weights: Map<string, ConstTensor>,
    signature: Signature | undefined,
    extraOutputs: Record<string, string>,
  ) {
    this.graph = new OnnxGraph(graphName);
    for (const node of nodes) {
      if (this.byName.has(node.name)) throw new Error(`tfjs-graph: duplicate node name "${node.name}"`);
      this.byName.set(node.name, node);
    }
    // Outputs resolved exactly as tfjs-converter's OperationMapper.transformGraph does, named as
    // GraphModel.outputNodes names them (signature key, else node name). Inputs keep the placeholder's
    // node name (GraphModel.inputs[i].name), which TF.js also accepts when executing.
    const signatureOutputs = Object.entries(signature?.outputs ?? {});
    if (signatureOutputs.length > 0) {
      for (const [key, entry] of signatureOutputs) {
        const node = this.refNode(entry.name, `signature output ${key}`);
        if (this.byName.has(node)) this.outputs.push({ key, node });
      }
    } else {
      // Leaf nodes; like TF.js, a control input ("^name") also counts as a consumer.
      const consumed = new Set<string>();
      for (const node of nodes) {
        for (const input of node.input ?? []) consumed.add(input.replace(/^\^/, '').split(':')[0] as string);
      }
      for (const node of nodes) if (!consumed.has(node.name)) this.outputs.push({ key: node.name, node: node.name });
    }
    if (this.outputs.length === 0) throw new Error('tfjs-graph: the model has no outputs');
    for (const [key, node] of Object.entries(extraOutputs)) {
      if (!this.byName.has(node)) throw new Error(`tfjs-graph: extra output ${key}: no node "${node}"`);
      this.outputs.push({ key, node });
    }
    for (const o of this.outputs) this.reserved.add(o.key);
  }

  convert(): void {
    for (const name of this.order()) this.convertNode(this.byName.get(name) as TfNode);
    const done = new Set<string>();
    for (const { key, node } of this.outputs) {
      if (done.has(key)) throw new Error(`tfjs-graph: duplicate output name "${key}"`);
      done.add(key);
      const v = this.values.get(node) as Value;
      const source = v.kind === 'tensor' ? this.toLayout(v, null) : this.floatConstName(this.asFloat(v, node), null);
      this.graph.node('Identity', [source], {}, [key]);
      this.graph.addOutput(key, v.shape);
    }
  }

  // -- graph walking ---------------------------------------------------------------------------------------------

  /** "node:0" / "node" → "node"; rejects other output indices (no supported op has several outputs). */
  private refNode(ref: string, context: string): string {
    const parts = ref.split(':');
    if (parts.length === 1) return ref;
    if (parts.length === 2 && parts[1] === '0') return parts[0] as string;
    throw new Error(`tfjs-graph: ${context}: tensor "${ref}" is not output 0 of a node (unsupported)`);
  }

  private dataInputs(node: TfNode): string[] {
    return (node.input ?? []).filter((i) => !i.startsWith('^'));
  }

  /** Nodes the outputs depend on, in a deterministic post-order (iterative: no recursion limit). */
  private order(): string[] {
    const state = new Map<string, 'open' | 'done'>();
    const order: string[] = [];
    for (const { node: root } of this.outputs) {
      const stack: { name: string; next: number }[] = [{ name: root, next: 0 }];
      while (stack.length > 0) {
        const top = stack[stack.length - 1] as { name: string; next: number };
        const node = this.byName.get(top.name);
        if (!node) throw new Error(`tfjs-graph: reference to unknown node "${top.name}"`);
        if (top.next === 0) {
          if (state.get(top.name) === 'done') {
            stack.pop();
            continue;
          }
          state.set(top.name, 'open');
        }
        const inputs = this.dataInputs(node);
        if (top.next < inputs.length) {
          const child = this.refNode(inputs[top.next] as string, `node "${node.name}"`);
          top.next += 1;
          const s = state.get(child);
          if (s === 'open') throw nodeError(node, `cycle through "${child}" (control flow is not supported)`);
          if (s !== 'done') stack.push({ name: child, next: 0 });
        } else {
          state.set(top.name, 'done');
          order.push(top.name);
          stack.pop();
        }
      }
    }
    return order;
  }

  private input(node: TfNode, index: number): Value {
    const ref = this.dataInputs(node)[index];
    if (ref === undefined) throw nodeError(node, `missing input ${index}`);
    const v = this.values.get(this.refNode(ref, `node "${node.name}"`));
    if (!v) throw nodeError(node, `input "${ref}" was not converted`);
    return v;
  }

  private tensorInput(node: TfNode, index: number): DynTensor {
    const v = this.input(node, index);
    if (v.kind === 'tensor') return v;
    // A constant where a tensor is expected (rare in graph models): use it as a TF-layout initializer.
    const c = this.asFloat(v, node);
    return { kind: 'tensor', name: this.floatConstName(c, null), shape: [...c.shape], perm: null };
  }

  private floatInput(node: TfNode, index: number, what: string): FloatConst {
    const v = this.input(node, index);
    if (v.kind !== 'const') throw nodeError(node, `${what} must be a constant`);
    return this.asFloat(v, node);
  }

  private asFloat(v: ConstTensor, node: TfNode | string): FloatConst {
    if (v.dtype !== 'float32') {
      const message = `constant "${v.name}" has dtype ${v.tfDtype}; a float32 tensor is needed`;
      throw typeof node === 'string' ? new Error(`tfjs-graph: ${message}`) : nodeError(node, message);
    }
    return v as FloatConst;
  }

  private intInput(node: TfNode, index: number, what: string): number[] {
    const v = this.input(node, index);
    if (v.kind !== 'const' || v.dtype !== 'int32') throw nodeError(node, `${what} must be a constant int32 tensor`);
    return Array.from(v.data);
  }

  private symbol(): string {
    this.symbols += 1;
    return `d${this.symbols}`;
  }

  // -- emitting helpers ------------------------------------------------------------------------------------------

  private initName(preferred: string): string {
    let name = preferred;
    for (let i = 2; this.graph.hasInitializer(name) || this.reserved.has(name); i++) name = `${preferred}_${i}`;
    return name;
  }

  /** A TF float constant as an initializer, optionally padded to `rank` and put in layout `perm`. */
  private floatConstName(c: FloatConst, perm: number[] | null, rank = c.shape.length): string {
    let shape = c.shape;
    let data = c.data;
    let tag = '';
    const trivial = shape.every((d) => d === 1);
    if (perm && !trivial) {
      if (rank < shape.length) throw new Error(`tfjs-graph: constant "${c.name}" has rank above ${rank}`);
      shape = [...new Array<number>(rank - shape.length).fill(1), ...shape];
      if (!isIdentityPerm(perm)) {
        data = transposeData(data, shape, perm);
        shape = permute(shape, perm);
        tag = `:perm${perm.join('')}`;
      }
    }
    return this.cachedFloat(`${c.name}${tag}`, data, shape);
  }

  private cachedFloat(name: string, data: Float32Array, shape: number[]): string {
    const key = `f|${name}`;
    const hit = this.initCache.get(key);
    if (hit) return hit;
    const actual = this.graph.addFloat(this.initName(name), data, shape);
    this.initCache.set(key, actual);
    return actual;
  }

  private scalar(value: number): string {
    const key = `s|${value}`;
    const hit = this.initCache.get(key);
    if (hit) return hit;
    const name = this.graph.addFloat(this.initName(this.graph.fresh('scalar')), [value], []);
    this.initCache.set(key, name);
    return name;
  }

  private int64(values: number[]): string {
    const key = `i|${values.join(',')}`;
    const hit = this.initCache.get(key);
    if (hit) return hit;
    const name = this.graph.addInt64(this.initName(this.graph.fresh('ints')), values);
    this.initCache.set(key, name);
    return name;
  }

  /** The ONNX name of `t` in layout `target` (null = TF order), emitting (and caching) a Transpose if needed. */
  private toLayout(t: DynTensor, target: number[] | null): string {
    const rank = t.shape.length;
    const current = t.perm ?? identityPerm(rank);
    const wanted = target ?? identityPerm(rank);
    if (wanted.length !== rank) throw new Error(`tfjs-graph: layout of rank ${wanted.length} for rank-${rank} tensor`);
    const inv = invertPerm(current);
    const relative = wanted.map((w) => inv[w] as number);
    if (isIdentityPerm(relative)) return t.name;
    // Keyed by the physical permutation: a TF Transpose re-labels axes without renaming the ONNX tensor.
    const key = `${t.name}|${relative.join(',')}`;
    const hit = this.layoutCache.get(key);
    if (hit) return hit;
    const out = this.graph.node('Transpose', [t.name], { perm: relative });
    this.layoutCache.set(key, out);
    return out;
  }

  /** `t` with leading unit axes added up to `rank`, in TF layout. */
  private expandRank(t: DynTensor, rank: number): DynTensor {
    const extra = rank - t.shape.length;
    if (extra <= 0) return t;
    const name = this.graph.node('Unsqueeze', [this.toLayout(t, null), this.int64(identityPerm(extra))]);
    return { kind: 'tensor', name, shape: [...new Array<Dim>(extra).fill(1), ...t.shape], perm: null };
  }

  /** ONNX name of operand `v` for an elementwise op whose other operands are in layout `perm` at rank `rank`. */
  private operand(node: TfNode, v: Value, perm: number[] | null, rank: number): string {
    if (v.kind === 'const') return this.floatConstName(this.asFloat(v, node), perm, rank);
    if (perm && v.shape.length < rank) return this.toLayout(this.expandRank(v, rank), perm);
    return this.toLayout(v, perm);
  }

  private broadcast(node: TfNode, a: Dim[], b: Dim[]): Dim[] {
    const rank = Math.max(a.length, b.length);
    const out: Dim[] = [];
    for (let i = 0; i < rank; i++) {
      const x = i - (rank - a.length) >= 0 ? (a[i - (rank - a.length)] as Dim) : 1;
      const y = i - (rank - b.length) >= 0 ? (b[i - (rank - b.length)] as Dim) : 1;
      if (x === 1) out.push(y);
      else if (y === 1 || sameDim(x, y)) out.push(x);
      else if (typeof x === 'number' && typeof y === 'number') {
        throw nodeError(node, `shapes [${a.join(',')}] and [${b.join(',')}] do not broadcast`);
      } else out.push(typeof x === 'number' ? x : typeof y === 'number' ? y : this.symbol());
    }
    return out;
  }

  /** Layout for an elementwise op: that of the first full-rank dynamic operand kept in a non-TF layout. */
  private pickLayout(values: Value[], rank: number): number[] | null {
    for (const v of values) if (v.kind === 'tensor' && v.shape.length === rank && v.perm) return v.perm;
    return null;
  }

  private set(node: TfNode, v: Value): void {
    this.values.set(node.name, v);
  }

  // -- ops -------------------------------------------------------------------------------------------------------

  private convertNode(node: TfNode): void {
    const op = node.op;
    if (op === 'Const') return this.constant(node);
    if (op === 'Placeholder') return this.placeholder(node);
    if (op === 'Conv2D') return this.conv(node, 'conv', false);
    if (op === '_FusedConv2D') return this.conv(node, 'conv', true);
    if (op === 'DepthwiseConv2dNative' || op === 'DepthwiseConv2d') return this.conv(node, 'depthwise', false);
    if (op === 'FusedDepthwiseConv2dNative') return this.conv(node, 'depthwise', true);
    if (op === 'MaxPool') return this.pool(node, 'MaxPool');
    if (op === 'AvgPool') return this.pool(node, 'AveragePool');
    if (op === 'MatMul') return this.matMul(node, false);
    if (op === '_FusedMatMul') return this.matMul(node, true);
    const table = (t: Record<string, string>) => (Object.hasOwn(t, op) ? t[op] : undefined);
    const reduceOp = table(REDUCE_OPS);
    if (reduceOp) return this.reduce(node, reduceOp);
    const binaryOp = table(BINARY_OPS);
    if (binaryOp) return this.binary(node, binaryOp);
    const unaryOp = table(UNARY_OPS);
    if (unaryOp) return this.unary(node, unaryOp);
    switch (op) {
      case 'Identity':
      case 'StopGradient':
      case 'Snapshot':
        new Attrs(node, ['T']);
        return this.set(node, this.input(node, 0));
      case 'Relu6':
        new Attrs(node, ['T']);
        return this.set(node, this.activation(node, this.tensorInput(node, 0), 'relu6'));
      case 'LeakyRelu': {
        const attrs = new Attrs(node, ['T', 'alpha']);
        const x = this.tensorInput(node, 0);
        return this.set(node, this.activation(node, x, 'leakyrelu', undefined, attrs.float('alpha', 0.2)));
      }
      case 'Prelu':
        new Attrs(node, ['T']);
        return this.set(node, this.activation(node, this.tensorInput(node, 0), 'prelu', this.input(node, 1)));
      case 'Softmax':
        return this.softmax(node);
      case 'Square': {
        new Attrs(node, ['T']);
        const x = this.tensorInput(node, 0);
        return this.set(node, { ...x, name: this.graph.node('Mul', [x.name, x.name]) });
      }
      case 'Rsqrt': {
        new Attrs(node, ['T']);
        const x = this.tensorInput(node, 0);
        return this.set(node, { ...x, name: this.graph.node('Reciprocal', [this.graph.node('Sqrt', [x.name])]) });
      }
      case 'FusedBatchNorm':
      case 'FusedBatchNormV2':
      case 'FusedBatchNormV3':
        return this.batchNorm(node);
      case 'Reshape':
        return this.reshape(node);
      case 'ExpandDims':
        return this.expandDims(node);
      case 'Squeeze':
        return this.squeeze(node);
      case 'StridedSlice':
        return this.stridedSlice(node);
      case 'ConcatV2':
      case 'Concat':
        return this.concat(node);
      case 'Pad':
      case 'PadV2':
        return this.pad(node);
      case 'Transpose':
        return this.transpose(node);
      default:
        throw nodeError(node, `unsupported op "${op}"`);
    }
  }

  private constant(node: TfNode): void {
    new Attrs(node, ['dtype', 'value']);
    const w = this.weights.get(node.name);
    if (!w) throw nodeError(node, 'no entry in weightsManifest for this constant');
    if (w.dtype === 'unsupported') throw nodeError(node, `constant of dtype ${w.tfDtype} is not supported`);
    this.set(node, w);
  }

  private placeholder(node: TfNode): void {
    new Attrs(node, ['dtype', 'shape']);
    const shapeProto = node.attr?.['shape']?.shape;
    if (!shapeProto || shapeProto.unknownRank) throw nodeError(node, 'placeholder needs a known rank');
    const name = node.name;
    const shape: Dim[] = (shapeProto.dim ?? []).map((d, i) => {
      const size = Number(d.size ?? 0);
      if (size >= 0) return size;
      return i === 0 ? 'batch' : `${name}_dim${i}`;
    });
    this.reserved.add(name);
    this.graph.addInput(name, shape);
    this.set(node, { kind: 'tensor', name, shape, perm: null });
  }

  /** TF SAME/VALID/EXPLICIT padding → ONNX pads [top, left, bottom, right] or auto_pad, and the output size. */
  private spatial(
    node: TfNode,
    mode: string,
    explicit: number[],
    inHW: Dim[],
    kernel: number[],
    strides: number[],
    dilations: number[],
  ): { attrs: Record<string, number[] | string>; outHW: Dim[] } {
    const before: number[] = [];
    const after: number[] = [];
    const outHW: Dim[] = [];
    let dynamic = false;
    for (let i = 0; i < 2; i++) {
      const size = inHW[i] as Dim;
      const k = ((kernel[i] as number) - 1) * (dilations[i] as number) + 1;
      const s = strides[i] as number;
      if (mode === 'VALID') {
        before.push(0);
        after.push(0);
        if (typeof size === 'number') {
          if (size < k) throw nodeError(node, `VALID window ${k} larger than input ${size}`);
          outHW.push(Math.ceil((size - k + 1) / s));
        } else outHW.push(this.symbol());
      } else if (mode === 'SAME') {
        if (typeof size === 'number') {
          const out = Math.ceil(size / s);
          const total = Math.max((out - 1) * s + k - size, 0);
          before.push(Math.floor(total / 2)); // TF puts the odd pixel at the end (bottom/right)
          after.push(total - Math.floor(total / 2));
          outHW.push(out);
        } else {
          // SAME_UPPER is TF's rule too, but only while the needed padding cannot be negative (k >= s).
          if (k < s) throw nodeError(node, 'SAME padding with window < stride needs a static spatial size');
          dynamic = true;
          outHW.push(this.symbol());
        }
      } else if (mode === 'EXPLICIT') {
        if (explicit.length !== 8 || explicit[0] || explicit[1] || explicit[6] || explicit[7]) {
          throw nodeError(node, `explicit_paddings [${explicit.join(',')}] are not [0,0,t,b,l,r,0,0]`);
        }
        const b = explicit[2 + 2 * i] as number;
        const a = explicit[3 + 2 * i] as number;
        before.push(b);
        after.push(a);
        outHW.push(typeof size === 'number' ? Math.floor((size + b + a - k) / s) + 1 : this.symbol());
      } else {
        throw nodeError(node, `unsupported padding "${mode}"`);
      }
    }
    if (dynamic) return { attrs: { auto_pad: 'SAME_UPPER' }, outHW };
    return { attrs: { pads: [before[0], before[1], after[0], after[1]] as number[] }, outHW };
  }

  private conv(node: TfNode, kind: 'conv' | 'depthwise', fused: boolean): void {
    const attrs = new Attrs(node, fused ? [...CONV_ATTRS, ...FUSED_ATTRS] : CONV_ATTRS);
    attrs.dataFormatNHWC();
    const x = this.tensorInput(node, 0);
    const w = this.floatInput(node, 1, 'the filter');
    if (x.shape.length !== 4) throw nodeError(node, `input of rank ${x.shape.length}, expected 4`);
    if (w.shape.length !== 4) throw nodeError(node, `filter of rank ${w.shape.length}, expected 4`);
    const strides = attrs.ints('strides');
    const dilations = attrs.ints('dilations', [1, 1, 1, 1]);
    if (strides.length !== 4 || strides[0] !== 1 || strides[3] !== 1) {
      throw nodeError(node, `strides [${strides.join(',')}] must be [1,h,w,1]`);
    }
    if (dilations.length !== 4 || dilations[0] !== 1 || dilations[3] !== 1) {
      throw nodeError(node, `dilations [${dilations.join(',')}] must be [1,h,w,1]`);
    }
    const [kh, kw, cin, multOrOut] = w.shape as [number, number, number, number];
    const inChannels = x.shape[3] as Dim;
    if (typeof inChannels === 'number' && inChannels !== cin) {
      throw nodeError(node, `input has ${inChannels} channels, filter expects ${cin}`);
    }
    const cout = kind === 'conv' ? multOrOut : cin * multOrOut;
    const sp = this.spatial(
      node,
      attrs.str('padding').toUpperCase(),
      attrs.ints('explicit_paddings', []),
      [x.shape[1] as Dim, x.shape[2] as Dim],
      [kh, kw],
      [strides[1] as number, strides[2] as number],
      [dilations[1] as number, dilations[2] as number],
    );
    // ONNX weights: conv [cout, cin, kh, kw]; depthwise (group = cin) [cin*mult, 1, kh, kw], whose
    // output channel c*mult+m is TF's depthwise output channel c*mult+m.
    const weight =
      kind === 'conv'
        ? this.cachedFloat(`${w.name}:oihw`, transposeData(w.data, w.shape, [3, 2, 0, 1]), [cout, cin, kh, kw])
        : this.cachedFloat(`${w.name}:dw`, transposeData(w.data, w.shape, [2, 3, 0, 1]), [cout, 1, kh, kw]);
    const inputs = [this.toLayout(x, NCHW), weight];

    const fusedOps = fused ? this.fusedOps(node, attrs) : { bias: false, activation: 'linear' as Activation, args: 0 };
    let pendingBias: Value | null = null;
    if (fusedOps.bias) {
      const bias = this.input(node, 2);
      if (bias.kind === 'const' && bias.shape.length === 1 && bias.shape[0] === cout) {
        inputs.push(this.floatConstName(this.asFloat(bias, node), null));
      } else pendingBias = bias;
    }
    const convAttrs: Record<string, number | number[] | string> = {
      kernel_shape: [kh, kw],
      strides: [strides[1] as number, strides[2] as number],
      dilations: [dilations[1] as number, dilations[2] as number],
      group: kind === 'conv' ? 1 : cin,
      ...sp.attrs,
    };
    let y: DynTensor = {
      kind: 'tensor',
      name: this.graph.node('Conv', inputs, convAttrs),
      shape: [x.shape[0] as Dim, sp.outHW[0] as Dim, sp.outHW[1] as Dim, cout],
      perm: NCHW,
    };
    if (pendingBias) y = this.elementwise(node, 'Add', y, pendingBias);
    const preluAlpha = fusedOps.activation === 'prelu' ? this.input(node, fusedOps.bias ? 3 : 2) : undefined;
    this.set(node, this.activation(node, y, fusedOps.activation, preluAlpha, attrs.float('leakyrelu_alpha', 0.2)));
  }

  /** Parses fused_ops the way tfjs-converter does: [extraOp, activation], extraOp 'biasadd' (or absent). */
  private fusedOps(node: TfNode, attrs: Attrs): { bias: boolean; activation: Activation; args: number } {
    const ops = attrs.strs('fused_ops').map((s) => s.toLowerCase());
    const numArgs = attrs.int('num_args', 0);
    const inputs = this.dataInputs(node).length;
    if (ops[0] === 'fusedbatchnorm') {
      // tfjs-converter itself throws here ("FusedConv2d ... with FusedBatchNorm is not supported"), so a
      // model using it cannot run in TF.js and there is no reference to be faithful to.
      throw nodeError(node, 'fused_ops FusedBatchNorm is not supported (TF.js rejects it too)');
    }
    if (ops.length === 0 && numArgs === 0 && inputs === 2) return { bias: false, activation: 'linear', args: 0 };
    if (ops[0] !== 'biasadd' || ops.length > 2) {
      // TF.js reads fused_ops positionally as [extraOp, activation]; anything else (e.g. [Relu] alone,
      // which TF.js would silently run without the activation) has no well-defined meaning.
      throw nodeError(node, `unsupported fused_ops [${ops.join(', ')}]`);
    }
    const activation = (ops[1] ?? 'linear') as Activation;
    if (activation !== 'linear' && !ACTIVATIONS.includes(activation)) {
      throw nodeError(node, `unsupported fused activation "${ops[1]}"`);
    }
    const expected = activation === 'prelu' ? 2 : 1;
    if (numArgs !== expected || inputs !== 2 + expected) {
      throw nodeError(node, `fused_ops [${ops.join(', ')}] with num_args=${numArgs} and ${inputs} inputs`);
    }
    return { bias: true, activation, args: numArgs };
  }

  private activation(
    node: TfNode,
    x: DynTensor,
    activation: Activation,
    preluAlpha?: Value,
    leakyAlpha = 0.2,
  ): DynTensor {
    const keep = (name: string): DynTensor => ({ ...x, name });
    switch (activation) {
      case 'linear':
        return x;
      case 'relu':
        return keep(this.graph.node('Relu', [x.name]));
      case 'relu6':
        return keep(this.graph.node('Clip', [x.name, this.scalar(0), this.scalar(6)]));
      case 'elu':
        return keep(this.graph.node('Elu', [x.name], { alpha: { float: 1 } }));
      case 'sigmoid':
        return keep(this.graph.node('Sigmoid', [x.name]));
      case 'leakyrelu':
        return keep(this.graph.node('LeakyRelu', [x.name], { alpha: { float: leakyAlpha } }));
      case 'prelu': {
        if (!preluAlpha) throw nodeError(node, 'prelu without alpha');
        // PRelu's slope broadcasts unidirectionally onto x, in x's layout.
        const rank = x.shape.length;
        if (preluAlpha.kind === 'tensor' && preluAlpha.shape.length > rank) throw nodeError(node, 'alpha rank > x');
        const slope = this.operand(node, preluAlpha, x.perm, rank);
        return keep(this.graph.node('PRelu', [x.name, slope]));
      }
    }
  }

  private pool(node: TfNode, onnxOp: 'MaxPool' | 'AveragePool'): void {
    const attrs = new Attrs(node, POOL_ATTRS);
    attrs.dataFormatNHWC();
    const x = this.tensorInput(node, 0);
    if (x.shape.length !== 4) throw nodeError(node, `input of rank ${x.shape.length}, expected 4`);
    const ksize = attrs.ints('ksize');
    const strides = attrs.ints('strides');
    if (ksize.length !== 4 || ksize[0] !== 1 || ksize[3] !== 1) throw nodeError(node, `ksize [${ksize}] unsupported`);
    if (strides.length !== 4 || strides[0] !== 1 || strides[3] !== 1) {
      throw nodeError(node, `strides [${strides}] unsupported`);
    }
    const mode = attrs.str('padding').toUpperCase();
    // tfjs-converter passes only 'valid'/'same' to its pooling ops.
    if (mode !== 'SAME' && mode !== 'VALID') throw nodeError(node, `padding ${mode} is not supported for pooling`);
    const kernel = [ksize[1] as number, ksize[2] as number];
    const sp = this.spatial(
      node,
      mode,
      [],
      [x.shape[1] as Dim, x.shape[2] as Dim],
      kernel,
      [strides[1] as number, strides[2] as number],
      [1, 1],
    );
    const poolAttrs: Record<string, number | number[] | string> = {
      kernel_shape: kernel,
      strides: [strides[1] as number, strides[2] as number],
      ...sp.attrs,
    };
    // TF's SAME average excludes the padding from the divisor.
    if (onnxOp === 'AveragePool') poolAttrs['count_include_pad'] = 0;
    const name = this.graph.node(onnxOp, [this.toLayout(x, NCHW)], poolAttrs);
    this.set(node, {
      kind: 'tensor',
      name,
      shape: [x.shape[0] as Dim, sp.outHW[0] as Dim, sp.outHW[1] as Dim, x.shape[3] as Dim],
      perm: NCHW,
    });
  }

  private matMul(node: TfNode, fused: boolean): void {
    const base = ['T', 'transpose_a', 'transpose_b', 'grad_a', 'grad_b'];
    const attrs = new Attrs(node, fused ? [...base, ...FUSED_ATTRS] : base);
    const transA = attrs.bool('transpose_a', false);
    const transB = attrs.bool('transpose_b', false);
    const a = this.input(node, 0);
    const b = this.input(node, 1);
    if (a.shape.length !== 2 || b.shape.length !== 2) {
      throw nodeError(node, `operands of rank ${a.shape.length} and ${b.shape.length} (only 2-D MatMul)`);
    }
    const aName = a.kind === 'const' ? this.floatConstName(this.asFloat(a, node), null) : this.toLayout(a, null);
    const bName = b.kind === 'const' ? this.floatConstName(this.asFloat(b, node), null) : this.toLayout(b, null);
    const n = a.shape[transA ? 1 : 0] as Dim;
    const m = b.shape[transB ? 0 : 1] as Dim;
    const k1 = a.shape[transA ? 0 : 1] as Dim;
    const k2 = b.shape[transB ? 1 : 0] as Dim;
    if (typeof k1 === 'number' && typeof k2 === 'number' && k1 !== k2) {
      throw nodeError(node, `inner dimensions ${k1} and ${k2} differ`);
    }
    const fusedOps = fused ? this.fusedOps(node, attrs) : { bias: false, activation: 'linear' as Activation, args: 0 };
    const inputs = [aName, bName];
    let pendingBias: Value | null = null;
    if (fusedOps.bias) {
      const bias = this.input(node, 2);
      // Gemm's C broadcasts unidirectionally to [n, m], exactly like TF.js's bias add on a 2-D result.
      if (bias.kind === 'const' && bias.shape.length <= 2)
        inputs.push(this.floatConstName(this.asFloat(bias, node), null));
      else pendingBias = bias;
    }
    let y: DynTensor = {
      kind: 'tensor',
      name: this.graph.node('Gemm', inputs, { transA: transA ? 1 : 0, transB: transB ? 1 : 0 }),
      shape: [n, m],
      perm: null,
    };
    if (pendingBias) y = this.elementwise(node, 'Add', y, pendingBias);
    const preluAlpha = fusedOps.activation === 'prelu' ? this.input(node, 3) : undefined;
    this.set(node, this.activation(node, y, fusedOps.activation, preluAlpha, attrs.float('leakyrelu_alpha', 0.2)));
  }

  private reduce(node: TfNode, onnxOp: string): void {
    const attrs = new Attrs(node, ['T', 'Tidx', 'keep_dims']);
    const keep = attrs.bool('keep_dims', false);
    const x = this.tensorInput(node, 0);
    const rank = x.shape.length;
    const axes = this.normAxes(node, this.intInput(node, 1, 'reduction axes'), rank);
    if (axes.length === 0) return this.set(node, x); // TF reduces over nothing: identity (ONNX would reduce all)
    const perm = x.perm ?? identityPerm(rank);
    const onnxAxes = axes.map((a) => perm.indexOf(a)).sort((p, q) => p - q);
    const name =
      onnxOp === 'ReduceSum' // opset 13+: ReduceSum takes axes as an input, the others (until 18) an attribute
        ? this.graph.node(onnxOp, [x.name, this.int64(onnxAxes)], { keepdims: keep ? 1 : 0 })
        : this.graph.node(onnxOp, [x.name], { axes: onnxAxes, keepdims: keep ? 1 : 0 });
    const removed = new Set(axes);
    if (keep) {
      this.set(node, { kind: 'tensor', name, shape: x.shape.map((d, i) => (removed.has(i) ? 1 : d)), perm: x.perm });
    } else {
      this.set(node, {
        kind: 'tensor',
        name,
        shape: x.shape.filter((_, i) => !removed.has(i)),
        perm: this.dropAxes(x.perm, removed),
      });
    }
  }

  private normAxes(node: TfNode, axes: number[], rank: number): number[] {
    const out = new Set<number>();
    for (const a of axes) {
      const axis = a < 0 ? a + rank : a;
      if (axis < 0 || axis >= rank) throw nodeError(node, `axis ${a} out of range for rank ${rank}`);
      out.add(axis);
    }
    return [...out].sort((p, q) => p - q);
  }

  /** Layout of a tensor after removing TF axes `removed` from a tensor in layout `perm`. */
  private dropAxes(perm: number[] | null, removed: Set<number>): number[] | null {
    if (!perm) return null;
    const kept = perm.filter((a) => !removed.has(a));
    const sorted = [...kept].sort((p, q) => p - q);
    return normPerm(kept.map((a) => sorted.indexOf(a)));
  }

  private elementwise(node: TfNode, onnxOp: string, a: Value, b: Value): DynTensor {
    const rank = Math.max(a.shape.length, b.shape.length);
    const perm = this.pickLayout([a, b], rank);
    const name = this.graph.node(onnxOp, [this.operand(node, a, perm, rank), this.operand(node, b, perm, rank)]);
    return { kind: 'tensor', name, shape: this.broadcast(node, [...a.shape], [...b.shape]), perm };
  }

  private binary(node: TfNode, onnxOp: string): void {
    const attrs = new Attrs(node, node.op === 'BiasAdd' ? ['T', 'data_format'] : ['T']);
    if (node.op === 'BiasAdd') attrs.dataFormatNHWC();
    this.set(node, this.elementwise(node, onnxOp, this.input(node, 0), this.input(node, 1)));
  }

  private unary(node: TfNode, onnxOp: string): void {
    new Attrs(node, ['T']);
    const x = this.tensorInput(node, 0);
    const attrs: Record<string, AttrValue> = onnxOp === 'Elu' ? { alpha: { float: 1 } } : {};
    this.set(node, { ...x, name: this.graph.node(onnxOp, [x.name], attrs) });
  }

  private softmax(node: TfNode): void {
    new Attrs(node, ['T']);
    const x = this.tensorInput(node, 0);
    const rank = x.shape.length;
    // TF's Softmax works on the last TF axis; find where that axis lives physically.
    const axis = x.perm ? x.perm.indexOf(rank - 1) : rank - 1;
    this.set(node, { ...x, name: this.graph.node('Softmax', [x.name], { axis }) });
  }

  private batchNorm(node: TfNode): void {
    const attrs = new Attrs(node, ['T', 'U', 'epsilon', 'data_format', 'is_training', 'exponential_avg_factor']);
    attrs.dataFormatNHWC();
    if (attrs.bool('is_training', false)) throw nodeError(node, 'is_training=true is not supported');
    const x = this.tensorInput(node, 0);
    if (x.shape.length !== 4) throw nodeError(node, `input of rank ${x.shape.length}, expected 4`);
    const channels = x.shape[3];
    const params = [1, 2, 3, 4].map((i) => {
      const p = this.floatInput(node, i, 'scale/offset/mean/variance');
      if (p.shape.length !== 1 || (typeof channels === 'number' && p.shape[0] !== channels)) {
        throw nodeError(node, `parameter "${p.name}" of shape [${p.shape}] for ${String(channels)} channels`);
      }
      return this.floatConstName(p, null);
    });
    const [scale, offset, mean, variance] = params as [string, string, string, string];
    const name = this.graph.node('BatchNormalization', [this.toLayout(x, NCHW), scale, offset, mean, variance], {
      epsilon: { float: attrs.float('epsilon', 0.001) },
    });
    this.set(node, { kind: 'tensor', name, shape: x.shape, perm: NCHW });
  }

  private reshape(node: TfNode): void {
    new Attrs(node, ['T', 'Tshape']);
    const x = this.tensorInput(node, 0);
    const target = this.intInput(node, 1, 'the shape');
    if (target.some((d) => d === 0 || d < -1) || target.filter((d) => d === -1).length > 1) {
      throw nodeError(node, `shape [${target.join(',')}] is not supported (0 or several -1)`);
    }
    const shape: Dim[] = target.map((d) => d);
    const wildcard = target.indexOf(-1);
    if (wildcard >= 0) {
      const knownIn = x.shape.reduce<number>((p, d) => (typeof d === 'number' ? p * d : p), 1);
      const symbolicIn = x.shape.filter((d) => typeof d === 'string');
      const knownOut = target.reduce((p, d) => (d === -1 ? p : p * d), 1);
      if (symbolicIn.length === 0) {
        if (knownIn % knownOut !== 0) throw nodeError(node, `cannot reshape [${x.shape}] to [${target}]`);
        shape[wildcard] = knownIn / knownOut;
      } else if (symbolicIn.length === 1 && knownIn === knownOut) {
        shape[wildcard] = symbolicIn[0] as string; // e.g. [batch,1,1,C] → [-1, C]: the wildcard is the batch
      } else shape[wildcard] = this.symbol();
    }
    const name = this.graph.node('Reshape', [this.toLayout(x, null), this.int64(target)]);
    this.set(node, { kind: 'tensor', name, shape, perm: null });
  }

  private expandDims(node: TfNode): void {
    new Attrs(node, ['T', 'Tdim']);
    const x = this.tensorInput(node, 0);
    const axisValues = this.intInput(node, 1, 'the axis');
    if (axisValues.length !== 1) throw nodeError(node, 'axis must be a single value');
    const rank = x.shape.length;
    let axis = axisValues[0] as number;
    if (axis < 0) axis += rank + 1;
    if (axis < 0 || axis > rank) throw nodeError(node, `axis ${axisValues[0]} out of range`);
    const shape = [...x.shape];
    shape.splice(axis, 0, 1);
    if (!x.perm) {
      const name = this.graph.node('Unsqueeze', [x.name, this.int64([axis])]);
      return this.set(node, { kind: 'tensor', name, shape, perm: null });
    }
    // Keep the physical layout: append the unit axis physically last and record where it sits in TF order.
    const name = this.graph.node('Unsqueeze', [x.name, this.int64([rank])]);
    const perm = [...x.perm.map((a) => (a >= axis ? a + 1 : a)), axis];
    this.set(node, { kind: 'tensor', name, shape, perm: normPerm(perm) });
  }

  private squeeze(node: TfNode): void {
    const attrs = new Attrs(node, ['T', 'squeeze_dims', 'axis']);
    const x = this.tensorInput(node, 0);
    const rank = x.shape.length;
    let axes = this.normAxes(node, attrs.ints('axis', attrs.ints('squeeze_dims', [])), rank);
    if (axes.length === 0) {
      // "all unit dims": only decidable statically when no dim is symbolic (the batch could be 1 at run time).
      if (x.shape.some((d) => typeof d !== 'number')) throw nodeError(node, 'squeeze of all dims on a dynamic shape');
      axes = x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
    }
    for (const a of axes) {
      const d = x.shape[a];
      if (typeof d === 'number' && d !== 1) throw nodeError(node, `cannot squeeze axis ${a} of size ${d}`);
    }
    if (axes.length === 0) return this.set(node, x);
    const perm = x.perm ?? identityPerm(rank);
    const onnxAxes = axes.map((a) => perm.indexOf(a)).sort((p, q) => p - q);
    const name = this.graph.node('Squeeze', [x.name, this.int64(onnxAxes)]);
    const removed = new Set(axes);
    this.set(node, {
      kind: 'tensor',
      name,
      shape: x.shape.filter((_, i) => !removed.has(i)),
      perm: this.dropAxes(x.perm, removed),
    });
  }

  private stridedSlice(node: TfNode): void {
    const attrs = new Attrs(node, [
      'T',
      'Index',
      'begin_mask',
      'end_mask',
      'ellipsis_mask',
      'new_axis_mask',
      'shrink_axis_mask',
    ]);
    if (attrs.int('ellipsis_mask', 0) || attrs.int('new_axis_mask', 0)) {
      throw nodeError(node, 'ellipsis_mask / new_axis_mask are not supported');
    }
    const beginMask = attrs.int('begin_mask', 0);
    const endMask = attrs.int('end_mask', 0);
    const shrinkMask = attrs.int('shrink_axis_mask', 0);
    const x = this.tensorInput(node, 0);
    const begin = this.intInput(node, 1, 'begin');
    const end = this.intInput(node, 2, 'end');
    const steps = this.intInput(node, 3, 'strides');
    const rank = x.shape.length;
    if (begin.length !== end.length || begin.length !== steps.length || begin.length > rank) {
      throw nodeError(node, 'begin/end/strides lengths differ or exceed the rank');
    }
    const starts: number[] = [];
    const ends: number[] = [];
    const axes: number[] = [];
    const stepList: number[] = [];
    const shrink: number[] = [];
    const shape = [...x.shape];
    for (let i = 0; i < begin.length; i++) {
      const bit = 1 << i;
      let step = steps[i] as number;
      if (step === 0) throw nodeError(node, 'stride 0');
      let start: number;
      let stop: number;
      if (shrinkMask & bit) {
        if (beginMask & bit || step < 0) throw nodeError(node, 'shrink axis with begin_mask or negative stride');
        start = begin[i] as number;
        stop = start === -1 ? BIG : start + 1;
        step = 1;
        shrink.push(i);
      } else {
        start = beginMask & bit ? (step > 0 ? 0 : BIG) : (begin[i] as number);
        stop = endMask & bit ? (step > 0 ? BIG : -BIG) : (end[i] as number);
      }
      const dim = x.shape[i] as Dim;
      const full = step === 1 && start === 0 && stop === BIG;
      if (full) continue;
      starts.push(start);
      ends.push(stop);
      axes.push(i);
      stepList.push(step);
      shape[i] = typeof dim === 'number' ? sliceLength(dim, start, stop, step) : this.symbol();
    }
    // Slice/Squeeze address axes individually, so they work on the physical layout (no transpose back).
    const physical = x.perm ?? identityPerm(rank);
    let name = x.name;
    if (axes.length > 0) {
      name = this.graph.node('Slice', [
        x.name,
        this.int64(starts),
        this.int64(ends),
        this.int64(axes.map((a) => physical.indexOf(a))),
        this.int64(stepList),
      ]);
    }
    let out: DynTensor = { kind: 'tensor', name, shape, perm: x.perm };
    if (shrink.length > 0) {
      const onnxAxes = shrink.map((a) => physical.indexOf(a)).sort((p, q) => p - q);
      const removed = new Set(shrink);
      out = {
        kind: 'tensor',
        name: this.graph.node('Squeeze', [out.name, this.int64(onnxAxes)]),
        shape: shape.filter((_, i) => !removed.has(i)),
        perm: this.dropAxes(out.perm, removed),
      };
    }
    this.set(node, out);
  }

  private concat(node: TfNode): void {
    const attrs = new Attrs(node, ['T', 'N', 'Tidx']);
    const count = this.dataInputs(node).length - 1;
    const n = attrs.int('N', count);
    if (n !== count) throw nodeError(node, `N=${n} but ${count} tensors`);
    const axisFirst = node.op === 'Concat';
    const values = Array.from({ length: count }, (_, i) => this.input(node, axisFirst ? i + 1 : i));
    const axisValues = this.intInput(node, axisFirst ? 0 : count, 'the axis');
    const rank = (values[0] as Value).shape.length;
    if (values.some((v) => v.shape.length !== rank)) throw nodeError(node, 'inputs of different ranks');
    const [axis] = this.normAxes(node, axisValues, rank) as [number];
    const perm = this.pickLayout(values, rank);
    const names = values.map((v) => this.operand(node, v, perm, rank));
    const name = this.graph.node('Concat', names, { axis: perm ? perm.indexOf(axis) : axis });
    const shape = [...(values[0] as Value).shape];
    const sizes = values.map((v) => v.shape[axis] as Dim);
    shape[axis] = sizes.every((d) => typeof d === 'number')
      ? (sizes as number[]).reduce((p, q) => p + q, 0)
      : this.symbol();
    this.set(node, { kind: 'tensor', name, shape, perm });
  }

  private pad(node: TfNode): void {
    const attrs = new Attrs(node, node.op === 'Pad' ? ['T', 'Tpaddings', 'constant_value'] : ['T', 'Tpaddings']);
    const x = this.tensorInput(node, 0);
    const rank = x.shape.length;
    const paddings = this.intInput(node, 1, 'the paddings');
    if (paddings.length !== 2 * rank || paddings.some((p) => p < 0)) {
      throw nodeError(node, `paddings [${paddings.join(',')}] for rank ${rank}`);
    }
    let value = attrs.float('constant_value', 0);
    if (node.op === 'PadV2') {
      const c = this.floatInput(node, 2, 'constant_values');
      if (c.data.length !== 1) throw nodeError(node, 'constant_values must be a scalar');
      value = c.data[0] as number;
    }
    const perm = x.perm ?? identityPerm(rank);
    const pads = [...perm.map((a) => paddings[2 * a] as number), ...perm.map((a) => paddings[2 * a + 1] as number)];
    const name = this.graph.node('Pad', [x.name, this.int64(pads), this.scalar(value)], { mode: 'constant' });
    const shape = x.shape.map((d, i) =>
      typeof d === 'number' ? d + (paddings[2 * i] as number) + (paddings[2 * i + 1] as number) : this.symbol(),
    );
    this.set(node, { kind: 'tensor', name, shape, perm: x.perm });
  }

  /** A TF Transpose only changes which TF axis each physical axis holds: no ONNX node needed. */
  private transpose(node: TfNode): void {
    new Attrs(node, ['T', 'Tperm']);
    const x = this.tensorInput(node, 0);
    const q = this.intInput(node, 1, 'the permutation');
    const rank = x.shape.length;
    if (q.length !== rank || [...q].sort((a, b) => a - b).some((v, i) => v !== i)) {
      throw nodeError(node, `perm [${q.join(',')}] is not a permutation of rank ${rank}`);
    }
    const qInv = invertPerm(q);
    const current = x.perm ?? identityPerm(rank);
    this.set(node, {
      kind: 'tensor',
      name: x.name,
      shape: q.map((i) => x.shape[i] as Dim),
      perm: normPerm(current.map((a) => qInv[a] as number)),
    });
  }
}

/** Number of elements of a strided slice over a known dimension (Python/ONNX clamping rules). */
function sliceLength(dim: number, start: number, stop: number, step: number): number {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + dim : start;
  let e = stop < 0 ? stop + dim : stop;
  if (step > 0) {
    s = clamp(s, 0, dim);
    e = clamp(e, 0, dim);
    return Math.max(0, Math.ceil((e - s) / step));
  }
  s = clamp(s, -1, dim - 1);
  e = clamp(e, -1, dim - 1);
  return Math.max(0, Math.ceil((s - e) / -step));
}
