/**
 * How each attribute network is fed and how its outputs become Facets' attributes.
 *
 * Design note "model-contract" (see models/build/index.ts): input size, pixel normalisation and output
 * names here must match the network's entry in models/manifest.json.
 */
import type ort from 'onnxruntime-node';
import type { CropRecipe } from '../faces/crop.js';
import {
  AGE_GROUPS,
  type AgeGroup,
  EMOTIONS,
  ETHNICITIES,
  type Emotion,
  type Ethnicity,
  type Ethnicity7,
  type Gender,
  ageGroupOf,
  argmaxLabel,
} from './labels.js';

/** Which model (and which build of it) produced a result. */
export interface ModelRef {
  name: string;
  version: string;
}

export interface AgeEstimate {
  years: number;
  group: AgeGroup;
  groupProbabilities: Record<AgeGroup, number>;
  /** Probability per year of age 0..n−1, where the network gives one. */
  distribution?: number[];
  model: ModelRef;
}

export interface LabelEstimate<L extends string> {
  label: L;
  probabilities: Record<L, number>;
  model: ModelRef;
  /** Labels the model never saw in training (it cannot tell them apart): an ensemble takes their mass from the others. */
  unseen?: L[];
}

export interface GenderEstimate {
  label: Gender;
  /** Probability of `label`. */
  probability: number;
  model: ModelRef;
}

export interface Attributes {
  age?: AgeEstimate;
  gender?: GenderEstimate;
  ethnicity?: LabelEstimate<Ethnicity>;
  /** FairFace's seven classes, where the heads estimate them; `ethnicity` is then their merge. */
  ethnicity7?: LabelEstimate<Ethnicity7>;
  emotion?: LabelEstimate<Emotion>;
  /** Face embedding (descriptor), where the network is an embedding network. */
  embedding?: Float32Array;
  /** Embeddings under named specs (the heads' input, the identity vector), for the library to store. */
  vectors?: { spec: string; vector: Float32Array }[];
}

export interface AttributeNetwork {
  /** Manifest name of the ONNX model. */
  model: string;
  /** Square input size in pixels. */
  size: number;
  /** Single-channel input (luma from RGB, BT.601 weights). */
  grey: boolean;
  /** Maps a 0..255 pixel value to the network's input value. */
  pixel: (v: number) => number;
  /**
   * How the face is cut out by default — measured with `facets eval --compare`: networks trained on
   * UTKFace or FER2013 crops do best on faces aligned to those sets' own framing (TEMPLATES).
   */
  recipe: CropRecipe;
  /**
   * Also run the mirrored crop and average the two estimates (test-time mirroring), where
   * `scripts/emotion-variants.ts` measured it better on every dev set (models/README.md, "Emotion").
   */
  mirror?: boolean;
  /** What this network can estimate. */
  provides: readonly (keyof Attributes)[];
  /**
   * The output holding the network's penultimate activations (an embedding network's embedding), the
   * frozen features heads can be trained on (models/manifest.json records each one).
   */
  features?: string;
  /** Decodes face `i` of a batch. */
  decode(outputs: ort.InferenceSession.OnnxValueMapType, i: number, model: ModelRef): Attributes;
}

function row(outputs: ort.InferenceSession.OnnxValueMapType, name: string, i: number): Float32Array {
  const t = outputs[name];
  if (!t) throw new Error(`network output ${name} is missing`);
  const width = (t.dims as number[]).slice(1).reduce((a, b) => a * b, 1);
  return (t.data as Float32Array).subarray(i * width, (i + 1) * width);
}

/** A gender estimate from the probability of "male": the likelier label and its probability. */
export function genderFromMale(male: number, model: ModelRef): GenderEstimate {
  return male >= 0.5 ? { label: 'male', probability: male, model } : { label: 'female', probability: 1 - male, model };
}

/** Sums a per-year distribution into the nine age groups. */
export function groupDistribution(perYear: ArrayLike<number>): Record<AgeGroup, number> {
  const groups = Object.fromEntries(AGE_GROUPS.map((g) => [g, 0])) as Record<AgeGroup, number>;
  for (let year = 0; year < perYear.length; year++) groups[ageGroupOf(year)] += perYear[year] as number;
  return groups;
}

/** Age estimate from a distribution over years: expected value, group by the largest group mass. */
export function ageFromDistribution(perYear: ArrayLike<number>, model: ModelRef): AgeEstimate {
  let total = 0;
  let mean = 0;
  for (let year = 0; year < perYear.length; year++) {
    total += perYear[year] as number;
    mean += year * (perYear[year] as number);
  }
  mean /= total || 1;
  const groupProbabilities = groupDistribution(perYear);
  return {
    years: mean,
    group: ageGroupOf(mean),
    groupProbabilities,
    distribution: Array.from(perYear, (p) => p / (total || 1)),
    model,
  };
}

/**
 * A distribution over years from one estimate (used for networks that regress a single age or give
 * coarse bins): a discretised Gaussian around `years` with spread `sigma`.
 */
export function distributionAround(years: number, sigma: number, maxYear = 100): number[] {
  const d = Array.from({ length: maxYear }, (_, y) => Math.exp(-0.5 * ((y - years) / sigma) ** 2));
  const sum = d.reduce((a, b) => a + b, 0);
  return d.map((v) => v / sum);
}

/** Human's GEAR age bins → representative years (the mean of each bin, 65 for 60+). */
export const GEAR_AGE_BIN_YEARS = [15, 23, 28, 35.5, 45.5, 55.5, 65];
const GEAR_AGE_BIN_RANGES: readonly [number, number][] = [
  [0, 20],
  [21, 25],
  [26, 30],
  [31, 40],
  [41, 50],
  [51, 60],
  [61, 90],
];

export const NETWORKS: Record<string, AttributeNetwork> = {
  gear: {
    features: 'features',
    model: 'gear',
    size: 198,
    grey: false,
    pixel: (v) => v / 255,
    recipe: { method: 'align', margin: 1, template: 'utkface' },
    provides: ['age', 'gender', 'ethnicity'],
    decode(outputs, i, model) {
      const bins = row(outputs, 'age_output', i);
      const gender = row(outputs, 'gender_output', i);
      const race = row(outputs, 'race_output', i);
      // Spread each bin's mass uniformly over its years to get a per-year distribution.
      const perYear = new Array<number>(91).fill(0);
      GEAR_AGE_BIN_RANGES.forEach(([from, to], b) => {
        for (let y = from; y <= to; y++) perYear[y] = (perYear[y] as number) + (bins[b] as number) / (to - from + 1);
      });
      const years = GEAR_AGE_BIN_YEARS.reduce((sum, y, b) => sum + y * (bins[b] as number), 0);
      const male = gender[0] as number;
      return {
        age: { ...ageFromDistribution(perYear, model), years, group: ageGroupOf(years) },
        gender: genderFromMale(male, model),
        ethnicity: { ...argmaxLabel(ETHNICITIES, race), model },
      };
    },
  },
  faceres: {
    features: 'global_pooling/Mean',
    model: 'faceres-int8',
    size: 224,
    grey: false,
    pixel: (v) => v,
    recipe: { method: 'box', margin: 1 },
    provides: ['age', 'gender', 'embedding'],
    decode(outputs, i, model) {
      const ages = row(outputs, 'age_pred/Softmax:0', i);
      // Human reads the sigmoid as "male" above 0.5 (src/face/faceres.ts).
      const male = row(outputs, 'gender_pred/Sigmoid:0', i)[0] as number;
      return {
        age: ageFromDistribution(ages, model),
        gender: genderFromMale(male, model),
        embedding: Float32Array.from(row(outputs, 'global_pooling/Mean', i)),
      };
    },
  },
  emotion: {
    model: 'emotion',
    size: 64,
    grey: true,
    // Human feeds luma in 0..1 mapped to −1..1.
    pixel: (v) => (v / 255 - 0.5) * 2,
    recipe: { method: 'align', margin: 1, template: 'fer' },
    mirror: true,
    provides: ['emotion'],
    decode(outputs, i, model) {
      return { emotion: { ...argmaxLabel(EMOTIONS, row(outputs, 'Identity:0', i)), model } };
    },
  },
  'faceapi-age-gender': {
    features: 'features',
    model: 'faceapi-age-gender',
    size: 112,
    grey: false,
    pixel: (v) => v,
    // FairFace's framing, the heads' own, so that one run serves gender and the heads ([Note: shared
    // runs]). Measured 2026-12-03 against the UTKFace template it had (`facets eval <set> --mode detect
    // --crop faceapi-age-gender=fairface:1`): alone, age 46.6 → 47.1 % / 63.0 → 63.3 % and gender 81.9 →
    // 83.1 % / 87.6 → 87.4 % (fairface-dev / utkface-dev); with the shipped heads, gender 87.8 → 88.0 /
    // 88.8 → 88.4 % — the worse set as good or better each time.
    recipe: { method: 'align', margin: 1, template: 'fairface' },
    provides: ['age', 'gender'],
    decode(outputs, i, model) {
      const years = row(outputs, 'age', i)[0] as number;
      const [male, female] = row(outputs, 'gender', i) as unknown as [number, number];
      return {
        age: { ...ageFromDistribution(distributionAround(years, 5), model), years, group: ageGroupOf(years) },
        gender:
          male >= female
            ? { label: 'male', probability: male, model }
            : { label: 'female', probability: female, model },
      };
    },
  },
  'faceapi-expression': {
    features: 'features',
    model: 'faceapi-expression',
    size: 112,
    grey: false,
    pixel: (v) => v,
    // FairFace's wider framing, not FER's: better on every source of emotion-photos-dev with mirroring
    // (models/README.md, "Emotion"); FER2013's crops carry no landmarks, so they are unaffected.
    recipe: { method: 'align', margin: 1, template: 'fairface' },
    mirror: true,
    provides: ['emotion'],
    decode(outputs, i, model) {
      // face-api's order: neutral, happy, sad, angry, fearful, disgusted, surprised.
      const [neutral, happy, sad, angry, fear, disgust, surprise] = row(
        outputs,
        'expressions',
        i,
      ) as unknown as number[];
      const probs = [angry, disgust, fear, happy, sad, surprise, neutral] as number[];
      return { emotion: { ...argmaxLabel(EMOTIONS, probs), model } };
    },
  },
  facenet128: {
    features: 'embedding',
    model: 'facenet128',
    size: 150,
    grey: false,
    pixel: (v) => v,
    recipe: { method: 'align', margin: 1, template: 'arcface' },
    provides: ['embedding'],
    decode(outputs, i) {
      return { embedding: Float32Array.from(row(outputs, 'embedding', i)) };
    },
  },
};
