import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { HASH_ALGORITHM, hashFile } from '../../main/library/hash.js';

test('hashFile: SHA-256 of the whole file, in chunks, for empty, small and multi-chunk files', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'facets-hash-'));
  try {
    for (const size of [0, 1, 1 << 20, (3 << 20) + 17]) {
      const data = randomBytes(size);
      const file = path.join(dir, `f${size}`);
      writeFileSync(file, data);
      assert.equal(await hashFile(file), createHash('sha256').update(data).digest('hex'), `${size} bytes`);
    }
    await assert.rejects(hashFile(path.join(dir, 'missing')), { code: 'ENOENT' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The measurement behind the choice of hash (see main/library/hash.ts); prints MB/s per algorithm. */
test('hash throughput (informational)', (t) => {
  const data = randomBytes(32 << 20);
  const rates: Record<string, number> = {};
  for (const algorithm of ['sha256', 'sha1', 'blake2b512', 'sha512', 'md5']) {
    const start = performance.now();
    const hash = createHash(algorithm);
    for (let o = 0; o < data.length; o += 1 << 20) hash.update(data.subarray(o, o + (1 << 20)));
    hash.digest();
    rates[algorithm] = Math.round(32 / ((performance.now() - start) / 1000));
  }
  t.diagnostic(`MB/s: ${JSON.stringify(rates)}`);
  assert.equal(HASH_ALGORITHM, 'sha256');
});
