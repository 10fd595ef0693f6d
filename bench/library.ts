/**
 * The library's side of the benchmark: a real scan of generated 1920×1280 JPEGs (throughput, peak
 * RSS), a rescan of many unchanged photos, and facet counts over a million synthetic faces written
 * through the real catalog (test/helpers/library-synthetic.ts; only the analysis results are made up).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Filter } from '../main/api/contract.js';
import { Library } from '../main/library/library.js';
import { PeopleRepository } from '../main/library/repositories/people.js';
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
  ['age 20-29', { ageGroups: ['20-29'] }],
  ['gender female', { genders: ['female'] }],
  ['ethnicity asian', { ethnicities: ['asian'] }],
  ['conf ≥ 0.6', { minConfidence: 0.6 }],
  [
    'happy, 20-29, female, conf ≥ 0.6',
    { emotions: ['happy'], ageGroups: ['20-29'], genders: ['female'], minConfidence: 0.6 },
  ],
  ['asian, taken in 2015', { ethnicities: ['asian'], takenFrom: '2015-01-01', takenTo: '2015-12-31' }],
  ['asian, 2015-03-10 to 2016-07-01', { ethnicities: ['asian'], takenFrom: '2015-03-10', takenTo: '2016-07-01' }],
  ['one folder', { folder: '/photos/2012' }],
  ['3+ faces and sad', { minFaces: 3, emotions: ['sad'] }],
  ['corrected', { corrected: 'corrected' }],
  ['hide uncertain (all four)', { hideUncertain: ['ageGroup', 'gender', 'ethnicity', 'emotion'] }],
  ['hide uncertain gender, female', { hideUncertain: ['gender'], genders: ['female'] }],
  ['one person', { people: [1] }],
  ['three people, happy', { people: [2, 3, 4], emotions: ['happy'] }],
];

export interface FacetFigures {
  faces: number;
  photos: number;
  buildSeconds: number;
  /** Median of `runs` calls per filter, ms. */
  perFilter: { filter: string; facesMs: number; photosMs: number; sqlFacesMs: number; sqlPhotosMs: number }[];
  maxMs: number;
  /** The same facets by SQL (LibraryQueries.sqlFacets), the slowest. */
  sqlMaxMs: number;
  /** Reading the facet index once. */
  indexBuildMs: number;
  statsCliMs: number;
  /** After one correction: the next facet request (the index brought up to date), ms. */
  afterEditMs: number;
}

/**
 * `target` synthetic faces written through the real catalog (the distribution of
 * test/integration/library-scale.test.ts), 2 % of photos with a corrected face, and a third of the
 * faces assigned to 300 people.
 */
export function writeFacetLibrary(library: Library, target: number): { faces: number; photos: number } {
  let faces = 0;
  let photo = 0;
  const rnd = random(1);
  const people = new PeopleRepository(library.db);
  const personIds = library.db.transaction(() =>
    Array.from({ length: 300 }, (_, i) => people.createPerson(`person ${i}`, '2024-01-01T00:00:00Z')),
  )();
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
      if (n > 0) {
        const ofPhoto = library.catalog.faces.ofPhoto(id);
        const face = ofPhoto[0];
        if (face && rnd() < 0.02) library.catalog.faces.correct(face.id, 'emotion', 'happy', '2024-01-01T00:00:00Z');
        for (const f of ofPhoto) {
          // Skewed: the first people have the most faces.
          if (rnd() < 0.33) {
            const person = personIds[Math.floor(personIds.length * rnd() * rnd())] as number;
            people.assign(f.id, person, 'cluster', '2024-01-01T00:00:00Z');
          }
        }
      }
      faces += n;
    }
  });
  while (faces < target) batch(2000);
  library.db.exec('ANALYZE');
  return { faces, photos: photo };
}

/** Facet counts over `target` synthetic faces; `keep`: reuse (and keep) the database at `dbPath`. */
export async function facetCounts(
  tmp: string,
  target: number,
  options: { dbPath?: string; keep?: boolean; runs?: number; log?: (line: string) => void } = {},
): Promise<FacetFigures> {
  const dbPath = options.dbPath ?? path.join(tmp, `facets-${target}.db`);
  const keep = options.keep ?? false;
  const runs = options.runs ?? 3;
  const reuse = keep && existsSync(dbPath);
  if (!reuse) rmSync(dbPath, { force: true });
  const library = new Library({ dbPath });
  const start = performance.now();
  try {
    let counts: { faces: number; photos: number };
    if (reuse) {
      counts = library.db
        .prepare<[], { faces: number; photos: number }>(
          'SELECT (SELECT count(*) FROM faces) AS faces, (SELECT count(*) FROM photos) AS photos',
        )
        .get() as { faces: number; photos: number };
    } else {
      counts = writeFacetLibrary(library, target);
    }
    const buildSeconds = (performance.now() - start) / 1000;
    const time = (fn: () => unknown) => {
      const samples = Array.from({ length: runs }, () => {
        const t0 = performance.now();
        fn();
        return performance.now() - t0;
      });
      return samples.sort((a, b) => a - b)[Math.floor(runs / 2)] as number;
    };
    // [Note: facet index] The first request reads the index.
    library.queries.facets({}, 'faces', ['/photos']);
    library.queries.facets({}, 'faces', ['/photos']);
    const indexBuildMs = library.queries.facetIndex.lastBuildMs;
    const perFilter = FACET_FILTERS.map(([name, filter]) => {
      const row = {
        filter: name,
        facesMs: time(() => library.queries.facets(filter, 'faces', ['/photos'])),
        photosMs: time(() => library.queries.facets(filter, 'photos', ['/photos'])),
        sqlFacesMs: time(() => library.queries.sqlFacets(filter, 'faces', ['/photos'])),
        sqlPhotosMs: time(() => library.queries.sqlFacets(filter, 'photos', ['/photos'])),
      };
      options.log?.(
        `  ${name}: index ${row.facesMs.toFixed(1)} / ${row.photosMs.toFixed(1)} ms, SQL ${row.sqlFacesMs.toFixed(0)} / ${row.sqlPhotosMs.toFixed(0)} ms (faces / photos)`,
      );
      return row;
    });
    // An edit, then the next request.
    const face = library.db.prepare<[], { id: number }>('SELECT id FROM faces ORDER BY id LIMIT 1').get() as {
      id: number;
    };
    library.catalog.faces.correct(face.id, 'emotion', 'sad', '2024-03-01T00:00:00Z');
    const t1 = performance.now();
    library.queries.facets({ emotions: ['happy'] }, 'faces', ['/photos']);
    const afterEditMs = performance.now() - t1;
    library.close();
    const t0 = performance.now();
    const cli = spawnSync(process.execPath, [path.join(ROOT, 'bin/facets.js'), 'stats', '--json', '--db', dbPath], {
      encoding: 'utf8',
    });
    const statsCliMs = performance.now() - t0;
    if (cli.status !== 0) throw new Error(`facets stats failed: ${cli.stderr}`);
    return {
      ...counts,
      buildSeconds,
      perFilter,
      maxMs: Math.max(...perFilter.flatMap((f) => [f.facesMs, f.photosMs])),
      sqlMaxMs: Math.max(...perFilter.flatMap((f) => [f.sqlFacesMs, f.sqlPhotosMs])),
      indexBuildMs,
      statsCliMs,
      afterEditMs,
    };
  } finally {
    library.close();
    if (!keep) {
      rmSync(dbPath, { force: true });
      rmSync(`${dbPath}-wal`, { force: true });
      rmSync(`${dbPath}-shm`, { force: true });
    }
  }
}
