/**
 * XMP sidecars for the library, one service for the CLI (`facets export --format xmp`, scans) and the
 * backend (the "Keep XMP sidecars up to date" setting): writing each photo's faces as MWG regions and
 * its attributes as keywords, merged into whatever sidecar is already there, and reading the face
 * regions and names other tools left in sidecars and embedded XMP.
 *
 * Never damaging what is there: a sidecar Facets cannot read (malformed, too large, a folder) is left
 * exactly as it is and recorded as a problem; writes go to a temporary file renamed over the sidecar;
 * photos are only ever read. Problems are recorded (xmp_problems) and the export or scan goes on.
 */
import { randomBytes } from 'node:crypto';
import { lstat, open, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import exifr from 'exifr';
import type { Attribute, XmpSettings } from '../../api/contract.js';
import { packageVersion } from '../../paths.js';
import { iou } from '../catalog.js';
import { now } from '../db.js';
import { type FaceRecord, faceRecord } from '../export.js';
import type { FaceRepository } from '../repositories/faces.js';
import type { SettingsRepository } from '../repositories/settings.js';
import type { XmpPhotoRow, XmpProblem, XmpRepository } from '../repositories/xmp.js';
import { describeFsError } from '../walker.js';
import { type Box, storedArea, storedSize, uprightBox } from './area.js';
import { HeifXmpProblem, heifXmp, isIsoBmff, readHead } from './heif.js';
import { XmpError, XmpPacket } from './rdf.js';
import { type FacetsXmp, type Keyword, type XmpRegion, mergeFacets, readRegions } from './sidecar.js';

/** Larger sidecars are left alone (real ones are kilobytes; digiKam's with long histories, a few hundred). */
export const MAX_SIDECAR_BYTES = 8 * 1024 * 1024;
/** A region names the detected face it overlaps at least this much (IoU; other tools draw looser boxes). */
export const REGION_MATCH_IOU = 0.3;

/**
 * [Note: xmp-names] Names come from People: the exporter asks `nameOf` for each face and writes
 * `mwg-rs:Name` and a `People|<name>` keyword when it answers; the importer hands the names it finds to
 * `imported`. `peopleOf(library)` (main/people/library.ts) wires both, so whatever reads or writes
 * sidecars calls it first (the scan, the app's backend, `export --format xmp`); PeopleService.importNames
 * decides what a name from another tool may change.
 */
export interface XmpNames {
  nameOf?(faceId: number): string | undefined;
  imported?(found: ImportedNames): void;
  /**
   * [Note: face edits] Named regions with no face under them become faces (main/faces/service.ts
   * addFromXmp); returns those added (the same box objects). Without it they are only reported.
   */
  addFaces?(photoId: number, regions: readonly { name: string; box: Box }[]): Promise<{ faceId: number; box: Box }[]>;
}

export interface ImportedNames {
  photoId: number;
  /** Regions that named a detected face. */
  matched: { faceId: number; name: string; iou: number; source: string }[];
  /** Named regions with no detected face under them (upright pixels), that did not become faces. */
  unmatched: { name: string; box: Box; source: string }[];
  /** Named regions with no face under them that became faces (`XmpNames.addFaces`); `imported` gets them as matched. */
  added: { faceId: number; name: string; source: string }[];
}

export type ExportAction = 'create' | 'update' | 'unchanged' | 'nothing' | 'failed';

export interface ExportItem {
  photoId: number;
  photo: string;
  sidecar: string;
  action: ExportAction;
  regions: number;
  keywords: number;
  problem?: string;
}

export interface ExportOptions {
  /** Only photos under this folder. */
  folder?: string;
  photoIds?: readonly number[];
  /** Overrides the setting. */
  sidecar?: XmpSettings['sidecar'];
  /** Works out what would change, writes nothing. */
  dryRun?: boolean;
  onProgress?: (done: number, total: number, item: ExportItem) => void;
  /** Checked between photos: true stops the export there (the app closing). */
  shouldStop?: () => boolean;
}

export interface ExportSummary {
  dryRun: boolean;
  counts: Record<ExportAction, number>;
  /** Every photo's outcome, in path order. */
  items: ExportItem[];
}

const TITLES: Record<Attribute, string> = {
  ageGroup: 'Age',
  gender: 'Gender',
  ethnicity: 'Ethnicity',
  emotion: 'Emotion',
};

/** The sidecar of a photo: `photo.jpg.xmp`, or `photo.xmp` (the extension replaced). */
export function sidecarPath(photo: string, naming: XmpSettings['sidecar']): string {
  if (naming === 'jpg.xmp') return `${photo}.xmp`;
  const ext = path.extname(photo);
  return `${ext ? photo.slice(0, -ext.length) : photo}.xmp`;
}

/** The keywords of a photo's faces under the settings (ethnicity only when chosen and not hidden). */
export function keywordsOf(
  faces: readonly FaceRecord[],
  chosen: readonly Attribute[],
  names: readonly string[],
): Keyword[] {
  const seen = new Set<string>();
  const out: Keyword[] = [];
  const add = (keyword: Keyword) => {
    const key = keyword.path.join('|');
    if (seen.has(key)) return;
    seen.add(key);
    out.push(keyword);
  };
  for (const name of names) add({ path: ['People', name] });
  for (const face of faces) {
    for (const attribute of chosen) {
      // `faceRecord` has already dropped ethnicity when it is hidden.
      const value = face[attribute];
      if (typeof value === 'string' && value) add({ path: ['Facets', TITLES[attribute], label(value)] });
    }
  }
  return out;
}

function label(value: string): string {
  return value.charAt(0).toUpperCase() + value.slice(1);
}

class SidecarProblem extends Error {}

export class XmpService {
  names: XmpNames = {};

  constructor(
    private readonly repository: XmpRepository,
    private readonly faces: FaceRepository,
    private readonly settings: SettingsRepository,
  ) {}

  problems(): XmpProblem[] {
    return this.repository.problems();
  }

  /** Writes (or, dry, works out) the sidecars of the library, a folder, or some photos. */
  async export(options: ExportOptions = {}): Promise<ExportSummary> {
    const settings = this.settings.get();
    const naming = options.sidecar ?? settings.xmp.sidecar;
    const photos = options.photoIds
      ? options.photoIds.map((id) => this.repository.photo(id)).filter((p) => p !== undefined)
      : this.repository.photos(options.folder);
    const counts: Record<ExportAction, number> = { create: 0, update: 0, unchanged: 0, nothing: 0, failed: 0 };
    const items: ExportItem[] = [];
    const claimed = new Map<string, string>();
    for (const photo of photos) {
      if (options.shouldStop?.()) break;
      const sidecar = sidecarPath(photo.path, naming);
      const item = await this.exportPhoto(photo, sidecar, claimed, settings, options.dryRun ?? false);
      counts[item.action]++;
      items.push(item);
      options.onProgress?.(items.length, photos.length, item);
    }
    return { dryRun: options.dryRun ?? false, counts, items };
  }

  private async exportPhoto(
    photo: XmpPhotoRow,
    sidecar: string,
    claimed: Map<string, string>,
    settings: ReturnType<SettingsRepository['get']>,
    dryRun: boolean,
  ): Promise<ExportItem> {
    const item: ExportItem = {
      photoId: photo.id,
      photo: photo.path,
      sidecar,
      action: 'nothing',
      regions: 0,
      keywords: 0,
    };
    const fail = (problem: string): ExportItem => {
      if (!dryRun) this.repository.recordProblem(sidecar, 'write', photo.id, problem, now());
      return { ...item, action: 'failed', problem };
    };
    const other = claimed.get(sidecar);
    if (other) return fail(`${sidecar} is also the sidecar of ${other}: choose the photo.jpg.xmp naming`);
    claimed.set(sidecar, photo.path);

    const content = this.contentOf(photo, settings);
    item.regions = content.regions.length;
    item.keywords = content.keywords.length;
    let existing: string | null;
    try {
      existing = await readSidecar(sidecar);
    } catch (err) {
      if (err instanceof SidecarProblem) return fail(`${err.message}; left as it is`);
      throw err;
    }
    if (existing === null && content.regions.length === 0 && content.keywords.length === 0) return item;
    let packet: XmpPacket;
    try {
      packet = existing === null ? XmpPacket.empty(`Facets ${packageVersion()}`) : XmpPacket.parse(existing);
    } catch (err) {
      if (err instanceof XmpError) return fail(`${sidecar} is not valid XMP (${err.message}); left as it is`);
      throw err;
    }
    mergeFacets(packet, content);
    const text = packet.toString();
    if (text === existing) {
      if (!dryRun) this.repository.clearProblem(sidecar, 'write');
      return { ...item, action: 'unchanged' };
    }
    const action = existing === null ? 'create' : 'update';
    if (dryRun) return { ...item, action };
    try {
      await writeAtomically(sidecar, text);
    } catch (err) {
      return fail(`cannot write ${sidecar}: ${describeFsError(err)}`);
    }
    this.repository.clearProblem(sidecar, 'write');
    await this.noteSidecar(sidecar, photo.id); // Facets' own write is no news for the next scan
    return { ...item, action };
  }

  private contentOf(photo: XmpPhotoRow, settings: ReturnType<SettingsRepository['get']>): FacetsXmp {
    const records = this.faces
      .ofPhoto(photo.id)
      .map((f) => faceRecord({ ...f, path: photo.path, taken_at: photo.taken_at }, settings.hideEthnicity));
    const names: string[] = [];
    const regions = records.map((r) => {
      const name = this.names.nameOf?.(r.faceId);
      if (name) names.push(name);
      return { faceId: r.faceId, area: storedArea(r.box, photo), ...(name ? { name } : {}) };
    });
    return {
      dimensions: storedSize(photo),
      regions,
      keywords: keywordsOf(records, settings.xmp.keywords, names),
    };
  }

  /**
   * Face regions with names from a photo's sidecars (both namings) and its embedded XMP, matched to
   * its detected faces; handed to `names.imported` and returned. Unreadable sources are recorded.
   */
  async importPhoto(photoId: number): Promise<ImportedNames | null> {
    const photo = this.repository.photo(photoId);
    if (!photo) return null;
    const found: { region: XmpRegion; source: string }[] = [];
    const sources = [...new Set([sidecarPath(photo.path, 'jpg.xmp'), sidecarPath(photo.path, 'xmp')])];
    for (const sidecar of sources) {
      const packet = await this.readSource(sidecar, photo.id, () => readSidecar(sidecar));
      await this.noteSidecar(sidecar, photo.id);
      for (const region of packet ? readRegions(packet) : []) found.push({ region, source: sidecar });
    }
    const embedded = await this.readSource(photo.path, photo.id, () => embeddedXmp(photo.path));
    for (const region of embedded ? readRegions(embedded) : []) found.push({ region, source: photo.path });

    const faces = this.faces
      .ofPhoto(photo.id)
      .map((f) => ({ id: f.id, box: { x: f.x, y: f.y, width: f.w, height: f.h } }));
    const named = found
      .filter((f) => f.region.name !== null)
      .map((f) => ({ ...f, name: f.region.name as string, box: uprightBox(f.region.area, photo) }));
    // Best overlaps first; each face takes one name, each region names one face.
    const pairs = named
      .flatMap((r, ri) => faces.map((f) => ({ ri, face: f.id, iou: iou(r.box, f.box) })))
      .filter((p) => p.iou >= REGION_MATCH_IOU)
      .sort((a, b) => b.iou - a.iou);
    const usedRegions = new Set<number>();
    const usedFaces = new Set<number>();
    const result: ImportedNames = { photoId: photo.id, matched: [], unmatched: [], added: [] };
    for (const p of pairs) {
      if (usedRegions.has(p.ri) || usedFaces.has(p.face)) continue;
      usedRegions.add(p.ri);
      usedFaces.add(p.face);
      const r = named[p.ri] as (typeof named)[number];
      result.matched.push({ faceId: p.face, name: r.name, iou: Math.round(p.iou * 1000) / 1000, source: r.source });
    }
    named.forEach((r, ri) => {
      // The same person in the sidecar and the embedded XMP: one face, not two.
      if (usedRegions.has(ri) || result.matched.some((m) => m.name === r.name)) return;
      if (result.unmatched.some((u) => u.name === r.name && iou(u.box, r.box) > 0.5)) return;
      result.unmatched.push({ name: r.name, box: r.box, source: r.source });
    });
    await this.addUnmatched(result);
    if (result.matched.length > 0 || result.added.length > 0 || result.unmatched.length > 0) {
      const asMatched = result.added.map((a) => ({ ...a, iou: 1 }));
      this.names.imported?.({ ...result, matched: [...result.matched, ...asMatched] });
    }
    return result;
  }

  /** Unmatched named regions become faces where `names.addFaces` is wired; a failure is a recorded problem. */
  private async addUnmatched(result: ImportedNames): Promise<void> {
    const add = this.names.addFaces;
    if (!add || result.unmatched.length === 0) return;
    try {
      const added = await add(result.photoId, result.unmatched);
      for (const a of added) {
        const region = result.unmatched.find((u) => u.box === a.box);
        if (region) result.added.push({ faceId: a.faceId, name: region.name, source: region.source });
      }
      result.unmatched = result.unmatched.filter((u) => !added.some((a) => a.box === u.box));
    } catch (err) {
      const source = result.unmatched[0]?.source as string;
      const names = result.unmatched.map((u) => u.name).join(', ');
      const problem = `the named region(s) ${names} could not become faces: ${(err as Error).message}`;
      this.repository.recordProblem(source, 'read', result.photoId, problem, now());
    }
  }

  /**
   * After a scan: names imported from the photos the scan changed and from those under `roots` whose
   * sidecar another tool changed since Facets last read it; the changed photos' sidecars written when
   * kept up to date.
   */
  async afterScan(
    photoIds: readonly number[],
    options: { roots?: readonly string[]; shouldStop?: () => boolean } = {},
  ): Promise<{ imported: ImportedNames[]; exported: ExportSummary | null }> {
    const { shouldStop } = options;
    const candidates = new Set(photoIds);
    for (const root of options.roots ?? []) {
      for (const photo of this.repository.photos(root)) {
        if (shouldStop?.()) break;
        if (!candidates.has(photo.id) && (await this.sidecarsChanged(photo.path))) candidates.add(photo.id);
      }
    }
    const imported: ImportedNames[] = [];
    for (const id of candidates) {
      if (shouldStop?.()) break;
      const result = await this.importPhoto(id);
      if (result && (result.matched.length > 0 || result.unmatched.length > 0 || result.added.length > 0)) {
        imported.push(result);
      }
    }
    return { imported, exported: await this.afterChange(photoIds, shouldStop) };
  }

  /** Whether either sidecar of a photo appeared, changed or went since Facets last read or wrote it. */
  private async sidecarsChanged(photo: string): Promise<boolean> {
    for (const sidecar of new Set([sidecarPath(photo, 'jpg.xmp'), sidecarPath(photo, 'xmp')])) {
      const known = this.repository.sidecar(sidecar);
      const current = await stat(sidecar).catch(() => null);
      if (!current?.isFile()) {
        if (known) return true;
        continue;
      }
      if (!known || known.size !== current.size || known.mtimeMs !== current.mtimeMs) return true;
    }
    return false;
  }

  private async noteSidecar(sidecar: string, photoId: number): Promise<void> {
    const info = await stat(sidecar).catch(() => null);
    if (info?.isFile()) this.repository.recordSidecar(sidecar, photoId, info.size, info.mtimeMs);
    else this.repository.forgetSidecar(sidecar);
  }

  /** After a scan or a correction: the photos' sidecars, when "Keep XMP sidecars up to date" is on. */
  async afterChange(photoIds: readonly number[], shouldStop?: () => boolean): Promise<ExportSummary | null> {
    if (!this.settings.get().xmp.keepUpToDate || photoIds.length === 0) return null;
    return this.export({ photoIds: [...new Set(photoIds)], ...(shouldStop ? { shouldStop } : {}) });
  }

  private async readSource(
    file: string,
    photoId: number,
    read: () => Promise<string | XmpPacket | null>,
  ): Promise<XmpPacket | null> {
    try {
      const found = await read();
      const packet = typeof found === 'string' ? XmpPacket.parse(found) : found;
      this.repository.clearProblem(file, 'read');
      return packet;
    } catch (err) {
      if (!(err instanceof SidecarProblem) && !(err instanceof XmpError)) throw err;
      const problem = err instanceof XmpError ? `${file} is not valid XMP (${err.message})` : err.message;
      this.repository.recordProblem(file, 'read', photoId, problem, now());
      return null;
    }
  }
}

/** The sidecar's text; null when there is none. Throws SidecarProblem for what cannot be read or merged. */
async function readSidecar(file: string): Promise<string | null> {
  let info;
  try {
    info = await stat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      // A dangling link is not "no sidecar": writing would replace the link.
      if (
        await lstat(file).then(
          () => true,
          () => false,
        )
      )
        throw new SidecarProblem(`${file} is a broken link`);
      return null;
    }
    throw new SidecarProblem(`cannot read ${file}: ${describeFsError(err)}`);
  }
  if (info.isDirectory()) throw new SidecarProblem(`${file} is a folder, not a sidecar file`);
  if (!info.isFile()) throw new SidecarProblem(`${file} is not a regular file`);
  if (info.size > MAX_SIDECAR_BYTES) {
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
    throw new SidecarProblem(`${file} is ${mb(info.size)}, more than the ${mb(MAX_SIDECAR_BYTES)} Facets reads`);
  }
  try {
    const text = await readFile(file, 'utf8');
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch (err) {
    throw new SidecarProblem(`cannot read ${file}: ${describeFsError(err)}`);
  }
}

/** The XMP packet embedded in a photo (JPEG, HEIC, TIFF, PNG), or null. */
async function embeddedXmp(photo: string): Promise<XmpPacket | null> {
  const heif = await embeddedHeifXmp(photo);
  if (heif !== 'not heif') return heif === null ? null : XmpPacket.parse(heif);
  let raw: unknown;
  try {
    const out = (await exifr.parse(photo, {
      tiff: false,
      xmp: { parse: false } as unknown as boolean,
      icc: false,
      iptc: false,
      jfif: false,
      ihdr: false,
      mergeOutput: false,
    })) as Record<string, unknown> | undefined;
    raw = out?.['xmp'];
  } catch {
    return null; // a photo exifr cannot read has no XMP worth reporting (the scan records the photo's own problems)
  }
  if (typeof raw !== 'string' || raw.length === 0) return null;
  if (raw.length > MAX_SIDECAR_BYTES) throw new SidecarProblem(`the XMP embedded in ${photo} is too large to read`);
  return XmpPacket.parse(packetText(raw));
}

/**
 * HEIC/HEIF/AVIF: exifr finds no XMP item in them, so main/library/xmp/heif.ts reads it. 'not heif'
 * for other formats (exifr's turn); an XMP item that cannot be read is a SidecarProblem.
 */
async function embeddedHeifXmp(photo: string): Promise<string | null | 'not heif'> {
  try {
    const head = await readHead(photo, 12);
    if (!isIsoBmff(head)) return 'not heif';
    return await heifXmp(photo, MAX_SIDECAR_BYTES);
  } catch (err) {
    if (err instanceof HeifXmpProblem) throw new SidecarProblem(`the XMP embedded in ${photo}: ${err.message}`);
    return null; // unreadable photo: the scan records its own problem, as for exifr's formats
  }
}

/**
 * The packet itself. From a PNG, exifr hands over the whole iTXt chunk: the keyword `XML:com.adobe.xmp`,
 * NUL-separated flags, language and translated keyword, then the packet; the packet starts at its first
 * tag. (A compressed iTXt has no readable tag: it parses as no packet and is recorded like a bad one.)
 */
function packetText(raw: string): string {
  if (!raw.startsWith('XML:com.adobe.xmp')) return raw;
  const start = raw.search(/<\?xpacket|<x:xmpmeta|<rdf:RDF/);
  return start >= 0 ? raw.slice(start) : raw;
}

/** Temporary file in the same folder, renamed over the target: readers see the old sidecar or the new one. */
async function writeAtomically(file: string, text: string): Promise<void> {
  let target = file;
  let mode: number | null = null;
  try {
    target = await realpath(file); // a sidecar that is a link: write where it points, keep the link
    mode = (await stat(target)).mode & 0o777;
  } catch {
    // no sidecar yet
  }
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(text);
      if (mode !== null) await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
}
