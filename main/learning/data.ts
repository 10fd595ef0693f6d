/**
 * Labelled embeddings: the training and evaluation data of the heads, with partial labels (a sample
 * carries a label only for the tasks its set labels: UTKFace age group, gender, ethnicity; FER2013
 * emotion). Label −1 = unknown, masked out of that task's loss. Datasets built from the research
 * sets' embedding tables: research/heads/dataset.ts; from the library's corrections: corrections.ts.
 */
import { TASK_LABELS, type HeadTask } from '../engine/attributes/heads.js';
import { AGE_GROUPS } from '../engine/attributes/labels.js';

export interface Dataset {
  /** n × dim inputs. */
  x: Float32Array;
  /** The same faces mirrored (n × dim), where known. */
  mirrored?: Float32Array;
  dim: number;
  n: number;
  /** Per task (in `tasks` order): label index per sample, −1 when unknown, SOFT (−2): see `soft`. */
  labels: Int32Array[];
  /** Per task, where some labels are SOFT: n × K probability targets. */
  soft?: (Float32Array | undefined)[];
  tasks: HeadTask[];
  /** Age in years per sample (NaN when unknown), for age MAE. */
  years: Float64Array;
  /** Where each sample came from (set name), for summaries. */
  source: string[];
  paths: string[];
}

/** Several datasets as one (same tasks and dimension). */
export function concatDatasets(parts: readonly Dataset[]): Dataset {
  const first = parts[0];
  if (!first) throw new Error('no datasets');
  const n = parts.reduce((s, p) => s + p.n, 0);
  const x = new Float32Array(n * first.dim);
  const withMirror = parts.every((p) => p.mirrored);
  const mirrored = withMirror ? new Float32Array(n * first.dim) : undefined;
  let offset = 0;
  for (const p of parts) {
    if (p.dim !== first.dim) throw new Error('datasets differ in dimension');
    x.set(p.x, offset * first.dim);
    if (mirrored && p.mirrored) mirrored.set(p.mirrored, offset * first.dim);
    offset += p.n;
  }
  const anySoft = parts.some((p) => p.soft?.some(Boolean));
  const soft = anySoft
    ? first.tasks.map((task, ti) => {
        const K = TASK_LABELS[task].length;
        if (!parts.some((p) => p.soft?.[ti])) return undefined;
        const out = new Float32Array(n * K);
        let o = 0;
        for (const p of parts) {
          const s = p.soft?.[ti];
          if (s) out.set(s, o * K);
          o += p.n;
        }
        return out;
      })
    : undefined;
  return {
    x,
    ...(mirrored ? { mirrored } : {}),
    ...(soft ? { soft } : {}),
    dim: first.dim,
    n,
    labels: first.tasks.map((_, ti) => {
      const out = new Int32Array(n);
      let o = 0;
      for (const p of parts) {
        out.set(p.labels[ti] as Int32Array, o);
        o += p.n;
      }
      return out;
    }),
    tasks: first.tasks,
    years: Float64Array.from(parts.flatMap((p) => [...p.years])),
    source: parts.flatMap((p) => p.source),
    paths: parts.flatMap((p) => p.paths),
  };
}

/** A subset of a dataset by sample index. */
export function subsetDataset(d: Dataset, indices: readonly number[]): Dataset {
  const x = new Float32Array(indices.length * d.dim);
  const mirrored = d.mirrored ? new Float32Array(indices.length * d.dim) : undefined;
  indices.forEach((r, i) => {
    x.set(d.x.subarray(r * d.dim, (r + 1) * d.dim), i * d.dim);
    if (mirrored && d.mirrored) mirrored.set(d.mirrored.subarray(r * d.dim, (r + 1) * d.dim), i * d.dim);
  });
  const soft = d.soft?.map((s, ti) => {
    if (!s) return undefined;
    const K = TASK_LABELS[d.tasks[ti] as HeadTask].length;
    const out = new Float32Array(indices.length * K);
    indices.forEach((r, i) => out.set(s.subarray(r * K, (r + 1) * K), i * K));
    return out;
  });
  return {
    x,
    ...(mirrored ? { mirrored } : {}),
    ...(soft ? { soft } : {}),
    dim: d.dim,
    n: indices.length,
    labels: d.labels.map((l) => Int32Array.from(indices, (r) => l[r] as number)),
    tasks: d.tasks,
    years: Float64Array.from(indices, (r) => d.years[r] as number),
    source: indices.map((r) => d.source[r] as string),
    paths: indices.map((r) => d.paths[r] as string),
  };
}

/** The dataset relabelled to `tasks` (labels for other tasks dropped, missing ones −1). */
export function reTask(d: Dataset, tasks: readonly HeadTask[]): Dataset {
  return {
    ...d,
    tasks: [...tasks],
    labels: tasks.map((t) => {
      const i = d.tasks.indexOf(t);
      return i >= 0 ? (d.labels[i] as Int32Array) : new Int32Array(d.n).fill(-1);
    }),
  };
}

/** Per task, the number of samples per class (for summaries and class balancing). */
export function classCounts(d: Dataset): Record<string, Record<string, number>> {
  return Object.fromEntries(
    d.tasks.map((task, ti) => {
      const counts: Record<string, number> = Object.fromEntries(TASK_LABELS[task].map((l) => [l, 0]));
      for (const y of d.labels[ti] as Int32Array) if (y >= 0) counts[TASK_LABELS[task][y] as string]! += 1;
      return [task, counts];
    }),
  );
}

/** Median training age per age group: the heads' representative years (age in years from group probabilities). */
export function ageGroupYears(d: Dataset): number[] {
  const ti = d.tasks.indexOf('age');
  const byGroup: number[][] = AGE_GROUPS.map(() => []);
  if (ti >= 0) {
    const labels = d.labels[ti] as Int32Array;
    for (let i = 0; i < d.n; i++) {
      const y = labels[i] as number;
      const years = d.years[i] as number;
      if (y >= 0 && !Number.isNaN(years)) byGroup[y]?.push(years);
    }
  }
  // Fallback where a group has no ages: its midpoint (70+: 78).
  const fallback = [1, 6, 15, 25, 35, 45, 55, 65, 78];
  return byGroup.map((ys, g) => {
    if (ys.length === 0) return fallback[g] as number;
    const s = [...ys].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
  });
}
