/**
 * Reading the library: photos and faces under a `Filter`, facet counts, details. Face filters and
 * facets read `faces` alone (shown values and photo-level copies are denormalised there, and the
 * `faces_filter` index covers every filter column); photo queries read `photos` with an EXISTS on
 * faces when a face condition is set.
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
import { type UncertainThresholds, isUncertainValue, uncertainThresholds } from './uncertainty.js';

type FacetName = Exclude<keyof Facets, 'total'>;

export const FILTER_KEYS: Record<Attribute, 'ageGroups' | 'genders' | 'ethnicities' | 'emotions'> = {
  ageGroup: 'ageGroups',
  gender: 'genders',
  ethnicity: 'ethnicities',
  emotion: 'emotions',
};

export const FACE_COUNT_BUCKETS = ['0', '1', '2', '3-5', '6+'] as const;

function faceCountBucket(n: number): string {
  return n <= 2 ? String(n) : n <= 5 ? '3-5' : '6+';
}

interface Conditions {
  sql: string[];
  params: unknown[];
}

/** The same photo-level condition, on `photos` (alias p) or on the copies every face carries (alias f). */
const PHOTO_COLUMNS = {
  photos: {
    visible: `p.status = 'ok' AND p.missing_since IS NULL`,
    folder: 'p.folder',
    date: 'p.sort_date',
    faces: 'p.face_count',
  },
  faces: {
    visible: 'f.photo_visible = 1',
    folder: 'f.photo_folder',
    date: 'f.photo_sort_date',
    faces: 'f.photo_face_count',
  },
};

/** Conditions on a face's own values (alias f); `except` leaves out one facet's own selection. */
function faceConditions(filter: Filter, except?: FacetName): Conditions {
  const sql: string[] = [];
  const params: unknown[] = [];
  for (const attribute of ATTRIBUTES) {
    const values = filter[FILTER_KEYS[attribute]];
    if (attribute === except || !values || values.length === 0) continue;
    const c = COLUMNS[attribute];
    sql.push(`f.${c.value} IN (${values.map(() => '?').join(', ')})`);
    params.push(...values);
    if (filter.minConfidence !== undefined) {
      sql.push(`f.${c.confidence} >= ?`);
      params.push(filter.minConfidence);
    }
  }
  if (filter.corrected && except !== 'corrected') {
    sql.push(filter.corrected === 'corrected' ? 'f.corrected <> 0' : 'f.corrected = 0');
  }
  sql.push(...sureConditions(filter).sql);
  peopleCondition(filter, sql, params);
  return { sql, params };
}

/**
 * "Hide uncertain" on an attribute: its shown value is a correction, absent, or at least as confident as
 * its threshold ([Note: per-attribute uncertainty]). Numbers are written in (no parameters) so that the
 * facet queries can use them as they are.
 */
function sureConditions(filter: Filter): Conditions {
  const thresholds = uncertainThresholds();
  const sql = (filter.hideUncertain ?? []).map((a) => {
    const c = COLUMNS[a];
    return `((f.corrected & ${c.bit}) <> 0 OR f.${c.value} IS NULL OR f.${c.confidence} >= ${Number(thresholds[a].below)})`;
  });
  return { sql, params: [] };
}

/**
 * [Note: person filter] The face is one of the filtered people. Written into the face conditions (face
 * queries, photos with such a face) and into the photo conditions on faces (facets read faces by them),
 * so that "Anna, happy" means one face that is Anna and happy, everywhere.
 */
function peopleCondition(filter: Filter, sql: string[], params: unknown[]): void {
  if (!filter.people?.length) return;
  sql.push(`f.id IN (SELECT face_id FROM face_people WHERE person_id IN (${filter.people.map(() => '?').join(', ')}))`);
  params.push(...filter.people);
}

/** `FROM faces f WHERE …` for a filter, for queries written elsewhere (the people repository). */
export function matchingFaces(filter: Filter): { sql: string; params: unknown[] } {
  return facesFrom(filter);
}

/** Conditions on the photo (folder, dates, face count; always: present and readable). */
function photoConditions(filter: Filter, on: 'photos' | 'faces', except: readonly FacetName[] = []): Conditions {
  const col = PHOTO_COLUMNS[on];
  const sql = [col.visible];
  const params: unknown[] = [];
  if (filter.folder && !except.includes('folder')) {
    const [from, to] = folderRange(filter.folder);
    sql.push(`(${col.folder} = ? OR (${col.folder} >= ? AND ${col.folder} < ?))`);
    params.push(filter.folder, from, to);
  }
  if (!except.includes('year')) {
    if (filter.takenFrom) {
      sql.push(`${col.date} >= ?`);
      params.push(filter.takenFrom);
    }
    if (filter.takenTo) {
      sql.push(`${col.date} < ?`);
      params.push(nextDay(filter.takenTo));
    }
  }
  if (on === 'faces') peopleCondition(filter, sql, params);
  if (!except.includes('faceCount')) {
    if (filter.minFaces !== undefined) {
      sql.push(`${col.faces} >= ?`);
      params.push(filter.minFaces);
    }
    if (filter.maxFaces !== undefined) {
      sql.push(`${col.faces} <= ?`);
      params.push(filter.maxFaces);
    }
  }
  return { sql, params };
}

export function nextDay(isoDate: string): string {
  const [y, m, d] = isoDate.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

/** `FROM … WHERE …` selecting matching faces (alias f). */
function facesFrom(filter: Filter, options: { except?: FacetName; photoExcept?: FacetName[]; extra?: string[] } = {}) {
  const face = faceConditions(filter, options.except);
  const photo = photoConditions(filter, 'faces', options.photoExcept);
  return {
    sql: `FROM faces f WHERE ${[...photo.sql, ...face.sql, ...(options.extra ?? [])].join(' AND ')}`,
    params: [...photo.params, ...face.params],
  };
}

/** `FROM … WHERE …` selecting matching photos (alias p). */
function photosFrom(filter: Filter, photoExcept: FacetName[] = []) {
  const face = faceConditions(filter);
  const photo = photoConditions(filter, 'photos', photoExcept);
  const where = [...photo.sql];
  if (face.sql.length > 0) {
    where.push(`EXISTS (SELECT 1 FROM faces f WHERE f.photo_id = p.id AND ${face.sql.join(' AND ')})`);
  }
  return { sql: `FROM photos p WHERE ${where.join(' AND ')}`, params: [...photo.params, ...face.params] };
}

/** Does a shown value pass the filter's selection for its attribute? */
function selected(values: readonly string[] | undefined, value: string | null): boolean {
  return !values || values.length === 0 || (value !== null && values.includes(value));
}

/** Conditions with their parameters written in as SQL literals (only labels and numbers occur here). */
function inlined(conditions: Conditions): string[] {
  const params = [...conditions.params];
  return conditions.sql.map((sql) =>
    sql.replace(/\?/g, () => {
      const value = params.shift();
      return typeof value === 'number' ? String(value) : sqlString(String(value));
    }),
  );
}

function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export class LibraryQueries {
  readonly facetIndex: FacetIndex;

  constructor(
    private readonly db: Db,
    private readonly faceRepository: FaceRepository,
  ) {
    this.facetIndex = new FacetIndex(db);
  }

  photos(filter: Filter, page: Page, sort: PhotoSort = 'taken'): { total: number; items: PhotoSummary[] } {
    const from = photosFrom(filter);
    const total = this.count(`SELECT count(*) AS n ${from.sql}`, from.params);
    // The file name is the path after its folder and separator.
    const order = {
      taken: 'p.sort_date DESC, p.id DESC',
      name: 'substr(p.path, length(p.folder) + 2) COLLATE NOCASE, p.path, p.id',
      faces: 'p.face_count DESC, p.sort_date DESC, p.id DESC',
    }[sort];
    const rows = this.db
      .prepare<unknown[], PhotoRow>(`SELECT p.* ${from.sql} ORDER BY ${order} LIMIT ? OFFSET ?`)
      .all(...from.params, page.limit, page.offset);
    return { total, items: rows.map(photoSummary) };
  }

  faces(filter: Filter, page: Page): { total: number; items: FaceSummary[] } {
    const from = facesFrom(filter);
    const total = this.count(`SELECT count(*) AS n ${from.sql}`, from.params);
    const rows = this.db
      .prepare<unknown[], FaceRow>(
        `SELECT f.* ${from.sql} ORDER BY f.photo_sort_date DESC, f.photo_id DESC, f.idx LIMIT ? OFFSET ?`,
      )
      .all(...from.params, page.limit, page.offset);
    const thresholds = uncertainThresholds();
    return { total, items: rows.map((row) => faceSummary(row, thresholds)) };
  }

  /** Every matching face with its photo's path, for the CLI and exports (streamed, not paged). */
  *faceRows(filter: Filter): Generator<FaceRow & { path: string; taken_at: string | null }> {
    const from = facesFrom(filter);
    yield* this.db
      .prepare<unknown[], FaceRow & { path: string; taken_at: string | null }>(
        `SELECT f.*, p.path, p.taken_at ${from.sql.replace('FROM faces f', 'FROM faces f JOIN photos p ON p.id = f.photo_id')}
         ORDER BY p.path, f.idx`,
      )
      .iterate(...from.params);
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
   * Attribute and corrected facets over faces: one scan of `faces_by_attributes` grouped by the
   * shown values in index order (at most 9·2·5·7·16 groups, no sort), folded here into each facet
   * under the other facets' selections. With minConfidence, each facet gets its own conditional
   * count (its attribute and the filtered ones confident).
   */
  private faceAttributeFacets(filter: Filter): Pick<Facets, Attribute | 'corrected' | 'total'> {
    const min = filter.minConfidence;
    const filtered = ATTRIBUTES.filter((a) => (filter[FILTER_KEYS[a]]?.length ?? 0) > 0);
    const confidentCount = (attrs: readonly Attribute[]) =>
      min === undefined || attrs.length === 0
        ? 'count(*)'
        : `sum(${attrs.map((a) => `f.${COLUMNS[a].confidence} >= ${Number(min)}`).join(' AND ')})`;
    const counts = [...ATTRIBUTES.map((a) => confidentCount([...new Set([...filtered, a])])), confidentCount(filtered)];
    const photo = photoConditions(filter, 'faces');
    const values = [...ATTRIBUTES.map((a) => `f.${COLUMNS[a].value}`), 'f.corrected'];
    const rows = this.db
      .prepare<unknown[], unknown[]>(
        `SELECT ${values.join(', ')}, ${counts.join(', ')} FROM faces f INDEXED BY faces_by_attributes
         WHERE ${[...photo.sql, ...sureConditions(filter).sql].join(' AND ')} GROUP BY ${values.join(', ')}`,
      )
      .raw()
      .all(...photo.params);
    const facets = emptyCounts();
    let total = 0;
    for (const row of rows) {
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

  /**
   * Attribute and corrected facets over photos (a photo counts once per value, when one of its faces
   * has the value and passes the other selections): one scan of `faces_by_photo` grouped by photo in
   * index order, each facet's values present in a photo collected as a bit mask, the bits summed.
   */
  private photoAttributeFacets(filter: Filter): Pick<Facets, Attribute | 'corrected' | 'total'> {
    const facetNames = [...ATTRIBUTES, 'corrected'] as const;
    const labelsOf = (facet: Attribute | 'corrected') =>
      facet === 'corrected' ? ['corrected', 'uncorrected'] : COLUMNS[facet].labels;
    const masks = facetNames.map((facet) => {
      const conditions = inlined(faceConditions(filter, facet));
      let bit: string;
      if (facet === 'corrected') {
        bit = 'CASE WHEN f.corrected <> 0 THEN 1 ELSE 2 END';
      } else {
        const c = COLUMNS[facet];
        bit = `CASE f.${c.value} ${c.labels.map((l, i) => `WHEN ${sqlString(l)} THEN ${1 << i}`).join(' ')} END`;
        if (filter.minConfidence !== undefined) conditions.push(`f.${c.confidence} >= ${Number(filter.minConfidence)}`);
      }
      return conditions.length === 0
        ? `sum(DISTINCT ${bit})`
        : `sum(DISTINCT CASE WHEN ${conditions.join(' AND ')} THEN ${bit} END)`;
    });
    const sums = facetNames.flatMap((facet, m) => labelsOf(facet).map((_, i) => `sum(m${m} >> ${i} & 1)`));
    const photo = photoConditions(filter, 'faces');
    const row = this.db
      .prepare<unknown[], unknown[]>(
        `SELECT ${sums.join(', ')} FROM (
           SELECT ${masks.map((sql, m) => `${sql} AS m${m}`).join(', ')}
           FROM faces f INDEXED BY faces_by_photo WHERE ${photo.sql.join(' AND ')} GROUP BY f.photo_id)`,
      )
      .raw()
      .get(...photo.params) as (number | null)[];
    const facets = emptyCounts();
    let column = 0;
    for (const facet of facetNames) {
      for (const label of labelsOf(facet)) bump(facets[facet], label, row[column++] ?? 0);
    }
    const total = photosFrom(filter);
    return {
      ...orderedAttributeFacets(facets),
      total: this.count(`SELECT count(*) AS n ${total.sql}`, total.params),
    };
  }

  /**
   * Face count, folder and year facets: one scan grouped by (face count, folder, year) under the face
   * conditions and the date range, folded here under the folder and face-count selections. The year
   * facet gets its own scan only while a date range is set (it must ignore it).
   */
  private photoLevelFacets(filter: Filter, target: 'photos' | 'faces', roots: readonly string[]) {
    const grouped = (photoExcept: FacetName[]) => {
      if (target === 'faces') {
        const from = facesFrom(filter, { photoExcept });
        return this.db
          .prepare<unknown[], [number, string, number, number]>(
            `SELECT f.photo_face_count, f.photo_folder, f.photo_year, count(*)
             ${from.sql.replace('FROM faces f', 'FROM faces f INDEXED BY faces_by_photo_values')}
             GROUP BY f.photo_face_count, f.photo_folder, f.photo_year`,
          )
          .raw()
          .all(...from.params);
      }
      const from = photosFrom(filter, photoExcept);
      return this.db
        .prepare<unknown[], [number, string, number, number]>(
          `SELECT p.face_count, p.folder, CAST(substr(p.sort_date, 1, 4) AS INTEGER), count(*) ${from.sql} GROUP BY 1, 2, 3`,
        )
        .raw()
        .all(...from.params);
    };
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
    const where = `FROM photos WHERE status <> 'ok' AND missing_since IS NULL AND error_ignored_at IS NULL`;
    const items = this.db
      .prepare<[number, number], { id: number; path: string; error: string | null; at: string | null; added: string }>(
        `SELECT id, path, error, analysed_at AS at, added_at AS added ${where} ORDER BY path LIMIT ? OFFSET ?`,
      )
      .all(page.limit, page.offset)
      .map((r) => ({ photoId: r.id, path: r.path, error: r.error ?? 'unknown error', at: r.at ?? r.added }));
    return { total: this.count(`SELECT count(*) AS n ${where}`, []), items };
  }

  photoDetail(id: number): PhotoDetail | undefined {
    const row = this.db.prepare<[number], PhotoRow>('SELECT * FROM photos WHERE id = ?').get(id);
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

  private count(sql: string, params: unknown[]): number {
    return (this.db.prepare<unknown[], { n: number }>(sql).get(...params) as { n: number }).n;
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
