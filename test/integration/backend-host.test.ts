/**
 * The backend host (issue 12, [Note: backend host]): the library backend in a host of its own, the
 * typed contract relayed over its port, and a new host when one dies. Under Node the host is a worker
 * thread (the desktop app's utility process carries the same messages); the real backend, a real SQLite
 * file, real scans.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiError } from '../../main/api/backend.js';
import type { ScanProgress } from '../../main/api/contract.js';
import { type HostState, RemoteBackend } from '../../main/host/remote-backend.js';
import { spawnWorkerHost } from '../../main/host/worker-host.js';
import { writeTinyImages } from '../helpers/library-fixtures.js';

async function waitFor(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the backend host', { timeout: 240_000 }, () => {
  let work: string;
  let photos: string;
  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'facets-host-'));
    photos = path.join(work, 'Photos');
    await writeTinyImages(photos, 3);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('relays the contract, its errors, its events and media', async () => {
    const states: HostState[] = [];
    const remote = await RemoteBackend.start({
      spawn: spawnWorkerHost,
      backend: { dbPath: path.join(work, 'relay.db'), workers: 1 },
      onState: (s) => states.push(s),
    });
    try {
      const info = await remote.handle('app:info', undefined);
      assert.equal(info.database, path.join(work, 'relay.db'));
      await assert.rejects(remote.handle('photo:get', { id: 'x' }), (err: unknown) => {
        assert.ok(err instanceof ApiError && err.status === 400, String(err));
        return true;
      });
      const progress: ScanProgress[] = [];
      remote.on('scan:progress', (p) => progress.push(p));
      await remote.handle('folders:add', { path: photos });
      await remote.handle('scan:start', {});
      await waitFor(() => progress.at(-1)?.state === 'idle' && progress.length > 1);
      const listed = await remote.handle('photos:query', { filter: {}, page: { offset: 0, limit: 10 } });
      assert.equal(listed.total, 3);
      const thumb = await remote.media('thumb', listed.items[0]?.id as number);
      assert.ok(Buffer.isBuffer(thumb.body) && thumb.body.length > 0, 'thumbnail bytes arrive as a Buffer');
      assert.equal(thumb.contentType, 'image/webp');
      await assert.rejects(
        remote.media('thumb', 999_999),
        (err: unknown) => err instanceof ApiError && err.status === 404,
      );
      assert.deepEqual(states, ['ready']);
    } finally {
      await remote.close();
    }
  });

  test('a host that dies fails the calls in flight, says so, and is restarted on the same library', async () => {
    const states: HostState[] = [];
    const remote = await RemoteBackend.start({
      spawn: spawnWorkerHost,
      backend: { dbPath: path.join(work, 'restart.db'), workers: 1 },
      onState: (s) => states.push(s),
      restartDelayMs: 50,
      maxRestarts: 2,
    });
    try {
      await remote.handle('folders:add', { path: photos });
      const inFlight = remote.handle('settings:get', undefined);
      remote.currentHost?.kill(); // as a native crash would end it
      // The call either made it before the kill or fails with the restart message; never hangs.
      await inFlight.catch((err: unknown) => assert.match((err as Error).message, /stopped unexpectedly/));
      await waitFor(() => states.includes('restarting') && states.at(-1) === 'ready');
      const settings = await remote.handle('settings:get', undefined);
      assert.deepEqual(settings.folders, [photos], 'the new host opened the same library');

      // Dying again and again: it gives up and says so.
      remote.currentHost?.kill();
      await waitFor(() => states.filter((s) => s === 'restarting').length === 2 && states.at(-1) === 'ready');
      remote.currentHost?.kill();
      await waitFor(() => states.at(-1) === 'failed');
      await assert.rejects(remote.handle('app:info', undefined), /keeps stopping/);
    } finally {
      await remote.close();
    }
  });

  test('a library that cannot be opened fails the start with the reason', async () => {
    await assert.rejects(
      RemoteBackend.start({ spawn: spawnWorkerHost, backend: { dbPath: path.join(work, 'no', '\0bad.db') } }),
      (err: unknown) => err instanceof Error && err.message.length > 0,
    );
  });
});
