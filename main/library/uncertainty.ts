/**
 * [Note: per-attribute uncertainty] Each shown estimate is marked uncertain on its own, below its
 * attribute's threshold. This file is the one place that threshold comes from: the library's
 * presentation (query.ts: `ShownValue.uncertain`, the "hide uncertain" filter), the UI (through the API
 * and `AppInfo.uncertainty`) and the CLI (query, export) all read `uncertainThresholds()`.
 *
 * Where the heads in use ([Note: heads in use]) serve an attribute and were calibrated for it, the
 * threshold is their calibration's `uncertainBelow` ([Note: uncertain means the same]: below it, estimates
 * of that attribute were right less than 60 % of the time on the dev sets). Elsewhere — an attribute the
 * pretrained networks serve (emotion), no heads installed, heads without calibration — it is
 * DEFAULT_UNCERTAIN_BELOW, chosen by the number of classes (two genders, five ethnicities, seven emotions,
 * nine adjacent age groups: a confidence well above chance). Corrections are never uncertain.
 *
 * An attribute served by an ensemble with the heads (gender: 'faceapi-age-gender+heads') uses the heads'
 * threshold: the closest measured figure there is for it. An attribute the networks serve with a measured
 * run-time calibration (emotion: [Note: calibrated confidence]) uses that calibration's threshold.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import type { Attribute } from '../api/contract.js';
import { DEFAULT_ASSIGNMENT } from '../engine/analyzer.js';
import { networkCalibration } from '../engine/attributes/calibration.js';
import type { EstimatedAttribute } from '../engine/attributes/ensemble.js';
import { HEADS_NETWORK, type HeadTask, activeHeadsDir, readHeadsManifest } from '../engine/attributes/heads.js';

/** The documented fallback thresholds (see the note above). */
export const DEFAULT_UNCERTAIN_BELOW: Readonly<Record<Attribute, number>> = {
  gender: 0.6,
  ethnicity: 0.4,
  emotion: 0.4,
  ageGroup: 0.3,
};

export interface UncertainThreshold {
  /** A shown, uncorrected estimate with a confidence below this is uncertain. */
  below: number;
  /** 'calibration': the heads' dev-set calibration; 'default': DEFAULT_UNCERTAIN_BELOW. */
  source: 'calibration' | 'default';
}

export type UncertainThresholds = Record<Attribute, UncertainThreshold>;

const TASK_OF: Record<Attribute, HeadTask> = {
  ageGroup: 'age',
  gender: 'gender',
  ethnicity: 'ethnicity',
  emotion: 'emotion',
};

let cache: { key: string; value: UncertainThresholds } | null = null;

/** Per attribute, the threshold below which its estimates are uncertain (re-read when the heads change). */
export function uncertainThresholds(dir: string = activeHeadsDir()): UncertainThresholds {
  const manifest = path.join(dir, 'manifest.json');
  let key: string;
  try {
    key = `${manifest}:${statSync(manifest).mtimeMs}`;
  } catch {
    key = `${manifest}:none`;
  }
  if (cache?.key === key) return cache.value;
  let active;
  try {
    active = readHeadsManifest(dir)?.active ?? null;
  } catch {
    active = null; // an unreadable manifest: the engine reports it; here the defaults apply
  }
  const value = Object.fromEntries(
    (Object.keys(DEFAULT_UNCERTAIN_BELOW) as Attribute[]).map((attribute) => {
      const task = TASK_OF[attribute];
      const calibration = active?.calibration?.[task];
      const served = active?.tasks.includes(task) && active.dev[task]?.choice.split('+').includes(HEADS_NETWORK);
      const estimated = task as EstimatedAttribute; // TASK_OF maps to the four estimated attributes
      const assigned = DEFAULT_ASSIGNMENT[estimated];
      const networks = !served && assigned ? networkCalibration(estimated, assigned) : undefined;
      const threshold: UncertainThreshold =
        calibration && served && calibration.uncertainBelow > 0 && calibration.uncertainBelow < 1
          ? { below: calibration.uncertainBelow, source: 'calibration' }
          : networks
            ? { below: networks.uncertainBelow, source: 'calibration' }
            : { below: DEFAULT_UNCERTAIN_BELOW[attribute], source: 'default' };
      return [attribute, threshold];
    }),
  ) as UncertainThresholds;
  cache = { key, value };
  return value;
}

/** Is a shown value uncertain? (Never a correction; a missing confidence counts as 0.) */
export function isUncertainValue(
  attribute: Attribute,
  confidence: number | null,
  corrected: boolean,
  thresholds: UncertainThresholds = uncertainThresholds(),
): boolean {
  return !corrected && (confidence ?? 0) < thresholds[attribute].below;
}
