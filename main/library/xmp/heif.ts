/**
 * The XMP packet of a HEIF-family photo (HEIC, HEIF, AVIF): ISO base media file format boxes, read
 * here because exifr's HEIF parser finds only the Exif and ICC items and never the XMP one.
 *
 * HEIF keeps metadata as items of the top-level `meta` box: `iinf` names each item (XMP is a `mime`
 * item whose content type is `application/rdf+xml`, as exiftool, libheif and Apple write it) and
 * `iloc` says where its bytes are (extents in the file, or inside the `meta` box's `idat`). Some
 * writers instead put the packet in a top-level `uuid` box with XMP's UUID, as in MP4; that is read too.
 *
 * Only the boxes needed are read (positioned reads; the image data is never loaded). A file that is not
 * a well-formed box structure has no XMP to read (null, as exifr does for other formats); an XMP item
 * that is declared but cannot be read is a HeifXmpProblem with a readable message.
 */
import { type FileHandle, open } from 'node:fs/promises';

/** A declared XMP item Facets cannot read (outside the file, too large, encoded, built from other items). */
export class HeifXmpProblem extends Error {}

/** The `meta` box is a few kilobytes in photos; a larger one is not read (its items then count as absent). */
const MAX_META_BYTES = 16 * 1024 * 1024;
/** The XMP UUID used by `uuid` boxes (MP4 and some HEIF writers). */
const XMP_UUID = 'be7acfcb97a942e89c71999491e3afac';

interface Box {
  kind: string;
  /** Where the box's content starts (after the header), and where the box ends, in `bytes` or the file. */
  start: number;
  end: number;
}

/** Whether the bytes start as an ISO base media file (an `ftyp` box first): HEIC, HEIF, AVIF. */
export function isIsoBmff(head: Buffer): boolean {
  return head.length >= 12 && head.toString('latin1', 4, 8) === 'ftyp' && head.readUInt32BE(0) >= 8;
}

/**
 * The XMP packet's text in the HEIF file `file`, or null when it has none. `maxBytes` bounds the
 * packet; a larger one is a HeifXmpProblem. Throws on file-system errors.
 */
export async function heifXmp(file: string, maxBytes: number): Promise<string | null> {
  const handle = await open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    const top = await topLevelBoxes(handle, size);
    if (top === null) return null;
    const meta = top.find((b) => b.kind === 'meta');
    if (meta) {
      if (meta.end - meta.start > MAX_META_BYTES) return null;
      const bytes = await readAt(handle, meta.start, meta.end - meta.start);
      const found = await xmpItem(handle, size, bytes, maxBytes);
      if (found !== null) return found;
    }
    for (const box of top.filter((b) => b.kind === 'uuid' && b.end - b.start >= 16)) {
      const uuid = await readAt(handle, box.start, 16);
      if (uuid.toString('hex') !== XMP_UUID) continue;
      const length = box.end - box.start - 16;
      if (length > maxBytes)
        throw new HeifXmpProblem(`its XMP box is ${sizeOf(length)}, more than the ${sizeOf(maxBytes)} Facets reads`);
      return text(await readAt(handle, box.start + 16, length));
    }
    return null;
  } finally {
    await handle.close();
  }
}

/** The top-level boxes, from their headers only; null when the file is not a sound box structure. */
async function topLevelBoxes(handle: FileHandle, size: number): Promise<Box[] | null> {
  const boxes: Box[] = [];
  let offset = 0;
  while (offset + 8 <= size) {
    const head = await readAt(handle, offset, Math.min(16, size - offset));
    const box = boxAt(head, 0, size - offset);
    if (box === null) return null;
    boxes.push({ kind: box.kind, start: offset + box.start, end: offset + box.end });
    offset += box.end;
    if (boxes.length > 10_000) return null;
  }
  return boxes.length > 0 && boxes[0]?.kind === 'ftyp' ? boxes : null;
}

/** The box whose header is at `offset` in `bytes`, bounded by `limit` (relative to `bytes`); null when malformed. */
function boxAt(bytes: Buffer, offset: number, limit: number): Box | null {
  if (offset + 8 > bytes.length) return null;
  let length = bytes.readUInt32BE(offset);
  const kind = bytes.toString('latin1', offset + 4, offset + 8);
  let header = 8;
  if (length === 1) {
    if (offset + 16 > bytes.length) return null;
    length = Number(bytes.readBigUInt64BE(offset + 8));
    header = 16;
  } else if (length === 0) {
    length = limit - offset; // to the end of the enclosing space
  }
  if (length < header || offset + length > limit) return null;
  return { kind, start: offset + header, end: offset + length };
}

/** The boxes inside `[start, end)` of `bytes`; null when they do not tile it. */
function childBoxes(bytes: Buffer, start: number, end: number): Box[] | null {
  const out: Box[] = [];
  let offset = start;
  while (offset + 8 <= end) {
    const box = boxAt(bytes, offset, end);
    if (box === null) return null;
    out.push(box);
    offset = box.end;
  }
  return out;
}

/** Reads `bytes` sequentially; any read past `end` throws Truncated. */
class Cursor {
  constructor(
    private readonly bytes: Buffer,
    public offset: number,
    private readonly end: number,
  ) {}

  private need(n: number): number {
    if (n < 0 || this.offset + n > this.end) throw new Truncated();
    const at = this.offset;
    this.offset += n;
    return at;
  }

  uint(size: number): number {
    if (size === 0) return 0;
    const at = this.need(size);
    if (size <= 6) return this.bytes.readUIntBE(at, size);
    if (size === 8) return Number(this.bytes.readBigUInt64BE(at));
    throw new Truncated(); // iloc field sizes are 0, 4 or 8; nothing else is valid
  }

  fourcc(): string {
    const at = this.need(4);
    return this.bytes.toString('latin1', at, at + 4);
  }

  /** A NUL-terminated UTF-8 string (the terminator may be missing at the end of the box). */
  string(): string {
    let stop = this.offset;
    while (stop < this.end && this.bytes[stop] !== 0) stop++;
    const value = this.bytes.toString('utf8', this.offset, stop);
    this.offset = Math.min(stop + 1, this.end);
    return value;
  }

  get remaining(): number {
    return this.end - this.offset;
  }
}

class Truncated extends Error {}

interface ItemInfo {
  id: number;
  type: string;
  contentType: string;
  encoding: string;
}

interface Extent {
  offset: number;
  length: number;
}

interface ItemLocation {
  id: number;
  method: number;
  extents: Extent[];
}

/** The XMP item of a `meta` box (`bytes` is its content: version/flags, then child boxes). */
async function xmpItem(handle: FileHandle, size: number, bytes: Buffer, maxBytes: number): Promise<string | null> {
  const children = childBoxes(bytes, 4, bytes.length);
  if (children === null) return null;
  const iinf = children.find((b) => b.kind === 'iinf');
  const iloc = children.find((b) => b.kind === 'iloc');
  if (!iinf || !iloc) return null;
  let items: ItemInfo[];
  let locations: ItemLocation[];
  try {
    items = itemInfos(bytes, iinf);
    locations = itemLocations(bytes, iloc);
  } catch (err) {
    if (err instanceof Truncated) return null;
    throw err;
  }
  const xmp = items.find((i) => i.type === 'mime' && i.contentType.trim().toLowerCase() === 'application/rdf+xml');
  if (!xmp) return null;
  if (xmp.encoding !== '' && xmp.encoding.toLowerCase() !== 'identity')
    throw new HeifXmpProblem(`its XMP item is encoded as "${xmp.encoding}", which Facets does not read`);
  const location = locations.find((l) => l.id === xmp.id);
  if (!location || location.extents.length === 0) throw new HeifXmpProblem('its XMP item has no location (iloc) entry');

  let space: { length: number; read: (offset: number, length: number) => Promise<Buffer> };
  if (location.method === 0) {
    space = { length: size, read: (o, n) => readAt(handle, o, n) };
  } else if (location.method === 1) {
    const idat = children.find((b) => b.kind === 'idat');
    if (!idat) throw new HeifXmpProblem('its XMP item lies in an idat box that is missing');
    space = {
      length: idat.end - idat.start,
      read: (o, n) => Promise.resolve(bytes.subarray(idat.start + o, idat.start + o + n)),
    };
  } else {
    throw new HeifXmpProblem(`its XMP item is built from other items (construction method ${location.method})`);
  }
  const extents = location.extents.map((e) => ({
    offset: e.offset,
    // A length of 0 means "to the end" of the space.
    length: e.length === 0 ? space.length - e.offset : e.length,
  }));
  const total = extents.reduce((sum, e) => sum + e.length, 0);
  if (total > maxBytes)
    throw new HeifXmpProblem(`its XMP item is ${sizeOf(total)}, more than the ${sizeOf(maxBytes)} Facets reads`);
  const parts: Buffer[] = [];
  for (const e of extents) {
    if (e.length < 0 || e.offset + e.length > space.length)
      throw new HeifXmpProblem('its XMP item lies outside the file (truncated?)');
    parts.push(await space.read(e.offset, e.length));
  }
  return text(Buffer.concat(parts));
}

/** `iinf`: the item entries (`infe`), versions 0–3. */
function itemInfos(bytes: Buffer, iinf: Box): ItemInfo[] {
  const head = new Cursor(bytes, iinf.start, iinf.end);
  const version = head.uint(1);
  head.uint(3);
  head.uint(version === 0 ? 2 : 4); // entry count: the boxes that follow are what counts
  const out: ItemInfo[] = [];
  for (const infe of childBoxes(bytes, head.offset, iinf.end) ?? []) {
    if (infe.kind !== 'infe') continue;
    const c = new Cursor(bytes, infe.start, infe.end);
    const v = c.uint(1);
    c.uint(3);
    if (v <= 1) {
      // No item type: the content type follows the name (a MIME item by construction).
      const id = c.uint(2);
      c.uint(2); // protection index
      c.string(); // name
      const contentType = c.string();
      const encoding = c.remaining > 0 ? c.string() : '';
      out.push({ id, type: 'mime', contentType, encoding });
      continue;
    }
    const id = c.uint(v === 2 ? 2 : 4);
    c.uint(2); // protection index
    const type = c.fourcc();
    c.string(); // name
    let contentType = '';
    let encoding = '';
    if (type === 'mime') {
      contentType = c.string();
      encoding = c.remaining > 0 ? c.string() : '';
    }
    out.push({ id, type, contentType, encoding });
  }
  return out;
}

/** `iloc`: each item's construction method and extents, versions 0–2. */
function itemLocations(bytes: Buffer, iloc: Box): ItemLocation[] {
  const c = new Cursor(bytes, iloc.start, iloc.end);
  const version = c.uint(1);
  c.uint(3);
  if (version > 2) return [];
  const sizes = c.uint(1);
  const more = c.uint(1);
  const offsetSize = sizes >> 4;
  const lengthSize = sizes & 0xf;
  const baseOffsetSize = more >> 4;
  const indexSize = version === 0 ? 0 : more & 0xf; // reserved in version 0
  const count = c.uint(version < 2 ? 2 : 4);
  const out: ItemLocation[] = [];
  for (let i = 0; i < count; i++) {
    const id = c.uint(version < 2 ? 2 : 4);
    const method = version === 0 ? 0 : c.uint(2) & 0xf;
    c.uint(2); // data reference index (0: this file)
    const base = c.uint(baseOffsetSize);
    const extentCount = c.uint(2);
    const extents: Extent[] = [];
    for (let e = 0; e < extentCount; e++) {
      c.uint(indexSize);
      const offset = c.uint(offsetSize);
      const length = c.uint(lengthSize);
      extents.push({ offset: base + offset, length });
    }
    out.push({ id, method, extents });
  }
  return out;
}

async function readAt(handle: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}

/** UTF-8 (XMP's encoding in HEIF), without a byte-order mark or trailing NULs some writers add. */
function text(bytes: Buffer): string {
  const value = bytes.toString('utf8').replace(/\0+$/, '');
  return value.charCodeAt(0) === 0xfeff ? value.slice(1) : value;
}

function sizeOf(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${n} bytes`;
}

/** The first `length` bytes of a file (fewer when it is shorter). */
export async function readHead(file: string, length: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    return await readAt(handle, 0, length);
  } finally {
    await handle.close();
  }
}
