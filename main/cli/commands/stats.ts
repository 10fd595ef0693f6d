import { parseArgs } from 'node:util';
import type { FacetCount } from '../../api/contract.js';
import type { Library } from '../../library/library.js';
import { Presentation } from '../../library/presentation.js';
import type { ScanCounts } from '../../library/repositories/scans.js';
import type { Command } from '../command.js';
import { localTime } from '../format.js';
import { dbFlag, openLibrary } from '../library-options.js';

const PROBLEMS_LISTED = 20;
const ATTRIBUTE_NAMES = {
  ageGroup: 'Age group',
  // [Note: apparent attributes]
  gender: 'Apparent gender',
  ethnicity: 'Apparent ethnicity',
  emotion: 'Emotion',
} as const;

export const statsCommand: Command = {
  name: 'stats',
  usage: 'stats [--json] [--db <file>]',
  summary: 'photos, faces and the number of faces per attribute value',
  help: [dbFlag.help, '--json              print the figures as JSON'].join('\n'),
  async run(args) {
    const { values } = parseArgs({ args, options: { ...dbFlag.options, json: { type: 'boolean', default: false } } });
    const library = openLibrary(values.db, { readonly: true });
    try {
      const stats = libraryStats(library);
      if (values.json) process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
      else process.stdout.write(text(stats));
      return 0;
    } finally {
      library.close();
    }
  },
};

interface Stats {
  database: string;
  folders: string[];
  photos: { total: number; ok: number; errors: number; damaged: number; missing: number };
  faces: number;
  attributes: Partial<Record<keyof typeof ATTRIBUTE_NAMES, FacetCount[]>>;
  corrected: number;
  /** The first files that could not be analysed, or were but are damaged, with the reason. */
  problems: { path: string; error: string }[];
  lastScan: { startedAt: string; finishedAt: string | null; state: string; counts: Partial<ScanCounts> } | null;
}

function libraryStats(library: Library): Stats {
  const settings = library.settings.get();
  // As the app shows them ([Note: presentation policy]).
  const view = Presentation.of(settings);
  const photos = library.maintenance.totals();
  const facets = view.facets(library.queries.facets(view.filter({}), 'faces', settings.folders));
  const attributes: Stats['attributes'] = Object.fromEntries(view.attributes.map((a) => [a, facets[a]]));
  const scan = library.scans.latest();
  return {
    database: library.dbPath,
    folders: settings.folders,
    photos,
    faces: facets.total,
    attributes,
    corrected: facets.corrected.find((c) => c.value === 'corrected')?.count ?? 0,
    problems: library.queries
      .errors({ offset: 0, limit: PROBLEMS_LISTED })
      .items.map(({ path, error }) => ({ path, error })),
    lastScan: scan
      ? {
          startedAt: scan.started_at,
          finishedAt: scan.finished_at,
          state: scan.state,
          counts: JSON.parse(scan.counts) as Partial<ScanCounts>,
        }
      : null,
  };
}

function text(s: Stats): string {
  const lines = [
    `Library ${s.database}`,
    `Folders: ${s.folders.length ? s.folders.join(', ') : '(none)'}`,
    `Photos: ${s.photos.ok} (${s.photos.errors} could not be analysed, ${s.photos.missing} missing` +
      `${s.photos.damaged ? `; ${s.photos.damaged} analysed but damaged` : ''})`,
    `Faces: ${s.faces} (${s.corrected} with corrections)`,
  ];
  for (const [key, counts] of Object.entries(s.attributes) as [keyof typeof ATTRIBUTE_NAMES, FacetCount[]][]) {
    lines.push(`${ATTRIBUTE_NAMES[key].padEnd(19)} ${counts.map((c) => `${c.value} ${c.count}`).join(' · ')}`);
  }
  if (s.lastScan) {
    const finished = s.lastScan.finishedAt ? `, finished ${localTime(s.lastScan.finishedAt)}` : '';
    lines.push(`Last scan: ${localTime(s.lastScan.startedAt)} (${s.lastScan.state}${finished})`);
  }
  if (s.problems.length > 0) {
    const listed = s.photos.errors + s.photos.damaged;
    lines.push(`Problems${listed > s.problems.length ? ` (first ${s.problems.length})` : ''}:`);
    for (const p of s.problems) lines.push(`  ${p.path}: ${p.error}`);
  }
  return `${lines.join('\n')}\n`;
}
