import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ScanProgress } from '../../api/contract.js';
import { existingFolder } from '../../api/handlers.js';
import { now } from '../../library/db.js';
import { type Library, analysisFromSettings } from '../../library/library.js';
import type { ScanSummary } from '../../library/scanner.js';
import { watchFolders } from '../../library/watcher.js';
import { analyzerFlags, analyzerOptionsFrom } from '../analyzer-flags.js';
import type { Command } from '../command.js';
import { dbFlag, openLibrary } from '../library-options.js';
import { plural } from '../format.js';
import { peopleAfterScan, peopleOf } from '../../people/library.js';

export const scanCommand: Command = {
  name: 'scan',
  usage: 'scan [<folder…>] [--db <file>] [--watch] [--retry-failed] [--json]',
  summary: 'add photo folders to the library and analyse what is new or changed (incremental, resumable)',
  help: [
    'Folders named here become library folders; with none, every library folder is scanned.',
    'Unchanged files are skipped without being read; moved or copied files keep their faces and',
    'corrections; deleted ones are marked missing (see `facets purge`). Interrupt it at any time:',
    'the next scan carries on where this one stopped.',
    '',
    dbFlag.help,
    '--watch             keep running and rescan when photos are added, changed, moved or deleted',
    '--workers N         analysis worker threads (default: one per core, as memory allows, at most 8)',
    '--threads N         onnxruntime threads per worker (default 1: a core does more as a worker)',
    '--exclude <glob>    skip matching files or folders, e.g. "*.tmp", "Private/**" (repeatable)',
    '--retry-failed      try every file that failed before again now (scans otherwise retry a failed',
    '                    file at once the first time, then back off: 1 h, 2 h, 4 h … up to a week)',
    '--json              print the scan summary as JSON',
    ...analyzerFlags.help.filter(
      (line, i, all) =>
        /^--(max-side|min-face|thresholds|rotations)/.test(line) ||
        (/^ /.test(line) && /^--rotations/.test(all[i - 1] ?? '')),
    ),
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        ...dbFlag.options,
        watch: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        workers: { type: 'string' },
        threads: { type: 'string' },
        exclude: { type: 'string', multiple: true },
        'retry-failed': { type: 'boolean', default: false },
        'max-side': analyzerFlags.options['max-side'],
        'min-face': analyzerFlags.options['min-face'],
        thresholds: analyzerFlags.options.thresholds,
        rotations: analyzerFlags.options.rotations,
      },
    });
    const folders = positionals.map((p) => existingFolderFlag(p));
    const library = openLibrary(values.db);
    try {
      const settings = library.settings.get();
      const added = folders.filter((f) => !settings.folders.includes(f));
      if (added.length > 0) library.settings.update({ folders: [...settings.folders, ...added] });
      const roots = folders.length > 0 ? folders : settings.folders;
      if (roots.length === 0) throw new Error('no library folders yet: name a folder to scan');
      const workers = positiveInt('workers', values.workers);
      const intraOpThreads = positiveInt('threads', values.threads);
      const analyzer = analyzerOptionsFrom(values);
      const scanOnce = () =>
        runScan(library, roots, {
          ...(workers ? { workers } : {}),
          ...(intraOpThreads ? { intraOpThreads } : {}),
          ...(values.exclude ? { exclude: values.exclude } : {}),
          retryFailed: values['retry-failed'],
          analyzerOverrides: analyzer,
          json: values.json,
        });
      const first = await scanOnce();
      if (!values.watch || first.state !== 'completed') return first.state === 'failed' ? 1 : 0;
      return await watchAndRescan(library, roots, scanOnce);
    } finally {
      library.close();
    }
  },
};

function existingFolderFlag(value: string): string {
  try {
    return existingFolder(path.resolve(value), 'folder');
  } catch (err) {
    throw new Error((err as Error).message.replace(/^folder: /, ''), { cause: err });
  }
}

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${value}"`);
  return n;
}

interface RunOptions {
  workers?: number;
  intraOpThreads?: number;
  exclude?: string[];
  retryFailed?: boolean;
  analyzerOverrides: ReturnType<typeof analyzerOptionsFrom>;
  json: boolean;
}

async function runScan(library: Library, roots: string[], options: RunOptions): Promise<ScanSummary> {
  const display = new ProgressDisplay(process.stderr);
  process.stderr.write(`Library: ${library.dbPath}\n`);
  const stored = analysisFromSettings(library.settings.get());
  const changed = new Set<number>();
  const scanner = library.scanner({
    ...(options.workers ? { workers: options.workers } : {}),
    ...(options.intraOpThreads ? { intraOpThreads: options.intraOpThreads } : {}),
    ...(options.exclude ? { exclude: options.exclude } : {}),
    ...(options.retryFailed ? { retryFailed: true } : {}),
    analyzer: {
      ...stored.analyzer,
      decode: { ...stored.analyzer.decode, ...options.analyzerOverrides.decode },
      detection: { ...stored.analyzer.detection, ...options.analyzerOverrides.detection },
    },
    onProgress: (p) => display.update(p),
    onChanged: (ids) => ids.forEach((id) => changed.add(id)),
  });
  // First Ctrl+C: stop after the photos in flight (everything done so far is kept); second: now.
  const interrupt = () => {
    process.stderr.write('\nstopping after the photos in progress… (Ctrl+C again to quit at once)\n');
    scanner.cancel();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  try {
    const summary = await scanner.scan(roots);
    display.finish();
    await readSidecars(library, [...changed], roots, summary);
    // Identity vectors for faces scanned before people existed, then the new faces join people.
    await peopleAfterScan(library);
    report(summary, options.json, library);
    return summary;
  } finally {
    process.removeListener('SIGINT', interrupt);
  }
}

/** XMP after the scan: names from sidecars, sidecars written when kept up to date; problems become warnings. */
async function readSidecars(
  library: Library,
  photoIds: number[],
  roots: string[],
  summary: ScanSummary,
): Promise<void> {
  const since = now();
  peopleOf(library); // names in and out of sidecars ([Note: xmp-names])
  const { imported, exported } = await library.xmp.afterScan(photoIds, { roots });
  for (const p of library.xmp.problems().filter((p) => p.at >= since)) {
    summary.warnings.push({ path: p.path, message: `XMP: ${p.problem}` });
  }
  const named = imported.reduce((n, i) => n + i.matched.length, 0);
  if (named > 0) {
    process.stderr.write(`XMP: ${named} named region(s) in sidecars or embedded XMP match faces in the library.\n`);
  }
  const added = imported.reduce((n, i) => n + i.added.length, 0);
  if (added > 0) process.stderr.write(`XMP: ${added} named region(s) with no detected face became faces.\n`);
  if (exported) {
    const c = exported.counts;
    process.stderr.write(`XMP sidecars kept up to date: ${c.create} created, ${c.update} updated.\n`);
  }
}

function report(summary: ScanSummary, json: boolean, library: Library): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  const c = summary.counts;
  const page = { offset: 0, limit: 1 };
  const inLibrary = `${plural(library.queries.photos({}, page).total, 'photo')}, ${plural(
    library.queries.faces({}, page).total,
    'face',
  )} in the library`;
  const changes = c.added + c.updated + c.moved + c.duplicates + c.failed + c.missing + c.vanished + c.restored;
  if (summary.state === 'completed' && changes === 0 && summary.warnings.length === 0 && !summary.error) {
    // A rescan that found nothing new says so, rather than "0 face(s) found".
    process.stdout.write(`Scan completed in ${summary.seconds.toFixed(1)} s: nothing changed: ${inLibrary}.\n`);
    return;
  }
  const parts = [
    `${c.files} photo file(s) in ${summary.seconds.toFixed(1)} s`,
    `${c.added} new`,
    c.updated ? `${c.updated} changed` : '',
    c.moved ? `${c.moved} moved` : '',
    c.duplicates ? `${c.duplicates} duplicate(s)` : '',
    `${c.unchanged + c.touched} unchanged`,
    c.failed ? `${c.failed} could not be analysed` : '',
    c.damaged ? `${c.damaged} analysed but damaged` : '',
    c.missing ? `${c.missing} missing` : '',
    c.vanished ? `${c.vanished} vanished during the scan` : '',
    `${plural(c.faces, 'face')} found`,
  ];
  process.stdout.write(`Scan ${summary.state}: ${parts.filter(Boolean).join(', ')}.\n`);
  process.stdout.write(`Now ${inLibrary} (${library.dbPath}).\n`);
  for (const w of summary.warnings) process.stdout.write(`  warning: ${w.path}: ${w.message}\n`);
  if (summary.error) process.stdout.write(`  error: ${summary.error}\n`);
  if (c.failed || c.damaged) process.stdout.write('  `facets stats` lists the files with problems, and why.\n');
}

async function watchAndRescan(
  library: Library,
  roots: string[],
  scanOnce: () => Promise<ScanSummary>,
): Promise<number> {
  let running: Promise<unknown> | null = null;
  let again = false;
  const rescan = () => {
    if (running) {
      again = true;
      return;
    }
    running = scanOnce()
      .catch((err: unknown) => process.stderr.write(`facets scan: ${(err as Error).message}\n`))
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          rescan();
        }
      });
  };
  const watcher = watchFolders(roots, rescan, { ignore: [library.thumbnails.dir, library.dbPath] });
  const polling = [...watcher.modes].filter(([, mode]) => mode === 'polling').map(([root]) => root);
  process.stderr.write(
    `Watching ${roots.length} folder(s) for changes${polling.length ? ` (polling ${polling.join(', ')})` : ''}; Ctrl+C to stop.\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  watcher.close();
  await running;
  return 0;
}

/** A progress bar on a terminal; a line every few seconds otherwise (logs, CI). */
export class ProgressDisplay {
  private lastLine = 0;
  private drawn = false;

  constructor(private readonly out: NodeJS.WriteStream) {}

  update(p: ScanProgress): void {
    if (this.out.isTTY) {
      this.out.write(`\r${this.bar(p)}\x1b[K`);
      this.drawn = true;
    } else if (Date.now() - this.lastLine > 5000 || (p.state === 'idle' && this.lastLine > 0)) {
      this.lastLine = Date.now();
      this.out.write(`${plainLine(p)}\n`);
    }
  }

  finish(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }

  private bar(p: ScanProgress): string {
    const width = Math.max(10, Math.min(30, (this.out.columns ?? 80) - 70));
    const ratio = p.total > 0 ? p.done / p.total : 0;
    const filled = Math.round(ratio * width);
    const text = `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${plainLine(p)}`;
    const current = p.currentFile ? `  ${path.basename(p.currentFile)}` : '';
    return (text + current).slice(0, (this.out.columns ?? 80) - 1);
  }
}

function plainLine(p: ScanProgress): string {
  const pct = p.total > 0 ? Math.floor((p.done / p.total) * 100) : 0;
  return [
    `${p.state === 'idle' ? 'done' : p.state} ${p.done}/${p.total} (${pct}%)`,
    p.photosPerSecond > 0 ? `${p.photosPerSecond.toFixed(1)} photos/s` : '',
    p.etaSeconds !== null && p.state === 'scanning' ? `ETA ${duration(p.etaSeconds)}` : '',
    p.errors > 0 ? `${p.errors} error(s)` : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m}m ${seconds % 60}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}
