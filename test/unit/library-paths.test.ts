import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appDataDir, defaultCacheDir, defaultDbPath } from '../../main/library/paths.js';
import { RateMeter } from '../../main/library/progress.js';
import { defaultPoolSize } from '../../main/library/worker-pool.js';

test("the library lives in the platform's application-data folder", () => {
  assert.equal(appDataDir({ HOME: '/home/ann' }, 'linux'), '/home/ann/.local/share/Facets');
  assert.equal(appDataDir({ HOME: '/home/ann', XDG_DATA_HOME: '/data' }, 'linux'), '/data/Facets');
  assert.equal(appDataDir({ HOME: '/Users/ann' }, 'darwin'), '/Users/ann/Library/Application Support/Facets');
  assert.equal(
    appDataDir({ APPDATA: 'C:\\Users\\ann\\AppData\\Roaming' }, 'win32'),
    'C:\\Users\\ann\\AppData\\Roaming\\Facets',
  );
  assert.equal(defaultDbPath({ FACETS_DB: '/tmp/x/lib.db' }), '/tmp/x/lib.db');
  assert.equal(defaultCacheDir('/tmp/x/lib.db'), '/tmp/x/lib.thumbs');
});

test('worker threads follow the core count and the memory, one onnxruntime thread each, unless configured', () => {
  const GB = 1024 ** 3;
  assert.deepEqual(defaultPoolSize(2, undefined, undefined, 24 * GB), { workers: 2, intraOpThreads: 1 });
  assert.deepEqual(defaultPoolSize(16, undefined, undefined, 128 * GB), { workers: 8, intraOpThreads: 1 });
  assert.deepEqual(defaultPoolSize(8, undefined, undefined, 16 * GB), { workers: 8, intraOpThreads: 1 });
  assert.deepEqual(defaultPoolSize(8, undefined, undefined, 4 * GB), { workers: 2, intraOpThreads: 1 });
  assert.deepEqual(defaultPoolSize(4, undefined, undefined, 2 * GB), { workers: 1, intraOpThreads: 1 });
  assert.deepEqual(defaultPoolSize(1, undefined, undefined, 64 * GB), { workers: 1, intraOpThreads: 1 });
  assert.deepEqual(defaultPoolSize(8, 2, 4, 1 * GB), { workers: 2, intraOpThreads: 4 });
});

test('RateMeter: photos per second over a sliding window, and the time left at that pace', () => {
  let now = 0;
  const meter = new RateMeter(10_000, () => now);
  assert.equal(meter.rate, 0);
  assert.equal(meter.eta(10), null);
  for (let i = 0; i < 5; i++) {
    now += 500;
    meter.tick();
  }
  now += 500;
  assert.ok(Math.abs(meter.rate - 5 / 2.5) < 1e-9);
  assert.equal(meter.eta(10), 5);
  assert.equal(meter.eta(0), 0);
  now += 60_000;
  assert.equal(meter.rate, 0, 'stale ticks leave the window');
});
