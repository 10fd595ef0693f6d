/** Faces with their photo paths as flat records, for `facets query --json` and `facets export`. */
import type { Filter } from '../api/contract.js';
import { ATTRIBUTES, COLUMNS } from './attributes.js';
import type { LibraryQueries } from './query.js';
import type { FaceRow } from './repositories/faces.js';
import { type UncertainThresholds, isUncertainValue, uncertainThresholds } from './uncertainty.js';

export interface FaceRecord {
  faceId: number;
  photoId: number;
  path: string;
  faceIndex: number;
  takenAt: string | null;
  box: { x: number; y: number; width: number; height: number };
  score: number;
  uncertain: boolean;
  ageGroup: string | null;
  ageGroupConfidence: number | null;
  ageYears: number | null;
  gender: string | null;
  genderConfidence: number | null;
  ethnicity?: string | null;
  ethnicityConfidence?: number | null;
  emotion: string | null;
  emotionConfidence: number | null;
  /** Attributes whose shown value is the user's correction. */
  corrected: string[];
  /** Attributes whose shown estimate is uncertain ([Note: per-attribute uncertainty]). */
  unsure: string[];
}

export function* faceRecords(queries: LibraryQueries, filter: Filter, hideEthnicity: boolean): Generator<FaceRecord> {
  const thresholds = uncertainThresholds();
  for (const f of queries.faceRows(filter)) yield faceRecord(f, hideEthnicity, thresholds);
}

/** One face as exported (shown values; ethnicity left out when hidden), for CSV, JSON and XMP alike. */
export function faceRecord(
  f: FaceRow & { path: string; taken_at: string | null },
  hideEthnicity: boolean,
  thresholds: UncertainThresholds = uncertainThresholds(),
): FaceRecord {
  const r3 = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);
  const record: FaceRecord = {
    faceId: f.id,
    photoId: f.photo_id,
    path: f.path,
    faceIndex: f.idx,
    takenAt: f.taken_at,
    box: { x: Math.round(f.x), y: Math.round(f.y), width: Math.round(f.w), height: Math.round(f.h) },
    score: r3(f.score) as number,
    uncertain: f.uncertain !== 0,
    ageGroup: f.age_group,
    ageGroupConfidence: r3(f.age_group_conf),
    ageYears:
      f.age_years === null || (f.corrected & COLUMNS.ageGroup.bit) !== 0 ? null : Math.round(f.age_years * 10) / 10,
    gender: f.gender,
    genderConfidence: r3(f.gender_conf),
    ethnicity: f.ethnicity,
    ethnicityConfidence: r3(f.ethnicity_conf),
    emotion: f.emotion,
    emotionConfidence: r3(f.emotion_conf),
    corrected: ATTRIBUTES.filter((a) => (f.corrected & COLUMNS[a].bit) !== 0 && !(hideEthnicity && a === 'ethnicity')),
    unsure: ATTRIBUTES.filter((a) => {
      const value = f[COLUMNS[a].value as keyof FaceRow];
      const confidence = f[COLUMNS[a].confidence as keyof FaceRow] as number | null;
      const corrected = (f.corrected & COLUMNS[a].bit) !== 0;
      return (
        value !== null &&
        isUncertainValue(a, confidence, corrected, thresholds) &&
        !(hideEthnicity && a === 'ethnicity')
      );
    }),
  };
  if (hideEthnicity) {
    delete record.ethnicity;
    delete record.ethnicityConfidence;
  }
  return record;
}

const CSV_COLUMNS = [
  'path',
  'faceId',
  'photoId',
  'faceIndex',
  'takenAt',
  'x',
  'y',
  'width',
  'height',
  'score',
  'uncertain',
  'ageGroup',
  'ageGroupConfidence',
  'ageYears',
  'gender',
  'genderConfidence',
  'ethnicity',
  'ethnicityConfidence',
  'emotion',
  'emotionConfidence',
  'corrected',
  'unsure',
] as const;

/**
 * What the export calls a record's fields ([Note: apparent attributes]): gender and ethnicity are
 * estimated from appearance, and the column names say so. Everything else keeps its record name.
 */
export const EXPORT_NAMES: Partial<Record<string, string>> = {
  gender: 'apparentGender',
  genderConfidence: 'apparentGenderConfidence',
  ethnicity: 'apparentEthnicity',
  ethnicityConfidence: 'apparentEthnicityConfidence',
};

const exportName = (key: string): string => EXPORT_NAMES[key] ?? key;

/** A record as `facets export --format json` and `facets query --json` print it (apparent… names). */
export function exportedRecord(r: FaceRecord): Record<string, unknown> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [exportName(k), v]));
}

const shownColumns = (hideEthnicity: boolean) =>
  CSV_COLUMNS.filter((c) => !hideEthnicity || !c.startsWith('ethnicity'));

export function csvHeader(hideEthnicity: boolean): string {
  return shownColumns(hideEthnicity).map(exportName).join(',');
}

export function csvRow(r: FaceRecord, hideEthnicity: boolean): string {
  const flat: Record<(typeof CSV_COLUMNS)[number], unknown> = {
    ...r,
    x: r.box.x,
    y: r.box.y,
    width: r.box.width,
    height: r.box.height,
    ethnicity: r.ethnicity,
    ethnicityConfidence: r.ethnicityConfidence,
    corrected: r.corrected.join(' '),
    unsure: r.unsure.join(' '),
  };
  return shownColumns(hideEthnicity)
    .map((c) => csvCell(flat[c]))
    .join(',');
}

/** RFC 4180 quoting; a leading =, +, - or @ is defused so spreadsheets never run a path as a formula. */
function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
