/**
 * [Note: facet index] Facet counts from an in-memory column store of the browsable photos and faces.
 *
 * The SQL facets (query.ts over repositories/search.ts) scan a covering index of every face: 0.3–1.6 s
 * at a million faces. Here the same values sit in typed arrays, and each request is one pass over the
 * faces and one over the photos: every filter (attribute selections, confidence, corrected, hide
 * uncertain, people, folder, dates, face count), both targets. The semantics are
 * repositories/search.ts's, condition by condition (test/unit/library-facet-index.test.ts compares both
 * on random filters, before and after edits).
 *
 * Per face the four shown labels and whether any is corrected are packed into one small code; under
 * minConfidence a label below it becomes its attribute's "unconfident" code U (it fails its attribute's
 * selection and counts in no facet: what SQL's `conf >= min` on the filtered attributes and on a facet's
 * own attribute amounts to). So what a face adds to every facet depends on its code alone: per request,
 * tables over the 2^14 codes say whether a face passes the face conditions and which facet values it
 * counts for (a bit per value, 25 bits); the face pass counts codes (faces) or ORs the bits per photo
 * (photos), and the photo pass folds in the photo-level conditions.
 *
 * Freshness ([Note: facet index changes]): triggers (migration 7) record each changed photo with a
 * sequence number. Before answering, the index re-reads the photos changed since it last looked (a
 * correction, a person's faces, a scan's new photos, a deleted or missing one): in place when the
 * photo keeps its number of faces, else its old slot is dropped and the photo appended. Only a change
 * of a large part of the library reads everything again, and while such a batch is still being
 * written (the library changed since the last request) SQL answers instead. Inside a transaction of
 * this connection SQL answers too (uncommitted rows may still roll back).
 */
import type { Attribute, Facets, Filter } from '../api/contract.js';
import { ATTRIBUTES, COLUMNS } from './attributes.js';
import type { Db } from './db.js';
import { FACE_COUNT_BUCKETS, bump, emptyCounts, foldersFacet, orderedAttributeFacets } from './query.js';
import { type FaceValuesRow, FacetIndexRepository, type PhotoValuesRow } from './repositories/facet-index.js';
import { folderRange } from './repositories/photos.js';
import { FILTER_KEYS, nextDay } from './repositories/search.js';
import { uncertainThresholds } from './uncertainty.js';

/** Per attribute (ATTRIBUTES order): labels, the code's bit offset and width; label codes 1..n, U = n + 1. */
const FIELDS = (() => {
  let shift = 0;
  let valueBit = 0;
  return ATTRIBUTES.map((a) => {
    const n = COLUMNS[a].labels.length;
    const width = Math.ceil(Math.log2(n + 2));
    const field = { attribute: a, n, shift, mask: (1 << width) - 1, unconfident: n + 1, valueBit };
    shift += width;
    valueBit += n;
    return field;
  });
})();
const CORRECTED_SHIFT = FIELDS.reduce((s, f) => s + Math.log2(f.mask + 1), 0);
const CODES = 1 << (CORRECTED_SHIFT + 1);
/** The corrected facet's two value bits, after the attributes' values. */
const CORRECTED_VALUE_BIT = FIELDS.reduce((s, f) => s + f.n, 0);
if (CORRECTED_VALUE_BIT + 2 > 32) throw new Error('facet values do not fit one 32-bit mask');

/** A growable typed array. */
class Column<T extends Int32Array | Uint8Array | Uint16Array | Float32Array | Float64Array> {
  length = 0;
  constructor(
    public data: T,
    private readonly make: (n: number) => T,
  ) {}
  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = this.make(Math.max(1024, this.data.length * 2));
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }
}

const int32 = () => new Column(new Int32Array(1024), (n) => new Int32Array(n));
const uint8 = () => new Column(new Uint8Array(1024), (n) => new Uint8Array(n));
const uint16 = () => new Column(new Uint16Array(1024), (n) => new Uint16Array(n));
const float32 = () => new Column(new Float32Array(1024), (n) => new Float32Array(n));
const float64 = () => new Column(new Float64Array(1024), (n) => new Float64Array(n));

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

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The columns: photos in slots (a re-read photo may move to a new slot), faces contiguous per slot. */
class Store {
  // Photos, by slot.
  readonly photoId = int32();
  /** 0: the slot is dropped (the photo is gone, hidden, or moved to a later slot). */
  readonly photoLive = uint8();
  readonly photoFolder = int32();
  /** Rank of the sort date in `dates`. */
  readonly photoDate = int32();
  /** Index into `years`. */
  readonly photoYear = int32();
  readonly photoFaces = int32();
  readonly faceStart = int32();
  readonly faceEnd = int32();
  readonly slotOf = new Map<number, number>();
  readonly folders: string[] = [];
  readonly folderIds = new Map<string, number>();
  /** Distinct sort dates, sorted. */
  dates: string[] = [];
  dateRank = new Map<string, number>();
  readonly years: number[] = [];
  readonly yearIds = new Map<number, number>();
  // Faces.
  readonly facePhoto = int32();
  readonly code = uint16();
  readonly correctedBits = uint8();
  readonly confidence = ATTRIBUTES.map(float64);
  /**
   * The same rounded to float32, read first (half the bytes): rounding keeps order, so a float32 above
   * (below) the rounded threshold is above (below) the threshold itself; only ties read the double.
   */
  readonly confidence32 = ATTRIBUTES.map(float32);
  /** Index into `people` + 1; 0 for none. */
  readonly person = int32();
  readonly people: number[] = [];
  readonly personIds = new Map<number, number>();
  deadFaces = 0;
  private readonly labelCodes = FIELDS.map((f) => new Map(COLUMNS[f.attribute].labels.map((l, i) => [l, i + 1])));

  /** Several photos from scratch (their dates ranked in one sort). */
  load(photos: Iterable<PhotoValuesRow>, faces: Iterable<FaceValuesRow>): void {
    const rows = [...photos];
    this.addDates(rows.map((r) => r[2]));
    let slot = 0;
    for (const row of rows) this.addPhoto(row);
    for (const face of faces) {
      while (slot < this.photoId.length && (this.photoId.data[slot] as number) < face[0]) slot++;
      if (slot >= this.photoId.length || this.photoId.data[slot] !== face[0]) continue; // not browsable
      this.addFace(slot, face);
    }
  }

  /** A photo's new values (undefined: not browsable now) and faces. */
  update(photoId: number, row: PhotoValuesRow | undefined, faces: FaceValuesRow[]): void {
    const slot = this.slotOf.get(photoId);
    if (slot !== undefined) {
      const start = this.faceStart.data[slot] as number;
      const count = (this.faceEnd.data[slot] as number) - start;
      if (row && count === faces.length) {
        this.setPhotoValues(slot, row);
        faces.forEach((face, i) => this.setFace(start + i, slot, face));
        return;
      }
      this.photoLive.data[slot] = 0;
      this.deadFaces += count;
      this.slotOf.delete(photoId);
    }
    if (!row) return;
    const s = this.addPhoto(row);
    for (const face of faces) this.addFace(s, face);
  }

  get liveFaces(): number {
    return this.facePhoto.length - this.deadFaces;
  }

  /** Ranks the dates not seen before among the known ones. */
  addDates(sortDates: readonly string[]): void {
    const fresh = sortDates.filter((d) => !this.dateRank.has(d));
    if (fresh.length === 0) return;
    const old = this.dates;
    this.dates = [...new Set([...old, ...fresh])].sort(compare);
    this.dateRank = new Map(this.dates.map((d, i) => [d, i]));
    if (old.length === 0) return;
    const remap = Int32Array.from(old, (d) => this.dateRank.get(d) as number);
    const ranks = this.photoDate.data;
    for (let s = 0; s < this.photoDate.length; s++) ranks[s] = remap[ranks[s] as number] as number;
  }

  private addPhoto(row: PhotoValuesRow): number {
    const slot = this.photoId.length;
    this.photoId.push(row[0]);
    this.photoLive.push(1);
    this.photoFolder.push(0);
    this.photoDate.push(0);
    this.photoYear.push(0);
    this.photoFaces.push(0);
    this.faceStart.push(this.facePhoto.length);
    this.faceEnd.push(this.facePhoto.length);
    this.slotOf.set(row[0], slot);
    this.setPhotoValues(slot, row);
    return slot;
  }

  private setPhotoValues(slot: number, [, folder, sortDate, faceCount]: PhotoValuesRow): void {
    let fid = this.folderIds.get(folder);
    if (fid === undefined) {
      fid = this.folders.length;
      this.folders.push(folder);
      this.folderIds.set(folder, fid);
    }
    this.photoFolder.data[slot] = fid;
    this.addDates([sortDate]);
    this.photoDate.data[slot] = this.dateRank.get(sortDate) as number;
    // CAST(substr(sort_date, 1, 4) AS INTEGER), as the faces' photo_year column holds it.
    const year = Number.parseInt(sortDate.slice(0, 4), 10) || 0;
    let yid = this.yearIds.get(year);
    if (yid === undefined) {
      yid = this.years.length;
      this.years.push(year);
      this.yearIds.set(year, yid);
    }
    this.photoYear.data[slot] = yid;
    this.photoFaces.data[slot] = faceCount;
  }

  private addFace(slot: number, face: FaceValuesRow): void {
    const f = this.facePhoto.length;
    this.facePhoto.push(slot);
    this.code.push(0);
    this.correctedBits.push(0);
    for (const c of this.confidence) c.push(0);
    for (const c of this.confidence32) c.push(0);
    this.person.push(0);
    // A slot's faces are contiguous: its first face starts it.
    if (this.faceEnd.data[slot] !== f) this.faceStart.data[slot] = f;
    this.faceEnd.data[slot] = f + 1;
    this.setFace(f, slot, face);
  }

  private setFace(f: number, slot: number, face: FaceValuesRow): void {
    this.facePhoto.data[f] = slot;
    let code = 0;
    FIELDS.forEach((field, a) => {
      const label = face[1 + a] as string | null;
      const value = label === null ? 0 : (this.labelCodes[a]?.get(label) ?? 0);
      code |= value << field.shift;
      const conf = face[6 + a] as number | null;
      (this.confidence[a] as Column<Float64Array>).data[f] = conf === null ? Number.NaN : conf;
      (this.confidence32[a] as Column<Float32Array>).data[f] = conf === null ? Number.NaN : conf;
    });
    const corrected = face[5];
    if (corrected !== 0) code |= 1 << CORRECTED_SHIFT;
    this.code.data[f] = code;
    this.correctedBits.data[f] = corrected;
    const personId = face[10];
    let pid = 0;
    if (personId !== null) {
      let known = this.personIds.get(personId);
      if (known === undefined) {
        known = this.people.length;
        this.people.push(personId);
        this.personIds.set(personId, known);
      }
      pid = known + 1;
    }
    this.person.data[f] = pid;
  }
}

/** Per code: does a face pass the face conditions, and which facet values does it count for (cached per selection). */
const tableCache = new Map<string, { passes: Uint8Array; counts: Uint32Array }>();
function codeTables(filter: Filter): { passes: Uint8Array; counts: Uint32Array } {
  const key = JSON.stringify([...ATTRIBUTES.map((a) => filter[FILTER_KEYS[a]] ?? []), filter.corrected ?? '']);
  const cached = tableCache.get(key);
  if (cached) return cached;
  const allowed = FIELDS.map((field) => {
    const values = filter[FILTER_KEYS[field.attribute]] as readonly string[] | undefined;
    if (!values || values.length === 0) return null;
    // By code: 0 (no value) and U fail.
    return Uint8Array.from({ length: field.mask + 1 }, (_, code) =>
      code >= 1 && code <= field.n && values.includes(COLUMNS[field.attribute].labels[code - 1] as string) ? 1 : 0,
    );
  });
  const passes = new Uint8Array(2 * CODES);
  const counts = new Uint32Array(2 * CODES);
  const wanted = filter.corrected;
  const values = new Int32Array(FIELDS.length);
  for (let code = 0; code < CODES; code++) {
    const isCorrected = (code >> CORRECTED_SHIFT) & 1;
    const correctedOk = !wanted || (wanted === 'corrected') === (isCorrected === 1);
    let failing = 0;
    let fails = 0;
    for (let a = 0; a < FIELDS.length; a++) {
      const field = FIELDS[a] as (typeof FIELDS)[0];
      const value = (code >> field.shift) & field.mask;
      values[a] = value;
      const table = allowed[a];
      if (table && table[value] !== 1) {
        fails++;
        failing = a;
      }
    }
    if (fails === 0 && correctedOk) passes[code] = 1;
    let bits = 0;
    if (correctedOk && fails <= 1) {
      for (let a = 0; a < FIELDS.length; a++) {
        const field = FIELDS[a] as (typeof FIELDS)[0];
        const value = values[a] as number;
        if (value < 1 || value > field.n) continue;
        if (fails === 0 || failing === a) bits |= 1 << (field.valueBit + value - 1);
      }
    }
    if (fails === 0) bits |= 1 << (CORRECTED_VALUE_BIT + (isCorrected ? 0 : 1));
    counts[code] = bits >>> 0;
  }
  if (tableCache.size >= 32) tableCache.delete(tableCache.keys().next().value as string);
  const tables = { passes, counts };
  tableCache.set(key, tables);
  return tables;
}

/** Set on a face's code when no facet counts it (the tables' upper half: passes nothing, counts nothing). */
const EXCLUDED = CODES;

interface Hidden {
  index: number;
  bit: number;
  shift: number;
  mask: number;
  below: number;
}

/**
 * lowered()[(unconfident attributes as 4 bits) · CODES + code]: the code with those labels made U (made on
 * first use: not every process that loads this file counts facets).
 */
let loweredTable: Uint16Array | null = null;
const lowered = (): Uint16Array => (loweredTable ??= makeLowered());
function makeLowered(): Uint16Array {
  const table = new Uint16Array(16 * CODES);
  for (let low = 0; low < 16; low++) {
    for (let code = 0; code < CODES; code++) {
      let k = code;
      FIELDS.forEach((field, a) => {
        if ((low & (1 << a)) !== 0 && ((k >> field.shift) & field.mask) !== 0)
          k = (k & ~(field.mask << field.shift)) | (field.unconfident << field.shift);
      });
      table[low * CODES + code] = k;
    }
  }
  return table;
}

/** 1 when the confidence is below the threshold (or absent), else 0; float32 first, the double on a tie. */
function below(conf32: Float32Array, conf: Float64Array, f: number, t32: number, t: number): number {
  const c = conf32[f] as number;
  return c === t32 ? +!((conf[f] as number) >= t) : +!(c >= t32);
}

/**
 * The faces' codes under this request: below minConfidence a label becomes its attribute's U; a face
 * of none of the filtered people, or uncertain on a hidden attribute, gets the EXCLUDED bit. Few
 * branches (a threshold cuts the faces at random, so a branch on it would be mispredicted half the time).
 */
function effectiveCodes(s: Store, min: number | undefined, hidden: readonly Hidden[], personOk: Uint8Array | null) {
  let hide = hidden;
  const faces = s.facePhoto.length;
  if (min === undefined && hide.length === 0 && personOk === null) return s.code.data;
  const codes = s.code.data.slice(0, faces);
  const c32 = s.confidence32.map((c) => c.data) as [Float32Array, Float32Array, Float32Array, Float32Array];
  const c64 = s.confidence.map((c) => c.data) as [Float64Array, Float64Array, Float64Array, Float64Array];
  if (min !== undefined)
    lowerUnconfident(codes, faces, c32[0], c32[1], c32[2], c32[3], c64[0], c64[1], c64[2], c64[3], min);
  if (hide.length > 1) {
    excludeUncertainOfAll(codes, faces, s.code.data, s.correctedBits.data, c32, c64, hide);
    hide = [];
  }
  for (const h of hide) {
    excludeUncertain(
      codes,
      faces,
      s.code.data,
      s.correctedBits.data,
      c32[h.index] as Float32Array,
      c64[h.index] as Float64Array,
      h,
    );
  }
  if (personOk) excludeOthers(codes, faces, s.person.data, personOk);
  return codes;
}

function lowerUnconfident(
  codes: Uint16Array,
  faces: number,
  a32: Float32Array,
  b32: Float32Array,
  c32: Float32Array,
  d32: Float32Array,
  a: Float64Array,
  b: Float64Array,
  c: Float64Array,
  d: Float64Array,
  min: number,
): void {
  const m32 = Math.fround(min);
  const table = lowered();
  for (let f = 0; f < faces; f++) {
    const low =
      below(a32, a, f, m32, min) |
      (below(b32, b, f, m32, min) << 1) |
      (below(c32, c, f, m32, min) << 2) |
      (below(d32, d, f, m32, min) << 3);
    const k = codes[f] as number;
    codes[f] = (k & EXCLUDED) | (table[low * CODES + (k & (CODES - 1))] as number);
  }
}

/** repositories/search.ts sureConditions: corrected, no value, or at least the threshold. */
function excludeUncertain(
  codes: Uint16Array,
  faces: number,
  raw: Uint16Array,
  corrected: Uint8Array,
  conf32: Float32Array,
  conf: Float64Array,
  h: Hidden,
): void {
  const t32 = Math.fround(h.below);
  for (let f = 0; f < faces; f++) {
    const hasValue = +((((raw[f] as number) >> h.shift) & h.mask) !== 0);
    const uncorrected = +(((corrected[f] as number) & h.bit) === 0);
    const uncertain = below(conf32, conf, f, t32, h.below) & hasValue & uncorrected;
    codes[f] = (codes[f] as number) | (uncertain * EXCLUDED);
  }
}

/** excludeUncertain for several attributes in one pass (each pass reads the codes and corrections again). */
function excludeUncertainOfAll(
  codes: Uint16Array,
  faces: number,
  raw: Uint16Array,
  corrected: Uint8Array,
  c32: readonly Float32Array[],
  c64: readonly Float64Array[],
  hide: readonly Hidden[],
): void {
  // Per attribute (ATTRIBUTES order): 1 when hidden; a threshold no confidence is below when not.
  const on = [0, 0, 0, 0];
  const t = [0, 0, 0, 0];
  for (const h of hide) {
    on[h.index] = 1;
    t[h.index] = h.below;
  }
  const [a32, b32, c32_, d32] = c32 as [Float32Array, Float32Array, Float32Array, Float32Array];
  const [a, b, c, d] = c64 as [Float64Array, Float64Array, Float64Array, Float64Array];
  const [f0, f1, f2, f3] = FIELDS as [(typeof FIELDS)[0], (typeof FIELDS)[0], (typeof FIELDS)[0], (typeof FIELDS)[0]];
  const [e0, e1, e2, e3] = on as [number, number, number, number];
  const [t0, t1, t2, t3] = t as [number, number, number, number];
  const [u0, u1, u2, u3] = [Math.fround(t0), Math.fround(t1), Math.fround(t2), Math.fround(t3)];
  for (let f = 0; f < faces; f++) {
    const r = raw[f] as number;
    const open = ~(corrected[f] as number); // bit per uncorrected attribute
    const uncertain =
      (e0 & (open & 1) & +(((r >> f0.shift) & f0.mask) !== 0) & below(a32, a, f, u0, t0)) |
      (e1 & ((open >> 1) & 1) & +(((r >> f1.shift) & f1.mask) !== 0) & below(b32, b, f, u1, t1)) |
      (e2 & ((open >> 2) & 1) & +(((r >> f2.shift) & f2.mask) !== 0) & below(c32_, c, f, u2, t2)) |
      (e3 & ((open >> 3) & 1) & +(((r >> f3.shift) & f3.mask) !== 0) & below(d32, d, f, u3, t3));
    codes[f] = (codes[f] as number) | (uncertain * EXCLUDED);
  }
}

function excludeOthers(codes: Uint16Array, faces: number, person: Int32Array, personOk: Uint8Array): void {
  for (let f = 0; f < faces; f++)
    codes[f] = (codes[f] as number) | ((1 - (personOk[person[f] as number] as number)) * EXCLUDED);
}

/** By face: per slot the faces passing the face conditions, per code the faces on photos passing the photo ones. */
function countFaces(
  codes: Uint16Array,
  faces: number,
  facePhoto: Int32Array,
  photoOk: Uint8Array,
  passes: Uint8Array,
  weight: Int32Array,
  perCode: Float64Array,
): void {
  for (let f = 0; f < faces; f++) {
    const k = codes[f] as number;
    const p = facePhoto[f] as number;
    weight[p] = (weight[p] as number) + (passes[k] as number);
    if (photoOk[p] === 1) perCode[k] = (perCode[k] as number) + 1;
  }
}

/** By photo: per slot whether a face passes the face conditions, and the facet values its faces count for. */
function collectPhotos(
  codes: Uint16Array,
  faces: number,
  facePhoto: Int32Array,
  passes: Uint8Array,
  counts: Uint32Array,
  weight: Int32Array,
  photoBits: Uint32Array,
): void {
  for (let f = 0; f < faces; f++) {
    const k = codes[f] as number;
    const p = facePhoto[f] as number;
    photoBits[p] = (photoBits[p] as number) | (counts[k] as number);
    weight[p] = (weight[p] as number) | (passes[k] as number);
  }
}

/** Which filter keys the index answers: all of Filter's (a key added later goes to SQL until it does). */
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
  'hideUncertain',
  'people',
]);

function understood(filter: Filter): boolean {
  return Object.entries(filter).every(
    ([k, v]) => v === undefined || (Array.isArray(v) && v.length === 0) || INDEXED_KEYS.has(k),
  );
}

export class FacetIndex {
  private store: Store | null = null;
  /** The change sequence number the store reflects ([Note: facet index changes]). */
  private seq = 0;
  /** Without the change triggers: the version of the last read (and of the last request). */
  private builtVersion: string | null = null;
  private lastSeenVersion: string | null = null;
  private recordsChanges = false;
  private builtAt = 0;
  /** How long the last full read took, ms. */
  lastBuildMs = 0;
  /** Photos re-read by the last request. */
  lastUpdatedPhotos = 0;
  private readonly repository: FacetIndexRepository;

  constructor(db: Db) {
    this.repository = new FacetIndexRepository(db);
  }

  /** The facets from the index when it is (or is now made) fresh; null to answer by SQL. */
  facets(filter: Filter, target: 'photos' | 'faces', roots: readonly string[]): Facets | null {
    if (!understood(filter)) return null;
    if (!this.refresh()) return null;
    return this.count(this.store as Store, filter, target, roots);
  }

  /** Reads the columns now (tests and benchmarks; `facets` does it when needed). */
  build(): void {
    const t0 = performance.now();
    this.repository.read(() => {
      this.recordsChanges = this.repository.recordsChanges();
      this.seq = this.repository.lastChange();
      this.builtVersion = this.repository.version();
      const store = new Store();
      store.load(this.repository.visiblePhotos(), this.repository.visibleFaces());
      this.store = store;
    });
    this.builtAt = performance.now();
    this.lastBuildMs = this.builtAt - t0;
  }

  /** Brings the store up to date; false when SQL should answer this time. */
  private refresh(): boolean {
    this.lastUpdatedPhotos = 0;
    if (this.repository.inTransaction()) return false;
    const version = this.repository.version();
    const quiet = version === this.lastSeenVersion;
    this.lastSeenVersion = version;
    const store = this.store;
    if (store === null) {
      if (!quiet) return false;
      this.build();
      return true;
    }
    if (!this.recordsChanges) {
      if (version === this.builtVersion) return true;
      const rebuildIsCheap = performance.now() - this.builtAt > 10 * this.lastBuildMs;
      if (!quiet && !rebuildIsCheap) return false;
      this.build();
      return true;
    }
    if (version === this.builtVersion) return true;
    const last = this.repository.lastChange();
    if (last === this.seq) {
      this.builtVersion = version;
      return true;
    }
    // A large batch (a first scan, re-clustering everyone): read everything again once it is written.
    const changed = this.repository.changedCount(this.seq);
    if (changed > Math.max(20_000, store.slotOf.size / 4)) {
      if (!quiet) return false;
      this.build();
      return true;
    }
    this.repository.read(() => {
      const upTo = this.repository.lastChange();
      const ids = this.repository.changedSince(this.seq);
      const rows = ids.map((id) => [id, this.repository.visiblePhoto(id), this.repository.facesOf(id)] as const);
      // New dates ranked in one sort, not one per photo (a scan brings many).
      store.addDates(rows.flatMap(([, row]) => (row ? [row[2]] : [])));
      for (const [id, row, faces] of rows) store.update(id, row, faces);
      this.seq = upTo;
      this.builtVersion = this.repository.version();
      this.lastUpdatedPhotos = ids.length;
    });
    // Dropped slots only cost time: read everything again when they are a third of the faces.
    if (store.deadFaces > 1000 && store.deadFaces * 2 > store.liveFaces) this.build();
    return true;
  }

  private count(s: Store, filter: Filter, target: 'photos' | 'faces', roots: readonly string[]): Facets {
    const { passes, counts } = codeTables(filter);
    const slots = s.photoId.length;
    const faces = s.facePhoto.length;
    const facePhoto = s.facePhoto.data;
    const live = s.photoLive.data;

    // Photo conditions per slot (dropped slots fail them all).
    const folderOk = filter.folder ? this.folderTable(s, filter.folder) : null;
    const hasDates = !!(filter.takenFrom || filter.takenTo);
    const dateFrom = filter.takenFrom ? lowerBound(s.dates, filter.takenFrom) : 0;
    const dateTo = filter.takenTo ? lowerBound(s.dates, nextDay(filter.takenTo)) : s.dates.length;
    const { minFaces, maxFaces } = filter;
    const faceCountOk = (n: number) =>
      (minFaces === undefined || n >= minFaces) && (maxFaces === undefined || n <= maxFaces);
    const photoOk = new Uint8Array(slots);
    for (let p = 0; p < slots; p++) {
      if (live[p] !== 1) continue;
      if (folderOk && folderOk[s.photoFolder.data[p] as number] !== 1) continue;
      const d = s.photoDate.data[p] as number;
      if (hasDates && (d < dateFrom || d >= dateTo)) continue;
      if (!faceCountOk(s.photoFaces.data[p] as number)) continue;
      photoOk[p] = 1;
    }

    // Faces no facet counts: not one of the filtered people, or uncertain where the filter hides that.
    const personOk = filter.people?.length ? this.personTable(s, filter.people) : null;
    const hide = this.hiddenUncertain(filter);
    const hasFaceConditions =
      ATTRIBUTES.some((a) => (filter[FILTER_KEYS[a]]?.length ?? 0) > 0) ||
      !!filter.corrected ||
      hide.length > 0 ||
      personOk !== null;
    const codes = effectiveCodes(s, filter.minConfidence, hide, personOk);

    const valueCounts = new Float64Array(CORRECTED_VALUE_BIT + 2);
    /** Per slot: faces passing the face conditions (faces), or 1 when one does (photos). */
    const weight = new Int32Array(slots);
    let total = 0;
    if (target === 'faces') {
      const perCode = new Float64Array(2 * CODES);
      countFaces(codes, faces, facePhoto, photoOk, passes, weight, perCode);
      for (let k = 0; k < CODES; k++) {
        const n = perCode[k] as number;
        if (n === 0) continue;
        if (passes[k] === 1) total += n;
        for (let bits = counts[k] as number; bits !== 0; bits &= bits - 1) {
          const b = 31 - Math.clz32(bits & -bits);
          valueCounts[b] = (valueCounts[b] as number) + n;
        }
      }
    } else {
      const photoBits = new Uint32Array(slots);
      collectPhotos(codes, faces, facePhoto, passes, counts, weight, photoBits);
      if (!hasFaceConditions) weight.fill(1);
      for (let p = 0; p < slots; p++) {
        if (photoOk[p] !== 1) continue;
        total += weight[p] as number;
        for (let bits = photoBits[p] as number; bits !== 0; bits &= bits - 1) {
          const b = 31 - Math.clz32(bits & -bits);
          valueCounts[b] = (valueCounts[b] as number) + 1;
        }
      }
    }
    const attributes = this.attributeFacets(valueCounts);

    // Face count, folder and year facets: each under the photo conditions but its own.
    const buckets = new Float64Array(FACE_COUNT_BUCKETS.length);
    const byFolder = new Float64Array(s.folders.length);
    // The folders in the order SQL's GROUP BY (face count, folder, year) meets them: foldersFacet keeps it.
    const firstCount = new Int32Array(s.folders.length).fill(2 ** 31 - 1);
    const byYear = new Float64Array(s.years.length);
    for (let p = 0; p < slots; p++) {
      const w = weight[p] as number;
      if (w === 0 || live[p] !== 1) continue;
      const n = s.photoFaces.data[p] as number;
      const folder = s.photoFolder.data[p] as number;
      const inFolder = !folderOk || folderOk[folder] === 1;
      const countOk = faceCountOk(n);
      if (inFolder && countOk) {
        const y = s.photoYear.data[p] as number;
        byYear[y] = (byYear[y] as number) + w; // the year facet ignores the date range
      }
      const d = s.photoDate.data[p] as number;
      if (hasDates && (d < dateFrom || d >= dateTo)) continue;
      if (inFolder) {
        const k = n <= 2 ? n : n <= 5 ? 3 : 4; // FACE_COUNT_BUCKETS' index
        buckets[k] = (buckets[k] as number) + w;
      }
      if (countOk) {
        byFolder[folder] = (byFolder[folder] as number) + w;
        if (n < (firstCount[folder] as number)) firstCount[folder] = n;
      }
    }
    const folders = new Map<string, number>();
    const met = s.folders.map((_, i) => i).filter((i) => (byFolder[i] as number) > 0);
    met.sort(
      (a, b) =>
        (firstCount[a] as number) - (firstCount[b] as number) ||
        compare(s.folders[a] as string, s.folders[b] as string),
    );
    for (const i of met) folders.set(s.folders[i] as string, byFolder[i] as number);
    return {
      ...attributes,
      total,
      faceCount: FACE_COUNT_BUCKETS.map((value, k) => ({ value, count: buckets[k] as number })),
      folder: foldersFacet(folders, roots),
      year: s.years
        .map((year, i) => ({ value: String(year), count: byYear[i] as number }))
        .filter((y) => y.count > 0)
        .sort((a, b) => b.value.localeCompare(a.value)),
    };
  }

  private folderTable(s: Store, folder: string): Uint8Array {
    const [from, to] = folderRange(folder);
    return Uint8Array.from(s.folders, (f) => (f === folder || (f >= from && f < to) ? 1 : 0));
  }

  private personTable(s: Store, people: readonly number[]): Uint8Array {
    const table = new Uint8Array(s.people.length + 1);
    for (const id of people) {
      const known = s.personIds.get(id);
      if (known !== undefined) table[known + 1] = 1;
    }
    return table;
  }

  /** repositories/search.ts sureConditions: per hidden attribute, where its code and confidence are. */
  private hiddenUncertain(filter: Filter): Hidden[] {
    const hide = [...new Set<Attribute>(filter.hideUncertain ?? [])];
    if (hide.length === 0) return [];
    const thresholds = uncertainThresholds();
    return hide.map((a) => {
      const index = ATTRIBUTES.indexOf(a);
      const field = FIELDS[index] as (typeof FIELDS)[0];
      return { index, bit: COLUMNS[a].bit, shift: field.shift, mask: field.mask, below: Number(thresholds[a].below) };
    });
  }

  private attributeFacets(valueCounts: Float64Array) {
    const facets = emptyCounts();
    for (const field of FIELDS) {
      COLUMNS[field.attribute].labels.forEach((l, i) => {
        const n = valueCounts[field.valueBit + i] as number;
        if (n > 0) bump(facets[field.attribute], l, n);
      });
    }
    const corrected = valueCounts[CORRECTED_VALUE_BIT] as number;
    const uncorrected = valueCounts[CORRECTED_VALUE_BIT + 1] as number;
    if (corrected > 0) bump(facets.corrected, 'corrected', corrected);
    if (uncorrected > 0) bump(facets.corrected, 'uncorrected', uncorrected);
    return orderedAttributeFacets(facets);
  }
}
