/**
 * `facets models build`: produces every models/generated/*.onnx from its pinned source package and
 * checks it against the sha256 recorded in models/manifest.json.
 *
 * Design note "model-contract": a model's input/output contract lives in three places that must change
 * together — its builder here (graph I/O names and layout), models/manifest.json (the recorded
 * contract and sha256), and the engine code in main/engine that feeds it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildAgeGender, buildFaceExpression, buildFaceRecognition } from './face-api-nets.js';
import { type Manifest, type ModelEntry, findModel, readManifest } from '../../main/engine/manifest.js';
import { quantizeModel, readRanges } from './quantize.js';
import { buildONet, buildPNet, buildRNet } from './mtcnn.js';
import { sha256, sha256File, sourceDir } from './sources.js';
import { convertTfjsGraph } from './tfjs-graph.js';

interface BuildContext {
  manifest: Manifest;
  modelsDir: string;
}
type Builder = (sourceRoot: string, entry: ModelEntry, context: BuildContext) => Uint8Array;

const BUILDERS: Record<string, Builder> = {
  'mtcnn-pnet': (dir) => buildPNet(dir),
  'mtcnn-rnet': (dir) => buildRNet(dir),
  'mtcnn-onet': (dir) => buildONet(dir),
  'faceapi-recognition': (dir) => buildFaceRecognition(dir),
  'faceapi-age-gender': (dir) => buildAgeGender(dir),
  'faceapi-expression': (dir) => buildFaceExpression(dir),
  'tfjs-graph': (dir, entry) => {
    const json = Object.keys(entry.sourceFiles).find((f) => f.endsWith('.json'));
    if (!json) throw new Error(`${entry.name}: no model.json among its source files`);
    const extraOutputs = Object.fromEntries(entry.outputs.flatMap((o) => (o.node ? [[o.name, o.node]] : [])));
    return convertTfjsGraph(path.join(dir, json), { graphName: entry.name, extraOutputs });
  },
  // [Note: int8 models] The float model is rebuilt from the same source files, then quantised with
  // the committed ranges: the bytes depend on nothing else.
  quantize: (dir, entry, context) => {
    const q = entry.quantized;
    if (!q) throw new Error('the quantize builder needs a "quantized" field');
    const from = findModel(context.manifest, q.from);
    if (from.source !== entry.source || JSON.stringify(from.sourceFiles) !== JSON.stringify(entry.sourceFiles)) {
      throw new Error(`${entry.name} must list the same source files as ${from.name}`);
    }
    const build = BUILDERS[from.builder];
    if (!build || from.builder === 'quantize') throw new Error(`${from.name}: no float builder`);
    const ranges = readRanges(path.join(context.modelsDir, q.ranges));
    if (ranges.fromSha256 !== from.sha256) {
      throw new Error(
        `${q.ranges} was measured on another build of ${from.name}: run facets models calibrate ${entry.name}`,
      );
    }
    return quantizeModel(build(dir, from, context), ranges.ranges, q.weights ?? 'int8');
  },
};

export interface BuildResult {
  name: string;
  file: string;
  sha256: string;
  status: 'built' | 'up-to-date' | 'recorded';
}

export interface BuildOptions {
  /** Package root (holds node_modules and models/). */
  root: string;
  /** Only these models (default: all). */
  only?: string[];
  /** Write the computed hashes into manifest.json instead of enforcing them (maintainers only). */
  record?: boolean;
  /** Rebuild even when the file on disk already has the recorded hash. */
  force?: boolean;
  log?: (line: string) => void;
}

export function buildModels(options: BuildOptions): BuildResult[] {
  const modelsDir = path.join(options.root, 'models');
  const manifest = readManifest(modelsDir);
  const log = options.log ?? (() => {});
  const results: BuildResult[] = [];
  const errors: string[] = [];
  for (const entry of manifest.models) {
    if (options.only && !options.only.includes(entry.name)) continue;
    try {
      results.push(buildOne(manifest, entry, modelsDir, options, log));
    } catch (err) {
      errors.push(`${entry.name}: ${(err as Error).message}`);
    }
  }
  if (options.record) writeFileSync(path.join(modelsDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  if (errors.length > 0) throw new Error(`model build failed:\n  ${errors.join('\n  ')}`);
  return results;
}

function buildOne(
  manifest: Manifest,
  entry: ModelEntry,
  modelsDir: string,
  options: BuildOptions,
  log: (line: string) => void,
): BuildResult {
  const out = path.join(modelsDir, entry.file);
  if (!options.force && !options.record && entry.sha256 && existsSync(out) && sha256File(out) === entry.sha256) {
    return { name: entry.name, file: entry.file, sha256: entry.sha256, status: 'up-to-date' };
  }
  const source = manifest.sources[entry.source];
  if (!source) throw new Error(`unknown source "${entry.source}"`);
  const dir = sourceDir(source, options.root);
  for (const [file, expected] of Object.entries(entry.sourceFiles)) {
    const actual = sha256(readFileSync(path.join(dir, file)));
    if (options.record) entry.sourceFiles[file] = actual;
    else if (actual !== expected) {
      throw new Error(
        `source file ${source.name}@${source.version}/${file} has sha256 ${actual}, expected ${expected}`,
      );
    }
  }
  const builder = BUILDERS[entry.builder];
  if (!builder) throw new Error(`unknown builder "${entry.builder}"`);
  const started = Date.now();
  const bytes = builder(dir, entry, { manifest, modelsDir });
  const digest = sha256(bytes);
  if (options.record) entry.sha256 = digest;
  else if (digest !== entry.sha256) {
    throw new Error(
      `built ${entry.file} has sha256 ${digest} but the manifest records ${entry.sha256 || '(nothing)'}: ` +
        'the build is not reproducing the recorded model',
    );
  }
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, bytes);
  log(`${entry.name}: ${entry.file} ${(bytes.length / 1e6).toFixed(1)} MB in ${Date.now() - started} ms`);
  return { name: entry.name, file: entry.file, sha256: digest, status: options.record ? 'recorded' : 'built' };
}
