/**
 * `facets eval`: runs the real engine over an evaluation set and reports the metrics of
 * main/learning/metrics.ts. Detection sets are scored against the stored-orientation boxes. Sets of face
 * crops are scored twice: "crop" (the image is the face: no detector) and "detect" (MTCNN first, then
 * the largest face), each labelled as such.
 */
import type { FaceAnalyzer } from '../../main/engine/analyzer.js';
import {
  AGE_GROUPS,
  type AgeGroup,
  EMOTIONS,
  ETHNICITIES,
  GENDERS,
  ageGroupOf,
} from '../../main/engine/attributes/labels.js';
import type { Attributes } from '../../main/engine/attributes/networks.js';
import type { Detection } from '../../main/engine/detection/mtcnn.js';
import { decodeForAnalysis } from '../../main/engine/image/decode.js';
import { AreaSampler } from '../../main/engine/image/resample.js';
import type { AttributeSample, DetectionImage } from './datasets.js';
import { calibrate, expectedCalibrationError, uncertainThreshold } from '../heads/calibration.js';
import { withTemperature } from '../../main/engine/attributes/heads.js';
import {
  type AgeMetrics,
  type ClassMetrics,
  ageMetrics,
  classMetrics,
  detectionMetrics,
} from '../../main/learning/metrics.js';

export interface DetectionReport {
  detection: {
    recall40: number;
    precision40: number;
    ap40: number;
    recall50: number;
    precision50: number;
    ap50: number;
    fpPerImage: number;
  };
  /** Recall at IoU 0.4 for faces turned or tilted (AFW poses; absent when the set has no pose). */
  pose?: { yawOver45: { faces: number; recall40: number }; rollOver20: { faces: number; recall40: number } };
  /** Recall at IoU 0.4 by the face's smaller side in the photo's own pixels. */
  bySize: { label: string; faces: number; recall40: number }[];
  faces: number;
  images: number;
  failed: { path: string; error: string }[];
  msPerImage: number;
}

export interface AttributeReport {
  mode: 'crop' | 'detect';
  description: string;
  age?: AgeMetrics;
  ethnicity?: ClassMetrics;
  emotion?: ClassMetrics;
  gender?: { accuracy: number; count: number };
  noFace: number;
  images: number;
  failed: { path: string; error: string }[];
  msPerImage: number;
  /** Expected calibration error per attribute: the shown label's probability against how often it is right. */
  calibration?: Partial<Record<'age' | 'gender' | 'ethnicity' | 'emotion', CalibrationReport>>;
  /**
   * Sets labelled with race, gender and age group (FairFace's format): every attribute's accuracy per
   * race × gender and per age group (race: FairFace's seven where the set has them).
   */
  bias?: {
    byRaceGender: Record<string, BiasCell>;
    byAgeGroup: Record<string, BiasCell>;
  };
}

/** Accuracy of each attribute on one group of faces (age: group accuracy). */
export interface BiasCell {
  faces: number;
  age?: number;
  gender?: number;
  ethnicity?: number;
}

const SIZE_BUCKETS: [string, number, number][] = [
  ['< 48 px', 0, 48],
  ['48–96 px', 48, 96],
  ['96–192 px', 96, 192],
  ['≥ 192 px', 192, Infinity],
];

export type Progress = (done: number, total: number) => void;

export async function evaluateDetection(
  analyzer: FaceAnalyzer,
  images: readonly DetectionImage[],
  progress?: Progress,
): Promise<DetectionReport> {
  const results: {
    truth: DetectionImage['faces'];
    predicted: { x1: number; y1: number; x2: number; y2: number; score: number }[];
  }[] = [];
  const failed: { path: string; error: string }[] = [];
  // Analysis time only: photos made for the evaluation (turned, tiled) are not the engine's cost.
  let analysing = 0;
  for (const [i, img] of images.entries()) {
    try {
      const input = img.load ? await img.load() : img.path;
      const start = performance.now();
      const analysis = await analyzer.analyze(input);
      analysing += performance.now() - start;
      results.push({
        truth: img.faces,
        predicted: analysis.faces.map((f) => ({
          x1: f.storedBox.x,
          y1: f.storedBox.y,
          x2: f.storedBox.x + f.storedBox.width,
          y2: f.storedBox.y + f.storedBox.height,
          score: f.score,
        })),
      });
    } catch (err) {
      failed.push({ path: img.path, error: (err as Error).message });
      results.push({ truth: img.faces, predicted: [] });
    }
    progress?.(i + 1, images.length);
  }
  const m40 = detectionMetrics(results, 0.4);
  const m50 = detectionMetrics(results, 0.5);
  const report: DetectionReport = {
    detection: {
      recall40: m40.recall,
      precision40: m40.precision,
      ap40: m40.ap,
      recall50: m50.recall,
      precision50: m50.precision,
      ap50: m50.ap,
      fpPerImage: m40.falsePositivesPerImage,
    },
    faces: m40.faces,
    images: images.length,
    failed,
    msPerImage: analysing / Math.max(1, images.length),
    bySize: [],
  };
  const subset = (pick: (f: DetectionImage['faces'][number]) => boolean) => {
    let faces = 0;
    let found = 0;
    images.forEach((img, i) =>
      img.faces.forEach((f, j) => {
        if (!pick(f)) return;
        faces++;
        if (m40.matched[i]?.[j]) found++;
      }),
    );
    return { faces, recall40: faces ? found / faces : 0 };
  };
  report.bySize = SIZE_BUCKETS.map(([label, lo, hi]) => ({
    label,
    ...subset((f) => {
      const side = Math.min(f.x2 - f.x1, f.y2 - f.y1);
      return side >= lo && side < hi;
    }),
  })).filter((b) => b.faces > 0);
  if (images.some((img) => img.faces.some((f) => f.yaw !== undefined || f.roll !== undefined))) {
    const deg = Math.PI / 180;
    report.pose = {
      yawOver45: subset((f) => Math.abs(f.yaw ?? 0) > 45 * deg + 1e-9),
      rollOver20: subset((f) => Math.abs(f.roll ?? 0) > 20 * deg + 1e-9),
    };
  }
  return report;
}

export async function evaluateAttributes(
  analyzer: FaceAnalyzer,
  samples: readonly AttributeSample[],
  mode: 'crop' | 'detect',
  progress?: Progress,
  pick: FacePick = 'largest',
): Promise<AttributeReport> {
  const predictions: { sample: AttributeSample; attrs: Attributes }[] = [];
  const failed: { path: string; error: string }[] = [];
  let noFace = 0;
  const started = performance.now();
  for (const [i, sample] of samples.entries()) {
    try {
      const attrs =
        mode === 'crop'
          ? await classifyCrop(analyzer, sample.path)
          : await classifyDetectedFace(analyzer, sample.path, pick);
      if (attrs) predictions.push({ sample, attrs });
      else noFace++;
    } catch (err) {
      failed.push({ path: sample.path, error: (err as Error).message });
    }
    progress?.(i + 1, samples.length);
  }
  const report: AttributeReport = {
    mode,
    description:
      mode === 'crop'
        ? 'the crop is the face (no detector)'
        : `detect with MTCNN, then classify the ${pick === 'central' ? 'most central' : 'largest'} face`,
    noFace,
    images: samples.length,
    failed,
    msPerImage: (performance.now() - started) / Math.max(1, samples.length),
  };
  const withAge = predictions.filter((p) => p.sample.ageGroup !== undefined && p.attrs.age);
  if (withAge.length > 0) {
    report.age = ageMetrics(
      withAge.map((p) => ({
        ...(p.sample.age !== undefined ? { years: p.sample.age } : {}),
        group: p.sample.ageGroup ?? ageGroupOf(p.sample.age ?? 0),
        predictedYears: p.attrs.age?.years ?? 0,
        predictedGroup: p.attrs.age?.group ?? '',
      })),
    );
  }
  const classes = (key: 'ethnicity' | 'emotion', labels: readonly string[]) => {
    const pairs = predictions
      .filter((p) => p.sample[key] !== undefined && p.attrs[key])
      .map((p) => ({ truth: p.sample[key] as string, predicted: p.attrs[key]?.label as string }));
    return pairs.length > 0 ? classMetrics(labels, pairs) : undefined;
  };
  const ethnicity = classes('ethnicity', ETHNICITIES);
  if (ethnicity) report.ethnicity = ethnicity;
  const emotion = classes('emotion', EMOTIONS);
  if (emotion) report.emotion = emotion;
  report.calibration = calibrationErrors(predictions);
  const bias = biasReport(predictions);
  if (bias) report.bias = bias;
  const genders = predictions
    .filter((p) => p.sample.gender !== undefined && p.attrs.gender)
    .map((p) => ({ truth: p.sample.gender as string, predicted: p.attrs.gender?.label as string }));
  if (genders.length > 0) {
    const g = classMetrics(GENDERS, genders);
    report.gender = { accuracy: g.accuracy, count: g.count };
  }
  return report;
}

type Labelled = { sample: AttributeSample; attrs: Attributes };

export interface CalibrationReport {
  ece: number;
  count: number;
  /**
   * The temperature that would calibrate these estimates on this set (least negative log likelihood),
   * and the ECE at a few temperatures: how a run-time temperature is chosen for an attribute no heads
   * calibrate, by the worst of several sets (models/README.md, "Calibrated confidence").
   */
  fit?: {
    temperature: number;
    eceAfter: number;
    uncertainBelow: number;
    /** At each of REPORTED_TEMPERATURES: the ECE and the uncertain threshold there. */
    byTemperature: { temperature: number; ece: number; uncertainBelow: number }[];
  };
}

/** Temperatures at which the report gives the ECE (1 = as estimated). */
const REPORTED_TEMPERATURES = [0.75, 1, 1.25, 1.5, 1.75, 2, 2.5, 3];

/**
 * Each attribute's probability row over its labels, the shown label's index and the true label's index,
 * where both are known. The shown label is not always the row's argmax (an age group follows the
 * estimated years), so calibration is judged on the shown label, as the app shows it.
 */
function probabilityRows(
  p: Labelled,
): Partial<Record<'age' | 'gender' | 'ethnicity' | 'emotion', { row: number[]; shown: number; truth: number }>> {
  const out: ReturnType<typeof probabilityRows> = {};
  const { sample, attrs } = p;
  const index = (labels: readonly string[], l: string) => labels.indexOf(l);
  if (attrs.age && (sample.ageGroup !== undefined || sample.age !== undefined)) {
    out.age = {
      row: AGE_GROUPS.map((g) => attrs.age?.groupProbabilities[g] ?? 0),
      shown: index(AGE_GROUPS, attrs.age.group),
      truth: index(AGE_GROUPS, sample.ageGroup ?? ageGroupOf(sample.age ?? 0)),
    };
  }
  if (attrs.gender && sample.gender !== undefined) {
    const male = attrs.gender.label === 'male' ? attrs.gender.probability : 1 - attrs.gender.probability;
    out.gender = {
      row: GENDERS.map((g) => (g === 'male' ? male : 1 - male)),
      shown: index(GENDERS, attrs.gender.label),
      truth: index(GENDERS, sample.gender),
    };
  }
  for (const [key, labels] of [
    ['ethnicity', ETHNICITIES],
    ['emotion', EMOTIONS],
  ] as const) {
    const est = attrs[key];
    const truth = sample[key];
    if (!est || truth === undefined) continue;
    const probs = est.probabilities as Record<string, number>;
    out[key] = { row: labels.map((l) => probs[l] ?? 0), shown: index(labels, est.label), truth: index(labels, truth) };
  }
  return out;
}

function temperatureFit(rows: readonly { row: number[]; shown: number; truth: number }[]): CalibrationReport['fit'] {
  const K = rows[0]?.row.length ?? 0;
  // The temperature of least negative log likelihood (it does not depend on which label is shown).
  const fit = calibrate(Float32Array.from(rows.flatMap((r) => r.row)), Int32Array.from(rows.map((r) => r.truth)), K);
  if (!fit) return undefined;
  const pairsAt = (t: number) =>
    rows.map((r) => ({ confidence: withTemperature(r.row, t)[r.shown] as number, right: r.shown === r.truth }));
  const after = pairsAt(fit.temperature);
  return {
    temperature: fit.temperature,
    eceAfter: expectedCalibrationError(after),
    uncertainBelow: uncertainThreshold(after),
    byTemperature: REPORTED_TEMPERATURES.map((t) => {
      const pairs = pairsAt(t);
      return { temperature: t, ece: expectedCalibrationError(pairs), uncertainBelow: uncertainThreshold(pairs) };
    }),
  };
}

/** Shown label, its probability, and whether it is right, for each attribute a face is labelled for. */
function shownVsTruth(
  p: Labelled,
): Partial<Record<'age' | 'gender' | 'ethnicity' | 'emotion', { confidence: number; right: boolean }>> {
  const out: ReturnType<typeof shownVsTruth> = {};
  const { sample, attrs } = p;
  if (attrs.age && (sample.ageGroup !== undefined || sample.age !== undefined)) {
    const truth = sample.ageGroup ?? ageGroupOf(sample.age ?? 0);
    out.age = { confidence: attrs.age.groupProbabilities[attrs.age.group] ?? 0, right: attrs.age.group === truth };
  }
  if (attrs.gender && sample.gender !== undefined) {
    out.gender = { confidence: attrs.gender.probability, right: attrs.gender.label === sample.gender };
  }
  for (const key of ['ethnicity', 'emotion'] as const) {
    const est = attrs[key];
    if (!est || sample[key] === undefined) continue;
    out[key] = {
      confidence: (est.probabilities as Record<string, number>)[est.label] ?? 0,
      right: est.label === sample[key],
    };
  }
  return out;
}

function calibrationErrors(predictions: readonly Labelled[]): AttributeReport['calibration'] {
  const pairs: Record<string, { confidence: number; right: boolean }[]> = {};
  const rows: Record<string, { row: number[]; shown: number; truth: number }[]> = {};
  for (const p of predictions) {
    for (const [k, v] of Object.entries(shownVsTruth(p))) (pairs[k] ??= []).push(v);
    for (const [k, v] of Object.entries(probabilityRows(p))) if (v.truth >= 0 && v.shown >= 0) (rows[k] ??= []).push(v);
  }
  return Object.fromEntries(
    Object.entries(pairs).map(([k, v]) => {
      const fit = rows[k] ? temperatureFit(rows[k]) : undefined;
      const report: CalibrationReport = { ece: expectedCalibrationError(v), count: v.length };
      if (fit) report.fit = fit;
      return [k, report];
    }),
  );
}

function biasReport(predictions: readonly Labelled[]): AttributeReport['bias'] | undefined {
  const race = (s: AttributeSample) => s.ethnicity7 ?? s.ethnicity;
  const full = predictions.filter(
    (p) => race(p.sample) && p.sample.gender && (p.sample.ageGroup ?? p.sample.age) !== undefined,
  );
  if (full.length === 0) return undefined;
  const cells = (key: (s: AttributeSample) => string, order: (a: string, b: string) => number) => {
    const groups = new Map<string, Labelled[]>();
    for (const p of full) groups.set(key(p.sample), [...(groups.get(key(p.sample)) ?? []), p]);
    return Object.fromEntries(
      [...groups.entries()]
        .sort(([a], [b]) => order(a, b))
        .map(([k, ps]) => {
          const cell: BiasCell = { faces: ps.length };
          for (const attr of ['age', 'gender', 'ethnicity'] as const) {
            const judged = ps.map((p) => shownVsTruth(p)[attr]).filter((v) => v !== undefined);
            if (judged.length) cell[attr] = judged.filter((v) => v.right).length / judged.length;
          }
          return [k, cell];
        }),
    );
  };
  return {
    byRaceGender: cells(
      (s) => `${race(s)} ${s.gender}`,
      (a, b) => a.localeCompare(b),
    ),
    // Youngest first, not alphabetically ('10-19' before '3-9').
    byAgeGroup: cells(
      (s) => s.ageGroup ?? ageGroupOf(s.age ?? 0),
      (a, b) => AGE_GROUPS.indexOf(a as AgeGroup) - AGE_GROUPS.indexOf(b as AgeGroup),
    ),
  };
}

/**
 * "The crop is the face": no detector; the whole image is the face box, and without landmarks every
 * network gets the crop itself (aligned recipes fall back to the box).
 */
async function classifyCrop(analyzer: FaceAnalyzer, file: string): Promise<Attributes> {
  const image = await decodeForAnalysis(file, analyzer.options.decode);
  const face: Detection = { box: { x1: 0, y1: 0, x2: image.width, y2: image.height }, score: 1, landmarks: [] };
  const [attrs] = await analyzer.attributes(image, new AreaSampler(image), [face]);
  return attrs ?? {};
}

/** Which detected face stands for the labelled one in detect mode. */
export type FacePick = 'largest' | 'central';

/**
 * The face that stands for the image's label: the largest, or the one whose centre is nearest the
 * image's centre (sets whose label is the centre face, with others beside it: LFW-style news photos).
 */
export function pickFace<F extends { box: { x: number; y: number; width: number; height: number } }>(
  faces: readonly F[],
  image: { width: number; height: number },
  pick: FacePick,
): F | undefined {
  let best: F | undefined;
  let bestScore = -Infinity;
  for (const f of faces) {
    const score =
      pick === 'largest'
        ? f.box.width * f.box.height
        : -Math.hypot(f.box.x + f.box.width / 2 - image.width / 2, f.box.y + f.box.height / 2 - image.height / 2);
    if (score > bestScore) {
      best = f;
      bestScore = score;
    }
  }
  return best;
}

async function classifyDetectedFace(
  analyzer: FaceAnalyzer,
  file: string,
  pick: FacePick,
): Promise<Attributes | undefined> {
  const analysis = await analyzer.analyze(file);
  return pickFace(analysis.faces, analysis, pick);
}
