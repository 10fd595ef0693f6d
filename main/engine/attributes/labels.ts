/** The label sets Facets reports, in the order used everywhere (database, UI, evaluation). */

export const AGE_GROUPS = ['0-2', '3-9', '10-19', '20-29', '30-39', '40-49', '50-59', '60-69', '70+'] as const;
export const ETHNICITIES = ['white', 'black', 'asian', 'indian', 'other'] as const;
export const EMOTIONS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] as const;
export const GENDERS = ['male', 'female'] as const;

/**
 * FairFace's seven classes (Kärkkäinen & Joo, WACV 2021), estimated where heads trained on FairFace
 * serve ethnicity; the five above stay the filter labels, each seven-class estimate shown with its merge.
 */
export const ETHNICITIES7 = [
  'white',
  'black',
  'east_asian',
  'southeast_asian',
  'indian',
  'middle_eastern',
  'latino_hispanic',
] as const;

export type AgeGroup = (typeof AGE_GROUPS)[number];
export type Ethnicity = (typeof ETHNICITIES)[number];
export type Emotion = (typeof EMOTIONS)[number];
export type Gender = (typeof GENDERS)[number];
export type Ethnicity7 = (typeof ETHNICITIES7)[number];

/** The seven classes merged into the five: the two Asian → asian; Middle Eastern, Latino → other. */
export const ETHNICITY7_TO_5: Record<Ethnicity7, Ethnicity> = {
  white: 'white',
  black: 'black',
  east_asian: 'asian',
  southeast_asian: 'asian',
  indian: 'indian',
  middle_eastern: 'other',
  latino_hispanic: 'other',
};

/** Five-class probabilities (ETHNICITIES order) as the merge of seven-class ones (ETHNICITIES7 order). */
export function mergeEthnicity7(p7: ArrayLike<number>): number[] {
  const out = ETHNICITIES.map(() => 0);
  ETHNICITIES7.forEach((label, i) => {
    const k = ETHNICITIES.indexOf(ETHNICITY7_TO_5[label]);
    out[k] = (out[k] as number) + (p7[i] as number);
  });
  return out;
}

/** Lower bound (years) of each age group. */
const GROUP_STARTS = [0, 3, 10, 20, 30, 40, 50, 60, 70];

export function ageGroupOf(years: number): AgeGroup {
  let index = 0;
  for (let i = 0; i < GROUP_STARTS.length; i++) if (years >= (GROUP_STARTS[i] as number)) index = i;
  return AGE_GROUPS[index] as AgeGroup;
}

export function ageGroupIndex(group: string): number {
  return (AGE_GROUPS as readonly string[]).indexOf(group);
}

/** Label with the highest probability, and the probabilities as a label → value record. */
export function argmaxLabel<L extends string>(
  labels: readonly L[],
  probabilities: ArrayLike<number>,
): { label: L; probabilities: Record<L, number> } {
  let best = 0;
  const record = {} as Record<L, number>;
  labels.forEach((label, i) => {
    const p = probabilities[i] as number;
    record[label] = p;
    if (p > (probabilities[best] as number)) best = i;
  });
  return { label: labels[best] as L, probabilities: record };
}
