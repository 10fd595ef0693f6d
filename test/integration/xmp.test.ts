/**
 * XMP sidecars end to end: real scans (real models, real SQLite file) of the face-api demo photos, the
 * real CLI writing sidecars, and Debian's exiftool reading them back as a third-party tool would.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { EXPORT_NAMES, type FaceRecord } from '../../main/library/export.js';
import type { Backend } from '../../main/api/backend.js';
import { openBackend } from '../../main/library/backend.js';
import { Library } from '../../main/library/library.js';
import type { ScanSummary } from '../../main/library/scanner.js';
import type { ExportSummary, ImportedNames } from '../../main/library/xmp/service.js';
import { ROOT } from '../helpers/cli.js';
import { type Finished, copyInto, facetsFromSources, runningAsRoot, sample } from '../helpers/library-fixtures.js';
import { type ExifRegion, exiftool, list, patchDifference, storedAs } from '../helpers/xmp.js';

const TAGS = ['-RegionInfo', '-HierarchicalSubject', '-Subject', '-TagsList'];
const TITLES: Record<string, string> = {
  ageGroup: 'Age',
  gender: 'Gender',
  emotion: 'Emotion',
  ethnicity: 'Ethnicity',
};
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

describe('XMP sidecars', { timeout: 400_000 }, () => {
  let work: string;
  let photos: string;
  let turned: string;
  let db: string;
  const cli = async (...args: string[]): Promise<Finished> => {
    const r = await facetsFromSources([...args, '--db', db]);
    assert.equal(r.code, 0, `facets ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  // `query --json` names gender and ethnicity "apparent…" (EXPORT_NAMES); the records here use the record names.
  const recordNames = new Map(Object.entries(EXPORT_NAMES).map(([k, v]) => [v, k]));
  const faces = async (): Promise<FaceRecord[]> =>
    (JSON.parse((await cli('query', '--json')).stdout) as Record<string, unknown>[]).map(
      (r) =>
        Object.fromEntries(Object.entries(r).map(([k, v]) => [recordNames.get(k) ?? k, v])) as unknown as FaceRecord,
    );
  const withLibrary = async <T>(use: (library: Library) => T | Promise<T>): Promise<T> => {
    const library = new Library({ dbPath: db });
    try {
      return await use(library);
    } finally {
      library.close();
    }
  };

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'facets-xmp-'));
    photos = path.join(work, 'Photos');
    copyInto(photos, [1, 2, 3, 4, 5, 6].map(sample));
    // sample2 (one face), stored in each of the eight EXIF orientations.
    turned = path.join(work, 'Turned');
    mkdirSync(turned);
    const upright = await sharp(sample(2)).resize(720).jpeg({ quality: 95 }).toBuffer();
    writeFileSync(path.join(work, 'upright.jpg'), upright);
    for (let o = 1; o <= 8; o++) writeFileSync(path.join(turned, `orientation ${o}.jpg`), await storedAs(upright, o));
    db = path.join(work, 'library.db');
    const scan = JSON.parse((await cli('scan', photos, turned, '--json')).stdout) as ScanSummary;
    assert.equal(scan.state, 'completed');
    assert.equal(scan.counts.failed, 0);
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('export writes one sidecar per photo from which exiftool reads exactly the faces and keywords', async () => {
    const dry = await cli('export', '--format', 'xmp', '--dry-run');
    assert.match(dry.stdout, /^would create .*Photos\/sample1\.jpg\.xmp \(\d+ region\(s\), \d+ keyword\(s\)\)$/m);
    assert.match(dry.stdout, /14 would be created, 0 would be updated/);
    assert.ok(!existsSync(path.join(photos, 'sample1.jpg.xmp')), 'a dry run writes nothing');

    const before = new Map(readdirSync(photos).map((f) => [f, readFileSync(path.join(photos, f))]));
    const r = await cli('export', '--format', 'xmp');
    assert.match(r.stdout, /XMP sidecars: 14 created, 0 updated, 0 unchanged\./);
    assert.match(r.stderr, /xmp 14\/14 photos \(100%\)/, 'progress');
    for (const [file, bytes] of before)
      assert.ok(readFileSync(path.join(photos, file)).equals(bytes), `${file} untouched`);

    const records = await faces();
    const files = [1, 2, 3, 4, 5, 6].map((n) => path.join(photos, `sample${n}.jpg`));
    const read = exiftool(
      files.map((f) => `${f}.xmp`),
      TAGS,
    );
    assert.equal(read.length, 6);
    for (const [i, file] of files.entries()) {
      const xmp = read[i];
      assert.ok(xmp);
      const mine = records.filter((f) => f.path === file);
      const meta = await sharp(file).metadata();
      const [W, H] = [meta.width as number, meta.height as number];
      assert.deepEqual(xmp.RegionInfo?.AppliedToDimensions, { W, H, Unit: 'pixel' });
      const r6 = (v: number) => Math.round(v * 1e6) / 1e6;
      assert.deepEqual(
        xmp.RegionInfo?.RegionList?.map((region: ExifRegion) => ({ type: region.Type, area: region.Area })),
        mine.map((f) => ({
          type: 'Face',
          area: {
            X: r6((f.box.x + f.box.width / 2) / W),
            Y: r6((f.box.y + f.box.height / 2) / H),
            W: r6(f.box.width / W),
            H: r6(f.box.height / H),
            Unit: 'normalized',
          },
        })),
        `${file}: every face, in order, at its place`,
      );
      assert.ok(
        xmp.RegionInfo?.RegionList?.every((region) => region.Name === undefined),
        'no names until People provides them',
      );
      const expected = [
        ...new Set(
          mine.flatMap((f) =>
            (['ageGroup', 'gender', 'emotion'] as const).map((a) => `Facets|${TITLES[a]}|${cap(f[a] as string)}`),
          ),
        ),
      ];
      assert.deepEqual(list(xmp.HierarchicalSubject), expected, `${file}: keywords`);
      assert.deepEqual(
        list(xmp.TagsList),
        expected.map((k) => k.replaceAll('|', '/')),
      );
      assert.deepEqual(list(xmp.Subject), [...new Set(expected.map((k) => k.split('|')[2]))]);
      assert.ok(!expected.some((k) => k.includes('Ethnicity')), 'ethnicity is not written unless chosen');
    }
    const again = await cli('export', '--format', 'xmp');
    assert.match(again.stdout, /0 created, 0 updated, 14 unchanged/);
  });

  test('for each of the eight EXIF orientations, the region lands on the face in the stored image', async (t) => {
    const upright = readFileSync(path.join(work, 'upright.jpg'));
    const records = await faces();
    for (let o = 1; o <= 8; o++) {
      const file = path.join(turned, `orientation ${o}.jpg`);
      const stored = readFileSync(file);
      const meta = await sharp(stored).metadata();
      assert.equal(meta.orientation ?? 1, o);
      const [W, H] = [meta.width as number, meta.height as number];
      const [xmp] = exiftool([`${file}.xmp`], ['-RegionInfo']);
      const regions = xmp?.RegionInfo?.RegionList ?? [];
      const mine = records.filter((f) => f.path === file);
      assert.ok(mine.length >= 1, `orientation ${o}: the face is found`);
      assert.equal(regions.length, mine.length);
      assert.deepEqual(xmp?.RegionInfo?.AppliedToDimensions, { W, H, Unit: 'pixel' }, 'the stored size');
      for (const [i, region] of regions.entries()) {
        const face = mine[i] as FaceRecord;
        const a = region.Area;
        // The area, relative to the stored pixels, cut out and shown upright, is the face.
        const storedBox = {
          left: Math.round((a.X - a.W / 2) * W),
          top: Math.round((a.Y - a.H / 2) * H),
          width: Math.round(a.W * W),
          height: Math.round(a.H * H),
        };
        const uprightBox = { left: face.box.x, top: face.box.y, width: face.box.width, height: face.box.height };
        const onFace = await patchDifference(stored, storedBox, o, upright, uprightBox);
        const shifted = { ...uprightBox, left: Math.max(0, uprightBox.left - uprightBox.width) };
        const offFace = await patchDifference(stored, storedBox, o, upright, shifted);
        t.diagnostic(
          `orientation ${o}: mean grey difference ${onFace.toFixed(2)} on the face, ${offFace.toFixed(2)} beside it`,
        );
        assert.ok(onFace < 8, `orientation ${o}: the region shows the face (mean difference ${onFace.toFixed(1)})`);
        assert.ok(
          onFace * 3 < offFace,
          `orientation ${o}: and not what is beside it (${onFace.toFixed(1)} vs ${offFace.toFixed(1)})`,
        );
      }
    }
  });

  test("names from People's interface become region names and People| keywords", async () => {
    const file = path.join(photos, 'sample1.jpg');
    const mine = (await faces()).filter((f) => f.path === file);
    const named = mine[1] as FaceRecord;
    const summary = await withLibrary((l) => {
      l.xmp.names = { nameOf: (faceId) => (faceId === named.faceId ? 'Anna Łukasiewicz & Co' : undefined) };
      return l.xmp.export({ photoIds: [named.photoId] });
    });
    assert.equal(summary.counts.update, 1);
    const [xmp] = exiftool([`${file}.xmp`], TAGS);
    assert.deepEqual(
      xmp?.RegionInfo?.RegionList?.map((r) => r.Name ?? null),
      mine.map((f) => (f === named ? 'Anna Łukasiewicz & Co' : null)),
    );
    // Added after the keywords already there (an update keeps the order of what it keeps).
    assert.equal(list(xmp?.HierarchicalSubject).at(-1), 'People|Anna Łukasiewicz & Co');
    assert.equal(list(xmp?.TagsList).at(-1), 'People/Anna Łukasiewicz & Co');
    assert.ok(list(xmp?.Subject).includes('Anna Łukasiewicz & Co'));
    // The CLI's export asks People, who never heard this name: it goes again.
    await cli('export', '--format', 'xmp', '--folder', photos);
    const [plain] = exiftool([`${file}.xmp`], TAGS);
    assert.ok(plain?.RegionInfo?.RegionList?.every((r) => r.Name === undefined));
    assert.ok(!list(plain?.HierarchicalSubject).some((k) => k.startsWith('People|')));
  });

  test('a sidecar that is a link stays a link; a private sidecar stays private', async () => {
    const elsewhere = path.join(work, 'Sidecars elsewhere');
    mkdirSync(elsewhere);
    const linked = path.join(photos, 'sample5.jpg.xmp');
    const target = path.join(elsewhere, 'sample5.xmp');
    copyFileSync(linked, target);
    rmSync(linked);
    symlinkSync(target, linked);
    const private6 = path.join(photos, 'sample6.jpg.xmp');
    chmodSync(private6, 0o600);
    // A correction in each, so that both are rewritten.
    const records = await faces();
    await withLibrary((l) => {
      for (const name of ['sample5.jpg', 'sample6.jpg']) {
        const face = records.find((f) => f.path === path.join(photos, name)) as FaceRecord;
        l.catalog.faces.correct(
          face.faceId,
          'ageGroup',
          face.ageGroup === '70+' ? '0-2' : '70+',
          new Date().toISOString(),
        );
      }
    });
    const r = await cli('export', '--format', 'xmp', '--folder', photos);
    assert.match(r.stdout, /2 updated/);
    assert.ok(lstatSync(linked).isSymbolicLink(), 'still a link');
    assert.ok(
      list(exiftool([target], ['-HierarchicalSubject'])[0]?.HierarchicalSubject).some((k) => /Age\|(70\+|0-2)/.test(k)),
    );
    assert.equal(statSync(private6).mode & 0o777, 0o600);
    assert.deepEqual(
      readdirSync(elsewhere)
        .concat(readdirSync(photos))
        .filter((f) => f.endsWith('.tmp')),
      [],
    );
  });

  test('ethnicity becomes a keyword only when chosen, and never while hidden', async () => {
    const file = path.join(photos, 'sample1.jpg');
    const keywords = () => list(exiftool([`${file}.xmp`], ['-HierarchicalSubject'])[0]?.HierarchicalSubject);
    await withLibrary((l) =>
      l.settings.update({ xmp: { ...l.settings.get().xmp, keywords: ['emotion', 'ethnicity'] } }),
    );
    await cli('export', '--format', 'xmp', '--folder', photos);
    const chosen = keywords();
    assert.ok(
      chosen.some((k) => k.startsWith('Facets|Ethnicity|')),
      chosen.join(', '),
    );
    assert.ok(!chosen.some((k) => k.startsWith('Facets|Age|')), 'attributes not chosen are dropped');
    await withLibrary((l) => l.settings.update({ hideEthnicity: true }));
    await cli('export', '--format', 'xmp', '--folder', photos);
    assert.ok(!keywords().some((k) => k.includes('Ethnicity')), 'hidden: removed from the sidecar');
    await withLibrary((l) =>
      l.settings.update({
        hideEthnicity: false,
        xmp: { ...l.settings.get().xmp, keywords: ['ageGroup', 'gender', 'emotion'] },
      }),
    );
  });

  test("another tool's sidecar survives an export intact; corrections update Facets' part without duplicates", async () => {
    const file = path.join(photos, 'sample3.jpg');
    const sidecar = path.join(photos, 'sample3.xmp'); // Lightroom's naming
    writeFileSync(
      sidecar,
      `<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
    xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#" xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#"
    xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
    xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/" xmlns:zz="http://example.org/unknown/9/"
    crs:Exposure2012="+0.35" zz:mood="calm">
   <mwg-rs:Regions rdf:parseType="Resource">
    <mwg-rs:AppliedToDimensions stDim:w="10" stDim:h="10" stDim:unit="pixel"/>
    <mwg-rs:RegionList><rdf:Bag>
     <rdf:li><rdf:Description mwg-rs:Name="Grandma" mwg-rs:Type="Face">
      <mwg-rs:Area stArea:x="0.05" stArea:y="0.05" stArea:w="0.04" stArea:h="0.04" stArea:unit="normalized"/>
     </rdf:Description></rdf:li>
    </rdf:Bag></mwg-rs:RegionList>
   </mwg-rs:Regions>
   <dc:subject><rdf:Bag><rdf:li>Family</rdf:li></rdf:Bag></dc:subject>
   <lr:hierarchicalSubject><rdf:Bag><rdf:li>Events|Wedding</rdf:li></rdf:Bag></lr:hierarchicalSubject>
   <zz:notes><rdf:Seq><rdf:li>first</rdf:li><rdf:li>second</rdf:li></rdf:Seq></zz:notes>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
`,
    );
    const other = (x: ReturnType<typeof exiftool>[number]) => ({
      exposure: x['Exposure2012'],
      mood: x['Mood'],
      notes: x['Notes'],
      grandma: x.RegionInfo?.RegionList?.filter((r) => r.Name === 'Grandma').map((r) => r.Area),
    });
    const original = exiftool([sidecar], ['-XMP:all', ...TAGS])[0] as ReturnType<typeof exiftool>[number];
    const r = await cli('export', '--format', 'xmp', '--folder', photos, '--sidecar', 'xmp');
    assert.match(r.stdout, /5 created, 1 updated/, 'only sample3 had a photo.xmp; the others get one');
    const merged = exiftool([sidecar], ['-XMP:all', ...TAGS])[0] as ReturnType<typeof exiftool>[number];
    assert.deepEqual(other(merged), other(original));
    assert.deepEqual(other(merged).grandma, [{ X: 0.05, Y: 0.05, W: 0.04, H: 0.04, Unit: 'normalized' }]);
    const mine = (await faces()).filter((f) => f.path === file);
    assert.equal(merged.RegionInfo?.RegionList?.length, mine.length + 1, "the other tool's region and Facets' faces");
    assert.deepEqual(list(merged.Subject).slice(0, 1), ['Family']);
    assert.deepEqual(list(merged.HierarchicalSubject).slice(0, 1), ['Events|Wedding']);

    // A correction: a dry run names the sidecar and writes nothing; the export replaces the keyword.
    const face = mine[0] as FaceRecord;
    const newEmotion = face.emotion === 'surprise' ? 'fear' : 'surprise';
    await withLibrary((l) => l.catalog.faces.correct(face.faceId, 'emotion', newEmotion, new Date().toISOString()));
    const text = readFileSync(sidecar);
    const dry = await cli('export', '--format', 'xmp', '--folder', photos, '--sidecar', 'xmp', '--dry-run');
    assert.match(dry.stdout, /^would update .*sample3\.xmp/m);
    assert.equal(dry.stdout.match(/^would /gm)?.length, 1, dry.stdout);
    assert.ok(readFileSync(sidecar).equals(text));
    await cli('export', '--format', 'xmp', '--folder', photos, '--sidecar', 'xmp');
    const updated = exiftool([sidecar], ['-XMP:all', ...TAGS])[0] as ReturnType<typeof exiftool>[number];
    const hierarchical = list(updated.HierarchicalSubject);
    assert.ok(hierarchical.includes(`Facets|Emotion|${cap(newEmotion)}`));
    assert.equal(new Set(hierarchical).size, hierarchical.length, 'no duplicates');
    const expectedEmotions = new Set(
      mine
        .map((f) => (f.faceId === face.faceId ? newEmotion : (f.emotion as string)))
        .map((e) => `Facets|Emotion|${cap(e)}`),
    );
    assert.deepEqual(new Set(hierarchical.filter((k) => k.startsWith('Facets|Emotion|'))), expectedEmotions);
    assert.equal(updated.RegionInfo?.RegionList?.length, mine.length + 1, 'regions replaced, not added');
    assert.deepEqual(other(updated), other(original));
  });

  test('importing digiKam-style named regions (sidecar and embedded XMP) names the matching faces', async () => {
    const records = await faces();
    const s1 = records.filter((f) => f.path === path.join(photos, 'sample1.jpg'));
    const s4 = records.filter((f) => f.path === path.join(photos, 'sample4.jpg'));
    assert.ok(s1.length >= 2 && s4.length >= 1);
    const m1 = await sharp(sample(1)).metadata();
    const m4 = await sharp(sample(4)).metadata();
    // Regions drawn a little looser than the detector's boxes, as people draw them.
    const area = (f: FaceRecord, W: number, H: number) =>
      `stArea:x="${(f.box.x + f.box.width / 2) / W}" stArea:y="${(f.box.y + f.box.height / 2) / H}" ` +
      `stArea:w="${(f.box.width * 1.15) / W}" stArea:h="${(f.box.height * 1.15) / H}" stArea:unit="normalized"`;
    const region = (name: string, where: string) =>
      `<rdf:li><rdf:Description mwg-rs:Name="${name}" mwg-rs:Type="Face"><mwg-rs:Area ${where}/></rdf:Description></rdf:li>`;
    const packet = (regions: string[]) => `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Toolkit 4.4.0 (digiKam)"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
  xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#" xmlns:digiKam="http://www.digikam.org/ns/1.0/">
<digiKam:TagsList><rdf:Seq><rdf:li>People/Family</rdf:li></rdf:Seq></digiKam:TagsList>
<mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:RegionList><rdf:Bag>${regions.join('')}</rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions>
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`;

    const fromDigikam = path.join(work, 'From digiKam');
    mkdirSync(fromDigikam);
    const names = ['Anna', 'Ben', 'Cleo'].slice(0, s1.length);
    copyFileSync(sample(1), path.join(fromDigikam, 'party.jpg'));
    writeFileSync(
      path.join(fromDigikam, 'party.jpg.xmp'),
      packet([
        ...names.map((n, i) => region(n, area(s1[i] as FaceRecord, m1.width as number, m1.height as number))),
        region('Nobody', 'stArea:x="0.03" stArea:y="0.95" stArea:w="0.04" stArea:h="0.05" stArea:unit="normalized"'),
      ]),
    );
    // Embedded in the JPEG itself (exiftool writes it into a copy: new content, analysed anew).
    const embeddedXmp = path.join(work, 'embedded.xmp');
    writeFileSync(
      embeddedXmp,
      packet([region('Dora', area(s4[0] as FaceRecord, m4.width as number, m4.height as number))]),
    );
    const embedded = path.join(fromDigikam, 'portrait.jpg');
    await run('exiftool', ['-q', '-tagsfromfile', embeddedXmp, '-xmp:all', '-o', embedded, sample(4)]);
    assert.ok(existsSync(embedded) && !existsSync(`${embedded}.xmp`));

    const scan = await cli('scan', fromDigikam, '--json');
    assert.equal((JSON.parse(scan.stdout) as ScanSummary).state, 'completed');
    assert.match(scan.stderr, new RegExp(`XMP: ${names.length + 1} named region\\(s\\) .* match faces in the library`));
    assert.match(scan.stderr, /XMP: 1 named region\(s\) with no detected face became faces/);

    // The CLI's scan gave the names to People: each is a person, with the face it was drawn around.
    const listed = JSON.parse((await cli('people', '--json')).stdout) as {
      items: { id: number; name: string | null; faceCount: number }[];
    };
    for (const n of [...names, 'Dora']) {
      const person = listed.items.find((p) => p.name === n);
      assert.ok(person && person.faceCount >= 1, `${n} is a person: ${JSON.stringify(listed.items)}`);
    }
    // The named region with no detected face under it became a face of its own ([Note: face edits]).
    const nobody = listed.items.find((p) => p.name === 'Nobody');
    assert.equal(nobody?.faceCount, 1, 'the region no face was detected in is a face named Nobody');
    const xmpFaces = () =>
      withLibrary((l) => {
        const photo = l.catalog.photos.byPath(path.join(fromDigikam, 'party.jpg'));
        return l.catalog.faces.ofPhoto(photo?.id as number).filter((f) => f.source === 'xmp');
      });
    const [added] = await xmpFaces();
    assert.ok(added, 'a face from XMP');
    const m1box = { x: (0.03 - 0.02) * (m1.width as number), y: (0.95 - 0.025) * (m1.height as number) };
    assert.ok(Math.abs(added.x - m1box.x) < 1 && Math.abs(added.y - m1box.y) < 1, 'where the region is');
    assert.ok(added.age_group && added.gender, 'analysed like any face');

    // The names as handed over by the importer.
    const handed: ImportedNames[] = [];
    await withLibrary(async (l) => {
      l.xmp.names = { imported: (found) => handed.push(found) };
      for (const file of [path.join(fromDigikam, 'party.jpg'), embedded]) {
        const photo = l.catalog.photos.byPath(file);
        assert.ok(photo);
        await l.xmp.importPhoto(photo.id);
      }
    });
    const after = await faces();
    const boxOf = (id: number) => after.find((f) => f.faceId === id)?.box;
    const party = handed[0] as ImportedNames;
    assert.deepEqual(
      party.matched
        .filter((m) => m.faceId !== added.id)
        .map((m) => [m.name, boxOf(m.faceId)])
        .sort(),
      names.map((n, i) => [n, (s1[i] as FaceRecord).box]).sort(),
      'each name on the face it was drawn around',
    );
    assert.ok(party.matched.every((m) => m.source.endsWith('party.jpg.xmp') && m.iou >= 0.5));
    assert.deepEqual(
      party.matched.filter((m) => m.faceId === added.id).map((m) => m.name),
      ['Nobody'],
      'read again, the region names the face it became',
    );
    assert.deepEqual(party.unmatched, [], 'no region is left without a face');
    const portrait = handed[1] as ImportedNames;
    assert.equal(portrait.matched.length, 1);
    assert.equal(portrait.matched[0]?.name, 'Dora');
    assert.equal(portrait.matched[0]?.source, embedded);
    const dora = boxOf(portrait.matched[0]?.faceId as number);
    const s4box = (s4[0] as FaceRecord).box;
    assert.ok(dora && Math.abs(dora.x - s4box.x) < 4 && Math.abs(dora.y - s4box.y) < 4, 'the face under the region');

    // Nothing changed: the next scan reads no sidecar again. digiKam renames someone in the sidecar
    // of a photo that did not change itself: the next scan reads that sidecar again.
    const quiet = await cli('scan', fromDigikam, '--json');
    assert.doesNotMatch(quiet.stderr, /XMP: \d+ named region/);
    const sidecar = path.join(fromDigikam, 'party.jpg.xmp');
    writeFileSync(sidecar, readFileSync(sidecar, 'utf8').replace('mwg-rs:Name="Anna"', 'mwg-rs:Name="Annabel"'));
    const rescan = await cli('scan', fromDigikam, '--json');
    assert.equal((JSON.parse(rescan.stdout) as ScanSummary).counts.unchanged, 2, 'the photos themselves are unchanged');
    // Only the changed sidecar: its named regions, Nobody's now on the face it became.
    assert.match(rescan.stderr, new RegExp(`XMP: ${names.length + 1} named region\\(s\\)`), 'only the changed sidecar');
    assert.doesNotMatch(rescan.stderr, /became faces/, 'no face added twice');
    const renamed = await withLibrary(async (l) => {
      const photo = l.catalog.photos.byPath(path.join(fromDigikam, 'party.jpg'));
      return (await l.xmp.importPhoto(photo?.id as number))?.matched.map((m) => m.name);
    });
    assert.ok(renamed?.includes('Annabel') && !renamed.includes('Anna'));
    // Two more scans read the sidecar; the region with no detected face is still one face, not two.
    assert.deepEqual(
      (await xmpFaces()).map((f) => f.id),
      [added.id],
      'the face from XMP, once',
    );
    // The user says it is not a face: the region, read again (digiKam changed the sidecar), adds none.
    await cli('faces', 'reject', String(added.id));
    const beforeEdit = readFileSync(sidecar, 'utf8');
    writeFileSync(sidecar, beforeEdit.replace('People/Family', 'People/Friends'));
    assert.notEqual(readFileSync(sidecar, 'utf8'), beforeEdit);
    const afterReject = await cli('scan', fromDigikam, '--json');
    assert.doesNotMatch(afterReject.stderr, /became faces/);
    assert.deepEqual(await xmpFaces(), [], 'not a face stays so');
    // Facets' own export writes People's names back as its regions' names (merged into digiKam's sidecar).
    await cli('export', '--format', 'xmp', '--folder', fromDigikam);
    const [merged] = exiftool([path.join(fromDigikam, 'party.jpg.xmp')], TAGS);
    const regionNames = (merged?.RegionInfo?.RegionList ?? []).map((r) => r.Name).filter(Boolean);
    assert.ok(regionNames.includes('Ben'), `Ben in ${JSON.stringify(regionNames)}`);
    assert.ok(list(merged?.HierarchicalSubject).includes('People|Ben'));
  });

  test('XMP embedded in a PNG names its face too', async () => {
    const s4 = (await faces()).filter((f) => f.path === path.join(photos, 'sample4.jpg'));
    const f = s4[0] as FaceRecord;
    assert.ok(f);
    const m4 = await sharp(sample(4)).metadata();
    const [W, H] = [m4.width as number, m4.height as number];
    const packet = `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
  xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#">
<mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:RegionList><rdf:Bag><rdf:li><rdf:Description mwg-rs:Name="Edda" mwg-rs:Type="Face"><mwg-rs:Area stArea:x="${(f.box.x + f.box.width / 2) / W}" stArea:y="${(f.box.y + f.box.height / 2) / H}" stArea:w="${f.box.width / W}" stArea:h="${f.box.height / H}" stArea:unit="normalized"/></rdf:Description></rdf:li></rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions>
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`;
    const folder = path.join(work, 'From PNG');
    mkdirSync(folder);
    const xmpFile = path.join(work, 'png.xmp');
    writeFileSync(xmpFile, packet);
    const plain = path.join(work, 'plain.png');
    await sharp(sample(4)).png().toFile(plain);
    const png = path.join(folder, 'portrait.png');
    // exiftool writes the packet into the PNG's iTXt chunk (XML:com.adobe.xmp), as other tools do.
    await run('exiftool', ['-q', '-tagsfromfile', xmpFile, '-xmp:all', '-o', png, plain]);
    assert.equal(exiftool([png], TAGS)[0]?.RegionInfo?.RegionList?.[0]?.Name, 'Edda', 'exiftool reads it back');

    const scan = await cli('scan', folder, '--json');
    assert.equal((JSON.parse(scan.stdout) as ScanSummary).state, 'completed');
    const found = await withLibrary(async (l) => {
      const photo = l.catalog.photos.byPath(png);
      assert.ok(photo, 'the PNG is in the library');
      return l.xmp.importPhoto(photo.id);
    });
    assert.deepEqual(
      found?.matched.map((m) => [m.name, m.source]),
      [['Edda', png]],
    );
    const listed = JSON.parse((await cli('people', '--json')).stdout) as { items: { name: string | null }[] };
    assert.ok(
      listed.items.some((p) => p.name === 'Edda'),
      'the name became a person at the scan',
    );
  });

  test('bad sidecars are recorded, readable problems; the scan and the export go on', async () => {
    const bad = path.join(work, 'Bad');
    const readOnly = path.join(bad, 'read-only');
    mkdirSync(readOnly, { recursive: true });
    for (const name of ['malformed', 'folder', 'huge', 'fine']) copyFileSync(sample(2), path.join(bad, `${name}.jpg`));
    copyFileSync(sample(2), path.join(readOnly, 'locked.jpg'));
    const malformed = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description>unclosed';
    writeFileSync(path.join(bad, 'malformed.jpg.xmp'), malformed);
    mkdirSync(path.join(bad, 'folder.jpg.xmp'));
    writeFileSync(path.join(bad, 'folder.jpg.xmp', 'inside.txt'), 'a folder, not a sidecar');
    const huge = Buffer.alloc(9 * 1024 * 1024, ' ');
    Buffer.from('<x:xmpmeta xmlns:x="adobe:ns:meta/">').copy(huge);
    writeFileSync(path.join(bad, 'huge.jpg.xmp'), huge);
    const badDb = path.join(work, 'bad', 'library.db');

    const scan = await facetsFromSources(['scan', bad, '--json', '--db', badDb]);
    assert.equal(scan.code, 0, scan.stderr);
    const summary = JSON.parse(scan.stdout) as ScanSummary;
    assert.equal(summary.state, 'completed');
    assert.equal(summary.counts.failed, 0);
    const warnings = summary.warnings.map((w) => `${w.path}: ${w.message}`).join('\n');
    assert.match(warnings, /malformed\.jpg\.xmp: XMP: .*malformed\.jpg\.xmp is not valid XMP \(not well-formed XML/);
    assert.match(warnings, /folder\.jpg\.xmp: XMP: .*folder\.jpg\.xmp is a folder, not a sidecar file/);
    assert.match(warnings, /huge\.jpg\.xmp: XMP: .*huge\.jpg\.xmp is 9\.0 MB, more than the 8\.0 MB Facets reads/);

    // The read-only folder: root writes anywhere, so as root the export runs as nobody.
    chmodSync(readOnly, 0o555);
    let exported: Finished;
    if (runningAsRoot) {
      for (const dir of [work, bad, path.dirname(badDb)]) chmodSync(dir, 0o777);
      for (const f of readdirSync(path.dirname(badDb))) chmodSync(path.join(path.dirname(badDb), f), 0o666);
      exported = await facetsAs(65534, ['export', '--format', 'xmp', '--json', '--db', badDb]);
    } else {
      exported = await facetsFromSources(['export', '--format', 'xmp', '--json', '--db', badDb]);
    }
    chmodSync(readOnly, 0o755);
    assert.equal(exported.code, 1, `problems make the exit status 1: ${exported.stderr}`);
    const result = JSON.parse(exported.stdout) as ExportSummary;
    const byName = new Map(result.items.map((i) => [path.basename(i.photo), i]));
    assert.equal(byName.get('fine.jpg')?.action, 'create', 'the export went on');
    assert.equal(byName.get('malformed.jpg')?.action, 'failed');
    assert.match(byName.get('malformed.jpg')?.problem ?? '', /is not valid XMP .*; left as it is/);
    assert.match(byName.get('folder.jpg')?.problem ?? '', /is a folder, not a sidecar file; left as it is/);
    assert.match(
      byName.get('huge.jpg')?.problem ?? '',
      /is 9\.0 MB, more than the 8\.0 MB Facets reads; left as it is/,
    );
    assert.match(byName.get('locked.jpg')?.problem ?? '', /cannot write .*locked\.jpg\.xmp: permission denied/);
    assert.match(exported.stderr, /problem: .*locked\.jpg\.xmp: permission denied/);

    // Nothing that was there is damaged.
    assert.equal(readFileSync(path.join(bad, 'malformed.jpg.xmp'), 'utf8'), malformed);
    assert.ok(readFileSync(path.join(bad, 'huge.jpg.xmp')).equals(huge));
    assert.ok(statSync(path.join(bad, 'folder.jpg.xmp')).isDirectory());
    assert.deepEqual(readdirSync(readOnly), ['locked.jpg'], 'no temporary file left behind');
    assert.deepEqual(
      readdirSync(bad).filter((f) => f.endsWith('.tmp')),
      [],
    );
    const [fine] = exiftool([path.join(bad, 'fine.jpg.xmp')], ['-RegionInfo']);
    assert.ok((fine?.RegionInfo?.RegionList?.length ?? 0) >= 1);

    const reader = new Database(badDb, { readonly: true });
    try {
      const recorded = reader
        .prepare<[], { path: string; operation: string; problem: string }>(
          'SELECT path, operation, problem FROM xmp_problems',
        )
        .all()
        .map((p) => `${p.operation} ${path.basename(p.path)}`)
        .sort();
      assert.deepEqual(recorded, [
        'read folder.jpg.xmp',
        'read huge.jpg.xmp',
        'read malformed.jpg.xmp',
        'write folder.jpg.xmp',
        'write huge.jpg.xmp',
        'write locked.jpg.xmp',
        'write malformed.jpg.xmp',
      ]);
    } finally {
      reader.close();
    }
  });
});

describe('"Keep XMP sidecars up to date"', { timeout: 240_000 }, () => {
  let work: string;
  let backend: Backend;
  before(() => {
    work = mkdtempSync(path.join(tmpdir(), 'facets-xmp-backend-'));
  });
  after(async () => {
    await backend?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('off by default; on, the app writes sidecars after a scan and after each correction', async () => {
    const photos = path.join(work, 'photos');
    copyInto(photos, [sample(1), sample(2)]);
    backend = await openBackend({ dbPath: path.join(work, 'library.db'), workers: 1 });
    const settings = await backend.handle('settings:get', undefined);
    assert.deepEqual(settings.xmp, {
      keepUpToDate: false,
      sidecar: 'jpg.xmp',
      keywords: ['ageGroup', 'gender', 'emotion'],
    });
    await backend.handle('folders:add', { path: photos });
    await backend.handle('settings:update', { xmp: { ...settings.xmp, keepUpToDate: true, sidecar: 'xmp' } });
    const idle = new Promise<void>((resolve) => {
      const off = backend.on('scan:progress', (p) => {
        if (p.state === 'idle') {
          off();
          resolve();
        }
      });
    });
    await backend.handle('scan:start', {});
    await idle;
    const sidecar = path.join(photos, 'sample2.xmp');
    await until(() => existsSync(sidecar) && existsSync(path.join(photos, 'sample1.xmp')));
    const { items } = await backend.handle('faces:query', {
      filter: { folder: photos },
      page: { offset: 0, limit: 50 },
    });
    const face = items.find((f) => f.emotion);
    assert.ok(face?.emotion);
    const photo = await backend.handle('photo:get', { id: face.photoId });
    const file = photo.path.replace(/\.jpg$/, '.xmp');
    const target = face.emotion.value === 'sad' ? 'fear' : 'sad';
    await backend.handle('faces:correct', { faceIds: [face.id], attribute: 'emotion', value: target });
    await until(() =>
      list(exiftool([file], ['-HierarchicalSubject'])[0]?.HierarchicalSubject).includes(
        `Facets|Emotion|${cap(target)}`,
      ),
    );
    assert.ok(!existsSync(`${photo.path}.xmp`), 'the chosen naming only');

    // Settings that change what sidecars say rewrite them: ethnicity chosen, then hidden.
    const ethnicity = () =>
      list(exiftool([file], ['-HierarchicalSubject'])[0]?.HierarchicalSubject).some((k) => k.includes('Ethnicity'));
    const current = (await backend.handle('settings:get', undefined)).xmp;
    await backend.handle('settings:update', { xmp: { ...current, keywords: [...current.keywords, 'ethnicity'] } });
    await until(ethnicity);
    await backend.handle('settings:update', { hideEthnicity: true });
    await until(() => !ethnicity());
  });
});

async function until(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command}: ${stderr}`))));
  });
}

/** The CLI from sources as another user (root writes into read-only folders, so that test needs one who cannot). */
function facetsAs(uid: number, args: string[]): Promise<Finished> {
  const entry = path.join(ROOT, 'main/cli/main.ts');
  const script = `const { main } = await import(${JSON.stringify(entry)}); process.exitCode = await main(process.argv.slice(1));`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, ...args], {
    cwd: ROOT,
    uid,
    gid: uid,
    env: { ...process.env, HOME: tmpdir() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}
