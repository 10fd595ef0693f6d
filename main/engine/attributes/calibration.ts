/**
 * Run-time calibration of estimates that no heads calibrate (heads carry their own temperatures in their
 * manifest: research/heads/calibration.ts). Each entry is keyed by the assignment that serves the attribute
 * ("emotion+faceapi-expression"), so a different network or ensemble is never scaled by another's
 * temperature.
 *
 * [Note: calibrated confidence] A temperature is chosen where `facets eval` reports it (`calibration.
 * <attribute>.fit`): the one whose worse dev set has the lower expected calibration error, as the
 * networks themselves are chosen. `uncertainBelow` is the confidence under which the estimate was right
 * less than UNCERTAIN_ACCURACY of the time on those sets; the library's uncertainty marks read it through
 * `uncertainBelow()` alongside the heads' own thresholds, so "uncertain" means the same for every
 * attribute. The figures are in models/README.md ("Calibrated confidence").
 */
import type { EstimatedAttribute } from './ensemble.js';
import { withTemperature } from './heads.js';
import type { Attributes } from './networks.js';

export interface NetworkCalibration {
  temperature: number;
  /** Estimates less confident than this are marked uncertain. */
  uncertainBelow: number;
}

export const NETWORK_CALIBRATION: Readonly<Record<string, Partial<Record<EstimatedAttribute, NetworkCalibration>>>> = {
  // Both networks mirrored at run time (AttributeNetwork.mirror), face-api's framed as FairFace's.
  // fer2013-dev (crop) / emotion-photos-dev (detect), ECE at T 1: 8.7 / 12.6 %; at 1.6: 3.4 / 5.0 %
  // (1.5: 2.6 / 6.3, 1.75: 6.0 / 6.1). Right < 60 % of the time below 0.50 / 0.46 at 1.6: the worse set's.
  'emotion+faceapi-expression': { emotion: { temperature: 1.6, uncertainBelow: 0.5 } },
};

/** The calibration of `attribute` as served by `assignment` ("a" or "a+b"), if one was measured. */
export function networkCalibration(attribute: EstimatedAttribute, assignment: string): NetworkCalibration | undefined {
  return NETWORK_CALIBRATION[assignment]?.[attribute];
}

/** `value` with its class probabilities tempered as measured for this assignment (the label stays). */
export function calibrateEstimate<A extends EstimatedAttribute>(
  attribute: A,
  assignment: string,
  value: NonNullable<Attributes[A]>,
): NonNullable<Attributes[A]> {
  const c = networkCalibration(attribute, assignment);
  if (!c || c.temperature === 1 || !('probabilities' in value)) return value;
  const labels = Object.keys(value.probabilities);
  const tempered = withTemperature(
    labels.map((l) => (value.probabilities as Record<string, number>)[l] ?? 0),
    c.temperature,
  );
  return {
    ...value,
    probabilities: Object.fromEntries(labels.map((l, i) => [l, tempered[i] as number])),
  } as NonNullable<Attributes[A]>;
}
