/**
 * What storing identity vectors costs a scan (not a test: figures for docs/people.md).
 *
 *   node --import tsx scripts/people-scan-cost.ts <photo folder> [--rounds 2]
 *
 * Scans the folder into fresh libraries with and without the vectors (AnalyzerOptions.identity),
 * alternating so both meet the same machine load, and prints seconds per photo for each. Run it once
 * with the shipped heads (the identity vector is taken from their input) and once with
 * FACETS_SHIPPED_HEADS=off (it costs one more network run per face).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Library, analysisFromSettings } from '../main/library/library.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string', default: '2' }, workers: { type: 'string', default: '1' } },
});
const folder = path.resolve(positionals[0] ?? '');
const times: Record<'with' | 'without', number[]> = { with: [], without: [] };
let photos = 0;
for (let round = 0; round < Number(values.rounds); round++) {
  for (const mode of round % 2 === 0 ? (['without', 'with'] as const) : (['with', 'without'] as const)) {
    const work = mkdtempSync(path.join(tmpdir(), 'facets-scan-cost-'));
    const library = new Library({ dbPath: path.join(work, 'library.db') });
    try {
      const scanner = library.scanner({
        workers: Number(values.workers),
        analyzer: { ...analysisFromSettings(library.settings.get()).analyzer, identity: mode === 'with' },
      });
      const t0 = performance.now();
      const summary = await scanner.scan([folder]);
      const seconds = (performance.now() - t0) / 1000;
      photos = summary.counts.files;
      times[mode].push(seconds / photos);
      const vectors = library.db.prepare('SELECT count(*) AS n FROM face_embeddings').get() as { n: number };
      console.log(`${mode} vectors: ${seconds.toFixed(1)} s for ${photos} photos, ${vectors.n} vectors stored`);
    } finally {
      library.close();
      rmSync(work, { recursive: true, force: true });
    }
  }
}
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const w = mean(times.with);
const wo = mean(times.without);
console.log(
  JSON.stringify({
    photos,
    heads: process.env['FACETS_SHIPPED_HEADS'] === 'off' ? 'off' : 'shipped',
    msPerPhotoWithout: Math.round(wo * 1000),
    msPerPhotoWith: Math.round(w * 1000),
    extra: `${(((w - wo) / wo) * 100).toFixed(1)} %`,
  }),
);
