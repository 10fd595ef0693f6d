/**
 * The heads that ship with Facets (models/shipped, [Note: shipped heads]): a fresh install — an empty
 * user heads folder, no research data — uses them; they are what their manifest says (file, sha256,
 * FairFace-only provenance and attribution); learning from corrections starts from them and installs
 * into the user's folder, and reverting goes back to them. With ../shared present, the recipe rebuilds
 * the committed file byte for byte.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { FaceAnalyzer, DEFAULT_ASSIGNMENT } from '../../main/engine/analyzer.js';
import {
  activeHeadsDir,
  measuredAssignment,
  readHeadsManifest,
  shippedHeadsDir,
} from '../../main/engine/attributes/heads.js';
import { ETHNICITY7_TO_5 } from '../../main/engine/attributes/labels.js';
import { ModelStore } from '../../main/engine/sessions.js';
import { fineTuneLibrary } from '../../main/learning/learn.js';
import { revertHeads } from '../../main/learning/store.js';
import { openBackend } from '../../main/library/backend.js';
import { shippedRecipeBlockers } from '../../research/heads/pipeline.js';
import { setEnv } from '../helpers/env.js';
import { copyInto, sample } from '../helpers/library-fixtures.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SHIPPED = path.join(ROOT, 'models', 'shipped');
const SHARED = path.join(ROOT, '..', 'shared', 'data');

// The rebuild runs MTCNN on 16,500 training faces and embeds them (and their mirror images) through three
// networks from an empty cache: about 22 minutes on an idle 2-core machine (15 before the training faces
// were detected and aligned), over 35 with other work beside it.
describe('shipped heads on a fresh install', { timeout: 3_000_000 }, () => {
  let work: string;
  let restoreEnv: () => void;

  before(() => {
    work = mkdtempSync(path.join(tmpdir(), 'facets-shipped-'));
    // A fresh install: the user's heads folder exists nowhere yet.
    restoreEnv = setEnv({
      FACETS_HEADS_DIR: path.join(work, 'user-heads'),
      FACETS_CACHE_DIR: path.join(work, 'cache'),
    });
  });
  after(() => {
    restoreEnv();
    rmSync(work, { recursive: true, force: true });
  });

  test('the committed file is what the manifest says, trained on FairFace alone, with its attribution', () => {
    const entry = readHeadsManifest(SHIPPED)?.active;
    assert.ok(entry, 'models/shipped/manifest.json names active heads');
    assert.match(entry.file, /^heads-[0-9a-f]{16}\.onnx$/);
    const bytes = readFileSync(path.join(SHIPPED, entry.file));
    assert.equal(createHash('sha256').update(bytes).digest('hex'), entry.sha256);
    assert.equal(entry.origin, 'dataset');
    assert.deepEqual(Object.keys(entry.data['train'] as object), ['fairface-train']);
    assert.match(entry.provenance?.licence ?? '', /CC BY 4\.0/);
    assert.match(entry.provenance?.attribution ?? '', /Kärkkäinen.*Joo.*WACV 2021/);
    assert.ok(entry.tasks.includes('ethnicity7'), 'the seven FairFace classes');
    for (const task of ['age', 'gender', 'ethnicity'] as const) {
      const dev = entry.dev[task];
      assert.ok(dev, `${task}: dev figures recorded`);
      assert.ok(dev.set.split(',').length >= 2, `${task}: chosen on several dev sets (${dev.set})`);
      assert.ok(dev.candidates[dev.choice], `${task}: the choice is among the candidates`);
    }
    for (const task of ['age', 'gender', 'ethnicity'] as const) {
      const c = entry.calibration?.[task];
      assert.ok(c && c.temperature > 0 && c.uncertainBelow > 0 && c.uncertainBelow < 1, `${task} calibrated`);
    }
    const readme = readFileSync(path.join(ROOT, 'models', 'README.md'), 'utf8');
    assert.match(readme, /Kärkkäinen/);
  });

  test('with an empty user folder the engine uses them, and faces get seven-class detail', async () => {
    assert.equal(shippedHeadsDir(), path.join(ROOT, 'models', 'shipped'));
    assert.equal(activeHeadsDir(), SHIPPED);
    const assignment = measuredAssignment(DEFAULT_ASSIGNMENT);
    const served = Object.values(assignment).filter((a) => a?.split('+').includes('heads'));
    assert.ok(served.length > 0, `some attribute is served by the heads: ${JSON.stringify(assignment)}`);
    const analyzer = new FaceAnalyzer(new ModelStore(), { assignment });
    const analysis = await analyzer.analyze(sample(1));
    await analyzer.models.release();
    assert.ok(analysis.faces.length > 0);
    for (const face of analysis.faces) {
      if (assignment.ethnicity === 'heads') {
        assert.equal(face.ethnicity?.model.name, 'heads');
        assert.ok(face.ethnicity7, 'seven-class estimate');
        assert.equal(ETHNICITY7_TO_5[face.ethnicity7.label], face.ethnicity?.label, 'the seven refine the five');
      }
    }
  });

  test('learning from corrections starts from them, installs in the user folder, reverts to them', async () => {
    const photos = path.join(work, 'photos');
    copyInto(photos, [sample(1), sample(2), sample(3), sample(4)]);
    const dbPath = path.join(work, 'library.db');
    const userDir = process.env['FACETS_HEADS_DIR'] as string;
    const backend = await openBackend({ dbPath, workers: 1, headsDir: userDir });
    try {
      const done = new Promise<void>((resolve) => {
        const off = backend.on('scan:progress', (p) => {
          if (p.state === 'idle') {
            off();
            resolve();
          }
        });
      });
      await backend.handle('folders:add', { path: photos });
      await backend.handle('scan:start', {});
      await done;
      const { items } = await backend.handle('faces:query', { filter: {}, page: { offset: 0, limit: 500 } });
      assert.ok(items.length >= 8, `${items.length} faces`);
      // Every face's gender said to be the other one: corrections the shipped heads disagree with.
      for (const f of items) {
        const value = f.gender?.value === 'male' ? 'female' : 'male';
        await backend.handle('faces:correct', { faceIds: [f.id], attribute: 'gender', value });
      }
      const status = await backend.handle('learning:status', undefined);
      assert.equal(status.heads?.origin, 'dataset', 'a fresh install has the shipped heads to learn from');
      assert.doesNotMatch(status.blocked ?? '', /No heads/);
      assert.match(status.blocked ?? '', /corrections/, 'only the product minimum of 200 is missing');
    } finally {
      await backend.close();
    }
    const shippedEntry = readHeadsManifest(SHIPPED)?.active;
    // The product minimum (200) comes from the learning curve; this path needs only these faces.
    const outcome = await fineTuneLibrary(new ModelStore(), dbPath, {
      dir: userDir,
      minCorrections: 8,
      acceptAll: true,
    });
    assert.equal(outcome.record.base, shippedEntry?.sha256, 'fine-tuned from the shipped heads');
    assert.ok(outcome.installed, 'installed');
    assert.ok(existsSync(path.join(userDir, outcome.installed.file)), 'in the user folder');
    assert.equal(activeHeadsDir(), userDir);
    assert.equal(readHeadsManifest(SHIPPED)?.active?.sha256, shippedEntry?.sha256, 'the shipped heads untouched');
    const back = revertHeads(userDir);
    assert.equal(back.sha256, shippedEntry?.sha256);
    assert.equal(activeHeadsDir(), SHIPPED);
  });

  test('the recipe rebuilds the committed file byte for byte (needs ../shared)', async (t) => {
    if (!existsSync(path.join(SHARED, 'train', 'fairface-train'))) {
      t.skip('../shared/data/train/fairface-train is absent (research data): the rebuild cannot run');
      return;
    }
    // The heads read faceres-int8's features; an x86 CPU without VNNI runs faceres-uint8 instead, and
    // onnxruntime's other kernels differ by CPU too (models/README.md, "Byte for byte").
    const probe = new ModelStore(undefined, { providers: ['cpu'] });
    const blockers = await shippedRecipeBlockers(probe, readHeadsManifest(SHIPPED)?.active).finally(() =>
      probe.release(),
    );
    if (blockers.length > 0) {
      t.skip(`the rebuild cannot give the committed bytes on this CPU: ${blockers.join('; ')}`);
      return;
    }
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(ROOT, 'bin', 'facets.js'), 'train-heads', '--recipe', 'shipped', '--check', '--json'],
      {
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, FACETS_CACHE_DIR: path.join(work, 'recipe-cache') },
        signal: t.signal, // a cancelled or timed-out test ends the rebuild too, not the run after it
      },
    );
    const result = JSON.parse(stdout) as { committed: string; rebuilt: string; same: boolean };
    assert.equal(result.rebuilt, result.committed);
    assert.equal(result.same, true);
  });
});
