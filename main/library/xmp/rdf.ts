/**
 * XMP packets as XML documents (@xmldom/xmldom, namespace-aware): reading RDF properties in any of
 * the forms RDF allows (attributes, elements, `rdf:parseType="Resource"`, nested `rdf:Description`,
 * Bag/Seq/Alt arrays), and editing a packet in place so that everything Facets does not own (other
 * namespaces, other tools' regions, the user's keywords, comments, the xpacket wrapper) is kept as it
 * was. Namespaces are matched by URI, never by prefix: another tool may bind other prefixes.
 */
import { DOMParser, type Document, type Element, type Node, XMLSerializer } from '@xmldom/xmldom';

export const NS = {
  x: 'adobe:ns:meta/',
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
  xml: 'http://www.w3.org/XML/1998/namespace',
  xmlns: 'http://www.w3.org/2000/xmlns/',
  mwgrs: 'http://www.metadataworkinggroup.com/schemas/regions/',
  stArea: 'http://ns.adobe.com/xmp/sType/Area#',
  stDim: 'http://ns.adobe.com/xap/1.0/sType/Dimensions#',
  dc: 'http://purl.org/dc/elements/1.1/',
  lr: 'http://ns.adobe.com/lightroom/1.0/',
  digiKam: 'http://www.digikam.org/ns/1.0/',
  MP: 'http://ns.microsoft.com/photo/1.2/',
  MPRI: 'http://ns.microsoft.com/photo/1.2/t/RegionInfo#',
  MPReg: 'http://ns.microsoft.com/photo/1.2/t/Region#',
  /** Facets' own: marks the regions it wrote and records the keywords it added. */
  facets: 'https://facets.invalid/xmp/1.0/',
} as const;

/** Prefixes Facets declares when a packet has none for the namespace yet. */
const PREFERRED: Record<string, string> = {
  [NS.mwgrs]: 'mwg-rs',
  [NS.stArea]: 'stArea',
  [NS.stDim]: 'stDim',
  [NS.dc]: 'dc',
  [NS.lr]: 'lr',
  [NS.digiKam]: 'digiKam',
  [NS.facets]: 'facets',
  [NS.rdf]: 'rdf',
};

export type RdfValue = string | RdfStruct | RdfValue[];
/** A struct's fields keyed by namespace URI + local name, e.g. `${NS.mwgrs}Name`. */
export interface RdfStruct {
  [key: string]: RdfValue;
}

export class XmpError extends Error {}

const ELEMENT = 1;
const TEXT = 3;

function isElement(node: Node | null): node is Element {
  return node !== null && node.nodeType === ELEMENT;
}

export function elementChildren(el: Element): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) if (isElement(n)) out.push(n);
  return out;
}

function childNamed(el: Element, ns: string, local: string): Element | undefined {
  return elementChildren(el).find((c) => c.namespaceURI === ns && c.localName === local);
}

function isRdf(el: Element, local: string): boolean {
  return el.namespaceURI === NS.rdf && el.localName === local;
}

function isWhitespace(node: Node | null): boolean {
  return node !== null && node.nodeType === TEXT && /^\s*$/.test(node.nodeValue ?? '');
}

function parseTypeOf(el: Element): string {
  return el.getAttributeNS(NS.rdf, 'parseType') ?? '';
}

/** One property's value, whichever RDF form it is written in. */
export function readNode(el: Element): RdfValue {
  if (parseTypeOf(el) === 'Resource') return readStruct(el);
  const children = elementChildren(el);
  const array = children.find((c) => isRdf(c, 'Bag') || isRdf(c, 'Seq') || isRdf(c, 'Alt'));
  if (array) {
    return elementChildren(array)
      .filter((c) => isRdf(c, 'li'))
      .map(readNode);
  }
  const description = children.find((c) => isRdf(c, 'Description'));
  if (description) return { ...readStruct(el), ...readStruct(description) };
  if (children.length > 0 || propertyAttributes(el).length > 0) return readStruct(el);
  return el.textContent ?? '';
}

function propertyAttributes(el: Element): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = [];
  for (let i = 0; i < el.attributes.length; i++) {
    const a = el.attributes.item(i);
    if (!a?.namespaceURI || a.namespaceURI === NS.xmlns || a.namespaceURI === NS.rdf || a.namespaceURI === NS.xml) {
      continue;
    }
    out.push({ key: a.namespaceURI + (a.localName ?? a.name), value: a.value });
  }
  return out;
}

/** The fields of a struct (or of an rdf:Description): its property attributes and property elements. */
export function readStruct(el: Element): RdfStruct {
  const out: RdfStruct = {};
  for (const { key, value } of propertyAttributes(el)) out[key] = value;
  for (const child of elementChildren(el)) {
    if (child.namespaceURI === NS.rdf || !child.namespaceURI) continue;
    out[child.namespaceURI + child.localName] = readNode(child);
  }
  return out;
}

/** A parsed XMP packet (a sidecar, or the XMP embedded in a photo). */
export class XmpPacket {
  private constructor(
    readonly doc: Document,
    readonly rdfRoot: Element,
  ) {}

  /** Parses XMP text; throws XmpError with a readable message when it is not well-formed XMP. */
  static parse(text: string): XmpPacket {
    const problems: string[] = [];
    let doc: Document;
    try {
      doc = new DOMParser({
        onError: (level, message) => {
          if (level !== 'warning') problems.push(message.split('\n')[0] ?? message);
        },
      }).parseFromString(text, 'text/xml');
    } catch (err) {
      throw new XmpError(`not well-formed XML: ${firstLine(err)}`);
    }
    if (problems.length > 0) throw new XmpError(`not well-formed XML: ${problems[0]}`);
    const root = doc.documentElement;
    if (!root) throw new XmpError('not well-formed XML: no root element');
    const rdf = isRdf(root, 'RDF') ? root : findDescendant(root, (e) => isRdf(e, 'RDF'));
    if (!rdf) throw new XmpError('not an XMP packet: no rdf:RDF element');
    return new XmpPacket(doc, rdf);
  }

  /** A new, empty sidecar. */
  static empty(toolkit: string): XmpPacket {
    return XmpPacket.parse(
      `<x:xmpmeta xmlns:x="${NS.x}" x:xmptk="${toolkit}">\n` +
        ` <rdf:RDF xmlns:rdf="${NS.rdf}">\n  <rdf:Description rdf:about=""/>\n </rdf:RDF>\n</x:xmpmeta>\n`,
    );
  }

  descriptions(): Element[] {
    return elementChildren(this.rdfRoot).filter((c) => isRdf(c, 'Description'));
  }

  /** The property element `ns`+`local` in whichever top-level Description holds it. */
  propertyElement(ns: string, local: string): Element | undefined {
    for (const d of this.descriptions()) {
      const el = childNamed(d, ns, local);
      if (el) return el;
    }
    return undefined;
  }

  /** A top-level property's value (attribute or element form), or undefined. */
  read(ns: string, local: string): RdfValue | undefined {
    for (const d of this.descriptions()) {
      const el = childNamed(d, ns, local);
      if (el) return readNode(el);
      if (d.hasAttributeNS(ns, local)) return d.getAttributeNS(ns, local) ?? '';
    }
    return undefined;
  }

  toString(): string {
    const text = new XMLSerializer().serializeToString(this.doc);
    return text.endsWith('\n') ? text : `${text}\n`;
  }

  /** The Description Facets writes into: the one holding regions, else the first with rdf:about="". */
  mainDescription(): Element {
    const all = this.descriptions();
    const found =
      all.find((d) => childNamed(d, NS.mwgrs, 'Regions')) ??
      all.find((d) => (d.getAttributeNS(NS.rdf, 'about') ?? '') === '') ??
      all[0];
    if (found) return found;
    const d = this.doc.createElementNS(NS.rdf, `${this.prefix(this.rdfRoot, NS.rdf)}:Description`);
    d.setAttributeNS(NS.rdf, `${this.prefix(this.rdfRoot, NS.rdf)}:about`, '');
    this.append(this.rdfRoot, d);
    return d;
  }

  /** The prefix bound to `ns` where `el` is, declaring one on `el` when there is none. */
  prefix(el: Element, ns: string): string {
    for (let n: Node | null = el; isElement(n); n = n.parentNode) {
      for (let i = 0; i < n.attributes.length; i++) {
        const a = n.attributes.item(i);
        if (a && a.name.startsWith('xmlns:') && a.value === ns) return a.name.slice(6);
      }
    }
    const preferred = PREFERRED[ns] ?? 'ns';
    let candidate = preferred;
    for (let i = 2; this.prefixBound(el, candidate); i++) candidate = `${preferred}${i}`;
    el.setAttributeNS(NS.xmlns, `xmlns:${candidate}`, ns);
    return candidate;
  }

  private prefixBound(el: Element, prefix: string): boolean {
    for (let n: Node | null = el; isElement(n); n = n.parentNode) {
      if (n.hasAttribute(`xmlns:${prefix}`)) return true;
    }
    return false;
  }

  /** A new element `ns`+`local`, its prefix declared on `scope` if needed. */
  element(scope: Element, ns: string, local: string): Element {
    return this.doc.createElementNS(ns, `${this.prefix(scope, ns)}:${local}`);
  }

  setAttribute(scope: Element, el: Element, ns: string, local: string, value: string): void {
    el.setAttributeNS(ns, `${this.prefix(scope, ns)}:${local}`, value);
  }

  /** Appends `node` indented as its siblings are; `remove` takes the indentation back (so edits are idempotent). */
  append(parent: Element, node: Element): void {
    let depth = 0;
    for (let n: Node | null = parent; isElement(n); n = n.parentNode) depth++;
    const last = parent.lastChild;
    const closing = isWhitespace(last) ? last : null;
    parent.insertBefore(this.doc.createTextNode(`\n${' '.repeat(depth)}`), closing);
    parent.insertBefore(node, closing);
    if (!closing) parent.appendChild(this.doc.createTextNode(`\n${' '.repeat(Math.max(0, depth - 1))}`));
  }

  remove(node: Element): void {
    const parent = node.parentNode;
    if (!parent) return;
    const before = node.previousSibling;
    if (isWhitespace(before) && before) parent.removeChild(before);
    parent.removeChild(node);
    // A parent left with only whitespace collapses to empty.
    if (!isElement(parent)) return;
    if (elementChildren(parent).length === 0) while (parent.firstChild) parent.removeChild(parent.firstChild);
  }
}

export { childNamed, isRdf, parseTypeOf };

function findDescendant(el: Element, match: (e: Element) => boolean): Element | undefined {
  for (const c of elementChildren(el)) {
    if (match(c)) return c;
    const deeper = findDescendant(c, match);
    if (deeper) return deeper;
  }
  return undefined;
}

/** Whether `el` or anything inside it carries a Facets-namespace attribute or element. */
export function marksFacets(el: Element): boolean {
  if (el.namespaceURI === NS.facets) return true;
  for (let i = 0; i < el.attributes.length; i++) if (el.attributes.item(i)?.namespaceURI === NS.facets) return true;
  return elementChildren(el).some(marksFacets);
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] ?? message;
}
