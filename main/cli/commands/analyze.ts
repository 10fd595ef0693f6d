import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { type AnalyzedFace, FaceAnalyzer, type ImageAnalysis } from '../../engine/analyzer.js';
import type { Command } from '../command.js';
import { analyzerFlags, analyzerOptionsFrom } from '../analyzer-flags.js';

export const analyzeCommand: Command = {
  name: 'analyze',
  usage: 'analyze <image…> [--json] [--draw <out.png>]',
  summary: 'find the faces in images and estimate age group, gender, ethnicity and emotion',
  help: [
    '--json              print an array of { path, width, height, faces: [...] }',
    '--draw <out.png>    write the (first) image with boxes, landmarks and labels',
    '--repeat <n>        time it: after one warm-up, analyse each image n more times and report the',
    '                    median time of each stage (decode, detect, attributes) and in all',
    ...analyzerFlags.help,
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        draw: { type: 'string' },
        repeat: { type: 'string' },
        ...analyzerFlags.options,
      },
    });
    if (positionals.length === 0) throw new Error('name at least one image');
    const repeat = values.repeat === undefined ? 0 : Number(values.repeat);
    if (!Number.isInteger(repeat) || repeat < 0)
      throw new Error(`--repeat wants a whole number ≥ 0, got "${values.repeat}"`);
    const analyzer = new FaceAnalyzer(undefined, analyzerOptionsFrom(values));
    const results: (ImageAnalysis & { path: string; benchmark?: Benchmark })[] = [];
    let failures = 0;
    for (const path of positionals) {
      try {
        const analysis = await analyzer.analyze(path);
        results.push({
          path,
          ...analysis,
          ...(repeat > 0 ? { benchmark: await benchmark(analyzer, path, repeat) } : {}),
        });
      } catch (err) {
        failures++;
        process.stderr.write(`${path}: ${(err as Error).message}\n`);
      }
    }
    if (values.draw && results[0]) await draw(results[0].path, results[0], values.draw);
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify(results, (_k, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v), 2)}\n`,
      );
    } else {
      for (const r of results) {
        process.stdout.write(`${r.path}: ${r.width}×${r.height}, ${r.faces.length} face(s)\n`);
        for (const f of r.faces) process.stdout.write(`  ${summary(f)}\n`);
        const b = r.benchmark;
        if (b) {
          process.stdout.write(
            `  median of ${b.runs}: ${ms(b.totalMs)} (decode ${ms(b.decodeMs)}, detect ${ms(b.detectMs)}, ` +
              `attributes ${ms(b.attributesMs)}); fastest ${ms(b.fastestMs)}, slowest ${ms(b.slowestMs)}\n`,
          );
        }
      }
    }
    await analyzer.models.release();
    return failures > 0 ? 1 : 0;
  },
};

/** Median timings over repeated analyses of one image (after the warm-up the first analysis was). */
export interface Benchmark {
  runs: number;
  totalMs: number;
  decodeMs: number;
  detectMs: number;
  attributesMs: number;
  fastestMs: number;
  slowestMs: number;
}

async function benchmark(analyzer: FaceAnalyzer, path: string, runs: number): Promise<Benchmark> {
  const total: number[] = [];
  const decode: number[] = [];
  const detect: number[] = [];
  const attributes: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const { timings } = await analyzer.analyze(path);
    total.push(performance.now() - start);
    decode.push(timings.decodeMs);
    detect.push(timings.detectMs);
    attributes.push(timings.attributesMs);
  }
  return {
    runs,
    totalMs: median(total),
    decodeMs: median(decode),
    detectMs: median(detect),
    attributesMs: median(attributes),
    fastestMs: Math.min(...total),
    slowestMs: Math.max(...total),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const ms = (v: number) => `${v.toFixed(0)} ms`;

export function summary(f: AnalyzedFace): string {
  const b = f.box;
  const parts = [
    `[${Math.round(b.x)}, ${Math.round(b.y)}, ${Math.round(b.width)}×${Math.round(b.height)}] score ${f.score.toFixed(3)}`,
    f.age ? `age ${f.age.years.toFixed(0)} (${f.age.group})` : '',
    f.gender ? `${f.gender.label} ${(f.gender.probability * 100).toFixed(0)}%` : '',
    f.ethnicity ? `${f.ethnicity.label} ${(f.ethnicity.probabilities[f.ethnicity.label] * 100).toFixed(0)}%` : '',
    f.emotion ? `${f.emotion.label} ${(f.emotion.probabilities[f.emotion.label] * 100).toFixed(0)}%` : '',
    f.quality.uncertain ? `uncertain: ${f.quality.reasons.join(', ')}` : '',
  ];
  return parts.filter(Boolean).join(' · ');
}

/**
 * The image with each face's box, landmarks and a label: the estimates with their confidences, in
 * white on a dark box so they read on any photo, kept inside the image (above the face when there is
 * room, else below it, else inside its top).
 */
async function draw(path: string, analysis: ImageAnalysis, out: string): Promise<void> {
  mkdirSync(dirname(out), { recursive: true }); // `--draw results/x.png` in a fresh folder
  const { width, height } = analysis;
  const stroke = Math.max(2, Math.round(Math.max(width, height) / 400));
  const font = Math.max(12, Math.round(Math.max(width, height) / 70));
  const pad = Math.round(font / 3);
  const esc = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const pc = (p: number | undefined) => (p === undefined ? '' : ` ${Math.round(p * 100)}%`);
  const shapes = analysis.faces.map((f) => {
    const b = f.box;
    const label = [
      f.age ? `${f.age.group}${pc(f.age.groupProbabilities[f.age.group])}` : '',
      f.gender ? `${f.gender.label}${pc(f.gender.probability)}` : '',
      f.ethnicity ? `${f.ethnicity.label}${pc(f.ethnicity.probabilities[f.ethnicity.label])}` : '',
      f.emotion ? `${f.emotion.label}${pc(f.emotion.probabilities[f.emotion.label])}` : '',
    ]
      .filter(Boolean)
      .join(' · ');
    const colour = f.quality.uncertain ? '#ffb020' : '#29d07a';
    // Sans-serif at this size averages ~0.56 em a character; the box is clamped into the image.
    const boxW = Math.min(width, Math.ceil(label.length * font * 0.56) + 2 * pad);
    const boxH = font + 2 * pad;
    const x = Math.max(0, Math.min(width - boxW, b.x));
    const above = b.y - boxH - stroke;
    const below = b.y + b.height + stroke;
    const y = above >= 0 ? above : below + boxH <= height ? below : Math.max(0, Math.min(height - boxH, b.y));
    return [
      `<rect x="${b.x}" y="${b.y}" width="${b.width}" height="${b.height}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>`,
      ...f.landmarks.map(([lx, ly]) => `<circle cx="${lx}" cy="${ly}" r="${stroke * 1.5}" fill="#ff3b6b"/>`),
      `<rect x="${x}" y="${y}" width="${boxW}" height="${boxH}" rx="${pad}" fill="#000" fill-opacity="0.78" stroke="${colour}" stroke-width="1"/>`,
      `<text x="${x + pad}" y="${y + pad + font * 0.82}" font-family="sans-serif" font-size="${font}" fill="#fff" textLength="${boxW - 2 * pad}" lengthAdjust="spacingAndGlyphs">${esc(label)}</text>`,
    ].join('');
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes.join('')}</svg>`;
  await sharp(path)
    .rotate()
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .png()
    .toFile(out);
  process.stderr.write(`Drew ${analysis.faces.length} face(s) of ${path} into ${resolve(out)}\n`);
}
