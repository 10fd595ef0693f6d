/**
 * `node bench/ab.ts <dist A> <dist B> [--runs n] [--quick]` (after `npm run build:main`; A is a copy
 * of dist/ from another commit): the engine of two builds on the same decoded photos, interleaved
 * photo by photo, so that a before/after comparison on a loaded machine is fair. Prints per-group
 * medians and the geometric mean of B ÷ A.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { benchPhotos } from './photos.js';
import { tmpdir } from 'node:os';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: 'string', default: '5' }, quick: { type: 'boolean', default: false } },
});
const [distA, distB] = positionals as [string, string];
type Analyzer = { analyzeDecoded(image: unknown): Promise<unknown[]> };
const load = async (dist: string) => {
  const { FaceAnalyzer } = (await import(pathToFileURL(path.resolve(dist, 'main/engine/analyzer.js')).href)) as {
    FaceAnalyzer: new () => Analyzer;
  };
  const { decodeForAnalysis } = (await import(
    pathToFileURL(path.resolve(dist, 'main/engine/image/decode.js')).href
  )) as {
    decodeForAnalysis: (file: string) => Promise<unknown>;
  };
  return { analyzer: new FaceAnalyzer(), decode: decodeForAnalysis };
};
const a = await load(distA);
const b = await load(distB);
const photos = await benchPhotos(path.join(tmpdir(), 'facets-bench'), values.quick);
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
const groups = new Map<string, { a: number[]; b: number[]; ratios: number[] }>();
for (const photo of photos) {
  const image = await a.decode(photo.file);
  const ta: number[] = [];
  const tb: number[] = [];
  let faces = '';
  for (let r = 0; r <= Number(values.runs); r++) {
    for (const [side, times] of [
      [a, ta],
      [b, tb],
    ] as const) {
      const t0 = performance.now();
      const found = await side.analyzer.analyzeDecoded(image);
      if (r > 0) times.push(performance.now() - t0);
      if (r === 0) faces += `${found.length} `;
    }
  }
  const g = groups.get(photo.group) ?? { a: [], b: [], ratios: [] };
  g.a.push(median(ta));
  g.b.push(median(tb));
  g.ratios.push(median(tb) / median(ta));
  groups.set(photo.group, g);
  process.stderr.write(
    `${photo.name.padEnd(24)} A ${median(ta).toFixed(0)} ms  B ${median(tb).toFixed(0)} ms  faces ${faces}\n`,
  );
}
const geo = (xs: number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
for (const [group, g] of groups) {
  process.stdout.write(
    `${group.padEnd(14)} A ${median(g.a).toFixed(0)} ms  B ${median(g.b).toFixed(0)} ms  B÷A ${geo(g.ratios).toFixed(2)}\n`,
  );
}
process.stdout.write(`all: B÷A ${geo([...groups.values()].flatMap((g) => g.ratios)).toFixed(2)}\n`);
