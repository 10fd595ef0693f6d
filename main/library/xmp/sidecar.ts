/**
 * What Facets writes into an XMP packet and reads back out of one.
 *
 * [Note: xmp-ownership] Facets edits only what it owns, and knows what it owns from the packet
 * itself: its regions carry a `facets:FaceId` attribute, and the keywords it added are listed under
 * `facets:Subject`, `facets:HierarchicalSubject` and `facets:TagsList`. An export replaces exactly
 * those (so a second export updates rather than duplicates), and never touches a region or keyword
 * without the mark: another tool's, or one the user typed, even when it has the same text as one of
 * Facets' (then Facets does not add its own, and does not claim the user's). The import side
 * (`readRegions`) skips marked regions, so Facets never imports its own output.
 */
import { type Area } from './area.js';
import type { XmpPacket } from './rdf.js';
import { NS, type RdfStruct, type RdfValue, childNamed, elementChildren, isRdf, marksFacets } from './rdf.js';
import type { Element } from '@xmldom/xmldom';

export interface FacetsRegion {
  faceId: number;
  area: Area;
  /** The person's name, when known. */
  name?: string;
}

/** Keywords in the three forms tools read: `A|B|C` (Lightroom), `A/B/C` (digiKam) and the leaf (dc:subject). */
export interface Keyword {
  path: string[];
}

export interface FacetsXmp {
  /** The image as stored (pixels). */
  dimensions: { width: number; height: number };
  regions: FacetsRegion[];
  keywords: Keyword[];
}

const KEYWORD_LISTS = [
  { ns: NS.dc, local: 'subject', array: 'Bag', own: 'Subject', form: (k: Keyword) => k.path.at(-1) ?? '' },
  {
    ns: NS.lr,
    local: 'hierarchicalSubject',
    array: 'Bag',
    own: 'HierarchicalSubject',
    form: (k: Keyword) => k.path.join('|'),
  },
  { ns: NS.digiKam, local: 'TagsList', array: 'Seq', own: 'TagsList', form: (k: Keyword) => k.path.join('/') },
] as const;

/** Writes Facets' regions and keywords into `packet`, replacing its own earlier ones (see [Note: xmp-ownership]). */
export function mergeFacets(packet: XmpPacket, content: FacetsXmp): void {
  const description = packet.mainDescription();
  mergeRegions(packet, description, content);
  const owned = KEYWORD_LISTS.map((list) => {
    const values = [...new Set(content.keywords.map(list.form).filter((v) => v.length > 0))];
    return mergeKeywordList(packet, description, list, values);
  });
  // Removed first, then written in one order, so that exporting twice gives the same text.
  for (const list of KEYWORD_LISTS) {
    const old = packet.propertyElement(NS.facets, list.own);
    if (old) packet.remove(old);
  }
  KEYWORD_LISTS.forEach((list, i) => writeOwnList(packet, description, list.own, owned[i] ?? []));
}

function mergeRegions(packet: XmpPacket, description: Element, content: FacetsXmp): void {
  let regions = packet.propertyElement(NS.mwgrs, 'Regions');
  if (!regions && content.regions.length === 0) return;
  const scope = regions ? (regions.parentNode as Element) : description;
  if (!regions) {
    regions = packet.element(scope, NS.mwgrs, 'Regions');
    packet.setAttribute(scope, regions, NS.rdf, 'parseType', 'Resource');
    packet.append(scope, regions);
  }
  const container = structContainer(packet, scope, regions);
  let list = childNamed(container, NS.mwgrs, 'RegionList');
  if (!list) {
    list = packet.element(scope, NS.mwgrs, 'RegionList');
    packet.append(container, list);
  }
  let bag = elementChildren(list).find((c) => isRdf(c, 'Bag') || isRdf(c, 'Seq'));
  if (!bag) {
    bag = packet.element(scope, NS.rdf, 'Bag');
    packet.append(list, bag);
  }
  for (const li of elementChildren(bag)) if (isRdf(li, 'li') && marksFacets(li)) packet.remove(li);
  for (const region of content.regions) appendRegion(packet, scope, bag, region);

  const dims = childNamed(container, NS.mwgrs, 'AppliedToDimensions');
  if (elementChildren(bag).length === 0) {
    // Nothing left at all (only Facets had regions here): no empty region block.
    const others = elementChildren(container).filter((c) => c !== list && c !== dims);
    if (others.length === 0) {
      packet.remove(regions);
      return;
    }
  }
  if (content.regions.length > 0) {
    const fresh = packet.element(scope, NS.mwgrs, 'AppliedToDimensions');
    packet.setAttribute(scope, fresh, NS.stDim, 'w', String(content.dimensions.width));
    packet.setAttribute(scope, fresh, NS.stDim, 'h', String(content.dimensions.height));
    packet.setAttribute(scope, fresh, NS.stDim, 'unit', 'pixel');
    if (dims) {
      container.replaceChild(fresh, dims);
    } else {
      // AppliedToDimensions before the list, as every tool writes it, indented as the list is.
      const indent = list.previousSibling;
      container.insertBefore(fresh, list);
      const ws = indent?.nodeType === 3 ? indent.nodeValue : null;
      if (ws && /^\s*$/.test(ws)) container.insertBefore(packet.doc.createTextNode(ws), list);
    }
  }
}

/** The element whose children are the struct's fields (parseType Resource, or a nested rdf:Description). */
function structContainer(packet: XmpPacket, scope: Element, property: Element): Element {
  if ((property.getAttributeNS(NS.rdf, 'parseType') ?? '') === 'Resource') return property;
  const nested = elementChildren(property).find((c) => isRdf(c, 'Description'));
  if (nested) return nested;
  const d = packet.element(scope, NS.rdf, 'Description');
  packet.append(property, d);
  return d;
}

function appendRegion(packet: XmpPacket, scope: Element, bag: Element, region: FacetsRegion): void {
  const li = packet.element(scope, NS.rdf, 'li');
  packet.append(bag, li);
  const d = packet.element(scope, NS.rdf, 'Description');
  packet.append(li, d);
  packet.setAttribute(scope, d, NS.mwgrs, 'Type', 'Face');
  if (region.name) packet.setAttribute(scope, d, NS.mwgrs, 'Name', region.name);
  packet.setAttribute(scope, d, NS.facets, 'FaceId', String(region.faceId));
  const area = packet.element(scope, NS.mwgrs, 'Area');
  for (const key of ['x', 'y', 'w', 'h'] as const) {
    packet.setAttribute(scope, area, NS.stArea, key, String(region.area[key]));
  }
  packet.setAttribute(scope, area, NS.stArea, 'unit', 'normalized');
  packet.append(d, area);
}

function mergeKeywordList(
  packet: XmpPacket,
  description: Element,
  list: (typeof KEYWORD_LISTS)[number],
  values: string[],
): string[] {
  const ownedBefore = new Set(stringList(packet.read(NS.facets, list.own)));
  const wanted = new Set(values);
  let property = packet.propertyElement(list.ns, list.local);
  const owned: string[] = [];
  if (property || values.length > 0) {
    const scope = property ? (property.parentNode as Element) : description;
    if (!property) {
      property = packet.element(scope, list.ns, list.local);
      packet.append(scope, property);
    }
    let array = elementChildren(property).find((c) => isRdf(c, 'Bag') || isRdf(c, 'Seq') || isRdf(c, 'Alt'));
    if (!array) {
      const text = property.textContent?.trim() ?? '';
      array = packet.element(scope, NS.rdf, list.array);
      // A single value written as plain text (not valid XMP for a list, but seen): kept as an item.
      while (property.firstChild) property.removeChild(property.firstChild);
      packet.append(property, array);
      if (text) appendItem(packet, scope, array, text);
    }
    const present = new Set<string>();
    for (const li of elementChildren(array)) {
      if (!isRdf(li, 'li')) continue;
      const text = li.textContent ?? '';
      if (ownedBefore.has(text) && !wanted.has(text)) packet.remove(li);
      else present.add(text);
    }
    for (const value of values) {
      if (present.has(value)) {
        if (ownedBefore.has(value)) owned.push(value); // Facets' from before, still wanted
        continue; // otherwise the user's: left theirs
      }
      appendItem(packet, scope, array, value);
      owned.push(value);
    }
    if (elementChildren(array).length === 0) packet.remove(property);
  }
  return owned;
}

function appendItem(packet: XmpPacket, scope: Element, array: Element, text: string): void {
  const li = packet.element(scope, NS.rdf, 'li');
  li.appendChild(packet.doc.createTextNode(text));
  packet.append(array, li);
}

/** Facets' record of what it added to one keyword list (see [Note: xmp-ownership]). */
function writeOwnList(packet: XmpPacket, description: Element, local: string, values: string[]): void {
  if (values.length === 0) return;
  const property = packet.element(description, NS.facets, local);
  packet.append(description, property);
  const bag = packet.element(description, NS.rdf, 'Bag');
  packet.append(property, bag);
  for (const v of values) appendItem(packet, description, bag, v);
}

function stringList(value: RdfValue | undefined): string[] {
  if (value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** A face region found in a packet: MWG (digiKam, Lightroom, Picasa) or Microsoft's (Windows Photo Gallery). */
export interface XmpRegion {
  /** Normalised, relative to the stored image. */
  area: Area;
  name: string | null;
  schema: 'mwg' | 'mp';
}

/** Other tools' face regions (Facets' own are skipped); areas in units other than normalised are left out. */
export function readRegions(packet: XmpPacket): XmpRegion[] {
  const out: XmpRegion[] = [];
  const regions = packet.read(NS.mwgrs, 'Regions');
  const list = isStruct(regions) ? regions[`${NS.mwgrs}RegionList`] : undefined;
  for (const item of Array.isArray(list) ? list : []) {
    if (!isStruct(item) || Object.keys(item).some((k) => k.startsWith(NS.facets))) continue;
    const type = item[`${NS.mwgrs}Type`];
    if (typeof type === 'string' && type !== '' && type !== 'Face') continue;
    const area = item[`${NS.mwgrs}Area`];
    if (!isStruct(area)) continue;
    const unit = area[`${NS.stArea}unit`];
    if (unit !== undefined && unit !== 'normalized') continue;
    const [x, y, w, h] = ['x', 'y', 'w', 'h'].map((k) => Number(area[`${NS.stArea}${k}`]));
    if (!validArea(x, y, w, h)) continue;
    out.push({ area: { x, y, w, h } as Area, name: nameOf(item[`${NS.mwgrs}Name`]), schema: 'mwg' });
  }
  const info = packet.read(NS.MP, 'RegionInfo');
  const mpList = isStruct(info) ? info[`${NS.MPRI}Regions`] : undefined;
  for (const item of Array.isArray(mpList) ? mpList : []) {
    if (!isStruct(item)) continue;
    const rect = item[`${NS.MPReg}Rectangle`];
    if (typeof rect !== 'string') continue;
    // "x, y, w, h": the top-left corner and size, normalised.
    const [x, y, w, h] = rect.split(',').map((v) => Number(v.trim()));
    if (x === undefined || y === undefined || w === undefined || h === undefined) continue;
    const area = { x: x + w / 2, y: y + h / 2, w, h };
    if (!validArea(area.x, area.y, w, h)) continue;
    out.push({ area, name: nameOf(item[`${NS.MPReg}PersonDisplayName`]), schema: 'mp' });
  }
  return out;
}

function isStruct(value: RdfValue | undefined): value is RdfStruct {
  return typeof value === 'object' && !Array.isArray(value);
}

function nameOf(value: RdfValue | undefined): string | null {
  const text = typeof value === 'string' ? value.trim() : '';
  return text.length > 0 ? text : null;
}

function validArea(...values: (number | undefined)[]): boolean {
  const [, , w, h] = values;
  return values.every((v) => v !== undefined && Number.isFinite(v) && v >= 0 && v <= 1) && (w ?? 0) > 0 && (h ?? 0) > 0;
}
