/** Ensembles: several attribute networks' estimates of the same attribute, combined. */
import { AGE_GROUPS, EMOTIONS, ETHNICITIES, type AgeGroup, ageGroupOf } from './labels.js';
import { type Attributes, type ModelRef, genderFromMale } from './networks.js';

export const ESTIMATED_ATTRIBUTES = ['age', 'gender', 'ethnicity', 'emotion'] as const;
export type EstimatedAttribute = (typeof ESTIMATED_ATTRIBUTES)[number];

/** Whether an attribute a network provides is one of the four estimates (not an embedding or detail). */
export function isEstimated(attribute: string): attribute is EstimatedAttribute {
  return (ESTIMATED_ATTRIBUTES as readonly string[]).includes(attribute);
}

/**
 * Averages several networks' estimates of one attribute (probabilities, and years for age) into one;
 * the result names every contributing model.
 */
export function combineEstimates(attr: EstimatedAttribute, parts: readonly Attributes[]): Attributes {
  const present = parts.filter((p) => p[attr]);
  if (present.length === 0) return {};
  const models = present.map((p) => p[attr]?.model).filter((m): m is ModelRef => m !== undefined);
  const model: ModelRef = {
    name: models.map((m) => m.name).join('+'),
    version: models.map((m) => m.version).join(','),
  };
  if (attr === 'age') {
    const years = present.reduce((s, p) => s + (p.age?.years ?? 0), 0) / present.length;
    const groupProbabilities = Object.fromEntries(
      AGE_GROUPS.map((g) => [g, present.reduce((s, p) => s + (p.age?.groupProbabilities[g] ?? 0), 0) / present.length]),
    ) as Record<AgeGroup, number>;
    return { age: { years, group: ageGroupOf(years), groupProbabilities, model } };
  }
  if (attr === 'gender') {
    const male =
      present.reduce(
        (s, p) => s + (p.gender?.label === 'male' ? p.gender.probability : 1 - (p.gender?.probability ?? 0)),
        0,
      ) / present.length;
    return {
      gender: genderFromMale(male, model),
    };
  }
  const labels = attr === 'ethnicity' ? ETHNICITIES : EMOTIONS;
  const probs = mixProbabilities(
    present.map((p) => {
      const e = p[attr];
      const record = (e?.probabilities ?? {}) as Record<string, number>;
      return {
        probabilities: labels.map((l) => record[l] ?? 0),
        unseen: labels.map((l) => (e?.unseen as string[] | undefined)?.includes(l) ?? false),
      };
    }),
  );
  let best = 0;
  probs.forEach((p, i) => {
    if (p > (probs[best] as number)) best = i;
  });
  const probabilities = Object.fromEntries(labels.map((l, i) => [l, probs[i]]));
  return { [attr]: { label: labels[best], probabilities, model } } as Attributes;
}

/**
 * Averages several models' class probabilities. A model that never saw a label in training
 * (`unseen`) has no say on it: the unseen labels' mass comes from the models that know them, and the
 * rest is shared out by the average of every model's probabilities conditional on the known labels.
 * Without unseen labels this is the plain average.
 */
export function mixProbabilities(
  parts: readonly { probabilities: readonly number[]; unseen?: readonly boolean[] }[],
): number[] {
  const K = parts[0]?.probabilities.length ?? 0;
  const unseenAny = Array.from({ length: K }, (_, k) => parts.some((p) => p.unseen?.[k]));
  if (!unseenAny.some(Boolean)) {
    return Array.from({ length: K }, (_, k) => parts.reduce((s, p) => s + (p.probabilities[k] ?? 0), 0) / parts.length);
  }
  const out = new Array<number>(K).fill(0);
  let unseenMass = 0;
  for (let k = 0; k < K; k++) {
    if (!unseenAny[k]) continue;
    const knowers = parts.filter((p) => !p.unseen?.[k]);
    out[k] = knowers.length ? knowers.reduce((s, p) => s + (p.probabilities[k] ?? 0), 0) / knowers.length : 0;
    unseenMass += out[k] as number;
  }
  const conditionals = parts.map((p) => {
    const seen = p.probabilities.reduce((s, v, k) => s + (unseenAny[k] ? 0 : v), 0);
    return p.probabilities.map((v, k) => (unseenAny[k] ? 0 : seen > 0 ? v / seen : 0));
  });
  for (let k = 0; k < K; k++) {
    if (unseenAny[k]) continue;
    out[k] = ((1 - unseenMass) * conditionals.reduce((s, c) => s + (c[k] ?? 0), 0)) / parts.length;
  }
  return out;
}
