/**
 * The CLI shows what the app shows ([Note: presentation policy], main/library/presentation.ts): on one
 * library (synthetic faces through the real catalog, a real SQLite file), `facets stats` and `facets
 * query` answer like the backend the UI talks to — corrections win, and with ethnicity hidden no
 * ethnicity appears and an ethnicity selection is ignored, in both.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Backend } from '../../main/api/backend.js';
import { queryCommand } from '../../main/cli/commands/query.js';
import { statsCommand } from '../../main/cli/commands/stats.js';
import type { Command } from '../../main/cli/command.js';
import { openBackend } from '../../main/library/backend.js';
import type { FaceRecord } from '../../main/library/export.js';
import { Library } from '../../main/library/library.js';
import { random, syntheticFace, syntheticPhoto } from '../helpers/library-synthetic.js';

const page = { offset: 0, limit: 500 };

/** Runs a command in-process, capturing what it prints. */
async function run(command: Command, args: string[]): Promise<string> {
  let stdout = '';
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    assert.equal(await command.run(args), 0);
    return stdout;
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
}

describe('the CLI presents the library as the app does', () => {
  let dir: string;
  let db: string;
  let backend: Backend;
  let corrected: number;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'facets-presentation-'));
    db = path.join(dir, 'library.db');
    const library = new Library({ dbPath: db });
    const rnd = random(7);
    for (let i = 0; i < 40; i++) {
      const faces = Array.from({ length: 1 + (i % 3) }, () => syntheticFace(rnd));
      library.catalog.recordAnalysed(
        { path: `/photos/p${i}.jpg`, size: 100 + i, mtimeMs: i },
        `hash${i}`,
        syntheticPhoto(faces, '2020-05-01T10:00:00'),
      );
    }
    // The user corrected one face's emotion and another's ethnicity.
    const first = library.catalog.faces.ofPhoto(1)[0];
    assert.ok(first);
    corrected = first.id;
    library.catalog.faces.correct(
      corrected,
      'emotion',
      first.emotion === 'happy' ? 'sad' : 'happy',
      '2024-01-01T00:00:00Z',
    );
    library.catalog.faces.correct(corrected + 1, 'ethnicity', 'asian', '2024-01-01T00:00:00Z');
    library.settings.update({ folders: ['/photos'] });
    library.close();
    backend = await openBackend({ dbPath: db });
  });

  after(async () => {
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const query = async (...args: string[]) =>
    JSON.parse(await run(queryCommand, [...args, '--json', '--db', db])) as Record<string, unknown>[];
  const stats = async () =>
    JSON.parse(await run(statsCommand, ['--json', '--db', db])) as {
      faces: number;
      corrected: number;
      attributes: Record<string, { value: string; count: number }[]>;
    };

  test('corrections win, in the app and on the command line', async () => {
    const shown = await backend.handle('face:get', { id: corrected });
    const records = await query();
    const record = records.find((r) => r['faceId'] === corrected);
    assert.ok(record && shown.emotion?.corrected);
    assert.equal(record['emotion'], shown.emotion.value);
    assert.deepEqual(record['corrected'], ['emotion']);
    const facets = await backend.handle('facets:get', { filter: {}, target: 'faces' });
    const s = await stats();
    assert.equal(s.faces, facets.total);
    assert.deepEqual(s.attributes['emotion'], facets.emotion);
    assert.deepEqual(s.attributes['ethnicity'], facets.ethnicity);
    assert.equal(s.corrected, facets.corrected.find((c) => c.value === 'corrected')?.count);
    assert.equal(s.corrected, 2);
  });

  test('with ethnicity hidden, neither shows it, and both ignore an ethnicity selection', async () => {
    await backend.handle('settings:update', { hideEthnicity: true });
    try {
      const filter = { ethnicities: ['white'] };
      const app = await backend.handle('faces:query', { filter, page });
      const all = await backend.handle('faces:query', { filter: {}, page });
      assert.equal(app.total, all.total, 'the app ignores the selection');
      const cli = await query('--ethnicity', 'white');
      assert.deepEqual(
        cli.map((r) => r['faceId']).sort((a, b) => Number(a) - Number(b)),
        app.items.map((f) => f.id).sort((a, b) => a - b),
        'the CLI answers with the faces the app shows',
      );
      for (const r of cli as unknown as FaceRecord[]) {
        assert.ok(!('apparentEthnicity' in r) && !('apparentEthnicityConfidence' in r), JSON.stringify(r));
        assert.ok(!r.corrected.includes('ethnicity') && !r.unsure.includes('ethnicity'), JSON.stringify(r));
      }
      const facets = await backend.handle('facets:get', { filter: {}, target: 'faces' });
      assert.deepEqual(facets.ethnicity, []);
      const s = await stats();
      assert.equal(s.faces, facets.total);
      assert.deepEqual(Object.keys(s.attributes), ['ageGroup', 'gender', 'emotion']);
    } finally {
      await backend.handle('settings:update', { hideEthnicity: false });
    }
  });
});
