/**
 * `node --cpu-prof --cpu-prof-dir=<dir> --import tsx bench/profile.ts [photos…]`: analyses photos a few
 * times with the default engine, for a CPU profile of the main thread; prints where the self time went
 * (a summary of the .cpuprofile written at exit: `--summary <file>` prints it for an existing one).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { FaceAnalyzer } from '../main/engine/analyzer.js';
import { decodeForAnalysis } from '../main/engine/image/decode.js';
import { afwPhotos, demoPhotos, spaced } from './photos.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { summary: { type: 'string' }, rounds: { type: 'string', default: '3' } },
});

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

if (values.summary) {
  const profile = JSON.parse(readFileSync(values.summary, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const n = byId.get(id);
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    if (!n) return;
    const key = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    process.stdout.write(
      `${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}\n`,
    );
  }
} else {
  const files = positionals.length > 0 ? positionals : [...demoPhotos(), ...spaced(afwPhotos(), 8)];
  const analyzer = new FaceAnalyzer();
  const images = await Promise.all(files.map((f) => decodeForAnalysis(f)));
  await analyzer.analyzeDecoded(images[0] as never);
  const t0 = performance.now();
  for (let r = 0; r < Number(values.rounds); r++) for (const image of images) await analyzer.analyzeDecoded(image);
  process.stdout.write(`${images.length} photos × ${values.rounds}: ${(performance.now() - t0).toFixed(0)} ms\n`);
}
