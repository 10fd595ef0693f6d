/**
 * A small, deterministic ONNX graph writer on top of onnx-proto's generated protobuf classes.
 *
 * Every model Facets runs is written through this class, so the bytes of a generated file depend only
 * on the source weights and the build code: the same inputs give the same sha256 (models/manifest.json
 * records it, and `facets models build` refuses a mismatch).
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** ONNX opset every Facets model targets; onnxruntime-node 1.30 supports it fully. */
export const OPSET = 17;
const IR_VERSION = 8;

export type Dim = number | string;
export type AttrValue = number | number[] | string | Float32Array | { float: number } | { floats: number[] };

export interface TensorSpec {
  name: string;
  dims: Dim[];
}

export class OnnxGraph {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly initializerNames = new Set<string>();
  private readonly inputs: TensorSpec[] = [];
  private readonly outputs: TensorSpec[] = [];
  private counter = 0;

  constructor(readonly name: string) {}

  /** A fresh, unique tensor name with a readable prefix. */
  fresh(prefix: string): string {
    this.counter += 1;
    return `${prefix}__${this.counter}`;
  }

  addInput(name: string, dims: Dim[]): string {
    this.inputs.push({ name, dims });
    return name;
  }

  addOutput(name: string, dims: Dim[]): string {
    this.outputs.push({ name, dims });
    return name;
  }

  hasInitializer(name: string): boolean {
    return this.initializerNames.has(name);
  }

  /** A float32 constant. `data` is copied; its length must equal the product of `dims`. */
  addFloat(name: string, data: Float32Array | number[], dims: number[]): string {
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    const expected = dims.reduce((a, b) => a * b, 1);
    if (values.length !== expected) {
      throw new Error(`initializer ${name}: ${values.length} values for dims [${dims.join(', ')}]`);
    }
    this.pushInitializer(
      onnx.TensorProto.create({
        name,
        dims,
        dataType: onnx.TensorProto.DataType.FLOAT,
        rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)),
      }),
    );
    return name;
  }

  /** An int64 constant (shapes, axes, slice bounds). */
  addInt64(name: string, data: number[], dims: number[] = [data.length]): string {
    const raw = new BigInt64Array(data.map((v) => BigInt(v)));
    this.pushInitializer(
      onnx.TensorProto.create({
        name,
        dims,
        dataType: onnx.TensorProto.DataType.INT64,
        rawData: new Uint8Array(raw.buffer),
      }),
    );
    return name;
  }

  /** Adds a node and returns its (first) output name. */
  node(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs?: string[]): string {
    const outs = outputs ?? [this.fresh(opType.toLowerCase())];
    const attribute = Object.entries(attrs).map(([key, value]) => toAttribute(key, value));
    this.nodes.push(
      onnx.NodeProto.create({ opType, input: inputs, output: outs, name: `${opType}_${this.nodes.length}`, attribute }),
    );
    return outs[0] as string;
  }

  /** Serialises the model. `metadata` lands in the model's metadata_props (provenance, labels). */
  toBytes(metadata: Record<string, string> = {}): Uint8Array {
    const valueInfo = (t: TensorSpec) =>
      onnx.ValueInfoProto.create({
        name: t.name,
        type: onnx.TypeProto.create({
          tensorType: onnx.TypeProto.Tensor.create({
            elemType: onnx.TensorProto.DataType.FLOAT,
            shape: onnx.TensorShapeProto.create({
              dim: t.dims.map((d) =>
                typeof d === 'number'
                  ? onnx.TensorShapeProto.Dimension.create({ dimValue: d })
                  : onnx.TensorShapeProto.Dimension.create({ dimParam: d }),
              ),
            }),
          }),
        }),
      });
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: 'facets',
      producerVersion: '1',
      opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: OPSET })],
      metadataProps: Object.entries(metadata).map(([key, value]) => onnx.StringStringEntryProto.create({ key, value })),
      graph: onnx.GraphProto.create({
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs.map(valueInfo),
        output: this.outputs.map(valueInfo),
      }),
    });
    return onnx.ModelProto.encode(model).finish();
  }

  private pushInitializer(tensor: InstanceType<typeof onnx.TensorProto>): void {
    const name = tensor.name;
    if (this.initializerNames.has(name)) throw new Error(`duplicate initializer ${name}`);
    this.initializerNames.add(name);
    this.initializers.push(tensor);
  }
}

function toAttribute(name: string, value: AttrValue): InstanceType<typeof onnx.AttributeProto> {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: use { float } for non-integers`);
    return onnx.AttributeProto.create({ name, type: T.INT, i: value });
  }
  if (typeof value === 'string') {
    return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(value) });
  }
  if (Array.isArray(value)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: value });
  if (value instanceof Float32Array) return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: [...value] });
  if ('float' in value) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: value.float });
  return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: value.floats });
}
