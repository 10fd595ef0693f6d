import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { compileExclusions, type WalkEntry, walkLibrary } from '../../main/library/walker.js';

async function walk(roots: string[], options: Parameters<typeof walkLibrary>[1] = {}): Promise<WalkEntry[]> {
  const out: WalkEntry[] = [];
  for await (const entry of walkLibrary(roots, options)) out.push(entry);
  return out;
}

describe('walkLibrary', () => {
  let root: string;
  const touch = (relative: string, data = 'x') => {
    const file = path.join(root, relative);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, data);
  };

  before(() => {
    root = mkdtempSync(path.join(tmpdir(), 'facets-walk-'));
    touch('a.jpg');
    touch('B.JPEG');
    touch('notes.txt');
    touch('sub dir/ünïcødé.heic');
    touch('sub dir/deeper/raw.NEF');
    touch('.hidden/x.jpg');
    touch('._a.jpg');
    touch('@eaDir/thumb.jpg');
    touch('node_modules/x/y.png');
    touch('$RECYCLE.BIN/z.jpg');
    touch('Private/secret.jpg');
    touch('drafts/tmp.jpg.tmp');
    touch('drafts/keep.webp');
    symlinkSync(root, path.join(root, 'sub dir', 'loop'));
    symlinkSync('..', path.join(root, 'sub dir', 'deeper', 'up'));
    symlinkSync(path.join(root, 'a.jpg'), path.join(root, 'link to a.jpg'));
    symlinkSync(path.join(root, 'missing.jpg'), path.join(root, 'dangling.jpg'));
  });

  after(() => rmSync(root, { recursive: true, force: true }));

  test('finds photos by extension, sorted, each file once, skipping hidden and system folders', async () => {
    const entries = await walk([root]);
    const relative = entries.map((e) => path.relative(root, e.path));
    assert.deepEqual(relative, [
      'B.JPEG',
      'Private/secret.jpg',
      'a.jpg',
      'dangling.jpg',
      'drafts/keep.webp',
      'sub dir/deeper/raw.NEF',
      'sub dir/ünïcødé.heic',
    ]);
    const kinds = Object.fromEntries(entries.map((e) => [path.basename(e.path), e.photoKind]));
    assert.equal(kinds['raw.NEF'], 'raw');
    assert.equal(kinds['ünïcødé.heic'], 'heic');
    assert.equal(kinds['a.jpg'], 'sharp');
  });

  test('never loops on symbolic links, and a link to a file already seen is skipped', async () => {
    const entries = await walk([root, path.join(root, 'sub dir')]);
    const paths = entries.map((e) => e.path);
    assert.equal(new Set(paths).size, paths.length);
    assert.ok(!paths.some((p) => p.includes('loop') || p.includes(`${path.sep}up${path.sep}`)));
    assert.ok(!paths.includes(path.join(root, 'link to a.jpg')));
  });

  test('reports a dangling link as unreadable, with a reason a person understands', async () => {
    const dangling = (await walk([root])).find((e) => e.path.endsWith('dangling.jpg'));
    assert.equal(dangling?.kind, 'unreadable');
    assert.match(dangling.kind === 'unreadable' ? dangling.error : '', /broken symbolic link/);
  });

  test('honours exclusion patterns and skip paths', async () => {
    const entries = await walk([root], { exclude: ['Private', '*.webp'], skipPaths: [path.join(root, 'sub dir')] });
    assert.deepEqual(
      entries.map((e) => path.relative(root, e.path)),
      ['B.JPEG', 'a.jpg', 'dangling.jpg'],
    );
  });

  test('warns about a root that is not there instead of failing', async () => {
    const warnings: string[] = [];
    const entries = await walk([path.join(root, 'no such folder'), root], { onWarning: (p) => warnings.push(p) });
    assert.deepEqual(warnings, [path.join(root, 'no such folder')]);
    assert.ok(entries.length > 0);
  });
});

test('compileExclusions: names anywhere, paths from the root, ** across folders, case-insensitive', () => {
  const excluded = compileExclusions(['*.tmp', 'Scans/**', '**/raw', '2019/Trip?']);
  assert.equal(excluded('a/b/file.tmp'), true);
  assert.equal(excluded('a/b/file.jpg'), false);
  assert.equal(excluded('scans/2020/x.jpg'), true);
  assert.equal(excluded('other/scans/x.jpg'), false);
  assert.equal(excluded('x/y/RAW/z.nef'), true);
  assert.equal(excluded('raw'), true);
  assert.equal(excluded('2019/Trip1/a.jpg'), true);
  assert.equal(excluded('2019/Trip10/a.jpg'), false);
  assert.equal(compileExclusions([])('anything.jpg'), false);
});
