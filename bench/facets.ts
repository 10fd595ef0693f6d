/**
 * `node --import tsx bench/facets.ts [--faces N] [--runs N] [--db PATH]`: only the bench's facet-count
 * part (bench/library.ts facetCounts). With --db the synthetic library is written once and kept there,
 * so that later runs (and `node --cpu-prof`) time the facets alone.
 */
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { facetCounts } from './library.js';

const { values: args } = parseArgs({
  options: { faces: { type: 'string' }, runs: { type: 'string' }, db: { type: 'string' }, json: { type: 'boolean' } },
});
const faces = Number(args.faces ?? 1_000_000);
const log = (line: string) => process.stderr.write(`${line}\n`);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
log(`facet counts over ${faces.toLocaleString('en')} synthetic faces (load ${load()})`);
const figures = await facetCounts(path.join(tmpdir(), 'facets-bench'), faces, {
  ...(args.db ? { dbPath: path.resolve(args.db), keep: true } : {}),
  runs: Number(args.runs ?? 5),
  log,
});
log(
  `${figures.faces.toLocaleString('en')} faces in ${figures.photos.toLocaleString('en')} photos: slowest ${figures.maxMs.toFixed(1)} ms from the index (read in ${figures.indexBuildMs.toFixed(0)} ms), ${figures.sqlMaxMs.toFixed(0)} ms by SQL; after an edit ${figures.afterEditMs.toFixed(1)} ms; load ${load()}`,
);
if (args.json) process.stdout.write(`${JSON.stringify({ ...figures, load: loadavg() })}\n`);
