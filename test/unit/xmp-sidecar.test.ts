/**
 * XMP packets without the library: areas for every EXIF orientation, merging into sidecars other
 * tools wrote (read back by Debian's exiftool, the third-party reader), reading other tools' regions.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { storedArea, storedSize, uprightBox } from '../../main/library/xmp/area.js';
import { XmpError, XmpPacket } from '../../main/library/xmp/rdf.js';
import { type FacetsXmp, mergeFacets, readRegions } from '../../main/library/xmp/sidecar.js';
import { keywordsOf, sidecarPath } from '../../main/library/xmp/service.js';
import type { FaceRecord } from '../../main/library/export.js';
import { exiftool as readWithExiftool } from '../helpers/xmp.js';

const work = mkdtempSync(path.join(tmpdir(), 'facets-xmp-unit-'));
after(() => rmSync(work, { recursive: true, force: true }));

function exiftool(file: string, ...tags: string[]): Record<string, unknown> {
  return readWithExiftool([file], tags)[0] as Record<string, unknown>;
}

const OTHER_TOOL = `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 5.5.0">
 <!-- written by another tool -->
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:mwg="http://www.metadataworkinggroup.com/schemas/regions/"
    xmlns:A="http://ns.adobe.com/xmp/sType/Area#"
    xmlns:D="http://ns.adobe.com/xap/1.0/sType/Dimensions#"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
    xmlns:acme="http://example.com/acme/2.0/"
    acme:rating="5">
   <mwg:Regions rdf:parseType="Resource">
    <mwg:AppliedToDimensions D:w="100" D:h="50" D:unit="pixel"/>
    <mwg:RegionList>
     <rdf:Bag>
      <rdf:li rdf:parseType="Resource">
       <mwg:Type>Face</mwg:Type>
       <mwg:Name>Bob</mwg:Name>
       <mwg:Area A:x="0.2" A:y="0.3" A:w="0.1" A:h="0.12" A:unit="normalized"/>
      </rdf:li>
      <rdf:li rdf:parseType="Resource">
       <mwg:Type>Pet</mwg:Type>
       <mwg:Name>Rex</mwg:Name>
       <mwg:Area A:x="0.8" A:y="0.7" A:w="0.2" A:h="0.2" A:unit="normalized"/>
      </rdf:li>
     </rdf:Bag>
    </mwg:RegionList>
   </mwg:Regions>
   <dc:subject><rdf:Bag><rdf:li>Holiday</rdf:li><rdf:li>Happy</rdf:li></rdf:Bag></dc:subject>
   <lr:hierarchicalSubject><rdf:Bag><rdf:li>Places|Beach</rdf:li></rdf:Bag></lr:hierarchicalSubject>
   <acme:history><rdf:Seq><rdf:li>imported</rdf:li><rdf:li>edited</rdf:li></rdf:Seq></acme:history>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>`;

function content(emotion: string, name?: string): FacetsXmp {
  return {
    dimensions: { width: 640, height: 480 },
    regions: [
      { faceId: 7, area: { x: 0.5, y: 0.4, w: 0.25, h: 0.3 }, ...(name ? { name } : {}) },
      { faceId: 8, area: { x: 0.125, y: 0.75, w: 0.05, h: 0.0625 } },
    ],
    keywords: [
      ...(name ? [{ path: ['People', name] }] : []),
      { path: ['Facets', 'Emotion', emotion] },
      { path: ['Facets', 'Age', '20-29'] },
    ],
  };
}

describe('MWG areas', () => {
  test('an upright box maps to the stored image and back for all eight EXIF orientations', () => {
    const box = { x: 100, y: 40, width: 60, height: 80 };
    for (let o = 1; o <= 8; o++) {
      const photo = { width: 400, height: 300, orientation: o };
      const area = storedArea(box, photo);
      const back = uprightBox(area, photo);
      for (const k of ['x', 'y', 'width', 'height'] as const)
        assert.ok(Math.abs(back[k] - box[k]) < 1e-3, `o${o} ${k}`);
      const stored = storedSize(photo);
      assert.deepEqual(stored, o >= 5 ? { width: 300, height: 400 } : { width: 400, height: 300 });
    }
    // Orientation 1: centre and size over the image size.
    assert.deepEqual(storedArea(box, { width: 400, height: 300, orientation: 1 }), {
      x: 0.325,
      y: 0.266667,
      w: 0.15,
      h: 0.266667,
    });
    // Orientation 3 (stored upside down): the centre mirrored on both axes.
    assert.deepEqual(storedArea(box, { width: 400, height: 300, orientation: 3 }), {
      x: 0.675,
      y: 0.733333,
      w: 0.15,
      h: 0.266667,
    });
  });
});

describe('merging into sidecars', () => {
  test('a new sidecar holds the regions and keywords, exactly as exiftool reads them back', () => {
    const file = path.join(work, 'new.jpg.xmp');
    const packet = XmpPacket.empty('Facets test');
    mergeFacets(packet, content('Happy', 'Anna'));
    writeFileSync(file, packet.toString());
    const read = exiftool(file, '-RegionInfo', '-HierarchicalSubject', '-Subject', '-TagsList');
    assert.deepEqual(read['RegionInfo'], {
      AppliedToDimensions: { W: 640, H: 480, Unit: 'pixel' },
      RegionList: [
        { Type: 'Face', Name: 'Anna', FaceId: 7, Area: { X: 0.5, Y: 0.4, W: 0.25, H: 0.3, Unit: 'normalized' } },
        { Type: 'Face', FaceId: 8, Area: { X: 0.125, Y: 0.75, W: 0.05, H: 0.0625, Unit: 'normalized' } },
      ],
    });
    assert.deepEqual(read['HierarchicalSubject'], ['People|Anna', 'Facets|Emotion|Happy', 'Facets|Age|20-29']);
    assert.deepEqual(read['TagsList'], ['People/Anna', 'Facets/Emotion/Happy', 'Facets/Age/20-29']);
    assert.deepEqual(read['Subject'], ['Anna', 'Happy', '20-29']);
  });

  test("another tool's sidecar keeps its regions, keywords and unknown namespace; Facets updates its own", () => {
    const file = path.join(work, 'other.xmp');
    const packet = XmpPacket.parse(OTHER_TOOL);
    mergeFacets(packet, content('Happy'));
    const first = packet.toString();
    writeFileSync(file, first);
    const read = exiftool(file, '-RegionInfo', '-HierarchicalSubject', '-Subject', '-XMP-acme:all');
    const regions = (read['RegionInfo'] as { RegionList: { Name?: string; Type: string; FaceId?: number }[] })
      .RegionList;
    assert.deepEqual(
      regions.map((r) => [r.Type, r.Name ?? null, r.FaceId ?? null]),
      [
        ['Face', 'Bob', null],
        ['Pet', 'Rex', null],
        ['Face', null, 7],
        ['Face', null, 8],
      ],
    );
    // "Happy" was the user's already: kept once, not claimed by Facets.
    assert.deepEqual(read['Subject'], ['Holiday', 'Happy', '20-29']);
    assert.deepEqual(read['HierarchicalSubject'], ['Places|Beach', 'Facets|Emotion|Happy', 'Facets|Age|20-29']);
    assert.equal(read['Rating'], 5);
    assert.deepEqual(read['History'], ['imported', 'edited']);
    assert.match(first, /<!-- written by another tool -->/);
    assert.match(first, /<\?xpacket end="w"\?>/);

    // The same export again: the same text. A changed emotion: replaced, not added.
    const again = XmpPacket.parse(first);
    mergeFacets(again, content('Happy'));
    assert.equal(again.toString(), first);
    const changed = XmpPacket.parse(first);
    mergeFacets(changed, content('Sad'));
    writeFileSync(file, changed.toString());
    const after = exiftool(file, '-RegionInfo', '-HierarchicalSubject', '-Subject');
    assert.deepEqual(after['Subject'], ['Holiday', 'Happy', '20-29', 'Sad'], "the user's Happy stays");
    assert.deepEqual(after['HierarchicalSubject'], ['Places|Beach', 'Facets|Age|20-29', 'Facets|Emotion|Sad']);
    assert.equal((after['RegionInfo'] as { RegionList: unknown[] }).RegionList.length, 4);

    // No faces and no keywords any more: Facets' part goes, the other tool's stays.
    const emptied = XmpPacket.parse(changed.toString());
    mergeFacets(emptied, { dimensions: { width: 640, height: 480 }, regions: [], keywords: [] });
    writeFileSync(file, emptied.toString());
    const rest = exiftool(file, '-RegionInfo', '-HierarchicalSubject', '-Subject');
    assert.deepEqual(
      (rest['RegionInfo'] as { RegionList: { Name: string }[] }).RegionList.map((r) => r.Name),
      ['Bob', 'Rex'],
    );
    assert.deepEqual(rest['Subject'], ['Holiday', 'Happy']);
    assert.deepEqual(rest['HierarchicalSubject'], ['Places|Beach']);
    assert.doesNotMatch(emptied.toString(), /facets:/);
  });

  test('malformed XML and XML that is not XMP are refused with a readable reason', () => {
    assert.throws(
      () => XmpPacket.parse('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'),
      (err: unknown) => {
        assert.ok(err instanceof XmpError);
        assert.match(err.message, /not well-formed XML/);
        return true;
      },
    );
    assert.throws(() => XmpPacket.parse('<html><body>hello</body></html>'), /not an XMP packet: no rdf:RDF/);
    assert.throws(() => XmpPacket.parse(''), XmpError);
  });
});

describe('reading regions', () => {
  test("other tools' regions in their various RDF forms; Facets' own are skipped", () => {
    const digikam = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
      <rdf:Description rdf:about="" xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
        xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#"
        xmlns:MP="http://ns.microsoft.com/photo/1.2/" xmlns:MPRI="http://ns.microsoft.com/photo/1.2/t/RegionInfo#"
        xmlns:MPReg="http://ns.microsoft.com/photo/1.2/t/Region#">
       <mwg-rs:Regions><rdf:Description><mwg-rs:RegionList><rdf:Bag>
        <rdf:li><rdf:Description mwg-rs:Name="Anna" mwg-rs:Type="Face">
          <mwg-rs:Area stArea:x="0.5" stArea:y="0.4" stArea:w="0.2" stArea:h="0.3" stArea:unit="normalized"/>
        </rdf:Description></rdf:li>
        <rdf:li><rdf:Description mwg-rs:Type="Face">
          <mwg-rs:Area stArea:x="0.1" stArea:y="0.1" stArea:w="0.1" stArea:h="0.1" stArea:unit="normalized"/>
        </rdf:Description></rdf:li>
        <rdf:li><rdf:Description mwg-rs:Name="Bad" mwg-rs:Type="Face">
          <mwg-rs:Area stArea:x="nonsense" stArea:y="0.1" stArea:w="0.1" stArea:h="0.1" stArea:unit="normalized"/>
        </rdf:Description></rdf:li>
       </rdf:Bag></mwg-rs:RegionList></rdf:Description></mwg-rs:Regions>
       <MP:RegionInfo rdf:parseType="Resource"><MPRI:Regions><rdf:Bag>
        <rdf:li MPReg:Rectangle="0.6, 0.2, 0.2, 0.25" MPReg:PersonDisplayName="Carl"/>
       </rdf:Bag></MPRI:Regions></MP:RegionInfo>
      </rdf:Description></rdf:RDF></x:xmpmeta>`;
    assert.deepEqual(readRegions(XmpPacket.parse(digikam)), [
      { area: { x: 0.5, y: 0.4, w: 0.2, h: 0.3 }, name: 'Anna', schema: 'mwg' },
      { area: { x: 0.1, y: 0.1, w: 0.1, h: 0.1 }, name: null, schema: 'mwg' },
      { area: { x: 0.7, y: 0.325, w: 0.2, h: 0.25 }, name: 'Carl', schema: 'mp' },
    ]);
    const ours = XmpPacket.parse(OTHER_TOOL);
    mergeFacets(ours, content('Happy', 'Anna'));
    assert.deepEqual(
      readRegions(ours).map((r) => r.name),
      ['Bob'],
      'the Pet region and Facets’ own regions are not faces to import',
    );
  });
});

describe('keywords and sidecar names', () => {
  const face = (over: Partial<FaceRecord>): FaceRecord =>
    ({ faceId: 1, ageGroup: '20-29', gender: 'female', ethnicity: 'asian', emotion: 'happy', ...over }) as FaceRecord;

  test('the chosen attributes of every face, once each; ethnicity only when chosen and present', () => {
    const faces = [face({}), face({ faceId: 2, ageGroup: '70+', emotion: 'happy' })];
    assert.deepEqual(
      keywordsOf(faces, ['ageGroup', 'emotion'], ['Anna']).map((k) => k.path.join('|')),
      ['People|Anna', 'Facets|Age|20-29', 'Facets|Emotion|Happy', 'Facets|Age|70+'],
    );
    assert.ok(!keywordsOf(faces, ['ageGroup', 'gender', 'emotion'], []).some((k) => k.path.includes('Ethnicity')));
    assert.ok(keywordsOf(faces, ['ethnicity'], []).some((k) => k.path.join('|') === 'Facets|Ethnicity|Asian'));
    // Hidden: faceRecord leaves ethnicity out, so nothing is written even when chosen.
    const hidden = faces.map(({ ethnicity: _e, ...rest }) => rest as FaceRecord);
    assert.deepEqual(keywordsOf(hidden, ['ethnicity'], []), []);
  });

  test('photo.jpg.xmp and photo.xmp', () => {
    assert.equal(sidecarPath('/p/a b.JPG', 'jpg.xmp'), '/p/a b.JPG.xmp');
    assert.equal(sidecarPath('/p/a b.JPG', 'xmp'), '/p/a b.xmp');
    assert.equal(sidecarPath('/p/noext', 'xmp'), '/p/noext.xmp');
  });
});
