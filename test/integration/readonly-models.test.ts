/**
 * User state lives under the user's data folder, never next to the models or in the install folder
 * (issue 12): the backend runs as a user who cannot write to the package (models included) — as a
 * packaged app's read-only install would be — scans, and writes only under its own HOME.
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT, asNobodyMissing, facetsAsNobody } from '../helpers/cli.js';
import { writeTinyImages } from '../helpers/library-fixtures.js';

function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).sort();
}

test('scanning with a read-only models folder and install folder writes only under HOME', async (t) => {
  const missing = asNobodyMissing();
  if (missing) return t.skip(missing);
  const models = path.join(ROOT, 'models');
  if ((statSync(path.join(models, 'generated')).mode & 0o002) !== 0)
    return t.skip('the models folder is world-writable');
  const home = mkdtempSync(path.join(tmpdir(), 'facets-home-'));
  try {
    chmodSync(home, 0o755);
    await writeTinyImages(path.join(home, 'Photos'), 2);
    for (const p of [
      home,
      path.join(home, 'Photos'),
      ...listing(path.join(home, 'Photos')).map((f) => path.join(home, 'Photos', f)),
    ]) {
      chownSync(p, 65534, 65534);
    }
    const modelsBefore = listing(models);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: home,
      XDG_DATA_HOME: '',
      XDG_CACHE_HOME: '',
      XDG_CONFIG_HOME: '',
    };
    delete env['FACETS_DB'];
    delete env['FACETS_HEADS_DIR'];
    const r = facetsAsNobody(['scan', path.join(home, 'Photos'), '--workers', '1', '--json'], { env });
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { counts: { added: number } }).counts.added, 2);
    assert.deepEqual(listing(models), modelsBefore, 'nothing was written next to the models');
    const written = listing(home).filter((f) => !f.startsWith('Photos'));
    assert.ok(
      written.some((f) => f.endsWith('library.db')),
      `the library is under HOME: ${written.join(', ')}`,
    );
    assert.ok(
      written.some((f) => f.includes('library.thumbs')),
      'thumbnails are under HOME',
    );
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
