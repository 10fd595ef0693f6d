/**
 * `npm run bench [-- --quick] [-- --json]`: Facets' full analysis beside face-api.js's MTCNN and
 * Human's face pipeline on the same decoded pixels, plus the library's scan, rescan and facet counts.
 *
 * Fairness: every photo is decoded once (Facets' decoder, ≤ 1280 px, RGB) and the same pixels go to
 * the three stacks, which run interleaved (A B C A B C…) so that load from other processes on the
 * machine hits them alike; one warm-up round, then `runs` timed rounds per photo. Ratios are peer ÷
 * Facets: the geometric mean over photos of the ratio of per-photo medians.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FaceAnalyzer } from '../main/engine/analyzer.js';
import { DEFAULT_MTCNN } from '../main/engine/detection/mtcnn.js';
import { type DecodedImage, decodeForAnalysis } from '../main/engine/image/decode.js';
import { predictionsOf } from '../main/library/attributes.js';
import { Library } from '../main/library/library.js';
import type { PhotoResult } from '../main/library/worker-protocol.js';
import {
  type FacetFigures,
  type RescanFigures,
  type ScanFigures,
  facetCounts,
  rescanUnchanged,
  scanThroughput,
} from './library.js';
import { type Peer, faceApiMtcnn, humanFaces } from './peers.js';
import { afwPhotos, benchPhotos, demoPhotos, pascalPhotos, scanSet } from './photos.js';
import { TimedModelStore, takeSessionTimes, timeSessions } from './stages.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    /** Also write the JSON report to this file. */
    out: { type: 'string' },
    runs: { type: 'string' },
    'scan-photos': { type: 'string' },
    'facet-faces': { type: 'string' },
    'skip-library': { type: 'boolean', default: false },
    'skip-peers': { type: 'boolean', default: false },
  },
});
const quick = args.quick;
const RUNS = Number(args.runs ?? 5);
const SCAN_PHOTOS = Number(args['scan-photos'] ?? (quick ? 12 : 200));
const FACET_FACES = Number(args['facet-faces'] ?? (quick ? 50_000 : 1_000_000));
const RESCAN_PHOTOS = 10_000;
const TMP = path.join(tmpdir(), 'facets-bench');

const log = (line: string) => process.stderr.write(`${line}\n`);

const median = (xs: readonly number[]) => quantile(xs, 0.5);
function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (pos - lo);
}
const geomean = (xs: readonly number[]) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);

interface Stack {
  key: 'facets' | 'faceApi' | 'human';
  name: string;
  detail: string;
  run(image: DecodedImage): Promise<number>;
}

interface PhotoFigures {
  group: string;
  name: string;
  width: number;
  height: number;
  analysed: string;
  decodeMs: number;
  dbWriteMs: number;
  ms: Record<string, number[]>;
  faces: Record<string, number>;
  /** Facets' time per model (median over the timed runs), ms. */
  stages: Record<string, number>;
}

function machine() {
  const cpu = cpus();
  return { cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length, node: process.version, loadAverage: loadavg() };
}

async function main(): Promise<void> {
  const started = performance.now();
  const before = machine();
  log(`machine: ${before.cpu}, ${before.cores} cores, load ${before.loadAverage.map((l) => l.toFixed(2)).join(' ')}`);

  // Model load: every network the default analysis uses, as a scan worker loads them.
  timeSessions();
  const t0 = performance.now();
  const models = new TimedModelStore();
  const analyzer = new FaceAnalyzer(models);
  await analyzer.loadAll();
  const modelLoadMs = performance.now() - t0;
  const networks = (await models.loaded()).map((m) => m.entry.name);
  takeSessionTimes();
  log(`models loaded in ${modelLoadMs.toFixed(0)} ms: ${networks.join(', ')} (+ heads)`);

  const stacks: Stack[] = [
    {
      key: 'facets',
      name: 'Facets',
      detail: `MTCNN + ${JSON.stringify(analyzer.options.assignment)}`,
      run: async (image) => (await analyzer.analyzeDecoded(image)).length,
    },
  ];
  const peerLoad: Record<string, number> = {};
  if (!args['skip-peers']) {
    const wrap = (key: 'faceApi' | 'human', peer: Peer): Stack => ({
      key,
      name: peer.name,
      detail: peer.detail,
      run: (image) => peer.run(image),
    });
    let p0 = performance.now();
    const fa = await faceApiMtcnn({
      minFaceSize: DEFAULT_MTCNN.minFaceSize,
      scaleFactor: DEFAULT_MTCNN.scaleFactor,
      thresholds: DEFAULT_MTCNN.thresholds,
    });
    peerLoad['faceApi'] = performance.now() - p0;
    p0 = performance.now();
    const hu = await humanFaces();
    peerLoad['human'] = performance.now() - p0;
    stacks.push(wrap('faceApi', fa), wrap('human', hu));
  }

  const photos = await benchPhotos(TMP, quick);
  log(`${photos.length} photos, ${RUNS} timed runs each after a warm-up, stacks interleaved`);
  const dbLibrary = new Library({ dbPath: path.join(TMP, `bench-write-${process.pid}.db`) });
  const figures: PhotoFigures[] = [];
  let writes = 0;
  for (const photo of photos) {
    const d0 = performance.now();
    const image = await decodeForAnalysis(photo.file);
    const decodeMs = performance.now() - d0;
    const ms: Record<string, number[]> = Object.fromEntries(stacks.map((s) => [s.key, []]));
    const faces: Record<string, number> = {};
    const stageRuns: Map<string, number>[] = [];
    for (let round = 0; round <= RUNS; round++) {
      for (const stack of stacks) {
        takeSessionTimes();
        const s0 = performance.now();
        const n = await stack.run(image);
        const elapsed = performance.now() - s0;
        if (round === 0) continue; // warm-up
        ms[stack.key]?.push(elapsed);
        faces[stack.key] = n;
        if (stack.key === 'facets') {
          const times = takeSessionTimes();
          times.set('total', elapsed);
          stageRuns.push(times);
        }
      }
    }
    // The database write of this photo's result, as the scanner commits it.
    const analysed = await analyzer.analyzeDecoded(image);
    const result: PhotoResult = {
      format: image.format,
      width: image.uprightWidth,
      height: image.uprightHeight,
      orientation: image.orientation,
      takenAt: null,
      camera: null,
      faces: analysed.map((f) => ({
        box: f.box,
        score: f.score,
        landmarks: f.landmarks,
        quality: f.quality,
        predictions: predictionsOf(f),
      })),
    };
    const writesMs = Array.from({ length: 3 }, () => {
      const w0 = performance.now();
      dbLibrary.catalog.recordAnalysed(
        { path: `/bench/${writes}/${photo.name}`, size: 1, mtimeMs: 0 },
        `w${writes++}`,
        result,
      );
      return performance.now() - w0;
    });
    const stageNames = new Set(stageRuns.flatMap((m) => [...m.keys()]));
    const stages = Object.fromEntries([...stageNames].map((k) => [k, median(stageRuns.map((m) => m.get(k) ?? 0))]));
    figures.push({
      group: photo.group,
      name: photo.name,
      width: image.uprightWidth,
      height: image.uprightHeight,
      analysed: `${image.width}×${image.height}`,
      decodeMs,
      dbWriteMs: median(writesMs),
      ms,
      faces,
      stages,
    });
    log(
      `  ${photo.group.padEnd(14)} ${photo.name.padEnd(24)} ${stacks
        .map((s) => `${s.key} ${median(ms[s.key] ?? []).toFixed(0)} ms/${faces[s.key]}`)
        .join('  ')}`,
    );
  }
  dbLibrary.close();
  await models.release();

  let scan: ScanFigures | undefined;
  let rescan: RescanFigures | undefined;
  let facets: FacetFigures | undefined;
  if (!args['skip-library']) {
    const sources = [...demoPhotos(), ...afwPhotos(), ...pascalPhotos()];
    const scanDir = path.join(TMP, `scan-${SCAN_PHOTOS}`);
    await scanSet(sources, scanDir, SCAN_PHOTOS);
    log(`scanning ${SCAN_PHOTOS} photos at 1920×1280…`);
    scan = await scanThroughput(scanDir, TMP);
    log(`rescanning ${RESCAN_PHOTOS} unchanged photos…`);
    rescan = await rescanUnchanged(TMP, RESCAN_PHOTOS);
    log(`facet counts over ${FACET_FACES.toLocaleString('en')} synthetic faces…`);
    facets = await facetCounts(TMP, FACET_FACES);
  }

  const after = machine();
  const report = summarise(figures, stacks, {
    before,
    after,
    modelLoadMs,
    peerLoad,
    networks,
    scan,
    rescan,
    facets,
    seconds: (performance.now() - started) / 1000,
  });
  if (args.out) writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
  if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(table(report));
}

type Report = ReturnType<typeof summarise>;

function summarise(
  figures: PhotoFigures[],
  stacks: Stack[],
  extra: {
    before: ReturnType<typeof machine>;
    after: ReturnType<typeof machine>;
    modelLoadMs: number;
    peerLoad: Record<string, number>;
    networks: string[];
    scan: ScanFigures | undefined;
    rescan: RescanFigures | undefined;
    facets: FacetFigures | undefined;
    seconds: number;
  },
) {
  const groups = [...new Set(figures.map((f) => f.group))];
  const ratio = (key: string, of: PhotoFigures[]) =>
    of.length === 0 || !stacks.some((s) => s.key === key)
      ? null
      : geomean(of.map((f) => median(f.ms[key] ?? []) / median(f.ms['facets'] ?? [])));
  const perGroup = groups.map((group) => {
    const of = figures.filter((f) => f.group === group);
    const stats = Object.fromEntries(
      stacks.map((s) => {
        const medians = of.map((f) => median(f.ms[s.key] ?? []));
        const all = of.flatMap((f) => f.ms[s.key] ?? []);
        return [
          s.key,
          {
            medianMs: median(medians),
            p95Ms: quantile(all, 0.95),
            faces: of.reduce((n, f) => n + (f.faces[s.key] ?? 0), 0),
          },
        ];
      }),
    );
    return {
      group,
      photos: of.length,
      stacks: stats,
      ratios: { faceApi: ratio('faceApi', of), human: ratio('human', of) },
    };
  });
  const stageNames = [...new Set(figures.flatMap((f) => Object.keys(f.stages)))].filter((k) => k !== 'total');
  const stageSplit = groups.map((group) => {
    const of = figures.filter((f) => f.group === group);
    const split: Record<string, number> = { decode: median(of.map((f) => f.decodeMs)) };
    for (const k of stageNames) split[k] = median(of.map((f) => f.stages[k] ?? 0));
    const total = median(of.map((f) => f.stages['total'] ?? 0));
    split['other (pyramid levels, crops, NMS, JS)'] = Math.max(
      0,
      total - stageNames.reduce((a, k) => a + (split[k] ?? 0), 0),
    );
    split['analysis total'] = total;
    split['db write'] = median(of.map((f) => f.dbWriteMs));
    return { group, split };
  });
  const manyFaces = figures
    .filter((f) => f.group === '12 MP')
    .sort((a, b) => (b.faces['facets'] ?? 0) - (a.faces['facets'] ?? 0))[0];
  return {
    machine: { ...extra.before, loadAverageAfter: extra.after.loadAverage },
    stacks: stacks.map((s) => ({ key: s.key, name: s.name, detail: s.detail })),
    runsPerPhoto: RUNS,
    quick,
    ratios: { faceApi: ratio('faceApi', figures), human: ratio('human', figures) },
    groups: perGroup,
    stageSplit,
    manyFacePhoto: manyFaces
      ? {
          name: manyFaces.name,
          faces: manyFaces.faces,
          facetsMedianMs: median(manyFaces.ms['facets'] ?? []),
          decodeMs: manyFaces.decodeMs,
        }
      : null,
    modelLoadMs: extra.modelLoadMs,
    peerLoadMs: extra.peerLoad,
    networks: extra.networks,
    scan: extra.scan ?? null,
    rescan: extra.rescan ?? null,
    facetCounts: extra.facets ?? null,
    photos: figures,
    seconds: extra.seconds,
  };
}

function table(r: Report): string {
  const lines: string[] = [];
  const f0 = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? '—' : x.toFixed(0));
  const f2 = (x: number | null | undefined) => (x === null || x === undefined ? '—' : x.toFixed(2));
  lines.push(`Facets benchmark${r.quick ? ' (--quick)' : ''}`);
  lines.push(
    `machine: ${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}; load average ${r.machine.loadAverage
      .map((l) => l.toFixed(2))
      .join(' ')} at the start, ${r.machine.loadAverageAfter.map((l) => l.toFixed(2)).join(' ')} at the end`,
  );
  for (const s of r.stacks) lines.push(`  ${s.name}: ${s.detail}`);
  lines.push('');
  const keys = r.stacks.map((s) => s.key);
  lines.push(
    [
      'group'.padEnd(15),
      'photos'.padStart(6),
      ...keys.map((k) => `${k} med/p95 ms (faces)`.padStart(30)),
      'faceApi÷F'.padStart(10),
      'human÷F'.padStart(9),
    ].join(' '),
  );
  for (const g of r.groups) {
    lines.push(
      [
        g.group.padEnd(15),
        String(g.photos).padStart(6),
        ...keys.map((k) => {
          const s = g.stacks[k];
          return `${f0(s?.medianMs)} / ${f0(s?.p95Ms)} (${s?.faces ?? 0})`.padStart(30);
        }),
        `${f2(g.ratios.faceApi)}×`.padStart(10),
        `${f2(g.ratios.human)}×`.padStart(9),
      ].join(' '),
    );
  }
  lines.push(
    `all photos: face-api ÷ Facets ${f2(r.ratios.faceApi)}×, Human ÷ Facets ${f2(r.ratios.human)}× (geometric means of per-photo medians)`,
  );
  if (r.manyFacePhoto) {
    lines.push(
      `12 MP photo with the most faces (${r.manyFacePhoto.name}, ${r.manyFacePhoto.faces['facets']} faces): Facets ${f0(r.manyFacePhoto.facetsMedianMs)} ms + decode ${f0(r.manyFacePhoto.decodeMs)} ms`,
    );
  }
  lines.push('');
  lines.push("Facets' stages (median per photo, ms):");
  const stageKeys = [...new Set(r.stageSplit.flatMap((s) => Object.keys(s.split)))];
  lines.push(['stage'.padEnd(40), ...r.stageSplit.map((s) => s.group.padStart(14))].join(' '));
  for (const k of stageKeys) {
    lines.push([k.padEnd(40), ...r.stageSplit.map((s) => f0(s.split[k]).padStart(14))].join(' '));
  }
  lines.push('');
  lines.push(`model load (${r.networks.join(', ')}, heads): ${f0(r.modelLoadMs)} ms`);
  if (r.scan) {
    lines.push(
      `scan: ${r.scan.photos} photos at 1920×1280 (${r.scan.faces} faces) in ${r.scan.seconds.toFixed(1)} s = ${r.scan.photosPerSecond.toFixed(2)} photos/s, peak RSS ${f0(r.scan.peakRssMb)} MB of this process, ${f0(r.scan.rssBeforeMb)} MB before the scan (${r.scan.workers})`,
    );
  }
  if (r.rescan) {
    lines.push(
      `rescan: ${r.rescan.photos.toLocaleString('en')} unchanged photos in ${r.rescan.seconds.toFixed(2)} s (${r.rescan.unchanged} unchanged)`,
    );
  }
  if (r.facetCounts) {
    const fc = r.facetCounts;
    lines.push(
      `facet counts over ${fc.faces.toLocaleString('en')} faces in ${fc.photos.toLocaleString('en')} photos (written in ${fc.buildSeconds.toFixed(0)} s): slowest ${fc.maxMs.toFixed(1)} ms from the facet index (read once in ${f0(fc.indexBuildMs)} ms; the request right after a correction ${fc.afterEditMs.toFixed(1)} ms), ${f0(fc.sqlMaxMs)} ms by SQL; \`facets stats\` ${f0(fc.statsCliMs)} ms (whole CLI process)`,
    );
    for (const p of fc.perFilter) {
      lines.push(
        `  ${p.filter.padEnd(34)} by face ${p.facesMs.toFixed(1).padStart(7)} ms (SQL ${p.sqlFacesMs.toFixed(0).padStart(5)})   by photo ${p.photosMs.toFixed(1).padStart(7)} ms (SQL ${p.sqlPhotosMs.toFixed(0).padStart(5)})`,
      );
    }
  }
  lines.push(`(bench ran ${r.seconds.toFixed(0)} s)`);
  return `${lines.join('\n')}\n`;
}

await main();
