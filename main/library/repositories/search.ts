/**
 * The SQL of reading the library under a `Filter` (main/library/query.ts folds and presents what these
 * return): the conditions a filter makes, on faces (alias f) and photos (alias p), and the statements
 * that page photos and faces, count them, and group them for the facets.
 *
 * Face filters and facets read `faces` alone (shown values and photo-level copies are denormalised
 * there, and the `faces_filter` index covers every filter column); photo queries read `photos` with an
 * EXISTS on faces when a face condition is set.
 */
import type { Attribute, Facets, Filter, Page, PhotoSort } from '../../api/contract.js';
import { ATTRIBUTES, COLUMNS } from '../attributes.js';
import type { Db } from '../db.js';
import { uncertainThresholds } from '../uncertainty.js';
import type { FaceRow } from './faces.js';
import { type PhotoRow, type PhotoStatus, folderRange } from './photos.js';

export type FacetName = Exclude<keyof Facets, 'total'>;

export const FILTER_KEYS: Record<Attribute, 'ageGroups' | 'genders' | 'ethnicities' | 'emotions'> = {
  ageGroup: 'ageGroups',
  gender: 'genders',
  ethnicity: 'ethnicities',
  emotion: 'emotions',
};

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

/** The facets whose values the photo-attribute query returns as bits, in its column order. */
export const BIT_FACETS = [...ATTRIBUTES, 'corrected'] as const;

/** A bit facet's values, in bit order. */
export function bitLabels(facet: Attribute | 'corrected'): readonly string[] {
  return facet === 'corrected' ? ['corrected', 'uncorrected'] : COLUMNS[facet].labels;
}

export type FaceWithPhotoRow = FaceRow & { path: string; taken_at: string | null };
/** (face count, folder, year, count): one group of the photo-level facets. */
export type PhotoLevelGroup = [faceCount: number, folder: string, year: number, count: number];

export interface ProblemRow {
  id: number;
  path: string;
  status: PhotoStatus;
  error: string | null;
  at: string | null;
  added: string;
}

export class SearchRepository {
  constructor(private readonly db: Db) {}

  /** A page of the matching photos, and how many match. */
  photos(filter: Filter, page: Page, sort: PhotoSort): { total: number; rows: PhotoRow[] } {
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
    return { total, rows };
  }

  /** How many photos match. */
  photoCount(filter: Filter): number {
    const from = photosFrom(filter);
    return this.count(`SELECT count(*) AS n ${from.sql}`, from.params);
  }

  /** A page of the matching faces, and how many match. */
  faces(filter: Filter, page: Page): { total: number; rows: FaceRow[] } {
    const from = facesFrom(filter);
    const total = this.count(`SELECT count(*) AS n ${from.sql}`, from.params);
    const rows = this.db
      .prepare<unknown[], FaceRow>(
        `SELECT f.* ${from.sql} ORDER BY f.photo_sort_date DESC, f.photo_id DESC, f.idx LIMIT ? OFFSET ?`,
      )
      .all(...from.params, page.limit, page.offset);
    return { total, rows };
  }

  /** Every matching face with its photo's path, by path (streamed, not paged). */
  *faceRows(filter: Filter): Generator<FaceWithPhotoRow> {
    const from = facesFrom(filter);
    yield* this.db
      .prepare<unknown[], FaceWithPhotoRow>(
        `SELECT f.*, p.path, p.taken_at ${from.sql.replace('FROM faces f', 'FROM faces f JOIN photos p ON p.id = f.photo_id')}
         ORDER BY p.path, f.idx`,
      )
      .iterate(...from.params);
  }

  /**
   * One scan of `faces_by_attributes` under the photo conditions, grouped by the shown values in index
   * order (at most 9·2·5·7·16 groups, no sort). Each row: the four attributes' shown values, the
   * corrected bits, then per attribute the faces counted for its facet (with minConfidence: those whose
   * attribute and filtered attributes are confident), then the faces counted for the total.
   */
  attributeGroups(filter: Filter): unknown[][] {
    const min = filter.minConfidence;
    const filtered = ATTRIBUTES.filter((a) => (filter[FILTER_KEYS[a]]?.length ?? 0) > 0);
    const confidentCount = (attrs: readonly Attribute[]) =>
      min === undefined || attrs.length === 0
        ? 'count(*)'
        : `sum(${attrs.map((a) => `f.${COLUMNS[a].confidence} >= ${Number(min)}`).join(' AND ')})`;
    const counts = [...ATTRIBUTES.map((a) => confidentCount([...new Set([...filtered, a])])), confidentCount(filtered)];
    const photo = photoConditions(filter, 'faces');
    const values = [...ATTRIBUTES.map((a) => `f.${COLUMNS[a].value}`), 'f.corrected'];
    return this.db
      .prepare<unknown[], unknown[]>(
        `SELECT ${values.join(', ')}, ${counts.join(', ')} FROM faces f INDEXED BY faces_by_attributes
         WHERE ${[...photo.sql, ...sureConditions(filter).sql].join(' AND ')} GROUP BY ${values.join(', ')}`,
      )
      .raw()
      .all(...photo.params);
  }

  /**
   * Per value of each facet of `BIT_FACETS` (in `bitLabels` order), the photos counted for it: a photo
   * counts once per value, when one of its faces has the value and passes the other selections. One
   * scan of `faces_by_photo` grouped by photo in index order, each facet's values present in a photo
   * collected as a bit mask, the bits summed.
   */
  photoAttributeCounts(filter: Filter): (number | null)[] {
    const masks = BIT_FACETS.map((facet) => {
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
    const sums = BIT_FACETS.flatMap((facet, m) => bitLabels(facet).map((_, i) => `sum(m${m} >> ${i} & 1)`));
    const photo = photoConditions(filter, 'faces');
    return this.db
      .prepare<unknown[], unknown[]>(
        `SELECT ${sums.join(', ')} FROM (
           SELECT ${masks.map((sql, m) => `${sql} AS m${m}`).join(', ')}
           FROM faces f INDEXED BY faces_by_photo WHERE ${photo.sql.join(' AND ')} GROUP BY f.photo_id)`,
      )
      .raw()
      .get(...photo.params) as (number | null)[];
  }

  /**
   * Matching faces or photos grouped by (face count, folder, year), the selections of `photoExcept`
   * left out (the caller folds them in).
   */
  photoLevelGroups(filter: Filter, target: 'photos' | 'faces', photoExcept: FacetName[]): PhotoLevelGroup[] {
    if (target === 'faces') {
      const from = facesFrom(filter, { photoExcept });
      return this.db
        .prepare<unknown[], PhotoLevelGroup>(
          `SELECT f.photo_face_count, f.photo_folder, f.photo_year, count(*)
           ${from.sql.replace('FROM faces f', 'FROM faces f INDEXED BY faces_by_photo_values')}
           GROUP BY f.photo_face_count, f.photo_folder, f.photo_year`,
        )
        .raw()
        .all(...from.params);
    }
    const from = photosFrom(filter, photoExcept);
    return this.db
      .prepare<unknown[], PhotoLevelGroup>(
        `SELECT p.face_count, p.folder, CAST(substr(p.sort_date, 1, 4) AS INTEGER), count(*) ${from.sql} GROUP BY 1, 2, 3`,
      )
      .raw()
      .all(...from.params);
  }

  /**
   * Files recorded with an error, or analysed but damaged ([Note: damaged JPEGs]) (present, not
   * ignored), by path, and how many there are.
   */
  errors(page: Page): { total: number; rows: ProblemRow[] } {
    const where = `FROM photos WHERE (status <> 'ok' OR error IS NOT NULL) AND missing_since IS NULL
                   AND error_ignored_at IS NULL`;
    const rows = this.db
      .prepare<[number, number], ProblemRow>(
        `SELECT id, path, status, error, analysed_at AS at, added_at AS added ${where} ORDER BY path LIMIT ? OFFSET ?`,
      )
      .all(page.limit, page.offset);
    return { total: this.count(`SELECT count(*) AS n ${where}`, []), rows };
  }

  photo(id: number): PhotoRow | undefined {
    return this.db.prepare<[number], PhotoRow>('SELECT * FROM photos WHERE id = ?').get(id);
  }

  private count(sql: string, params: unknown[]): number {
    return (this.db.prepare<unknown[], { n: number }>(sql).get(...params) as { n: number }).n;
  }
}
