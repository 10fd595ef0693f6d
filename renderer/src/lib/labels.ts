/** How attribute names and values read in the UI. */
import { AGE_GROUPS, EMOTIONS, ETHNICITIES, GENDERS } from './api/index.js';
import type { Attribute, FaceSummary, HeadsInfo } from './api/index.js';

export { AGE_GROUPS, EMOTIONS, ETHNICITIES, GENDERS };

export const ATTRIBUTES: readonly Attribute[] = ['emotion', 'ageGroup', 'gender', 'ethnicity'];

/**
 * [Note: apparent attributes] Gender and ethnicity are estimated from appearance alone, so they read
 * "Apparent gender" / "Apparent ethnicity" everywhere they show: here (sidebar, cards, face detail, bulk
 * panel, toasts), the CLI's stats (main/cli/commands/stats.ts) and the export's column names
 * (main/library/export.ts EXPORT_NAMES).
 */
export const ATTRIBUTE_NAMES: Record<Attribute, string> = {
  ageGroup: 'Age group',
  gender: 'Apparent gender',
  ethnicity: 'Apparent ethnicity',
  emotion: 'Emotion',
};

export const ATTRIBUTE_VALUES: Record<Attribute, readonly string[]> = {
  ageGroup: AGE_GROUPS,
  gender: GENDERS,
  ethnicity: ETHNICITIES,
  emotion: EMOTIONS,
};

const VALUE_NAMES: Record<string, string> = {
  angry: 'Angry',
  disgust: 'Disgusted',
  fear: 'Fearful',
  happy: 'Happy',
  sad: 'Sad',
  surprise: 'Surprised',
  neutral: 'Neutral',
  male: 'Male',
  female: 'Female',
  white: 'White',
  black: 'Black',
  asian: 'Asian',
  indian: 'Indian',
  other: 'Other',
  corrected: 'Corrected',
  uncorrected: 'Not corrected',
};

export function valueName(value: string): string {
  if (/^\d+-\d+$/.test(value)) return value.replace('-', '–');
  return VALUE_NAMES[value] ?? value;
}

/** The attributes the user sees: ethnicity goes when the user hid it. */
export function visibleAttributes(hideEthnicity: boolean): Attribute[] {
  return ATTRIBUTES.filter((a) => !(hideEthnicity && a === 'ethnicity'));
}

/** Below this a prediction is shown as a weak guess (amber). */
export const LOW_CONFIDENCE = 0.5;

/**
 * The attributes whose shown estimate is uncertain, each marked by the back end against its own
 * threshold ([Note: per-attribute uncertainty], main/library/uncertainty.ts); hidden ethnicity left out.
 */
export function unsureAttributes(face: FaceSummary, hideEthnicity: boolean): Attribute[] {
  return visibleAttributes(hideEthnicity).filter((a) => face[a]?.uncertain === true);
}

/** Short names for "unsure: …" on cards, where space is tight. */
export const ATTRIBUTE_SHORT: Record<Attribute, string> = {
  ageGroup: 'age',
  gender: 'gender',
  ethnicity: 'ethnicity',
  emotion: 'emotion',
};

export function percent(value: number): string {
  return `${Math.round(value * 100)}%`;
}

export function basename(p: string): string {
  return p.split(/[\\/]/).filter(Boolean).pop() ?? p;
}

// Formatters are costly to create; the grids format a label per tile as it scrolls into view.
const NUMBER = new Intl.NumberFormat();
const DATE = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });

export function formatNumber(n: number): string {
  return NUMBER.format(n);
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${NUMBER.format(n)} ${n === 1 ? one : many}`;
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  const h = Math.floor(seconds / 3600);
  const m = Math.round((seconds % 3600) / 60);
  return m ? `${h} h ${m} min` : `${h} h`;
}

export function formatDate(iso: string | null): string {
  if (!iso) return 'Unknown date';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return DATE.format(d);
}

/** Where a set of attribute heads came from, as the learning panel names it. */
export function headsOrigin(origin: HeadsInfo['origin']): string {
  return origin === 'corrections' ? 'fine-tuned on your corrections' : 'trained on research data';
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** True for an absolute path on this or any platform ("/…", "C:\…", "\\server\…"). */
export function isAbsolutePath(p: string): boolean {
  return /^(\/|[a-zA-Z]:[\\/]|\\\\)/.test(p.trim());
}
