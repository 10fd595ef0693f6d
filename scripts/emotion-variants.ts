/**
 * Issue 15, item 4 (not a test: figures for models/README.md): the two pretrained emotion networks under
 * every cheap test-time variant, on the faces the engine finds — framing, the mirrored crop, and (for
 * face-api's colour network) a grey crop — then single variants, mirror averages and ensembles scored on
 * each set and on the sources of emotion-photos-dev, so the run-time recipe is chosen by the worst set.
 *
 *   node --import tsx scripts/emotion-variants.ts collect <set> crop|detect <out.json> [limit]
 *   node --import tsx scripts/emotion-variants.ts score <a.json> <b.json> …
 *   node --import tsx scripts/emotion-variants.ts calibrate <key,key,…> <a.json> <b.json> …
 *
 * `collect` runs the engine as `facets eval` does (crop: the image is the face; detect: MTCNN with the
 * close-up pass, largest face) and stores every variant's probabilities (EMOTIONS order) per face.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { FaceAnalyzer, DEFAULT_ASSIGNMENT } from '../main/engine/analyzer.js';
import { EMOTIONS } from '../main/engine/attributes/labels.js';
import { NETWORKS, type Attributes } from '../main/engine/attributes/networks.js';
import type { Detection } from '../main/engine/detection/mtcnn.js';
import { type CropRecipe, cropFace, mirrorCrops } from '../main/engine/faces/crop.js';
import { decodeForAnalysis } from '../main/engine/image/decode.js';
import { AreaSampler } from '../main/engine/image/resample.js';
import { evenlySpaced, loadEvalSet } from '../research/eval/datasets.js';
import { pickFace } from '../research/eval/evaluate.js';
import { expectedCalibrationError, uncertainThreshold } from '../research/heads/calibration.js';
import { withTemperature } from '../main/engine/attributes/heads.js';

const FRAMINGS: Record<string, CropRecipe> = {
  fer: { method: 'align', margin: 1, template: 'fer' },
  utkface: { method: 'align', margin: 1, template: 'utkface' },
  fairface: { method: 'align', margin: 1, template: 'fairface' },
  arcface: { method: 'align', margin: 1, template: 'arcface' },
  'box1.0': { method: 'box', margin: 1 },
  'box1.25': { method: 'box', margin: 1.25 },
};

interface Collected {
  set: string;
  mode: string;
  faces: number;
  noFace: number;
  samples: { label: string; source?: string; probs: Record<string, number[]> }[];
}

/** Every variant of both networks for one face: key `net|framing|colour|plain|mirror`. */
async function variants(
  analyzer: FaceAnalyzer,
  sampler: AreaSampler,
  face: Detection,
): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const name of ['emotion', 'faceapi-expression'] as const) {
    const net = NETWORKS[name]!;
    const loaded = await analyzer.models.load(net.model);
    const colours = net.grey ? ['grey'] : ['rgb', 'grey'];
    const keys: string[] = [];
    const channels = net.grey ? 1 : 3;
    const per = net.size * net.size * channels;
    const crops: Float32Array[] = [];
    for (const [fname, recipe0] of Object.entries(FRAMINGS)) {
      const recipe: CropRecipe =
        recipe0.method === 'align' && face.landmarks.length !== 5 ? { method: 'box', margin: 1 } : recipe0;
      for (const colour of colours) {
        const rgb = new Float32Array(net.size * net.size * 3);
        cropFace(sampler, face, recipe, net.size, rgb, 0, (v) => v);
        const crop = new Float32Array(per);
        for (let i = 0; i < net.size * net.size; i++) {
          if (colour === 'grey') {
            const luma = 0.299 * rgb[i * 3]! + 0.587 * rgb[i * 3 + 1]! + 0.114 * rgb[i * 3 + 2]!;
            for (let c = 0; c < channels; c++) crop[i * channels + c] = net.pixel(luma);
          } else {
            for (let c = 0; c < 3; c++) crop[i * 3 + c] = net.pixel(rgb[i * 3 + c]!);
          }
        }
        for (const mirror of ['plain', 'mirror']) {
          const copy = Float32Array.from(crop);
          if (mirror === 'mirror') mirrorCrops(copy, 1, net.size, channels);
          crops.push(copy);
          keys.push(`${name}|${fname}|${colour}|${mirror}`);
        }
      }
    }
    const input = new Float32Array(per * crops.length);
    crops.forEach((c, i) => input.set(c, i * per));
    const outputs = await loaded.session.run({
      [loaded.entry.input.name]: new ort.Tensor('float32', input, [crops.length, net.size, net.size, channels]),
    });
    const ref = { name: net.model, version: '' };
    keys.forEach((k, i) => {
      const e = net.decode(outputs, i, ref).emotion!;
      out[k] = EMOTIONS.map((l) => e.probabilities[l] ?? 0);
    });
  }
  return out;
}

async function collect(folder: string, mode: 'crop' | 'detect', file: string, limit: number): Promise<void> {
  const set = loadEvalSet(folder);
  if (set.kind !== 'attributes') throw new Error(`${folder} is not an attribute set`);
  const samples = evenlySpaced(
    set.samples.filter((s) => s.emotion),
    limit,
  );
  const sources = new Map<string, string>();
  try {
    for (const line of readFileSync(`${folder}/labels.csv`, 'utf8').trim().split(/\r?\n/).slice(1)) {
      const cells = line.split(',');
      if (cells[2]) sources.set(path.basename(cells[0]!), cells[2]);
    }
  } catch {
    // a set without a source column
  }
  const analyzer = new FaceAnalyzer(undefined, {
    assignment: { ...DEFAULT_ASSIGNMENT, age: null, gender: null, ethnicity: null, emotion: 'emotion' },
  });
  const result: Collected = { set: folder, mode, faces: 0, noFace: 0, samples: [] };
  for (const [n, sample] of samples.entries()) {
    let probs: Record<string, number[]> | undefined;
    if (mode === 'crop') {
      const image = await decodeForAnalysis(sample.path, analyzer.options.decode);
      const face: Detection = { box: { x1: 0, y1: 0, x2: image.width, y2: image.height }, score: 1, landmarks: [] };
      probs = await variants(analyzer, new AreaSampler(image), face);
    } else {
      // The engine's own detection (close-up pass included), and the face `facets eval` scores (pickFace);
      // the analysis lists its faces in the order the attribute networks got them.
      let captured: { sampler: AreaSampler; faces: readonly Detection[] } | undefined;
      const original = analyzer.attributes.bind(analyzer);
      analyzer.attributes = async (image, sampler, faces): Promise<Attributes[]> => {
        captured = { sampler, faces };
        return original(image, sampler, faces);
      };
      const analysis = await analyzer.analyze(sample.path);
      analyzer.attributes = original;
      const picked = pickFace(analysis.faces, analysis, 'largest');
      const face = picked && captured?.faces[analysis.faces.indexOf(picked)];
      if (captured && face) probs = await variants(analyzer, captured.sampler, face);
    }
    if (!probs) result.noFace++;
    else {
      result.faces++;
      result.samples.push({ label: sample.emotion!, source: sources.get(path.basename(sample.path)), probs });
    }
    if (process.stderr.isTTY || n % 100 === 99) process.stderr.write(`\r${n + 1}/${samples.length}`);
  }
  process.stderr.write('\n');
  await analyzer.models.release();
  writeFileSync(file, JSON.stringify(result));
}

type Combo = { name: string; parts: string[]; mean: 'arith' | 'geo'; weights?: number[] };

function scoreSet(data: Collected['samples'], combo: Combo): number {
  let right = 0;
  for (const s of data) {
    const vs = combo.parts.map((k) => s.probs[k]!);
    const p = EMOTIONS.map((_, j) =>
      combo.mean === 'geo'
        ? vs.reduce((a, v) => a + Math.log(Math.max(v[j]!, 1e-9)), 0)
        : vs.reduce((a, v, i) => a + (combo.weights?.[i] ?? 1) * v[j]!, 0),
    );
    const best = p.indexOf(Math.max(...p));
    if (EMOTIONS[best] === s.label) right++;
  }
  return right / data.length;
}

function score(files: string[]): void {
  const sets = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Collected);
  // Sub-sets: each file, and each source of a file that has several.
  const groups: { name: string; data: Collected['samples']; primary: boolean }[] = [];
  for (const s of sets) {
    const short = s.set.replace(/\/$/, '').split('/').pop()!;
    groups.push({ name: short, data: s.samples, primary: true });
    const sources = [...new Set(s.samples.map((x) => x.source).filter(Boolean))] as string[];
    if (sources.length > 1) {
      for (const src of sources)
        groups.push({ name: `${short}:${src}`, data: s.samples.filter((x) => x.source === src), primary: false });
    }
  }
  const keys = Object.keys(sets[0]!.samples[0]!.probs);
  const combos: Combo[] = [];
  const base = (k: string) => k.replace(/\|(plain|mirror)$/, '');
  for (const k of keys) combos.push({ name: k, parts: [k], mean: 'arith' });
  const bases = [...new Set(keys.map(base))];
  for (const b of bases) combos.push({ name: `${b}|both`, parts: [`${b}|plain`, `${b}|mirror`], mean: 'arith' });
  const emo = bases.filter((b) => b.startsWith('emotion|'));
  const fa = bases.filter((b) => b.startsWith('faceapi-expression|'));
  for (const e of emo) {
    for (const f of fa) {
      combos.push({ name: `${e} + ${f} (plain)`, parts: [`${e}|plain`, `${f}|plain`], mean: 'arith' });
      combos.push({
        name: `${e} + ${f} (both)`,
        parts: [`${e}|plain`, `${e}|mirror`, `${f}|plain`, `${f}|mirror`],
        mean: 'arith',
      });
      for (const w of [0.5, 2]) {
        combos.push({
          name: `${e} ×${w} + ${f} (both)`,
          parts: [`${e}|plain`, `${e}|mirror`, `${f}|plain`, `${f}|mirror`],
          mean: 'arith',
          weights: [w, w, 1, 1],
        });
      }
      combos.push({
        name: `${e} + ${f} (both, geo)`,
        parts: [`${e}|plain`, `${e}|mirror`, `${f}|plain`, `${f}|mirror`],
        mean: 'geo',
      });
    }
  }
  // Several framings of the face averaged (a test-time augmentation): two framings per network, each
  // plain and mirrored, in colour.
  const rgb = (bs: string[]) => bs.filter((b) => !b.endsWith('|grey') || b.startsWith('emotion|'));
  const pairs = (bs: string[]) => bs.flatMap((a, i) => bs.slice(i + 1).map((b) => [a, b] as const));
  const both = (b: string) => [`${b}|plain`, `${b}|mirror`];
  for (const [e1, e2] of pairs(rgb(emo))) {
    for (const [f1, f2] of pairs(rgb(fa))) {
      combos.push({
        name: `${e1} & ${e2} + ${f1} & ${f2} (both)`,
        parts: [e1, e2, f1, f2].flatMap(both),
        mean: 'arith',
      });
    }
    // Human's network under two framings beside face-api's under its serving one.
    combos.push({
      name: `${e1} & ${e2} + faceapi-expression|fairface|rgb (both)`,
      parts: [e1, e2, 'faceapi-expression|fairface|rgb'].flatMap(both),
      mean: 'arith',
      weights: [0.5, 0.5, 0.5, 0.5, 1, 1],
    });
  }
  for (const [f1, f2] of pairs(rgb(fa))) {
    combos.push({
      name: `emotion|fer|grey + ${f1} & ${f2} (both)`,
      parts: ['emotion|fer|grey', f1, f2].flatMap(both),
      mean: 'arith',
      weights: [1, 1, 0.5, 0.5, 0.5, 0.5],
    });
  }
  const rows = combos.map((c) => {
    const acc = groups.map((g) => scoreSet(g.data, c));
    const primary = acc.filter((_, i) => groups[i]!.primary);
    return {
      name: c.name,
      acc,
      worst: Math.min(...primary),
      mean: primary.reduce((a, b) => a + b, 0) / primary.length,
    };
  });
  rows.sort((a, b) => b.worst - a.worst);
  const pct = (v: number) => `${(v * 100).toFixed(1)}`.padStart(5);
  process.stdout.write(
    `${'candidate'.padEnd(70)} ${groups.map((g) => `${g.name} (${g.data.length})`).join(' | ')} | worst | mean\n`,
  );
  for (const r of rows)
    process.stdout.write(`${r.name.padEnd(70)} ${r.acc.map(pct).join(' | ')} | ${pct(r.worst)} | ${pct(r.mean)}\n`);
}

/** ECE and the uncertain threshold of one combination (keys averaged) per set, at several temperatures. */
function calibrateCombo(keys: string[], files: string[]): void {
  const sets = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Collected);
  for (const t of [1, 1.25, 1.5, 1.6, 1.75, 2]) {
    const cells = sets.map((set) => {
      const pairs = set.samples.map((s) => {
        const mean = EMOTIONS.map((_, j) => keys.reduce((a, k) => a + s.probs[k]![j]!, 0) / keys.length);
        const p = withTemperature(mean, t);
        const shown = mean.indexOf(Math.max(...mean));
        return { confidence: p[shown]!, right: EMOTIONS[shown] === s.label };
      });
      return `${(expectedCalibrationError(pairs) * 100).toFixed(1)} % (uncertain below ${uncertainThreshold(pairs).toFixed(2)})`;
    });
    process.stdout.write(`T ${t}: ${cells.join(' | ')}\n`);
  }
}

const [command, ...args] = process.argv.slice(2);
if (command === 'collect') {
  await collect(args[0]!, args[1] as 'crop' | 'detect', args[2]!, Number(args[3] ?? 1e9));
} else if (command === 'score') {
  score(args);
} else if (command === 'calibrate') {
  calibrateCombo(args[0]!.split(','), args.slice(1));
} else {
  process.stderr.write(
    'usage: emotion-variants.ts collect <set> crop|detect <out.json> [limit] | score <a.json> … | ' +
      'calibrate <key,key,…> <a.json> …\n',
  );
  process.exit(2);
}
