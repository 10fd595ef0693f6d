/**
 * How many corrections does a fine-tune need? A learning curve from simulated users: the dev set plays
 * a user's library. Per seed, its faces are split into the part the user browses (70 %) and the
 * user's other faces (30 %, the test). The user browses faces in random order and corrects every
 * attribute the installed heads got wrong, until N corrections; the heads are fine-tuned on them
 * (fineTuneHeads, as `--from-corrections` does) and scored on the test faces, before and after.
 */
import { type HeadTask, TASK_LABELS, readHeadsManifest, headsDir } from '../../main/engine/attributes/heads.js';
import type { ModelStore } from '../../main/engine/sessions.js';
import {
  type AnchorFace,
  type Correction,
  type FineTuneOptions,
  type HeadsModel,
  fineTuneOnCorrections,
  scoreOnCorrections,
} from '../../main/learning/corrections.js';
import { type Dataset, concatDatasets, subsetDataset } from '../../main/learning/data.js';
import { buildDataset } from './dataset.js';
import { type FramingName, embedSet, isFramingName } from './embeddings.js';
import { argmaxRow, predict } from '../../main/learning/model.js';
import { DEFAULT_DEV_SETS } from './pipeline.js';
import { Rng } from '../../main/learning/rng.js';
import { activeHeadsBytes, readHeadsParams } from '../../main/learning/store.js';

export interface CurvePoint {
  corrections: number;
  facesBrowsed: number;
  /** Test-face accuracy per attribute, mean over seeds: before → after. */
  before: Partial<Record<HeadTask, number>>;
  after: Partial<Record<HeadTask, number>>;
  /** Mean over attributes and seeds of (after − before), and the smallest per-seed gain. */
  meanGain: number;
  worstSeedGain: number;
}

export async function simulateCorrections(
  models: ModelStore,
  options: {
    log: (line: string) => void;
    seed: number;
    sizes?: number[];
    seeds?: number;
    devSets?: string[];
    fineTune?: Partial<FineTuneOptions>;
    focus?: { task: HeadTask; label: string; share: number };
  },
): Promise<{ points: CurvePoint[]; table: string }> {
  const dir = headsDir();
  const manifest = readHeadsManifest(dir);
  if (!manifest?.active) throw new Error('no heads installed: run `facets train-heads` first');
  const { bytes } = activeHeadsBytes(dir);
  const base: HeadsModel = readHeadsParams(bytes);
  const entry = manifest.active;
  const framing = String(entry.training['framing'] ?? 'crop');
  if (!isFramingName(framing)) throw new Error(`heads trained with unknown framing ${framing}`);
  const tasks = base.config.tasks.map((t) => t.name as HeadTask);
  const parts: Dataset[] = [];
  for (const folder of options.devSets ?? DEFAULT_DEV_SETS) {
    const { samples, tables } = await embedSet(models, folder, entry.embedding.models, framing as FramingName);
    parts.push(buildDataset(samples, tables, tasks, entry.embedding.flip ? 'average' : 'none', folder));
  }
  // Only faces with a label the heads estimate (UTKFace-like dev faces: age, gender, ethnicity).
  const all = concatDatasets(parts);
  const probs = predict(base.config, base.params, all.x, all.n);
  const predicted = tasks.map((t, ti) =>
    Int32Array.from({ length: all.n }, (_, i) => argmaxRow(probs[ti] as Float32Array, i, TASK_LABELS[t].length)),
  );
  // The simulated user's faces: the whole dev set, or (focus) one where a label the heads handle badly
  // makes up `share` of the faces (e.g. a family album of Black faces, which utkface-train lacks).
  const userLibrary = (rng: Rng): number[] => {
    const everyone = Array.from({ length: all.n }, (_, i) => i);
    const focus = options.focus;
    if (!focus) return everyone;
    const ti = tasks.indexOf(focus.task);
    const label = TASK_LABELS[focus.task].indexOf(focus.label);
    const inFocus = everyone.filter((i) => (all.labels[ti] as Int32Array)[i] === label);
    const labelled = everyone.filter((i) => ((all.labels[ti] as Int32Array)[i] as number) >= 0 && !inFocus.includes(i));
    const others = rng.shuffle(labelled).slice(0, Math.round((inFocus.length * (1 - focus.share)) / focus.share));
    return [...inFocus, ...others];
  };
  const sizes = options.sizes ?? [10, 25, 50, 100, 200, 400];
  const seeds = options.seeds ?? 3;
  const points: CurvePoint[] = [];
  for (const size of sizes) {
    const before: Record<string, number[]> = {};
    const after: Record<string, number[]> = {};
    const gains: number[] = [];
    let browsedTotal = 0;
    let ran = 0;
    for (let s = 0; s < seeds; s++) {
      const rng = new Rng(options.seed * 1000 + s);
      const order = rng.shuffle(userLibrary(rng));
      const cut = Math.round(order.length * 0.7);
      const pool = order.slice(0, cut);
      const test = subsetDataset(all, order.slice(cut));
      // The user corrects wrong predictions, face by face.
      const labels = tasks.map(() => [] as number[]);
      const faces: number[] = [];
      let count = 0;
      let browsed = 0;
      for (const i of pool) {
        if (count >= size) break;
        browsed++;
        let corrected = false;
        tasks.forEach((_, ti) => {
          const truth = (all.labels[ti] as Int32Array)[i] as number;
          const wrong = truth >= 0 && (predicted[ti] as Int32Array)[i] !== truth && count < size;
          (labels[ti] as number[]).push(wrong ? truth : -1);
          if (wrong) {
            count++;
            corrected = true;
          }
        });
        faces.push(i);
        if (!corrected) tasks.forEach((_, ti) => (labels[ti] as number[]).pop());
        if (!corrected) faces.pop();
      }
      if (count < size) continue;
      // What the library would hold: the corrections, and the corrected faces' other attributes as
      // confirmations (shown right and left standing). The full procedure then runs on them.
      const corrections: Correction[] = [];
      faces.forEach((i, k) => {
        tasks.forEach((task, ti) => {
          const corrected = (labels[ti] as number[])[k] as number;
          const truth = (all.labels[ti] as Int32Array)[i] as number;
          if (truth < 0) return;
          // A confirmation is what Facets showed, right or (past the budget) wrong.
          const value = corrected >= 0 ? corrected : ((predicted[ti] as Int32Array)[i] as number);
          corrections.push({
            embedding: all.x.subarray(i * all.dim, (i + 1) * all.dim),
            attribute: task,
            value: TASK_LABELS[task][value] as string,
            faceId: i,
            ...(corrected >= 0 ? {} : { confirmed: true }),
          });
        });
      });
      // The rest of the library: its uncorrected faces, as anchors.
      const correctedSet = new Set(faces);
      const anchors: AnchorFace[] = pool
        .filter((i) => !correctedSet.has(i))
        .map((i) => ({ embedding: all.x.subarray(i * all.dim, (i + 1) * all.dim), faceId: i }));
      const result = fineTuneOnCorrections(base, corrections, {
        ...options.fineTune,
        anchors,
        minCorrections: 0,
        seed: options.seed * 1000 + s,
      });
      const tuned = result.heads;
      options.log(
        `${size} corrections, user ${s + 1}: held-out estimate ` +
          Object.entries(result.estimate)
            .map(
              ([t, e]) =>
                `${t} ${(e.before * 100).toFixed(1)}→${(e.after * 100).toFixed(1)}${result.accepted[t as HeadTask] ? ' kept' : ''}`,
            )
            .join(', '),
      );
      const b = scoreOnCorrections(base, test);
      const a = scoreOnCorrections(tuned, test);
      for (const t of tasks) {
        const bt = b.perAttribute[t];
        const at = a.perAttribute[t];
        if (!bt || !at) continue;
        (before[t] ??= []).push(bt.accuracy);
        (after[t] ??= []).push(at.accuracy);
      }
      gains.push(a.accuracy - b.accuracy);
      browsedTotal += browsed;
      ran++;
    }
    if (ran === 0) {
      options.log(`${size} corrections: the dev set has too few errors`);
      continue;
    }
    const mean = (v: number[]) => v.reduce((x, y) => x + y, 0) / v.length;
    points.push({
      corrections: size,
      facesBrowsed: Math.round(browsedTotal / ran),
      before: Object.fromEntries(Object.entries(before).map(([t, v]) => [t, mean(v)])),
      after: Object.fromEntries(Object.entries(after).map(([t, v]) => [t, mean(v)])),
      meanGain: mean(gains),
      worstSeedGain: Math.min(...gains),
    });
    options.log(`${size} corrections: mean gain ${(mean(gains) * 100).toFixed(1)} points over ${ran} simulated users`);
  }
  const pct = (v: number | undefined) => (v === undefined ? '-' : `${(v * 100).toFixed(1)}%`);
  const header = `| corrections | faces browsed | ${tasks.map((t) => `${t} before → after`).join(' | ')} | mean gain (worst user) |`;
  const table = [
    header,
    `|${'---|'.repeat(tasks.length + 3)}`,
    ...points.map(
      (p) =>
        `| ${p.corrections} | ${p.facesBrowsed} | ${tasks.map((t) => `${pct(p.before[t])} → ${pct(p.after[t])}`).join(' | ')} | ` +
        `${(p.meanGain * 100).toFixed(1)} (${(p.worstSeedGain * 100).toFixed(1)}) |`,
    ),
  ].join('\n');
  return { points, table };
}
