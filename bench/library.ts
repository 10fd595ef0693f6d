/**
 * The library's side of the benchmark: a real scan of generated 1920×1280 JPEGs (throughput, peak
 * RSS), a rescan of many unchanged photos, and facet counts over a million synthetic faces written
 * through the real catalog (test/helpers/library-synthetic.ts; only the analysis results are made up).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Filter } from '../main/api/contract.js';
import { Library } from '../main/library/library.js';
import { defaultPoolSize } from '../main/library/worker-pool.js';
import { random, syntheticFace, syntheticPhoto } from '../test/helpers/library-synthetic.js';
import { ROOT } from './photos.js';

/** Peak resident set size of this process (the scan's workers are threads in it), sampled every 50 ms. */
function rssSampler(): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

export interface ScanFigures {
  photos: number;
  faces: number;
  seconds: number;
  photosPerSecond: number;
  peakRssMb: number;
  /** This process's RSS before the scan (the benchmark's own models, the peers' wasm heaps). */
  rssBeforeMb: number;
  workers: string;
}

export async function scanThroughput(dir: string, tmp: string): Promise<ScanFigures> {
  const dbDir = path.join(tmp, 'scan-db');
  rmSync(dbDir, { recursive: true, force: true });
  mkdirSync(dbDir, { recursive: true });
  const library = new Library({ dbPath: path.join(dbDir, 'library.db') });
  const pool = defaultPoolSize();
  try {
    const baseline = process.memoryUsage.rss();
    const sampler = rssSampler();
    const summary = await library.scanner().scan([dir]);
    const peak = sampler.stop();
    if (summary.state !== 'completed') throw new Error(`scan ${summary.state}: ${summary.error ?? ''}`);
    return {
      photos: summary.counts.added,
      faces: summary.counts.faces,
      seconds: summary.seconds,
      photosPerSecond: summary.counts.added / summary.seconds,
      peakRssMb: peak / 2 ** 20,
      rssBeforeMb: baseline / 2 ** 20,
      workers: `${pool.workers} workers × ${pool.intraOpThreads} thread`,
    };
  } finally {
    library.close();
  }
}

export interface RescanFigures {
  photos: number;
  seconds: number;
  unchanged: number;
}

/** `count` small files recorded as analysed (their real size and time), then a scan that finds them unchanged. */
export async function rescanUnchanged(tmp: string, count: number): Promise<RescanFigures> {
  const root = path.join(tmp, 'rescan');
  rmSync(root, { recursive: true, force: true });
  const library = new Library({ dbPath: path.join(tmp, 'rescan.db') });
  try {
    const rnd = random(7);
    const files: { path: string; size: number; mtimeMs: number }[] = [];
    for (let i = 0; i < count; i++) {
      const folder = path.join(root, `album ${Math.floor(i / 250)}`);
      if (i % 250 === 0) mkdirSync(folder, { recursive: true });
      const file = path.join(folder, `${i}.jpg`);
      writeFileSync(file, `not analysed: recorded as analysed ${i}`);
      const s = statSync(file);
      files.push({ path: file, size: s.size, mtimeMs: s.mtimeMs });
    }
    library.db.transaction(() => {
      files.forEach((f, i) =>
        library.catalog.recordAnalysed(f, `rescan-${i}`, syntheticPhoto(rnd() < 0.3 ? [] : [syntheticFace(rnd)])),
      );
    })();
    const summary = await library.scanner().scan([root]);
    return { photos: count, seconds: summary.seconds, unchanged: summary.counts.unchanged };
  } finally {
    library.close();
    rmSync(root, { recursive: true, force: true });
  }
}

export const FACET_FILTERS: [string, Filter][] = [
  ['no filter', {}],
  ['emotion happy', { emotions: ['happy'] }],
  [
    'happy, 20-29, female, conf ≥ 0.6',
    { emotions: ['happy'], ageGroups: ['20-29'], genders: ['female'], minConfidence: 0.6 },
  ],
  ['asian, taken in 2015', { ethnicities: ['asian'], takenFrom: '2015-01-01', takenTo: '2015-12-31' }],
  ['asian, 2015-03-10 to 2016-07-01', { ethnicities: ['asian'], takenFrom: '2015-03-10', takenTo: '2016-07-01' }],
  ['one folder', { folder: '/photos/2012' }],
  ['3+ faces and sad', { minFaces: 3, emotions: ['sad'] }],
  ['corrected', { corrected: 'corrected' }],
];

export interface FacetFigures {
  faces: number;
  photos: number;
  buildSeconds: number;
  /** Median of 3 calls per filter, ms. */
  perFilter: { filter: string; facesMs: number; photosMs: number; sqlFacesMs: number; sqlPhotosMs: number }[];
  maxMs: number;
  /** The same facets by SQL (LibraryQueries.sqlFacets), the slowest. */
  sqlMaxMs: number;
  /** Reading the facet index once. */
  indexBuildMs: number;
  statsCliMs: number;
}

/** Facet counts over `target` synthetic faces (the distribution of test/integration/library-scale.test.ts). */
export async function facetCounts(tmp: string, target: number): Promise<FacetFigures> {
  const dbPath = path.join(tmp, `facets-${target}.db`);
  rmSync(dbPath, { force: true });
  const library = new Library({ dbPath });
  const start = performance.now();
  let faces = 0;
  let photo = 0;
  try {
    const rnd = random(1);
    const batch = library.db.transaction((count: number) => {
      for (let i = 0; i < count && faces < target; i++, photo++) {
        const n = rnd() < 0.15 ? 0 : Math.min(12, 1 + Math.floor(-Math.log(rnd()) * 2.5));
        const year = 2005 + Math.floor(rnd() * 20);
        const folder = `/photos/${year}/album ${Math.floor(rnd() * 40)}`;
        const taken = `${year}-${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}-15T12:00:00`;
        const id = library.catalog.recordAnalysed(
          { path: `${folder}/${photo}.jpg`, size: 1, mtimeMs: 0 },
          `h${photo}`,
          syntheticPhoto(
            Array.from({ length: n }, () => syntheticFace(rnd)),
            taken,
          ),
        );
        if (rnd() < 0.02 && n > 0) {
          const face = library.catalog.faces.ofPhoto(id)[0];
          if (face) library.catalog.faces.correct(face.id, 'emotion', 'happy', '2024-01-01T00:00:00Z');
        }
        faces += n;
      }
    });
    while (faces < target) batch(2000);
    library.db.exec('ANALYZE');
    const buildSeconds = (performance.now() - start) / 1000;
    const time = (fn: () => unknown) => {
      const samples = [0, 1, 2].map(() => {
        const t0 = performance.now();
        fn();
        return performance.now() - t0;
      });
      return samples.sort((a, b) => a - b)[1] as number;
    };
    // [Note: facet index] The first request after changes answers by SQL, the next one reads the index.
    library.queries.facets({}, 'faces', ['/photos']);
    library.queries.facets({}, 'faces', ['/photos']);
    const indexBuildMs = library.queries.facetIndex.lastBuildMs;
    const perFilter = FACET_FILTERS.map(([name, filter]) => ({
      filter: name,
      facesMs: time(() => library.queries.facets(filter, 'faces', ['/photos'])),
      photosMs: time(() => library.queries.facets(filter, 'photos', ['/photos'])),
      sqlFacesMs: time(() => library.queries.sqlFacets(filter, 'faces', ['/photos'])),
      sqlPhotosMs: time(() => library.queries.sqlFacets(filter, 'photos', ['/photos'])),
    }));
    library.close();
    const t0 = performance.now();
    const cli = spawnSync(process.execPath, [path.join(ROOT, 'bin/facets.js'), 'stats', '--json', '--db', dbPath], {
      encoding: 'utf8',
    });
    const statsCliMs = performance.now() - t0;
    if (cli.status !== 0) throw new Error(`facets stats failed: ${cli.stderr}`);
    return {
      faces,
      photos: photo,
      buildSeconds,
      perFilter,
      maxMs: Math.max(...perFilter.flatMap((f) => [f.facesMs, f.photosMs])),
      sqlMaxMs: Math.max(...perFilter.flatMap((f) => [f.sqlFacesMs, f.sqlPhotosMs])),
      indexBuildMs,
      statsCliMs,
    };
  } finally {
    library.close();
    rmSync(dbPath, { force: true });
    rmSync(`${dbPath}-wal`, { force: true });
    rmSync(`${dbPath}-shm`, { force: true });
  }
}
