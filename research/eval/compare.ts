/**
 * `facets eval <attribute set> --compare`: runs every candidate network for every attribute under
 * several crop recipes on the same detected faces, plus simple ensembles, and tabulates accuracy — the
 * measurement behind DEFAULT_ASSIGNMENT and the recipes in main/engine/attributes/networks.ts.
 * Aligned recipes are skipped for faces without landmarks (crop mode where the detector found none),
 * so their counts can be lower.
 */
import type { FaceAnalyzer } from '../../main/engine/analyzer.js';
import { EMOTIONS, ETHNICITIES, GENDERS } from '../../main/engine/attributes/labels.js';
import { combineEstimates } from '../../main/engine/attributes/ensemble.js';
import { type Attributes, NETWORKS } from '../../main/engine/attributes/networks.js';
import type { Detection } from '../../main/engine/detection/mtcnn.js';
import type { CropRecipe } from '../../main/engine/faces/crop.js';
import { decodeForAnalysis } from '../../main/engine/image/decode.js';
import { AreaSampler, toGrey } from '../../main/engine/image/resample.js';
import sharp from 'sharp';
import type { AttributeSample } from './datasets.js';
import { ageMetrics, classMetrics } from '../../main/learning/metrics.js';

export interface CompareRow {
  attribute: 'age' | 'gender' | 'ethnicity' | 'emotion';
  candidate: string;
  recipe: string;
  /** Accuracy (group accuracy for age). */
  accuracy: number;
  worstClassRecall?: number;
  mae?: number;
  count: number;
}

export const COMPARE_RECIPES: Record<string, CropRecipe> = {
  'box×0.85': { method: 'box', margin: 0.85 },
  'box×1.0': { method: 'box', margin: 1 },
  'box×1.25': { method: 'box', margin: 1.25 },
  'arcface×1.0': { method: 'align', margin: 1, template: 'arcface' },
  'utkface×1.0': { method: 'align', margin: 1, template: 'utkface' },
  'utkface×1.15': { method: 'align', margin: 1.15, template: 'utkface' },
  'fer×1.0': { method: 'align', margin: 1, template: 'fer' },
  'fairface×1.0': { method: 'align', margin: 1, template: 'fairface' },
};

const CANDIDATES: Record<CompareRow['attribute'], string[]> = {
  age: ['faceres', 'gear', 'faceapi-age-gender'],
  gender: ['faceres', 'gear', 'faceapi-age-gender'],
  ethnicity: ['gear'],
  emotion: ['emotion', 'faceapi-expression'],
};

type Run = { sample: AttributeSample; byKey: Map<string, Attributes> };

export async function compareCandidates(
  analyzer: FaceAnalyzer,
  samples: readonly AttributeSample[],
  mode: 'crop' | 'detect',
  progress?: (done: number, total: number) => void,
): Promise<{ rows: CompareRow[]; noFace: number }> {
  const wanted = new Set<string>();
  for (const attr of Object.keys(CANDIDATES) as CompareRow['attribute'][]) {
    if (samples.some((s) => hasLabel(s, attr))) for (const c of CANDIDATES[attr]) wanted.add(c);
  }
  const runs: Run[] = [];
  let noFace = 0;
  for (const [i, sample] of samples.entries()) {
    const image = await decodeForAnalysis(
      mode === 'detect' ? await mirrorPadded(sample.path) : sample.path,
      analyzer.options.decode,
    );
    const sampler = new AreaSampler(image);
    const faces = await analyzer.detector.detect(image, sampler);
    const detected = largest(faces);
    // 'crop': the image is the face box (recipes then crop relative to the whole image); landmarks
    // from the detector where it found the face, for the aligned recipes.
    const face: Detection | undefined =
      mode === 'crop'
        ? { box: { x1: 0, y1: 0, x2: image.width, y2: image.height }, score: 1, landmarks: detected?.landmarks ?? [] }
        : detected;
    progress?.(i + 1, samples.length);
    if (!detected) noFace++;
    if (!face) continue;
    const byKey = new Map<string, Attributes>();
    let grey: AreaSampler | undefined;
    for (const name of wanted) {
      const network = NETWORKS[name];
      if (!network) continue;
      for (const [recipeName, recipe] of Object.entries(COMPARE_RECIPES)) {
        if (recipe.method === 'align' && face.landmarks.length !== 5) continue;
        const source = network.grey ? (grey ??= new AreaSampler(toGrey(image))) : sampler;
        const saved = analyzer.options.recipes[name];
        analyzer.options.recipes[name] = recipe;
        const [attrs] = await analyzer.runNetwork(network, source, [face]);
        if (saved) analyzer.options.recipes[name] = saved;
        else delete analyzer.options.recipes[name];
        byKey.set(`${name}|${recipeName}`, attrs ?? {});
      }
    }
    runs.push({ sample, byKey });
  }
  const rows: CompareRow[] = [];
  for (const attr of Object.keys(CANDIDATES) as CompareRow['attribute'][]) {
    const labelled = runs.filter((r) => hasLabel(r.sample, attr));
    if (labelled.length === 0) continue;
    for (const recipeName of Object.keys(COMPARE_RECIPES)) {
      const candidates = CANDIDATES[attr];
      for (const c of candidates) {
        rows.push(
          score(
            attr,
            c,
            recipeName,
            labelled.map((r) => [r.sample, r.byKey.get(`${c}|${recipeName}`) ?? {}]),
          ),
        );
      }
      if (candidates.length > 1) {
        // Ensemble: average the candidates' probabilities (and years) per face.
        const ensemble = labelled.map((r): [AttributeSample, Attributes] => [
          r.sample,
          combineEstimates(
            attr,
            candidates.map((c) => r.byKey.get(`${c}|${recipeName}`) ?? {}),
          ),
        ]);
        rows.push(score(attr, candidates.join('+'), recipeName, ensemble));
      }
    }
  }
  return { rows, noFace };
}

/**
 * Face-crop sets are cut close around the face, so a recipe with a margin would reach past the image
 * and see zero padding that real photos don't have. Detect-mode comparisons therefore run on the crop
 * mirror-extended by half its size on every side, a stand-in for the surroundings of a real photo.
 */
async function mirrorPadded(file: string): Promise<Buffer> {
  const meta = await sharp(file).metadata();
  const pad = Math.round(Math.max(meta.width ?? 0, meta.height ?? 0) / 2);
  return sharp(file).extend({ top: pad, bottom: pad, left: pad, right: pad, extendWith: 'mirror' }).png().toBuffer();
}

function hasLabel(s: AttributeSample, attr: CompareRow['attribute']): boolean {
  return attr === 'age' ? s.ageGroup !== undefined : s[attr] !== undefined;
}

function score(
  attr: CompareRow['attribute'],
  candidate: string,
  recipe: string,
  pairs: [AttributeSample, Attributes][],
): CompareRow {
  if (attr === 'age') {
    const m = ageMetrics(
      pairs
        .filter(([, a]) => a.age)
        .map(([s, a]) => ({
          ...(s.age !== undefined ? { years: s.age } : {}),
          group: s.ageGroup as string,
          predictedYears: a.age?.years ?? 0,
          predictedGroup: a.age?.group ?? '',
        })),
    );
    return { attribute: attr, candidate, recipe, accuracy: m.groupAccuracy, mae: m.mae, count: m.count };
  }
  const labels = attr === 'gender' ? GENDERS : attr === 'ethnicity' ? ETHNICITIES : EMOTIONS;
  const m = classMetrics(
    labels,
    pairs
      .filter(([, a]) => a[attr])
      .map(([s, a]) => ({ truth: s[attr] as string, predicted: a[attr]?.label as string })),
  );
  return {
    attribute: attr,
    candidate,
    recipe,
    accuracy: m.accuracy,
    worstClassRecall: m.worstClassRecall,
    count: m.count,
  };
}

function largest(faces: readonly Detection[]): Detection | undefined {
  let best: Detection | undefined;
  const area = (d: Detection) => (d.box.x2 - d.box.x1) * (d.box.y2 - d.box.y1);
  for (const f of faces) if (!best || area(f) > area(best)) best = f;
  return best;
}

/** A candidate × recipe over several dev sets: each set's accuracy, the worst and the mean. */
export interface AcrossRow {
  attribute: CompareRow['attribute'];
  candidate: string;
  recipe: string;
  perSet: Record<string, { accuracy: number; count: number; worstClassRecall?: number; mae?: number }>;
  worst: number;
  mean: number;
}

/**
 * Joins the comparisons of several dev sets: a candidate × recipe counts only where every set that labels
 * its attribute scored it; `choices` per attribute maximise the worst set's accuracy (within one
 * standard error of the best, the best mean), never one set's figure.
 */
export function acrossSets(results: readonly { set: string; rows: readonly CompareRow[] }[]): {
  rows: AcrossRow[];
  choices: Partial<Record<CompareRow['attribute'], AcrossRow>>;
} {
  const byKey = new Map<string, AcrossRow>();
  const setsFor = new Map<string, Set<string>>();
  for (const { set, rows } of results) {
    for (const r of rows) {
      if (r.count === 0) continue;
      setsFor.set(r.attribute, (setsFor.get(r.attribute) ?? new Set()).add(set));
      const key = `${r.attribute}|${r.candidate}|${r.recipe}`;
      const row = byKey.get(key) ?? {
        attribute: r.attribute,
        candidate: r.candidate,
        recipe: r.recipe,
        perSet: {},
        worst: 0,
        mean: 0,
      };
      row.perSet[set] = {
        accuracy: r.accuracy,
        count: r.count,
        ...(r.worstClassRecall === undefined ? {} : { worstClassRecall: r.worstClassRecall }),
        ...(r.mae === undefined ? {} : { mae: r.mae }),
      };
      byKey.set(key, row);
    }
  }
  const rows = [...byKey.values()].filter(
    (r) => Object.keys(r.perSet).length === (setsFor.get(r.attribute)?.size ?? 0),
  );
  for (const r of rows) {
    const accs = Object.values(r.perSet).map((v) => v.accuracy);
    r.worst = Math.min(...accs);
    r.mean = accs.reduce((a, b) => a + b, 0) / accs.length;
  }
  // The best worst-set accuracy decides; candidates within its sampling error (one standard error on
  // that set) tie, and the tie goes to the best mean: a decimal of one set never decides.
  const choices: Partial<Record<CompareRow['attribute'], AcrossRow>> = {};
  for (const attribute of new Set(rows.map((r) => r.attribute))) {
    const mine = rows.filter((r) => r.attribute === attribute);
    const top = mine.reduce((a, b) => (b.worst > a.worst ? b : a));
    const n = Math.min(...Object.values(top.perSet).map((v) => v.count));
    const se = Math.sqrt((top.worst * (1 - top.worst)) / Math.max(1, n));
    choices[attribute] = mine.filter((r) => r.worst >= top.worst - se).reduce((a, b) => (b.mean > a.mean ? b : a));
  }
  return { rows, choices };
}
