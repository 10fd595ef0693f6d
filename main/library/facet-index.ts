/**
 * [Note: facet index] Facet counts from an in-memory column store of the browsable photos and faces.
 *
 * The SQL facets (query.ts over repositories/search.ts) scan a covering index of every face: 0.3–1.6 s
 * at a million faces. Here the same values sit in typed arrays (labels as small codes, confidences as
 * doubles, each face's photo as an index into the photos' arrays: about 45 bytes a face), and one pass
 * over them counts every facet under any filter in tens of milliseconds. The semantics are
 * repositories/search.ts's, condition by condition (test/unit/library-facet-index.test.ts compares both
 * on random filters).
 *
 * Freshness: the index remembers the database's change counters when it was read. Any change makes it
 * stale, and a stale index is not used: `LibraryQueries.facets` answers by SQL. It is read again when
 * the library has stayed unchanged between two facet requests (so a scan in progress, which changes it
 * all the time, is not slowed by rebuilds), or when the last read is long enough ago that reading
 * again costs under a tenth of the time.
 */
import type { Facets, Filter } from '../api/contract.js';
import { ATTRIBUTES, COLUMNS } from './attributes.js';
import type { Db } from './db.js';
import { FacetIndexRepository } from './repositories/facet-index.js';
import { folderRange } from './repositories/photos.js';
import { FACE_COUNT_BUCKETS, bump, emptyCounts, foldersFacet, orderedAttributeFacets } from './query.js';
import { FILTER_KEYS, nextDay } from './repositories/search.js';

const NO_VALUE = 0;

interface Columns {
  photos: number;
  photoFolder: Int32Array;
  photoDate: Int32Array;
  photoYear: Int32Array;
  photoFaces: Int32Array;
  folders: string[];
  /** Distinct sort dates, sorted: photoDate holds ranks into this. */
  dates: string[];
  faces: number;
  facePhoto: Int32Array;
  /** Per attribute (ATTRIBUTES order): label index + 1, 0 for none. */
  labels: Uint8Array[];
  confidence: Float64Array[];
  corrected: Uint8Array;
}

/** The first index of `sorted` whose value is ≥ `value` (string order, as SQLite's BINARY collation). */
function lowerBound(sorted: readonly string[], value: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as string) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A filter compiled against one index: per-value lookup tables, so that each face costs a few array reads. */
class CompiledFilter {
  /** Per attribute: null when not filtered, else allowed[code]. */
  readonly allowed: (Uint8Array | null)[];
  readonly min: number | undefined;
  readonly folderOk: Uint8Array | null;
  readonly dateFrom: number;
  readonly dateTo: number;
  readonly hasDates: boolean;

  constructor(
    readonly filter: Filter,
    readonly c: Columns,
  ) {
    this.allowed = ATTRIBUTES.map((a) => {
      const values = filter[FILTER_KEYS[a]];
      if (!values || values.length === 0) return null;
      const table = new Uint8Array(COLUMNS[a].labels.length + 1);
      COLUMNS[a].labels.forEach((l, i) => (table[i + 1] = (values as readonly string[]).includes(l) ? 1 : 0));
      return table;
    });
    this.min = filter.minConfidence;
    if (filter.folder) {
      const [from, to] = folderRange(filter.folder);
      const folder = filter.folder;
      this.folderOk = Uint8Array.from(c.folders, (f) => (f === folder || (f >= from && f < to) ? 1 : 0));
    } else {
      this.folderOk = null;
    }
    this.hasDates = !!(filter.takenFrom || filter.takenTo);
    this.dateFrom = filter.takenFrom ? lowerBound(c.dates, filter.takenFrom) : 0;
    this.dateTo = filter.takenTo ? lowerBound(c.dates, nextDay(filter.takenTo)) : c.dates.length;
  }

  get hasPhotoConditions(): boolean {
    const f = this.filter;
    return !!this.folderOk || this.hasDates || f.minFaces !== undefined || f.maxFaces !== undefined;
  }

  get hasFaceConditions(): boolean {
    return this.allowed.some((a) => a !== null) || !!this.filter.corrected;
  }

  /** repositories/search.ts photoConditions on photo p. */
  photoOk(p: number): boolean {
    const c = this.c;
    if (this.folderOk && this.folderOk[c.photoFolder[p] as number] !== 1) return false;
    if (this.hasDates && !this.datesOk(p)) return false;
    const n = c.photoFaces[p] as number;
    if (this.filter.minFaces !== undefined && n < this.filter.minFaces) return false;
    if (this.filter.maxFaces !== undefined && n > this.filter.maxFaces) return false;
    return true;
  }

  /** The date range alone. */
  datesOk(p: number): boolean {
    const d = this.c.photoDate[p] as number;
    return d >= this.dateFrom && d < this.dateTo;
  }
}

/** The filter keys the columns answer, condition by condition as repositories/search.ts does. */
const INDEXED_KEYS: ReadonlySet<string> = new Set<keyof Filter>([
  'ageGroups',
  'genders',
  'ethnicities',
  'emotions',
  'minConfidence',
  'folder',
  'takenFrom',
  'takenTo',
  'minFaces',
  'maxFaces',
  'corrected',
]);

function understood(filter: Filter): boolean {
  return Object.entries(filter).every(
    ([k, v]) => v === undefined || (Array.isArray(v) && v.length === 0) || INDEXED_KEYS.has(k),
  );
}

export class FacetIndex {
  private columns: Columns | null = null;
  private builtVersion: string | null = null;
  private lastSeenVersion: string | null = null;
  private builtAt = 0;
  /** How long the last read took, ms. */
  lastBuildMs = 0;
  private readonly repository: FacetIndexRepository;

  constructor(db: Db) {
    this.repository = new FacetIndexRepository(db);
  }

  /** The facets from the index when it is (or is now made) fresh; null to answer by SQL. */
  facets(filter: Filter, target: 'photos' | 'faces', roots: readonly string[]): Facets | null {
    // A condition the columns cannot answer (hide uncertain needs per-attribute corrections; filters added
    // later) goes to SQL: a slower answer, never a wrong one.
    if (!understood(filter)) return null;
    const version = this.repository.version();
    const quiet = version === this.lastSeenVersion;
    this.lastSeenVersion = version;
    if (version !== this.builtVersion) {
      const rebuildIsCheap = this.columns !== null && performance.now() - this.builtAt > 10 * this.lastBuildMs;
      if (!quiet && !rebuildIsCheap) return null;
      this.build(version);
    }
    const compiled = new CompiledFilter(filter, this.columns as Columns);
    const { bits, photoOk } = this.prepare(compiled);
    const attributes =
      target === 'faces'
        ? this.faceAttributeFacets(compiled, bits, photoOk)
        : this.photoAttributeFacets(compiled, bits, photoOk);
    return { ...attributes, ...this.photoLevelFacets(compiled, target, roots, bits) };
  }

  /** Reads the columns now (tests and benchmarks; `facets` does it when needed). */
  build(version: string = this.repository.version()): void {
    const t0 = performance.now();
    const folderIds = new Map<string, number>();
    const folders: string[] = [];
    const photoIds: number[] = [];
    const folderOf: number[] = [];
    const dateStrings: string[] = [];
    const faceCounts: number[] = [];
    for (const [id, folder, sortDate, faceCount] of this.repository.visiblePhotos()) {
      let fid = folderIds.get(folder);
      if (fid === undefined) {
        fid = folders.length;
        folders.push(folder);
        folderIds.set(folder, fid);
      }
      photoIds.push(id);
      folderOf.push(fid);
      dateStrings.push(sortDate);
      faceCounts.push(faceCount);
    }
    const photos = photoIds.length;
    const dates = [...new Set(dateStrings)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const rank = new Map(dates.map((d, i) => [d, i]));
    const photoDate = Int32Array.from(dateStrings, (d) => rank.get(d) as number);
    // CAST(substr(sort_date, 1, 4) AS INTEGER), as the faces' photo_year column holds it.
    const photoYear = Int32Array.from(dateStrings, (d) => Number.parseInt(d.slice(0, 4), 10) || 0);

    let capacity = 1024;
    let facePhoto = new Int32Array(capacity);
    let labels = ATTRIBUTES.map(() => new Uint8Array(capacity));
    let confidence = ATTRIBUTES.map(() => new Float64Array(capacity));
    let corrected = new Uint8Array(capacity);
    const codes = ATTRIBUTES.map((a) => new Map(COLUMNS[a].labels.map((l, i) => [l, i + 1])));
    let faces = 0;
    let p = 0;
    for (const row of this.repository.visibleFaces()) {
      const photoId = row[0];
      while (p < photos && (photoIds[p] as number) < photoId) p++;
      if (p >= photos || photoIds[p] !== photoId) continue; // not browsable (cannot happen while photo_visible holds)
      if (faces === capacity) {
        capacity *= 2;
        const grow = <T extends Int32Array | Uint8Array | Float64Array>(a: T, make: (n: number) => T): T => {
          const b = make(capacity);
          b.set(a);
          return b;
        };
        facePhoto = grow(facePhoto, (n) => new Int32Array(n));
        labels = labels.map((l) => grow(l, (n) => new Uint8Array(n)));
        confidence = confidence.map((l) => grow(l, (n) => new Float64Array(n)));
        corrected = grow(corrected, (n) => new Uint8Array(n));
      }
      facePhoto[faces] = p;
      for (let a = 0; a < 4; a++) {
        const label = row[1 + a] as string | null;
        (labels[a] as Uint8Array)[faces] = label === null ? NO_VALUE : (codes[a]?.get(label) ?? NO_VALUE);
        const conf = row[6 + a] as number | null;
        (confidence[a] as Float64Array)[faces] = conf === null ? Number.NaN : conf;
      }
      corrected[faces] = row[5] !== 0 ? 1 : 0;
      faces++;
    }
    this.columns = {
      photos,
      photoFolder: Int32Array.from(folderOf),
      photoDate,
      photoYear,
      photoFaces: Int32Array.from(faceCounts),
      folders,
      dates,
      faces,
      facePhoto,
      labels,
      confidence,
      corrected,
    };
    this.builtVersion = version;
    this.builtAt = performance.now();
    this.lastBuildMs = this.builtAt - t0;
  }

  /**
   * Per face, what the filter says of it, as bits: 0–3 the attribute's selection fails (label not
   * selected, or filtered and not confident), 4 the corrected selection fails, 8–11 the attribute's own
   * confidence passes minConfidence. repositories/search.ts's conditions then read: a face counts for attribute
   * facet a when it has a label for a, its own confidence passes and no bit but a's fails (both targets:
   * faceConditions(filter, a) plus a's confidence); for the corrected facet when no attribute bit fails;
   * it matches the filter when nothing fails. And per photo whether the photo conditions hold.
   */
  private prepare(q: CompiledFilter): { bits: Uint16Array; photoOk: Uint8Array } {
    const c = q.c;
    const bits = new Uint16Array(c.faces);
    const min = q.min;
    // Attributes neither filtered nor held to a confidence: their bits are the same for every face.
    let common = 0;
    for (let a = 0; a < 4; a++) if (!q.allowed[a] && min === undefined) common |= 1 << (8 + a);
    if (common !== 0) bits.fill(common);
    for (let a = 0; a < 4; a++) {
      const table = q.allowed[a];
      if (!table && min === undefined) continue;
      const labels = c.labels[a] as Uint8Array;
      const conf = c.confidence[a] as Float64Array;
      const failBit = 1 << a;
      const confBit = 1 << (8 + a);
      for (let f = 0; f < c.faces; f++) {
        const confident = min === undefined || (conf[f] as number) >= min;
        let b = bits[f] as number;
        if (confident) b |= confBit;
        if (table && (table[labels[f] as number] !== 1 || !confident)) b |= failBit;
        bits[f] = b;
      }
    }
    const wanted = q.filter.corrected;
    if (wanted) {
      const corrected = c.corrected;
      const failIf = wanted === 'corrected' ? 0 : 1;
      for (let f = 0; f < c.faces; f++) if (corrected[f] === failIf) bits[f] = (bits[f] as number) | 16;
    }
    const photoOk = new Uint8Array(c.photos);
    if (q.hasPhotoConditions) for (let p = 0; p < c.photos; p++) photoOk[p] = q.photoOk(p) ? 1 : 0;
    else photoOk.fill(1);
    return { bits, photoOk };
  }

  /** query.ts faceAttributeFacets, face by face. */
  private faceAttributeFacets(q: CompiledFilter, bits: Uint16Array, photoOk: Uint8Array) {
    const c = q.c;
    const counts = ATTRIBUTES.map((a) => new Float64Array(COLUMNS[a].labels.length + 1));
    let correctedCount = 0;
    let uncorrectedCount = 0;
    let total = 0;
    const facePhoto = c.facePhoto;
    for (let f = 0; f < c.faces; f++) {
      if (photoOk[facePhoto[f] as number] !== 1) continue;
      const b = bits[f] as number;
      const fails = b & 15;
      // Two attribute selections failing: the face counts nowhere.
      if (fails & (fails - 1)) continue;
      if ((b & 16) === 0) {
        for (let a = 0; a < 4; a++) {
          if ((fails & ~(1 << a)) !== 0 || (b & (1 << (8 + a))) === 0) continue;
          const label = (c.labels[a] as Uint8Array)[f] as number;
          if (label === NO_VALUE) continue;
          const per = counts[a] as Float64Array;
          per[label] = (per[label] as number) + 1;
        }
      }
      if (fails === 0) {
        if (c.corrected[f] !== 0) correctedCount++;
        else uncorrectedCount++;
        if ((b & 16) === 0) total++;
      }
    }
    return { ...this.attributeCounts(counts, correctedCount, uncorrectedCount), total };
  }

  /** query.ts photoAttributeFacets: a photo counts once per value one of its faces has under the other selections. */
  private photoAttributeFacets(q: CompiledFilter, bits: Uint16Array, photoOk: Uint8Array) {
    const c = q.c;
    const counts = ATTRIBUTES.map((a) => new Float64Array(COLUMNS[a].labels.length + 1));
    let correctedCount = 0;
    let uncorrectedCount = 0;
    const masks = [0, 0, 0, 0];
    let correctedMask = 0;
    let matchingPhotos = 0;
    let anyFaceMatches = false;
    const flush = () => {
      for (let a = 0; a < 4; a++) {
        const m = masks[a] as number;
        if (m === 0) continue;
        const per = counts[a] as Float64Array;
        for (let l = 1; l < per.length; l++) if (m & (1 << l)) per[l] = (per[l] as number) + 1;
        masks[a] = 0;
      }
      if (correctedMask & 1) correctedCount++;
      if (correctedMask & 2) uncorrectedCount++;
      correctedMask = 0;
      if (anyFaceMatches) matchingPhotos++;
      anyFaceMatches = false;
    };
    let current = -1;
    let currentOk = false;
    const facePhoto = c.facePhoto;
    for (let f = 0; f < c.faces; f++) {
      const p = facePhoto[f] as number;
      if (p !== current) {
        flush();
        current = p;
        currentOk = photoOk[p] === 1;
      }
      if (!currentOk) continue;
      const b = bits[f] as number;
      const fails = b & 31;
      if (fails & (fails - 1) & 15) continue; // two attribute selections failing
      for (let a = 0; a < 4; a++) {
        if ((fails & ~(1 << a)) !== 0 || (b & (1 << (8 + a))) === 0) continue;
        const label = (c.labels[a] as Uint8Array)[f] as number;
        if (label !== NO_VALUE) masks[a] = (masks[a] as number) | (1 << label);
      }
      if ((fails & 15) === 0) {
        correctedMask |= c.corrected[f] !== 0 ? 1 : 2;
        if (fails === 0) anyFaceMatches = true;
      }
    }
    flush();
    let total = matchingPhotos;
    if (!q.hasFaceConditions) {
      total = 0;
      for (let p = 0; p < c.photos; p++) total += photoOk[p] as number;
    }
    return { ...this.attributeCounts(counts, correctedCount, uncorrectedCount), total };
  }

  private attributeCounts(counts: Float64Array[], corrected: number, uncorrected: number) {
    const facets = emptyCounts();
    ATTRIBUTES.forEach((a, i) => {
      COLUMNS[a].labels.forEach((l, k) => {
        const n = (counts[i] as Float64Array)[k + 1] as number;
        if (n > 0) bump(facets[a], l, n);
      });
    });
    if (corrected > 0) bump(facets.corrected, 'corrected', corrected);
    if (uncorrected > 0) bump(facets.corrected, 'uncorrected', uncorrected);
    return orderedAttributeFacets(facets);
  }

  /** query.ts photoLevelFacets: face count, folder and year under the other selections. */
  private photoLevelFacets(q: CompiledFilter, target: 'photos' | 'faces', roots: readonly string[], bits: Uint16Array) {
    const c = q.c;
    const filter = q.filter;
    // Per photo: how many of its faces pass the face conditions (faces), or whether one does (photos).
    const weight = new Int32Array(c.photos);
    if (target === 'faces') {
      for (let f = 0; f < c.faces; f++)
        if (((bits[f] as number) & 31) === 0) (weight[c.facePhoto[f] as number] as number)++;
    } else if (q.hasFaceConditions) {
      for (let f = 0; f < c.faces; f++) if (((bits[f] as number) & 31) === 0) weight[c.facePhoto[f] as number] = 1;
    } else {
      weight.fill(1);
    }
    const faceCountOk = (n: number) =>
      (filter.minFaces === undefined || n >= filter.minFaces) &&
      (filter.maxFaces === undefined || n <= filter.maxFaces);
    const buckets = new Float64Array(FACE_COUNT_BUCKETS.length);
    const byFolder = new Float64Array(c.folders.length);
    // The folders in the order SQL's GROUP BY (face count, folder, year) meets them: foldersFacet keeps it.
    const firstCount = new Int32Array(c.folders.length).fill(2 ** 31 - 1);
    const byYear = new Map<number, number>();
    const addYear = (year: number, w: number) => byYear.set(year, (byYear.get(year) ?? 0) + w);
    const yearsIgnoringDates = q.hasDates;
    for (let p = 0; p < c.photos; p++) {
      const w = weight[p] as number;
      if (w === 0) continue;
      const n = c.photoFaces[p] as number;
      const folder = c.photoFolder[p] as number;
      const inFolder = !q.folderOk || q.folderOk[folder] === 1;
      const countOk = faceCountOk(n);
      if (yearsIgnoringDates && inFolder && countOk) addYear(c.photoYear[p] as number, w);
      if (q.hasDates && !q.datesOk(p)) continue;
      if (inFolder) {
        const k = n <= 2 ? n : n <= 5 ? 3 : 4; // FACE_COUNT_BUCKETS' index
        buckets[k] = (buckets[k] as number) + w;
      }
      if (countOk) {
        (byFolder[folder] as number) += w;
        if (n < (firstCount[folder] as number)) firstCount[folder] = n;
      }
      if (!yearsIgnoringDates && inFolder && countOk) addYear(c.photoYear[p] as number, w);
    }
    const folders = new Map<string, number>();
    const met = c.folders.map((_, i) => i).filter((i) => (byFolder[i] as number) > 0);
    met.sort((a, b) => {
      const byCount = (firstCount[a] as number) - (firstCount[b] as number);
      if (byCount !== 0) return byCount;
      const x = c.folders[a] as string;
      const y = c.folders[b] as string;
      return x < y ? -1 : x > y ? 1 : 0;
    });
    for (const i of met) folders.set(c.folders[i] as string, byFolder[i] as number);
    return {
      faceCount: FACE_COUNT_BUCKETS.map((value, k) => ({ value, count: buckets[k] as number })),
      folder: foldersFacet(folders, roots),
      year: [...byYear]
        .map(([year, count]) => ({ value: String(year), count }))
        .sort((a, b) => b.value.localeCompare(a.value)),
    };
  }
}
