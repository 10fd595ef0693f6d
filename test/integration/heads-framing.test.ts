/**
 * `facets train-heads --train-framing`: one training set framed otherwise than the rest (UTKFace's crops
 * framed as the engine frames faces, next to FairFace's own crops). Two tiny labelled sets cut from the
 * sample photos of a dependency, the real embedding network, a real cache folder: each set is embedded
 * under its own framing and the manifest entry says which.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { facets, ROOT } from '../helpers/cli.js';

let tmp: string;
before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'facets-framing-'));
  const demo = path.join(ROOT, 'node_modules/@vladmandic/face-api/demo');
  for (const set of ['a', 'b']) {
    mkdirSync(path.join(tmp, set));
    const rows = ['path,gender'];
    for (let i = 1; i <= 6; i++) {
      const file = `face${i}.jpg`;
      await sharp(path.join(demo, `sample${i}.jpg`))
        .resize(224, 224, { fit: 'cover' })
        .jpeg()
        .toFile(path.join(tmp, set, file));
      rows.push(`${file},${i % 2 ? 'male' : 'female'}`);
    }
    writeFileSync(path.join(tmp, set, 'labels.csv'), rows.join('\n') + '\n');
  }
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A one-epoch dry run of tiny heads on facenet128 features, FairFace framing, with these sets and flags. */
function trainTiny(cache: string, args: string[]): ReturnType<typeof facets> {
  return facets(
    [
      'train-heads',
      ...args,
      '--embedding',
      'facenet128',
      '--framing',
      'fairface',
      '--hidden',
      '8',
      '--epochs',
      '1',
      '--no-svm',
      '--no-compare',
      '--dry-run',
      '--json',
    ],
    { env: { FACETS_CACHE_DIR: cache, FACETS_HEADS_DIR: path.join(tmp, 'heads') }, timeoutMs: 300_000 },
  );
}

test('each training set is embedded under its own framing, and the manifest entry records it', () => {
  const cache = path.join(tmp, 'cache');
  const r = trainTiny(cache, [
    '--train',
    `${path.join(tmp, 'a')},${path.join(tmp, 'b')}`,
    '--train-framing',
    'b=align-fairface',
    '--dev',
    path.join(tmp, 'a'),
  ]);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as {
    entry: { data: { train: Record<string, { framing: string; samples: number }> } };
  };
  assert.equal(result.entry.data.train['a']?.framing, 'fairface');
  assert.equal(result.entry.data.train['b']?.framing, 'align-fairface');
  assert.ok((result.entry.data.train['b']?.samples ?? 0) > 0);
  const [network] = readdirSync(path.join(cache, 'embeddings')).filter((d) => d.startsWith('facenet128@'));
  assert.ok(network, 'a facenet128 cache folder');
  const framings = readdirSync(path.join(cache, 'embeddings', network));
  assert.ok(framings.includes('fairface') && framings.includes('align-fairface'), framings.join(', '));
  // Nothing installed on a dry run.
  assert.equal(existsSync(path.join(tmp, 'heads', 'manifest.json')), false);
});

test('--train-views adds every training face under another framing, as samples of their own', () => {
  const cache = path.join(tmp, 'cache-views');
  const r = trainTiny(cache, [
    '--train',
    path.join(tmp, 'a'),
    '--train-views',
    'align-fairface',
    '--dev',
    path.join(tmp, 'b'),
  ]);
  assert.equal(r.code, 0, r.stderr);
  const train = (
    JSON.parse(r.stdout) as { entry: { data: { train: Record<string, { framing: string; samples: number }> } } }
  ).entry.data.train;
  assert.deepEqual(
    Object.entries(train).map(([name, t]) => [name, t.framing, t.samples]),
    [
      ['a', 'fairface', 6],
      ['a (align-fairface)', 'align-fairface', 6],
    ],
  );
  assert.match(r.stderr, /training data: a 6, a \(align-fairface\) 6;/);
});

test('a malformed --train-framing or --train-views is refused with the reason', () => {
  const views = facets(['train-heads', '--train-views', 'sideways', '--dry-run'], {
    env: { FACETS_CACHE_DIR: path.join(tmp, 'cache2'), FACETS_HEADS_DIR: path.join(tmp, 'heads') },
  });
  assert.notEqual(views.code, 0);
  assert.match(views.stderr, /--train-views takes framings/);

  const r = facets(['train-heads', '--train-framing', 'b=sideways', '--dry-run'], {
    env: { FACETS_CACHE_DIR: path.join(tmp, 'cache2'), FACETS_HEADS_DIR: path.join(tmp, 'heads') },
  });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--train-framing takes set=framing pairs/);
});
