/**
 * [Note: presentation policy] What every front end shows of the library — the app (IPC and web mode,
 * through backend.ts), the CLI's `stats`, `query` and `export` — decided here, once:
 * - Corrections win: a face's shown value is the user's correction where there is one (the `faces`
 *   table's shown columns, which repositories/faces.ts keeps), marked corrected and never unsure.
 * - With ethnicity hidden (the `hideEthnicity` setting) no ethnicity value, confidence, prediction,
 *   correction, "unsure" mark or facet count is shown, and an ethnicity selection in a filter is
 *   ignored rather than refused (the UI hides the control; a CLI flag or an old link may still carry one).
 * XMP sidecars apply the same rule through export.ts's `faceRecord`.
 */
import type { Attribute, FaceDetail, FaceSummary, Facets, Filter, Settings } from '../api/contract.js';
import { ATTRIBUTES } from './attributes.js';
import { type FaceRecord, faceRecords } from './export.js';
import type { LibraryQueries } from './query.js';

export class Presentation {
  constructor(readonly hideEthnicity: boolean) {}

  static of(settings: Pick<Settings, 'hideEthnicity'>): Presentation {
    return new Presentation(settings.hideEthnicity);
  }

  /** The attributes shown, in order. */
  get attributes(): Attribute[] {
    return ATTRIBUTES.filter((a) => !(this.hideEthnicity && a === 'ethnicity'));
  }

  /** The filter as applied: a hidden attribute's selection (and its "hide uncertain") dropped. */
  filter(filter: Filter): Filter {
    if (!this.hideEthnicity) return filter;
    const { ethnicities: _hidden, ...rest } = filter;
    if (rest.hideUncertain?.includes('ethnicity'))
      rest.hideUncertain = rest.hideUncertain.filter((a) => a !== 'ethnicity');
    return rest;
  }

  face<F extends FaceSummary>(face: F): F {
    if (!this.hideEthnicity) return face;
    const { ethnicity: _hidden, ...rest } = face;
    return rest as F;
  }

  detail(detail: FaceDetail): FaceDetail {
    if (!this.hideEthnicity) return detail;
    const face = this.face(detail);
    return {
      ...face,
      predictions: face.predictions.filter((p) => p.attribute !== 'ethnicity'),
      corrections: face.corrections.filter((c) => c.attribute !== 'ethnicity'),
    };
  }

  facets(facets: Facets): Facets {
    return this.hideEthnicity ? { ...facets, ethnicity: [] } : facets;
  }

  /** The matching faces as flat records (`facets query`, `facets export`), by photo path. */
  records(queries: LibraryQueries, filter: Filter): Generator<FaceRecord> {
    return faceRecords(queries, this.filter(filter), this.hideEthnicity);
  }
}
