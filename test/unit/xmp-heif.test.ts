/**
 * The HEIF XMP reader on box structures built here byte by byte: the layouts writers use (iinf/iloc
 * versions, the packet in the file or in `idat`, split extents, a `uuid` box) and the broken ones.
 * The end-to-end test with exiftool-written HEIF files is test/integration/xmp-heic.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { HeifXmpProblem, heifXmp, isIsoBmff } from '../../main/library/xmp/heif.js';

const PACKET =
  '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>';

const u8 = (n: number) => Buffer.from([n]);
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const cstr = (s: string) => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);
const box = (kind: string, ...content: Buffer[]) => {
  const body = Buffer.concat(content);
  return Buffer.concat([u32(8 + body.length), Buffer.from(kind, 'latin1'), body]);
};
const fullBox = (kind: string, version: number, ...content: Buffer[]) =>
  box(kind, u8(version), Buffer.from([0, 0, 0]), ...content);
const ftyp = (brand: string) => box('ftyp', Buffer.from(brand), u32(0), Buffer.from('mif1'), Buffer.from(brand));

interface Item {
  id: number;
  type: string;
  contentType?: string;
  encoding?: string;
}

function iinf(items: Item[], infeVersion = 2): Buffer {
  return fullBox(
    'iinf',
    0,
    u16(items.length),
    ...items.map((i) =>
      infeVersion <= 1
        ? fullBox('infe', infeVersion, u16(i.id), u16(0), cstr(''), cstr(i.contentType ?? ''), cstr(i.encoding ?? ''))
        : fullBox(
            'infe',
            infeVersion,
            infeVersion === 2 ? u16(i.id) : u32(i.id),
            u16(0),
            Buffer.from(i.type, 'latin1'),
            cstr(''),
            ...(i.type === 'mime' ? [cstr(i.contentType ?? ''), ...(i.encoding ? [cstr(i.encoding)] : [])] : []),
          ),
    ),
  );
}

/** iloc with 4-byte offsets and lengths, no base offset; version 1 carries the construction method. */
function iloc(version: 0 | 1, entries: { id: number; method?: number; extents: [number, number][] }[]): Buffer {
  return fullBox(
    'iloc',
    version,
    u8(0x44),
    u8(0x00),
    u16(entries.length),
    ...entries.map((e) =>
      Buffer.concat([
        u16(e.id),
        ...(version === 1 ? [u16(e.method ?? 0)] : []),
        u16(0),
        u16(e.extents.length),
        ...e.extents.flatMap(([o, l]) => [u32(o), u32(l)]),
      ]),
    ),
  );
}

const hdlr = fullBox('hdlr', 0, u32(0), Buffer.from('pict'), Buffer.alloc(12), cstr(''));
const xmpItem: Item = { id: 2, type: 'mime', contentType: 'application/rdf+xml' };
const image: Item = { id: 1, type: 'hvc1' };

/**
 * ftyp, meta (with iloc built by `locate` once the offset of the mdat's content is known), mdat.
 * The iloc is built twice: its size does not depend on the offsets, so the second pass is exact.
 */
function heif(parts: {
  brand?: string;
  items: Item[];
  infeVersion?: number;
  locate: (mdatStart: number) => Buffer;
  idat?: Buffer;
  mdat: Buffer;
  after?: Buffer;
}): Buffer {
  const head = ftyp(parts.brand ?? 'heic');
  const build = (mdatStart: number) => {
    const meta = fullBox(
      'meta',
      0,
      hdlr,
      parts.locate(mdatStart),
      iinf(parts.items, parts.infeVersion),
      ...(parts.idat ? [box('idat', parts.idat)] : []),
    );
    return Buffer.concat([head, meta, box('mdat', parts.mdat), parts.after ?? Buffer.alloc(0)]);
  };
  const first = build(0);
  const mdatStart = first.length - (parts.after?.length ?? 0) - parts.mdat.length;
  return build(mdatStart);
}

describe('the XMP of HEIF files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'facets-heif-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const file = (bytes: Buffer) => {
    const f = path.join(dir, `${n++}.heic`);
    writeFileSync(f, bytes);
    return f;
  };
  const pixels = Buffer.alloc(300, 0xaa);
  const packet = Buffer.from(PACKET, 'utf8');

  test('an XMP item in the file (iloc version 0), after the image data', async () => {
    const f = file(
      heif({
        items: [image, xmpItem],
        locate: (m) =>
          iloc(0, [
            { id: 1, extents: [[m, pixels.length]] },
            { id: 2, extents: [[m + pixels.length, packet.length]] },
          ]),
        mdat: Buffer.concat([pixels, packet]),
      }),
    );
    assert.equal(await heifXmp(f, 1 << 20), PACKET);
  });

  test('split into two extents, infe version 3, an AVIF brand', async () => {
    const half = 40;
    const f = file(
      heif({
        brand: 'avif',
        items: [image, xmpItem],
        infeVersion: 3,
        locate: (m) =>
          iloc(1, [
            {
              id: 2,
              extents: [
                [m + pixels.length + packet.length - half, half], // the packet's start, stored last
                [m + pixels.length, packet.length - half],
              ],
            },
          ]),
        mdat: Buffer.concat([pixels, packet.subarray(half), packet.subarray(0, half)]),
      }),
    );
    assert.equal(await heifXmp(f, 1 << 20), PACKET);
  });

  test("in the meta box's idat (construction method 1), with infe version 0 naming only a content type", async () => {
    const f = file(
      heif({
        items: [{ id: 2, type: 'mime', contentType: 'application/rdf+xml' }],
        infeVersion: 0,
        locate: () => iloc(1, [{ id: 2, method: 1, extents: [[0, packet.length]] }]),
        idat: packet,
        mdat: pixels,
      }),
    );
    assert.equal(await heifXmp(f, 1 << 20), PACKET);
  });

  test("in a top-level uuid box with XMP's UUID", async () => {
    const uuid = box('uuid', Buffer.from('be7acfcb97a942e89c71999491e3afac', 'hex'), packet);
    const f = file(
      heif({ items: [image], locate: (m) => iloc(0, [{ id: 1, extents: [[m, 300]] }]), mdat: pixels, after: uuid }),
    );
    assert.equal(await heifXmp(f, 1 << 20), PACKET);
  });

  test('no XMP item, not a HEIF file, a broken box structure: none', async () => {
    const plain = heif({ items: [image], locate: (m) => iloc(0, [{ id: 1, extents: [[m, 300]] }]), mdat: pixels });
    assert.equal(await heifXmp(file(plain), 1 << 20), null);
    assert.ok(isIsoBmff(plain));
    assert.ok(!isIsoBmff(Buffer.from('\xff\xd8\xff\xe0 a JPEG', 'latin1')));
    assert.equal(await heifXmp(file(Buffer.from('ftypheic but nothing else')), 1 << 20), null);
    const cut = plain.subarray(0, 60); // inside the meta box
    assert.equal(await heifXmp(file(cut), 1 << 20), null);
  });

  test('a declared XMP item that cannot be read is a readable problem', async () => {
    const outside = heif({
      items: [image, xmpItem],
      locate: (m) => iloc(0, [{ id: 2, extents: [[m + 10_000, packet.length]] }]),
      mdat: pixels,
    });
    await assert.rejects(
      heifXmp(file(outside), 1 << 20),
      (e: Error) => e instanceof HeifXmpProblem && /lies outside the file/.test(e.message),
    );
    const unlocated = heif({ items: [image, xmpItem], locate: () => iloc(0, []), mdat: pixels });
    await assert.rejects(heifXmp(file(unlocated), 1 << 20), /has no location \(iloc\) entry/);
    const encoded = heif({
      items: [image, { ...xmpItem, encoding: 'deflate' }],
      locate: (m) => iloc(0, [{ id: 2, extents: [[m, packet.length]] }]),
      mdat: packet,
    });
    await assert.rejects(heifXmp(file(encoded), 1 << 20), /encoded as "deflate", which Facets does not read/);
    const large = heif({
      items: [image, xmpItem],
      locate: (m) => iloc(0, [{ id: 2, extents: [[m, packet.length]] }]),
      mdat: packet,
    });
    await assert.rejects(
      heifXmp(file(large), 64),
      new RegExp(`its XMP item is ${packet.length} bytes, more than the 64 bytes Facets reads`),
    );
  });
});
