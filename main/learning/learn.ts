/**
 * Learning from the library's corrections, the one implementation behind the app's fine-tune (the
 * desktop app and web mode) and the CLI's `facets train-heads --from-corrections`: fine-tune the active
 * heads on the corrections of one library, install the result when an attribute kept its fine-tuned
 * branch (the replaced heads go to the manifest's history, for revert), and record what was measured on
 * the held-out corrections in `learning.json` next to the manifest, so the app can show it after a
 * restart (the CLI prints its own report instead).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HEAD_TASKS, type HeadTask, type HeadsEntry, activeHeadsDir, headsDir } from '../engine/attributes/heads.js';
import type { ModelStore } from '../engine/sessions.js';
import { DEFAULT_FINE_TUNE, type FineTuneResult, fineTuneOnCorrections } from './corrections.js';
import { correctionsWithEmbeddings } from './library-corrections.js';
import { exportHeadsOnnx, headsMetadata } from './onnx.js';
import { activeHeadsBytes, installHeads, readHeadsParams } from './store.js';

export type LearnStage = 'embedding' | 'training' | 'installing';

export interface LearnProgress {
  stage: LearnStage;
  /** Faces embedded so far (embedding); 0/1 otherwise. */
  done: number;
  total: number;
}

/** One attribute of a finished fine-tune, measured on the held-out corrections (accuracy 0..1). */
export interface LearnedAttribute {
  /** Accuracy of the base heads and of the fine-tuned branch; null without held-out corrections. */
  before: number | null;
  after: number | null;
  /** Held-out corrections of this attribute. */
  count: number;
  /** The held-out estimate over the library (corrected and uncorrected faces) the guard decided on. */
  estimate: { before: number; after: number } | null;
  /** The fine-tuned branch was kept (its estimate rose); otherwise the base's branch stays. */
  kept: boolean;
}

/** What a fine-tune measured and did: written to learning.json, shown by the app. */
export interface LearnRecord {
  /** Library database the corrections came from. */
  db: string;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  /** sha256 of the heads fine-tuned from. */
  base: string;
  /** sha256 of the heads installed, or null when no attribute did better (nothing installed). */
  installed: string | null;
  corrections: number;
  confirmations: number;
  faces: { fineTuned: number; heldOut: number; anchors: number; library: number; skipped: number };
  /** All held-out corrections together. */
  overall: { before: number; after: number; count: number };
  attributes: Partial<Record<HeadTask, LearnedAttribute>>;
}

const RECORD = 'learning.json';

export function readLearnRecord(dir: string = headsDir()): LearnRecord | null {
  const file = path.join(dir, RECORD);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LearnRecord;
  } catch {
    return null;
  }
}

export function writeLearnRecord(record: LearnRecord, dir: string = headsDir()): void {
  const file = path.join(dir, RECORD);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

export interface LearnOptions {
  /** The user's heads folder (default: FACETS_HEADS_DIR or heads/ in the application-data folder). */
  dir?: string;
  /** Refuse below this many corrections (default 200: the learning curve in models/README.md). */
  minCorrections?: number;
  /** Fraction of faces held out to measure before/after (default 0.25). */
  holdout?: number;
  seed?: number;
  /** Keep every attribute's fine-tuned branch, better on the held-out faces or not (the CLI's --force). */
  acceptAll?: boolean;
  /** Measure only: install nothing and write no learning.json (the CLI's --dry-run). */
  dryRun?: boolean;
  progress?: (progress: LearnProgress) => void;
}

/** A fine-tune's record and, for the CLI's report, what the fine-tune measured in full. */
export interface LearnOutcome {
  record: LearnRecord;
  result: FineTuneResult;
  /** Faces that could not be embedded, and why. */
  skipped: { faceId: number; reason: string }[];
  /** The manifest entry installed, or null (nothing kept, or a dry run). */
  installed: HeadsEntry | null;
}

/** What a fine-tune measured in full (the CLI's --json report, the manifest entry's `corrections`). */
export function fineTuneMeasurements(result: FineTuneResult) {
  return {
    before: result.before,
    after: result.after,
    heldOutFaces: { before: result.beforeFaces, after: result.afterFaces },
    agreementWithBase: result.agreement,
    estimate: result.estimate,
    accepted: result.accepted,
    seconds: result.seconds,
  };
}

const finite = (v: number | undefined): number | null => (v === undefined || Number.isNaN(v) ? null : v);

/**
 * Fine-tunes the active heads on the corrections of the library at `dbFile`, installs the result where
 * an attribute kept its fine-tune (unless a dry run), and records the measurements. Throws when there
 * are no heads, too few corrections, or the faces cannot be embedded.
 */
export async function fineTuneLibrary(
  models: ModelStore,
  dbFile: string,
  options: LearnOptions = {},
): Promise<LearnOutcome> {
  const dir = options.dir ?? headsDir();
  const startedAt = new Date().toISOString();
  // The base: the user's heads, else the shipped ones ([Note: heads in use]); the result goes to `dir`.
  const { entry, bytes } = activeHeadsBytes(activeHeadsDir(dir));
  const base = readHeadsParams(bytes);
  const seed = options.seed ?? DEFAULT_FINE_TUNE.seed;
  options.progress?.({ stage: 'embedding', done: 0, total: 0 });
  const data = await correctionsWithEmbeddings(
    models,
    dbFile,
    entry.embedding,
    entry.embedding.networks.map((n) => n.sha256),
    { seed, progress: (done, total) => options.progress?.({ stage: 'embedding', done, total }) },
  );
  options.progress?.({ stage: 'training', done: 0, total: 1 });
  const result = fineTuneOnCorrections(base, data.corrections, {
    anchors: data.anchors,
    minCorrections: options.minCorrections ?? DEFAULT_FINE_TUNE.minCorrections,
    holdout: options.holdout ?? DEFAULT_FINE_TUNE.holdout,
    seed,
    ...(options.acceptAll ? { accept: 'all' as const } : {}),
  });
  const attributes: Partial<Record<HeadTask, LearnedAttribute>> = {};
  for (const task of HEAD_TASKS) {
    const before = result.before.perAttribute[task];
    const after = result.after.perAttribute[task];
    const estimate = result.estimate[task];
    if (!before && !after && !estimate && result.accepted[task] === undefined) continue;
    attributes[task] = {
      before: finite(before?.accuracy),
      after: finite(after?.accuracy),
      count: after?.count ?? before?.count ?? 0,
      estimate: estimate ? { before: estimate.before, after: estimate.after } : null,
      kept: result.accepted[task] === true,
    };
  }
  const record: Omit<LearnRecord, 'installed' | 'finishedAt'> = {
    db: path.resolve(dbFile),
    startedAt,
    seconds: 0,
    base: entry.sha256,
    corrections: data.corrections.filter((c) => !c.confirmed).length,
    confirmations: data.corrections.filter((c) => c.confirmed).length,
    faces: {
      fineTuned: result.trained,
      heldOut: result.heldOut,
      anchors: result.anchors,
      library: data.libraryFaces,
      skipped: data.skipped.length,
    },
    overall: { before: result.before.accuracy, after: result.after.accuracy, count: result.after.count },
    attributes,
  };
  let installed: HeadsEntry | null = null;
  if (Object.values(result.accepted).some(Boolean) && !options.dryRun) {
    options.progress?.({ stage: 'installing', done: 0, total: 1 });
    // Labels the base never saw but the kept fine-tune was taught are no longer unseen.
    const unseen: Partial<Record<HeadTask, string[]>> = {};
    for (const [t, labels] of Object.entries(entry.unseen) as [HeadTask, string[]][]) {
      const left = labels.filter((l) => !(result.learned[t] ?? []).includes(l));
      if (left.length) unseen[t] = left;
    }
    const onnx = exportHeadsOnnx(
      result.heads.config,
      result.heads.params,
      headsMetadata(entry.embedding, entry.tasks, seed),
    );
    const { file: _file, sha256: _sha, ...rest } = entry;
    installed = installHeads(
      onnx,
      {
        ...rest,
        createdAt: new Date().toISOString(),
        origin: 'corrections',
        unseen,
        // The record so far and the fine-tune's own measurements, for whoever reads the manifest.
        corrections: { ...record, ...fineTuneMeasurements(result) },
      },
      dir,
    );
  }
  const finished: LearnRecord = {
    ...record,
    installed: installed?.sha256 ?? null,
    finishedAt: new Date().toISOString(),
    seconds: (Date.now() - Date.parse(startedAt)) / 1000,
  };
  if (!options.dryRun) writeLearnRecord(finished, dir); // the app shows the last fine-tune, CLI or app
  return { record: finished, result, skipped: data.skipped, installed };
}

/** The app's fine-tune (fineTuneLibrary): the record it wrote to learning.json. */
export async function learnFromLibrary(
  models: ModelStore,
  dbFile: string,
  options: LearnOptions = {},
): Promise<LearnRecord> {
  return (await fineTuneLibrary(models, dbFile, options)).record;
}
