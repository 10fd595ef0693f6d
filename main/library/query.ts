/**
 * Reading the library: photos and faces under a `Filter`, facet counts, details, as the API presents
 * them. The statements are in repositories/search.ts; here their rows are folded into facets and
 * turned into the contract's types.
 *
 * Semantics: a face matches when it satisfies every face condition and its photo every photo
 * condition; a photo matches when it satisfies the photo conditions and (if any face condition is
 * set) at least one of its faces satisfies all of them. `minConfidence` applies to each attribute
 * filtered on, and to the attribute of an attribute facet (so a facet's counts are what selecting
 * that value would return). Only photos whose file is present and readable are browsed.
 */
import path from 'node:path';
import type {
  Attribute,
  FaceDetail,
  FaceSummary,
  FacetCount,
  Facets,
  Filter,
  Page,
  PhotoDetail,
  PhotoSort,
  PhotoSummary,
  ScanError,
} from '../api/contract.js';
import { ATTRIBUTES, COLUMNS } from './attributes.js';
import type { Db } from './db.js';
import { FacetIndex } from './facet-index.js';
import { type FaceRepository, type FaceRow } from './repositories/faces.js';
import { type PhotoRow, folderRange } from './repositories/photos.js';
import {
  BIT_FACETS,
  FILTER_KEYS,
  type FaceWithPhotoRow,
  type FacetName,
  SearchRepository,
  bitLabels,
} from './repositories/search.js';
import { type UncertainThresholds, isUncertainValue, uncertainThresholds } from './uncertainty.js';

export const FACE_COUNT_BUCKETS = ['0', '1', '2', '3-5', '6+'] as const;

function faceCountBucket(n: number): string {
  return n <= 2 ? String(n) : n <= 5 ? '3-5' : '6+';
}

/** Does a shown value pass the filter's selection for its attribute? */
function selected(values: readonly string[] | undefined, value: string | null): boolean {
  return !values || values.length === 0 || (value !== null && values.includes(value));
}

export class LibraryQueries {
  readonly facetIndex: FacetIndex;
  private readonly search: SearchRepository;

  constructor(
    db: Db,
    private readonly faceRepository: FaceRepository,
  ) {
    this.facetIndex = new FacetIndex(db);
    this.search = new SearchRepository(db);
  }

  photos(filter: Filter, page: Page, sort: PhotoSort = 'taken'): { total: number; items: PhotoSummary[] } {
    const { total, rows } = this.search.photos(filter, page, sort);
    return { total, items: rows.map(photoSummary) };
  }

  faces(filter: Filter, page: Page): { total: number; items: FaceSummary[] } {
    const { total, rows } = this.search.faces(filter, page);
    const thresholds = uncertainThresholds();
    return { total, items: rows.map((row) => faceSummary(row, thresholds)) };
  }

  /** Every matching face with its photo's path, for the CLI and exports (streamed, not paged). */
  faceRows(filter: Filter): Generator<FaceWithPhotoRow> {
    return this.search.faceRows(filter);
  }

  /** Facet counts: from the in-memory facet index when it is fresh ([Note: facet index]), else by SQL. */
  facets(filter: Filter, target: 'photos' | 'faces', roots: readonly string[]): Facets {
    return this.facetIndex.facets(filter, target, roots) ?? this.sqlFacets(filter, target, roots);
  }

  /** Facet counts by SQL over the covering indexes (the facet index's reference). */
  sqlFacets(filter: Filter, target: 'photos' | 'faces', roots: readonly string[]): Facets {
    const attributes = target === 'faces' ? this.faceAttributeFacets(filter) : this.photoAttributeFacets(filter);
    return { ...attributes, ...this.photoLevelFacets(filter, target, roots) };
  }

  /**
   * Attribute and corrected facets over faces: the faces grouped by their shown values, folded here
   * into each facet under the other facets' selections. With minConfidence, each facet gets its own
   * conditional count (its attribute and the filtered ones confident).
   */
  private faceAttributeFacets(filter: Filter): Pick<Facets, Attribute | 'corrected' | 'total'> {
    const facets = emptyCounts();
    let total = 0;
    for (const row of this.search.attributeGroups(filter)) {
      const labels = row.slice(0, 4) as (string | null)[];
      const isCorrected = (row[4] as number) !== 0;
      const perFacet = row.slice(5, 9) as number[];
      const all = row[9] as number;
      const passes = ATTRIBUTES.map((a, i) => selected(filter[FILTER_KEYS[a]], labels[i] ?? null));
      const correctedPasses = !filter.corrected || (filter.corrected === 'corrected') === isCorrected;
      const othersPass = (skip: number) => passes.every((ok, i) => ok || i === skip);
      ATTRIBUTES.forEach((a, i) => {
        const label = labels[i];
        if (label && correctedPasses && othersPass(i)) bump(facets[a], label, perFacet[i] ?? 0);
      });
      if (othersPass(-1)) {
        bump(facets.corrected, isCorrected ? 'corrected' : 'uncorrected', all);
        if (correctedPasses) total += all;
      }
    }
    return { ...orderedAttributeFacets(facets), total };
  }

  /** Attribute and corrected facets over photos (a photo counts once per value it has a face with). */
  private photoAttributeFacets(filter: Filter): Pick<Facets, Attribute | 'corrected' | 'total'> {
    const row = this.search.photoAttributeCounts(filter);
    const facets = emptyCounts();
    let column = 0;
    for (const facet of BIT_FACETS) {
      for (const label of bitLabels(facet)) bump(facets[facet], label, row[column++] ?? 0);
    }
    return { ...orderedAttributeFacets(facets), total: this.search.photoCount(filter) };
  }

  /**
   * Face count, folder and year facets: one scan grouped by (face count, folder, year) under the face
   * conditions and the date range, folded here under the folder and face-count selections. The year
   * facet gets its own scan only while a date range is set (it must ignore it).
   */
  private photoLevelFacets(filter: Filter, target: 'photos' | 'faces', roots: readonly string[]) {
    const grouped = (photoExcept: FacetName[]) => this.search.photoLevelGroups(filter, target, photoExcept);
    const inFolder = (folder: string) =>
      !filter.folder || folder === filter.folder || folder.startsWith(folderRange(filter.folder)[0]);
    const faceCountOk = (n: number) =>
      (filter.minFaces === undefined || n >= filter.minFaces) &&
      (filter.maxFaces === undefined || n <= filter.maxFaces);
    const faceCount = new Map<string, number>();
    const folders = new Map<string, number>();
    const years = new Map<string, number>();
    for (const [n, folder, year, count] of grouped(['folder', 'faceCount'])) {
      if (inFolder(folder)) bump(faceCount, faceCountBucket(n), count);
      if (faceCountOk(n)) bump(folders, folder, count);
      if (inFolder(folder) && faceCountOk(n)) bump(years, String(year), count);
    }
    if (filter.takenFrom || filter.takenTo) {
      years.clear();
      for (const [n, folder, year, count] of grouped(['year', 'folder', 'faceCount'])) {
        if (inFolder(folder) && faceCountOk(n)) bump(years, String(year), count);
      }
    }
    return {
      faceCount: ordered(faceCount, FACE_COUNT_BUCKETS),
      folder: foldersFacet(folders, roots),
      year: [...years].map(([value, count]) => ({ value, count })).sort((a, b) => b.value.localeCompare(a.value)),
    };
  }

  /** Files recorded with an error (present ones), for the errors view. */
  errors(page: Page): { total: number; items: ScanError[] } {
    const { total, rows } = this.search.errors(page);
    return {
      total,
      items: rows.map((r) => ({
        photoId: r.id,
        path: r.path,
        error: r.error ?? 'unknown error',
        at: r.at ?? r.added,
        ...(r.status === 'ok' ? { damaged: true } : {}),
      })),
    };
  }

  photoDetail(id: number): PhotoDetail | undefined {
    const row = this.search.photo(id);
    if (!row) return undefined;
    return {
      ...photoSummary(row),
      folder: row.folder,
      size: row.size,
      format: row.format ?? path.extname(row.path).slice(1).toLowerCase(),
      camera: row.camera,
      status: row.missing_since ? 'missing' : row.status === 'ok' ? 'ok' : 'error',
      faces: this.faceRepository.ofPhoto(id).map((f) => this.detail(f)),
    };
  }

  faceDetail(id: number): FaceDetail | undefined {
    const row = this.faceRepository.byId(id);
    return row ? this.detail(row) : undefined;
  }

  private detail(row: FaceRow): FaceDetail {
    return {
      ...faceSummary(row),
      landmarks: JSON.parse(row.landmarks) as [number, number][],
      quality: {
        faceSize: row.face_size,
        sharpness: row.sharpness,
        reasons: JSON.parse(row.quality_reasons) as string[],
      },
      predictions: this.faceRepository.predictions(row.id).map((p) => ({
        attribute: p.attribute,
        label: p.label,
        confidence: p.confidence,
        probabilities: JSON.parse(p.probabilities) as Record<string, number>,
        model: p.model,
        modelVersion: p.model_version,
      })),
      corrections: this.faceRepository
        .corrections(row.id)
        .map((c) => ({ attribute: c.attribute, value: c.value, correctedAt: c.corrected_at })),
    };
  }
}

export function bump(counts: Map<string, number>, key: string, n: number): void {
  counts.set(key, (counts.get(key) ?? 0) + n);
}

export function emptyCounts(): Record<Attribute | 'corrected', Map<string, number>> {
  return { ageGroup: new Map(), gender: new Map(), ethnicity: new Map(), emotion: new Map(), corrected: new Map() };
}

/** Counts in a fixed value order, zeros included, so the UI lists every option. */
function ordered(counts: Map<string, number>, values: readonly string[]): FacetCount[] {
  return values.map((value) => ({ value, count: counts.get(value) ?? 0 }));
}

export function orderedAttributeFacets(counts: Record<Attribute | 'corrected', Map<string, number>>) {
  return {
    ageGroup: ordered(counts.ageGroup, COLUMNS.ageGroup.labels),
    gender: ordered(counts.gender, COLUMNS.gender.labels),
    ethnicity: ordered(counts.ethnicity, COLUMNS.ethnicity.labels),
    emotion: ordered(counts.emotion, COLUMNS.emotion.labels),
    corrected: ordered(counts.corrected, ['corrected', 'uncorrected']),
  };
}

/** Folder counts folded into each library root and its direct sub-folders. */
export function foldersFacet(byFolder: Map<string, number>, roots: readonly string[]): FacetCount[] {
  const counts = new Map<string, number>();
  const add = (key: string, n: number) => counts.set(key, (counts.get(key) ?? 0) + n);
  for (const root of roots) counts.set(root, 0);
  for (const [folder, count] of byFolder) {
    for (const root of roots) {
      if (folder !== root && !folder.startsWith(root.endsWith(path.sep) ? root : root + path.sep)) continue;
      add(root, count);
      const rest = path.relative(root, folder);
      if (rest) add(path.join(root, rest.split(path.sep)[0] as string), count);
    }
  }
  return [...counts].map(([value, count]) => ({ value, count }));
}

export function faceSummary(row: FaceRow, thresholds: UncertainThresholds = uncertainThresholds()): FaceSummary {
  const isCorrected = (a: Attribute) => (row.corrected & COLUMNS[a].bit) !== 0;
  const summary: FaceSummary = {
    id: row.id,
    photoId: row.photo_id,
    box: { x: row.x, y: row.y, width: row.w, height: row.h },
    score: row.score,
    uncertain: row.uncertain !== 0,
  };
  if (row.source === 'user' || row.source === 'xmp') summary.added = row.source; // [Note: face edits]
  const shown = (attribute: Attribute, value: string | null, confidence: number | null) => {
    if (value === null) return undefined;
    const corrected = isCorrected(attribute);
    return {
      value,
      confidence: confidence ?? 0,
      corrected,
      uncertain: isUncertainValue(attribute, confidence, corrected, thresholds),
    };
  };
  const ageGroup = shown('ageGroup', row.age_group, row.age_group_conf);
  if (ageGroup) summary.ageGroup = ageGroup as NonNullable<FaceSummary['ageGroup']>;
  if (row.age_years !== null && !isCorrected('ageGroup')) summary.ageYears = row.age_years;
  const gender = shown('gender', row.gender, row.gender_conf);
  if (gender) summary.gender = gender as NonNullable<FaceSummary['gender']>;
  const ethnicity = shown('ethnicity', row.ethnicity, row.ethnicity_conf);
  if (ethnicity) summary.ethnicity = ethnicity as NonNullable<FaceSummary['ethnicity']>;
  const emotion = shown('emotion', row.emotion, row.emotion_conf);
  if (emotion) summary.emotion = emotion as NonNullable<FaceSummary['emotion']>;
  return summary;
}

export function photoSummary(row: PhotoRow): PhotoSummary {
  return {
    id: row.id,
    path: row.path,
    width: row.width ?? 0,
    height: row.height ?? 0,
    takenAt: row.taken_at,
    faceCount: row.face_count,
  };
}
