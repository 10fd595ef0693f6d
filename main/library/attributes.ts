/**
 * The four attributes the library stores, their label sets, the `faces` columns that hold each one's
 * shown value, and how an analysed face becomes one prediction row per attribute.
 */
import type { Attribute } from '../api/contract.js';
import type { AnalyzedFace } from '../engine/analyzer.js';
import { AGE_GROUPS, EMOTIONS, ETHNICITIES, GENDERS } from '../engine/attributes/labels.js';

export const ATTRIBUTES = ['ageGroup', 'gender', 'ethnicity', 'emotion'] as const satisfies readonly Attribute[];

export interface AttributeColumns {
  /** Column of the shown label in `faces`. */
  value: string;
  /** Column of its confidence (1 for a correction). */
  confidence: string;
  /** Bit in `faces.corrected`. */
  bit: number;
  labels: readonly string[];
}

export const COLUMNS: Record<Attribute, AttributeColumns> = {
  ageGroup: { value: 'age_group', confidence: 'age_group_conf', bit: 1, labels: AGE_GROUPS },
  gender: { value: 'gender', confidence: 'gender_conf', bit: 2, labels: GENDERS },
  ethnicity: { value: 'ethnicity', confidence: 'ethnicity_conf', bit: 4, labels: ETHNICITIES },
  emotion: { value: 'emotion', confidence: 'emotion_conf', bit: 8, labels: EMOTIONS },
};

export function isAttribute(value: unknown): value is Attribute {
  return typeof value === 'string' && (ATTRIBUTES as readonly string[]).includes(value);
}

export function isLabelOf(attribute: Attribute, value: unknown): boolean {
  return typeof value === 'string' && COLUMNS[attribute].labels.includes(value);
}

export interface PredictionRow {
  attribute: Attribute;
  label: string;
  confidence: number;
  probabilities: Record<string, number>;
  /** ageGroup only. */
  years: number | null;
  model: string;
  modelVersion: string;
}

/** One prediction per attribute the analysis estimated. */
export function predictionsOf(face: Pick<AnalyzedFace, 'age' | 'gender' | 'ethnicity' | 'emotion'>): PredictionRow[] {
  const rows: PredictionRow[] = [];
  const { age, gender, ethnicity, emotion } = face;
  if (age) {
    rows.push({
      attribute: 'ageGroup',
      label: age.group,
      confidence: age.groupProbabilities[age.group] ?? 0,
      probabilities: age.groupProbabilities,
      years: age.years,
      model: age.model.name,
      modelVersion: age.model.version,
    });
  }
  if (gender) {
    const other = gender.label === 'male' ? 'female' : 'male';
    rows.push({
      attribute: 'gender',
      label: gender.label,
      confidence: gender.probability,
      probabilities: { [gender.label]: gender.probability, [other]: 1 - gender.probability },
      years: null,
      model: gender.model.name,
      modelVersion: gender.model.version,
    });
  }
  for (const [attribute, estimate] of [
    ['ethnicity', ethnicity],
    ['emotion', emotion],
  ] as const) {
    if (!estimate) continue;
    rows.push({
      attribute,
      label: estimate.label,
      confidence: (estimate.probabilities as Record<string, number>)[estimate.label] ?? 0,
      probabilities: estimate.probabilities,
      years: null,
      model: estimate.model.name,
      modelVersion: estimate.model.version,
    });
  }
  return rows;
}
