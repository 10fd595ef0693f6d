/**
 * XMP embedded in HEIF photos, end to end: a HEIF made here (sharp's AV1 HEIF encoder, as the library
 * fixtures make `sample6.heic`), face regions written into it by Debian's exiftool as another tool
 * would (an MWG region, as digiKam and Lightroom write, and a Windows Photo Gallery MP region), then real
 * scans (real models, real SQLite file, the real CLI) that must name the faces under the regions. And a
 * HEIF whose XMP is malformed: a recorded, readable problem, and the scan goes on.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { Library } from '../../main/library/library.js';
import type { ScanSummary } from '../../main/library/scanner.js';
import type { ImportedNames } from '../../main/library/xmp/service.js';
import { type Finished, facetsFromSources, sample } from '../helpers/library-fixtures.js';
import { exiftool } from '../helpers/xmp.js';

interface Face {
  faceId: number;
  path: string;
  box: { x: number; y: number; width: number; height: number };
}

const XMP_HEAD = `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
  xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#" xmlns:MP="http://ns.microsoft.com/photo/1.2/"
  xmlns:MPRI="http://ns.microsoft.com/photo/1.2/t/RegionInfo#" xmlns:MPReg="http://ns.microsoft.com/photo/1.2/t/Region#">`;
const XMP_TAIL = `</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`;

describe('XMP embedded in HEIF photos', { timeout: 400_000 }, () => {
  let work: string;
  let db: string;
  let plain: string;
  let size: { W: number; H: number };
  let probeFaces: Face[];
  const cli = async (...args: string[]): Promise<Finished> => {
    const r = await facetsFromSources([...args, '--db', db]);
    assert.equal(r.code, 0, `facets ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const faces = async (file: string): Promise<Face[]> =>
    (JSON.parse((await cli('query', '--json')).stdout) as Face[]).filter((f) => f.path === file);
  /** exiftool writes the packet into a copy of the plain HEIF (new bytes: a new photo to the scan). */
  const heifWith = (target: string, xmp: string, source = plain) => {
    const packet = path.join(work, `${path.basename(target)}.packet.xmp`);
    writeFileSync(packet, xmp);
    execFileSync('exiftool', ['-q', '-tagsfromfile', packet, '-xmp:all', '-o', target, source]);
  };
  /** An MWG region around a detected face, drawn a little looser than the detector's box. */
  const mwg = (name: string, f: Face) =>
    `<rdf:li><rdf:Description mwg-rs:Name="${name}" mwg-rs:Type="Face"><mwg-rs:Area ` +
    `stArea:x="${(f.box.x + f.box.width / 2) / size.W}" stArea:y="${(f.box.y + f.box.height / 2) / size.H}" ` +
    `stArea:w="${(f.box.width * 1.15) / size.W}" stArea:h="${(f.box.height * 1.15) / size.H}" ` +
    `stArea:unit="normalized"/></rdf:Description></rdf:li>`;
  /** Windows Photo Gallery's form: "left, top, width, height", normalised. */
  const mp = (name: string, f: Face) =>
    `<rdf:li MPReg:PersonDisplayName="${name}" MPReg:Rectangle="${f.box.x / size.W}, ${f.box.y / size.H}, ` +
    `${f.box.width / size.W}, ${f.box.height / size.H}"/>`;

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'facets-xmp-heic-'));
    db = path.join(work, 'library.db');
    // HEIF coded with AV1 (what sharp can write; no HEVC encoder is at hand): the XMP item sits in the
    // HEIF container the same way whatever codes the image.
    plain = path.join(work, 'plain.heic');
    await sharp(sample(6)).resize(640).heif({ compression: 'av1', effort: 0 }).toFile(plain);
    const meta = await sharp(plain).metadata();
    size = { W: meta.width as number, H: meta.height as number };
    const probe = path.join(work, 'Probe');
    mkdirSync(probe);
    const probed = path.join(probe, 'plain.heic');
    writeFileSync(probed, readFileSync(plain));
    const scan = JSON.parse((await cli('scan', probe, '--json')).stdout) as ScanSummary;
    assert.equal(scan.state, 'completed');
    probeFaces = await faces(probed);
    assert.ok(probeFaces.length >= 1, 'the detector finds the face in the HEIF');
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("an MWG region's name (and a Windows Photo Gallery region's) names the face it was drawn around", async (t) => {
    const folder = path.join(work, 'From HEIC');
    mkdirSync(folder);
    const named = path.join(folder, 'named.heic');
    const [first, second] = probeFaces as [Face, Face | undefined];
    t.diagnostic(
      `${probeFaces.length} face(s) detected in the HEIF${second ? '' : ': no MP region (it needs a second face)'}`,
    );
    heifWith(
      named,
      `${XMP_HEAD}
<mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:RegionList><rdf:Bag>${mwg('Edda', first)}</rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions>
${second ? `<MP:RegionInfo rdf:parseType="Resource"><MPRI:Regions><rdf:Bag>${mp('Finn', second)}</rdf:Bag></MPRI:Regions></MP:RegionInfo>` : ''}
${XMP_TAIL}`,
    );
    const written = exiftool([named], ['-FileType', '-RegionInfo', '-XMP-MP:RegionInfo'])[0];
    assert.equal(written?.RegionInfo?.RegionList?.[0]?.Name, 'Edda', 'exiftool wrote the region into the HEIF');
    assert.match(String(written?.['FileType']), /HEIC|HEIF|AVIF/);

    const scan = await cli('scan', folder, '--json');
    const summary = JSON.parse(scan.stdout) as ScanSummary;
    assert.equal(summary.state, 'completed');
    assert.equal(summary.counts.failed, 0);
    const expected = second ? 2 : 1;
    assert.match(scan.stderr, new RegExp(`XMP: ${expected} named region\\(s\\) .* match faces in the library`));

    const mine = await faces(named);
    const handed: ImportedNames[] = [];
    const found = await withLibrary(db, async (l) => {
      l.xmp.names = { imported: (f) => handed.push(f) };
      const photo = l.catalog.photos.byPath(named);
      assert.ok(photo, 'the HEIF is in the library');
      return l.xmp.importPhoto(photo.id);
    });
    assert.equal(handed.length, 1);
    const boxOf = (id: number) => mine.find((f) => f.faceId === id)?.box;
    const near = (a: Face['box'] | undefined, b: Face['box']) =>
      a !== undefined && Math.abs(a.x - b.x) < 4 && Math.abs(a.y - b.y) < 4 && Math.abs(a.width - b.width) < 4;
    const edda = found?.matched.find((m) => m.name === 'Edda');
    assert.ok(edda, JSON.stringify(found));
    assert.equal(edda.source, named, 'from the XMP embedded in the photo');
    assert.ok(near(boxOf(edda.faceId), first.box), 'on the face the region was drawn around');
    if (second) {
      const finn = found?.matched.find((m) => m.name === 'Finn');
      assert.ok(finn, `the MP region names its face: ${JSON.stringify(found)}`);
      assert.ok(near(boxOf(finn.faceId), second.box));
    }
    assert.deepEqual(found?.unmatched, []);
    const listed = JSON.parse((await cli('people', '--json')).stdout) as {
      items: { name: string | null; faceCount: number }[];
    };
    for (const n of second ? ['Edda', 'Finn'] : ['Edda']) {
      assert.ok(
        listed.items.some((p) => p.name === n && p.faceCount >= 1),
        `${n} became a person at the scan: ${JSON.stringify(listed.items)}`,
      );
    }
  });

  test('a HEIF whose file type says HEIC (the major brand phones write) is read the same way', async () => {
    // sharp's file says AVIF; with the major brand set to `heic`, exiftool and the reader see a HEIC (its
    // image is still AV1-coded: heic-decode cannot decode it, libvips does, as for the library fixtures).
    const bytes = readFileSync(plain);
    assert.equal(bytes.toString('latin1', 4, 12), 'ftypavif');
    bytes.write('heic', 8, 'latin1');
    const branded = path.join(work, 'branded.heic');
    writeFileSync(branded, bytes);
    const folder = path.join(work, 'From a phone');
    mkdirSync(folder);
    const photo = path.join(folder, 'IMG_0001.HEIC');
    const first = probeFaces[0] as Face;
    heifWith(
      photo,
      `${XMP_HEAD}
<mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:RegionList><rdf:Bag>${mwg('Ines', first)}</rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions>
${XMP_TAIL}`,
      branded,
    );
    const written = exiftool([photo], ['-FileType', '-RegionInfo'])[0];
    assert.equal(written?.['FileType'], 'HEIC');
    assert.equal(written?.RegionInfo?.RegionList?.[0]?.Name, 'Ines');

    const scan = await cli('scan', folder, '--json');
    // stdout is the JSON alone, although heic-decode's libheif prints its failure to decode the AV1 image.
    assert.equal((JSON.parse(scan.stdout) as ScanSummary).counts.failed, 0);
    assert.match(scan.stderr, /XMP: 1 named region\(s\)/);
    const mine = await faces(photo);
    const found = await withLibrary(db, async (l) => {
      const row = l.catalog.photos.byPath(photo);
      assert.ok(row, 'the HEIC is in the library');
      return l.xmp.importPhoto(row.id);
    });
    const ines = found?.matched.find((m) => m.name === 'Ines');
    assert.ok(ines, JSON.stringify(found));
    const box = mine.find((f) => f.faceId === ines.faceId)?.box;
    assert.ok(box && Math.abs(box.x - first.box.x) < 4 && Math.abs(box.y - first.box.y) < 4, 'on its face');
  });

  test('malformed XMP in a HEIF is a recorded, readable problem; the photo is analysed and the scan goes on', async () => {
    const folder = path.join(work, 'Bad HEIC');
    mkdirSync(folder);
    const broken = path.join(folder, 'broken.heic');
    heifWith(
      broken,
      `${XMP_HEAD}
<mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:RegionList><rdf:Bag>${mwg('Gus', probeFaces[0] as Face)}</rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions>
${XMP_TAIL}`,
    );
    // Damaged in place, length kept (so the item's location still holds): no longer well-formed XML.
    const bytes = readFileSync(broken);
    const at = bytes.indexOf('</rdf:RDF>');
    assert.ok(at > 0, 'the packet is in the file as text');
    bytes.write('<<<<<<<<<<', at, 'latin1');
    writeFileSync(broken, bytes);
    // Beside it, a photo whose XMP is fine: the scan goes on to it.
    heifWith(
      path.join(folder, 'fine.heic'),
      `${XMP_HEAD}
<mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:RegionList><rdf:Bag>${mwg('Hedda', probeFaces[0] as Face)}</rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions>
${XMP_TAIL}`,
    );

    const scan = await cli('scan', folder, '--json');
    const summary = JSON.parse(scan.stdout) as ScanSummary;
    assert.equal(summary.state, 'completed');
    assert.equal(summary.counts.failed, 0);
    const warnings = summary.warnings.map((w) => `${w.path}: ${w.message}`).join('\n');
    assert.match(warnings, /broken\.heic: XMP: .*broken\.heic is not valid XMP \(.+\)/, warnings);
    assert.match(scan.stderr, /XMP: 1 named region\(s\)/, 'the fine one was read');
    assert.ok((await faces(broken)).length >= 1, 'the photo itself is analysed');

    const reader = new Database(db, { readonly: true });
    try {
      const recorded = reader
        .prepare<[], { path: string; operation: string; problem: string }>(
          'SELECT path, operation, problem FROM xmp_problems',
        )
        .all();
      assert.deepEqual(
        recorded.map((p) => [p.path, p.operation]),
        [[broken, 'read']],
      );
      assert.match(recorded[0]?.problem ?? '', /is not valid XMP/);
    } finally {
      reader.close();
    }
  });
});

async function withLibrary<T>(db: string, use: (library: Library) => T | Promise<T>): Promise<T> {
  const library = new Library({ dbPath: db });
  try {
    return await use(library);
  } finally {
    library.close();
  }
}
