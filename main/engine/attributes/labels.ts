/** The label sets Facets reports, in the order used everywhere (database, UI, evaluation). */

export const AGE_GROUPS = ['0-2', '3-9', '10-19', '20-29', '30-39', '40-49', '50-59', '60-69', '70+'] as const;
export const ETHNICITIES = ['white', 'black', 'asian', 'indian', 'other'] as const;
export const EMOTIONS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] as const;
export const GENDERS = ['male', 'female'] as const;

export type AgeGroup = (typeof AGE_GROUPS)[number];
export type Ethnicity = (typeof ETHNICITIES)[number];
export type Emotion = (typeof EMOTIONS)[number];
export type Gender = (typeof GENDERS)[number];

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
