/** Ensembles: several attribute networks' estimates of the same attribute, combined. */
import { AGE_GROUPS, EMOTIONS, ETHNICITIES, type AgeGroup, ageGroupOf } from './labels.js';
import type { Attributes, ModelRef } from './networks.js';

export type EstimatedAttribute = 'age' | 'gender' | 'ethnicity' | 'emotion';

/**
 * Averages several networks' estimates of one attribute (probabilities, and years for age) into one;
 * the result names every contributing model.
 */
export function combineEstimates(attr: EstimatedAttribute, parts: readonly Attributes[]): Attributes {
  const present = parts.filter((p) => p[attr]);
  if (present.length === 0) return {};
  const models = present.map((p) => p[attr]?.model).filter((m): m is ModelRef => m !== undefined);
  const model: ModelRef = { name: models.map((m) => m.name).join('+'), version: models.map((m) => m.version).join(',') };
  if (attr === 'age') {
    const years = present.reduce((s, p) => s + (p.age?.years ?? 0), 0) / present.length;
    const groupProbabilities = Object.fromEntries(
      AGE_GROUPS.map((g) => [g, present.reduce((s, p) => s + (p.age?.groupProbabilities[g] ?? 0), 0) / present.length]),
    ) as Record<AgeGroup, number>;
    return { age: { years, group: ageGroupOf(years), groupProbabilities, model } };
  }
  if (attr === 'gender') {
    const male =
      present.reduce((s, p) => s + (p.gender?.label === 'male' ? p.gender.probability : 1 - (p.gender?.probability ?? 0)), 0) /
      present.length;
    return { gender: male >= 0.5 ? { label: 'male', probability: male, model } : { label: 'female', probability: 1 - male, model } };
  }
  const labels = attr === 'ethnicity' ? ETHNICITIES : EMOTIONS;
  const probs = labels.map(
    (l) => present.reduce((s, p) => s + ((p[attr]?.probabilities as Record<string, number> | undefined)?.[l] ?? 0), 0) / present.length,
  );
  let best = 0;
  probs.forEach((p, i) => {
    if (p > (probs[best] as number)) best = i;
  });
  const probabilities = Object.fromEntries(labels.map((l, i) => [l, probs[i]]));
  return { [attr]: { label: labels[best], probabilities, model } } as Attributes;
}

