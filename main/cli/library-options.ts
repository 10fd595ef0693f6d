/** Options shared by the library commands (scan, query, stats, export, purge). */
import path from 'node:path';
import type { Filter } from '../api/contract.js';
import { filter as validFilter } from '../api/handlers.js';
import { Library } from '../library/library.js';
import { defaultDbPath } from '../library/paths.js';

export const dbFlag = {
  options: { db: { type: 'string' } },
  help: '--db <file>         the library (default: FACETS_DB, else library.db in the app-data folder)',
} as const;

/**
 * The library named by `--db` (else the default). Read commands pass `readonly`: the database is
 * opened read-only and must exist, so a mistyped path is an error, not a new empty library.
 */
export function openLibrary(db: string | undefined, options: { readonly?: boolean } = {}): Library {
  return new Library({ dbPath: db ? path.resolve(db) : defaultDbPath(), readonly: options.readonly ?? false });
}

export const filterFlags = {
  options: {
    'age-group': { type: 'string', multiple: true },
    gender: { type: 'string', multiple: true },
    ethnicity: { type: 'string', multiple: true },
    emotion: { type: 'string', multiple: true },
    'min-confidence': { type: 'string' },
    folder: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    'min-faces': { type: 'string' },
    'max-faces': { type: 'string' },
    corrected: { type: 'boolean', default: false },
    uncorrected: { type: 'boolean', default: false },
    'hide-uncertain': { type: 'string', multiple: true },
  },
  help: [
    '--age-group <g>     0-2, 3-9, 10-19, 20-29, 30-39, 40-49, 50-59, 60-69, 70+ (repeat or comma-separate)',
    '--gender <g>        male, female',
    '--ethnicity <e>     white, black, asian, indian, other',
    '--emotion <e>       angry, disgust, fear, happy, sad, surprise, neutral',
    '--min-confidence p  each filtered attribute at least this confident (0..1)',
    '--folder <dir>      only photos under this folder',
    '--from <date>       taken on or after YYYY-MM-DD (file date when the photo has none)',
    '--to <date>         taken on or before YYYY-MM-DD',
    '--min-faces N       photos with at least N faces; --max-faces N: at most N',
    '--corrected         only faces you corrected; --uncorrected: only the others',
    '--hide-uncertain <a> leave out faces whose ageGroup, gender, ethnicity or emotion estimate is uncertain',
    '                    (below its calibrated threshold; repeat or comma-separate)',
  ],
} as const;

type FilterValues = {
  'age-group'?: string[];
  gender?: string[];
  ethnicity?: string[];
  emotion?: string[];
  'min-confidence'?: string;
  folder?: string;
  from?: string;
  to?: string;
  'min-faces'?: string;
  'max-faces'?: string;
  corrected?: boolean;
  uncorrected?: boolean;
  'hide-uncertain'?: string[];
};

/** The filter the flags describe, checked by the same validator the API uses. */
export function filterFrom(values: FilterValues): Filter {
  const list = (v: string[] | undefined) =>
    v
      ?.flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter(Boolean);
  const num = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${v}"`);
    return n;
  };
  if (values.corrected && values.uncorrected) throw new Error('choose --corrected or --uncorrected, not both');
  const raw: Record<string, unknown> = {
    ageGroups: list(values['age-group']),
    genders: list(values.gender),
    ethnicities: list(values.ethnicity),
    emotions: list(values.emotion),
    minConfidence: num('min-confidence', values['min-confidence']),
    folder: values.folder === undefined ? undefined : path.resolve(values.folder),
    takenFrom: values.from,
    takenTo: values.to,
    minFaces: num('min-faces', values['min-faces']),
    maxFaces: num('max-faces', values['max-faces']),
    corrected: values.corrected ? 'corrected' : values.uncorrected ? 'uncorrected' : undefined,
    hideUncertain: list(values['hide-uncertain']),
  };
  for (const key of Object.keys(raw)) if (raw[key] === undefined) delete raw[key];
  try {
    return validFilter(raw, 'filter');
  } catch (err) {
    throw new Error(flagMessage((err as Error).message), { cause: err });
  }
}

/** "filter.emotions[0]: expected one of …" → "--emotion: expected one of …" */
function flagMessage(message: string): string {
  const flags: Record<string, string> = {
    ageGroups: '--age-group',
    genders: '--gender',
    ethnicities: '--ethnicity',
    emotions: '--emotion',
    minConfidence: '--min-confidence',
    folder: '--folder',
    takenFrom: '--from',
    takenTo: '--to',
    minFaces: '--min-faces',
    maxFaces: '--max-faces',
    hideUncertain: '--hide-uncertain',
  };
  return message.replace(/^filter\.(\w+)(\[\d+\])?/, (_m, key: string) => flags[key] ?? key);
}
