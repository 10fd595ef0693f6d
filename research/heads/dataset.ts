/**
 * Training and dev datasets of the heads from the research sets (../shared/data): each sample's labels
 * and its embeddings as computed by research/heads/embeddings.ts. The Dataset type and the operations
 * the app's fine-tuning shares live in main/learning/data.ts.
 */
import { TASK_LABELS, type HeadTask } from '../../main/engine/attributes/heads.js';
import { ageGroupOf } from '../../main/engine/attributes/labels.js';
import type { Dataset } from '../../main/learning/data.js';
import type { AttributeSample } from '../eval/datasets.js';
import type { EmbeddingTable } from './embeddings.js';

export type FlipMode = 'none' | 'average' | 'augment';

/** Label index of a sample for a task, or −1. */
export function labelIndex(task: HeadTask, sample: AttributeSample): number {
  const value =
    task === 'age'
      ? (sample.ageGroup ?? (sample.age !== undefined ? ageGroupOf(sample.age) : undefined))
      : sample[task as 'gender' | 'ethnicity' | 'emotion'];
  return value === undefined ? -1 : TASK_LABELS[task].indexOf(value);
}

/**
 * A dataset from samples and their embedding tables (one per embedding network, concatenated in
 * order). `flip`: 'none' the plain crop's embedding; 'average' the mean of plain and mirrored;
 * 'augment' the plain one, with the mirrored kept for training-time augmentation.
 */
export function buildDataset(
  samples: readonly AttributeSample[],
  tables: readonly EmbeddingTable[],
  tasks: readonly HeadTask[],
  flip: FlipMode,
  source: string,
): Dataset {
  const dim = tables.reduce((s, t) => s + t.dim, 0);
  const n = samples.length;
  const x = new Float32Array(n * dim);
  const mirrored = new Float32Array(n * dim);
  const rows = tables.map((t) => new Map(t.paths.map((p, i) => [p, i])));
  samples.forEach((s, i) => {
    let offset = 0;
    tables.forEach((t, ti) => {
      const r = rows[ti]?.get(s.path);
      if (r === undefined) throw new Error(`no ${t.network} embedding for ${s.path}`);
      const plain = t.vectors.subarray(2 * r * t.dim, (2 * r + 1) * t.dim);
      const mirror = t.vectors.subarray((2 * r + 1) * t.dim, (2 * r + 2) * t.dim);
      for (let k = 0; k < t.dim; k++) {
        const a = plain[k] as number;
        const b = mirror[k] as number;
        x[i * dim + offset + k] = flip === 'average' ? (a + b) / 2 : a;
        mirrored[i * dim + offset + k] = flip === 'average' ? (a + b) / 2 : b;
      }
      offset += t.dim;
    });
  });
  return {
    x,
    ...(flip === 'augment' ? { mirrored } : {}),
    dim,
    n,
    labels: tasks.map((task) => Int32Array.from(samples, (s) => labelIndex(task, s))),
    tasks: [...tasks],
    years: Float64Array.from(samples, (s) => s.age ?? NaN),
    source: samples.map(() => source),
    paths: samples.map((s) => s.path),
  };
}
