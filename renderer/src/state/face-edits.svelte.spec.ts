/// <reference types="svelte" />
/**
 * FaceEditsState on the real back end through the real web transport: a library scanned by the real
 * CLI (real models, real SQLite file), served by `facets serve`, reached with the renderer's own
 * HttpBridge. Needs the build (`npm run build:main`). Run with
 * `node --import tsx --import ./test/helpers/svelte-modules.mjs --test renderer/src/state/face-edits.svelte.spec.ts`.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { facetsFromSources, sample } from '../../../test/helpers/library-fixtures.js';
import { type Served, serve } from '../../../test/helpers/serve.js';
import type { PhotoDetail, PhotoSummary } from '../lib/api/index.js';
import { HttpBridge } from '../lib/api/http.js';
import { FaceEditsState, MIN_BOX_PX, dragBox } from './face-edits.svelte.js';
import { Toasts } from './toasts.svelte.js';

describe('FaceEditsState', { timeout: 300_000 }, () => {
  let work: string;
  let served: Served;
  let bridge: HttpBridge;
  let photoId: number;

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'facets-face-edits-state-'));
    const photos = path.join(work, 'Photos');
    mkdirSync(photos);
    copyFileSync(sample(1), path.join(photos, 'group.jpg'));
    const db = path.join(work, 'library.db');
    const scan = await facetsFromSources(['scan', photos, '--db', db, '--workers', '1']);
    assert.equal(scan.code, 0, scan.stderr);
    served = await serve({ db });
    bridge = new HttpBridge({ token: served.token, media: served.mediaKey }, served.origin);
    const listed = await bridge.invoke('photos:query', { filter: {}, page: { offset: 0, limit: 10 } });
    photoId = (listed.items[0] as PhotoSummary).id;
  });

  after(async () => {
    await served?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const photo = (): Promise<PhotoDetail> => bridge.invoke('photo:get', { id: photoId });

  test('dragBox: the rectangle between two corners, whichever way dragged, kept on the photo', () => {
    const size = { width: 100, height: 80 };
    assert.deepEqual(dragBox({ x: 60, y: 50 }, { x: 10, y: 20 }, size), { x: 10, y: 20, width: 50, height: 30 });
    assert.deepEqual(dragBox({ x: -5, y: 70 }, { x: 130, y: 95 }, size), { x: 0, y: 70, width: 100, height: 10 });
  });

  test('"Not a face", then Undo: the face leaves the photo and comes back', async () => {
    let changes = 0;
    const toasts = new Toasts();
    const edits = new FaceEditsState(bridge, toasts, () => changes++);
    await edits.open(photoId);
    assert.equal(edits.rejected.length, 0);
    const before = await photo();
    const face = before.faces[0];
    assert.ok(face && before.faces.length >= 2);

    await edits.reject(face.id);
    assert.equal(changes, 1, 'the library is told it changed');
    assert.equal(edits.lastRejected?.faceId, face.id);
    assert.deepEqual(
      edits.rejected.map((r) => r.faceId),
      [face.id],
    );
    assert.ok(!(await photo()).faces.some((f) => f.id === face.id), 'gone from the photo');
    const toast = toasts.items.at(-1);
    assert.equal(toast?.action?.label, 'Undo');

    // Another photo and back: the rejected face is listed from the back end.
    const again = new FaceEditsState(bridge, toasts, () => undefined);
    await again.open(photoId);
    assert.deepEqual(
      again.rejected.map((r) => r.faceId),
      [face.id],
    );

    await edits.undo();
    assert.equal(changes, 2);
    assert.equal(edits.rejected.length, 0);
    assert.equal(edits.lastRejected, null);
    assert.deepEqual(
      (await photo()).faces.map((f) => f.id).sort((a, b) => a - b),
      before.faces.map((f) => f.id).sort((a, b) => a - b),
      'the same faces again (the same ids)',
    );
  });

  test('"Add face": a drag draws the rectangle, Cancel forgets it, Add stores the face with its name', async () => {
    const edits = new FaceEditsState(bridge, new Toasts(), () => undefined);
    await edits.open(photoId);
    const detail = await photo();
    const size = { width: detail.width, height: detail.height };
    const [first] = detail.faces;
    assert.ok(first);

    // A click without a drag leaves no rectangle; outside "Add face" mode the pointer draws nothing.
    edits.pointerDown({ x: 10, y: 10 }, size);
    assert.equal(edits.draft, null);
    edits.startDrawing();
    edits.pointerDown({ x: 10, y: 10 }, size);
    edits.pointerUp({ x: 10 + MIN_BOX_PX / 2, y: 12 });
    assert.equal(edits.draft, null, 'too small to be a face');
    edits.pointerDown({ x: 10, y: 10 }, size);
    edits.pointerMove({ x: 200, y: 200 });
    assert.equal(edits.canAdd, false, 'not while dragging');
    edits.cancelDrawing();
    assert.equal(edits.drawing, false);
    assert.equal(edits.draft, null);

    // Over a face already there: the back end refuses, the state keeps the rectangle.
    const toasts = new Toasts();
    const refused = new FaceEditsState(bridge, toasts, () => undefined);
    await refused.open(photoId);
    refused.startDrawing();
    refused.pointerDown({ x: first.box.x, y: first.box.y }, size);
    refused.pointerUp({ x: first.box.x + first.box.width, y: first.box.y + first.box.height });
    assert.equal(await refused.add(), null);
    assert.match(toasts.items.at(-1)?.message ?? '', /already there/);
    assert.ok(refused.drawing && refused.draft);

    // A free place (a corner of the photo): added, analysed, named.
    edits.startDrawing();
    edits.pointerDown({ x: 20, y: 20 }, size);
    edits.pointerMove({ x: 100, y: 110 });
    edits.pointerUp({ x: 120, y: 140 });
    assert.deepEqual(edits.draft, { x: 20, y: 20, width: 100, height: 120 });
    assert.equal(edits.canAdd, true);
    edits.name = 'Zoe';
    const added = await edits.add();
    assert.ok(added);
    assert.equal(added.added, 'user');
    assert.deepEqual(added.box, { x: 20, y: 20, width: 100, height: 120 });
    assert.equal(added.person?.name, 'Zoe');
    assert.ok(added.predictions.length >= 3, 'analysed');
    assert.equal(edits.drawing, false, 'out of "Add face" mode');
    assert.ok((await photo()).faces.some((f) => f.id === added.id));
    // Its thumbnail, cut from the photo when it was added.
    const thumb = await fetch(bridge.mediaUrl('face', added.id));
    assert.equal(thumb.status, 200);
    assert.equal(thumb.headers.get('content-type'), 'image/webp');
    const bytes = (await thumb.arrayBuffer()).byteLength;
    assert.ok(bytes > 100, `a WebP image (${bytes} bytes)`);
  });

  test('a restored face has its thumbnail', async () => {
    const edits = new FaceEditsState(bridge, new Toasts(), () => undefined);
    await edits.open(photoId);
    const [face] = (await photo()).faces;
    assert.ok(face);
    await edits.reject(face.id);
    assert.equal((await fetch(bridge.mediaUrl('face', face.id))).status, 404, 'no face, no thumbnail');
    await edits.undo();
    const thumb = await fetch(bridge.mediaUrl('face', face.id));
    assert.equal(thumb.status, 200);
    assert.equal(thumb.headers.get('content-type'), 'image/webp');
  });
});
