/**
 * The backend both transports use, end to end on real photos and models: validation at the
 * boundary, every channel, events, media, corrections, folders and the ethnicity setting.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Backend } from '../../main/api/backend.js';
import type { Events, FaceSummary, ScanProgress } from '../../main/api/contract.js';
import { openBackend } from '../../main/library/backend.js';
import { analysisFromSettings } from '../../main/library/library.js';
import { refused } from '../helpers/backend.js';
import { copyInto, sample } from '../helpers/library-fixtures.js';

const page = { offset: 0, limit: 100 };

describe('the library backend', { timeout: 240_000 }, () => {
  let work: string;
  let photos: string;
  let backend: Backend;
  const progress: ScanProgress[] = [];
  const changes: Events['library:changed'][] = [];

  const scanToEnd = async (folders?: string[]) => {
    const done = new Promise<ScanProgress>((resolve) => {
      const off = backend.on('scan:progress', (p) => {
        if (p.state === 'idle') {
          off();
          resolve(p);
        }
      });
    });
    const started = await backend.handle('scan:start', folders ? { folders } : {});
    assert.equal(started.state, 'scanning');
    return done;
  };

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'facets-backend-'));
    photos = path.join(work, 'My Photos');
    copyInto(photos, [1, 2, 3, 4, 5, 6].map(sample));
    writeFileSync(path.join(photos, 'broken.jpg'), 'not a JPEG');
    backend = await openBackend({ dbPath: path.join(work, 'data', 'library.db'), workers: 1 });
    backend.on('scan:progress', (p) => progress.push(p));
    backend.on('library:changed', (c) => changes.push(c));
  });

  after(async () => {
    await backend?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('app:info names the database; settings start at their defaults', async () => {
    const info = await backend.handle('app:info', undefined);
    assert.equal(info.name, 'Facets');
    assert.equal(info.database, path.join(work, 'data', 'library.db'));
    const settings = await backend.handle('settings:get', undefined);
    assert.deepEqual(settings.folders, []);
    assert.equal(settings.hideEthnicity, false);
    assert.deepEqual(settings.analysis, {
      maxSide: 1280,
      minFaceSize: 20,
      thresholds: [0.6, 0.7, 0.9],
      tiltedFaces: false,
    });
  });

  test('bad requests are refused at the boundary with 400', async () => {
    await refused(backend.handle('folders:add', { path: 'relative/photos' }), 400, /absolute/);
    await refused(backend.handle('folders:add', { path: photos, recursive: true }), 400, /unknown field/);
    await refused(backend.handle('photos:query', { filter: {}, page: { offset: 0, limit: 501 } }), 400);
    await refused(backend.handle('photo:get', { id: -3 }), 400);
    await refused(backend.handle('settings:update', { theme: 'neon' }), 400);
    await refused(backend.handle('scan:start', {}), 409, /add a folder first/);
  });

  test('add a folder, scan it: progress events, then photos, faces and errors to browse', async () => {
    const settings = await backend.handle('folders:add', { path: `${photos}${path.sep}` });
    assert.deepEqual(settings.folders, [photos]);
    await refused(backend.handle('scan:start', { folders: [work] }), 400, /not inside a library folder/);
    const end = await scanToEnd();
    assert.equal(end.done, 7);
    assert.equal(end.errors, 1);
    assert.ok(progress.some((p) => p.state === 'scanning' && p.total === 7));

    const all = await backend.handle('photos:query', { filter: {}, page });
    assert.equal(all.total, 6);
    const faces = await backend.handle('faces:query', { filter: {}, page });
    assert.ok(faces.total >= 8, `${faces.total} faces`);
    const errors = await backend.handle('errors:list', { page });
    assert.equal(errors.total, 1);
    assert.equal(errors.items[0]?.path, path.join(photos, 'broken.jpg'));
    assert.match(errors.items[0]?.error ?? '', /not a readable image/);
    assert.ok(changes.length > 0, 'library:changed was emitted');

    const facets = await backend.handle('facets:get', { filter: {}, target: 'faces' });
    assert.equal(facets.total, faces.total);
    assert.equal(
      facets.emotion.reduce((s, c) => s + c.count, 0),
      faces.total,
    );
    assert.deepEqual(facets.folder, [{ value: photos, count: faces.total }]);
    const status = await backend.handle('scan:status', undefined);
    assert.equal(status.state, 'idle');
  });

  test('photo and face details; unknown ids are 404', async () => {
    const { items } = await backend.handle('photos:query', { filter: { minFaces: 2 }, page });
    const photo = await backend.handle('photo:get', { id: items[0]?.id as number });
    assert.ok(photo.faces.length >= 2);
    assert.equal(photo.status, 'ok');
    assert.equal(photo.format, 'jpeg');
    const face = await backend.handle('face:get', { id: photo.faces[0]?.id as number });
    assert.equal(face.landmarks.length, 5);
    assert.deepEqual(face.predictions.map((p) => p.attribute).sort(), ['ageGroup', 'emotion', 'ethnicity', 'gender']);
    assert.ok(face.predictions.every((p) => p.model && p.modelVersion));
    await refused(backend.handle('photo:get', { id: 999_999 }), 404);
    await refused(backend.handle('face:get', { id: 999_999 }), 404);
  });

  test('corrections override predictions in queries and facets, and can be undone', async () => {
    const { items } = await backend.handle('faces:query', { filter: {}, page });
    const targets = items.slice(0, 3).map((f) => f.id);
    await refused(backend.handle('faces:correct', { faceIds: targets, attribute: 'emotion', value: 'joy' }), 400);
    await refused(backend.handle('faces:correct', { faceIds: [999_999], attribute: 'emotion', value: 'fear' }), 404);
    const before = (await backend.handle('facets:get', { filter: {}, target: 'faces' })).corrected;
    const { updated } = await backend.handle('faces:correct', {
      faceIds: targets,
      attribute: 'emotion',
      value: 'fear',
    });
    assert.deepEqual(
      updated.map((f: FaceSummary) => f.emotion),
      targets.map(() => ({ value: 'fear', confidence: 1, corrected: true, uncertain: false })),
    );
    const fearful = await backend.handle('faces:query', {
      filter: { emotions: ['fear'], corrected: 'corrected' },
      page,
    });
    assert.deepEqual(fearful.items.map((f) => f.id).sort(), [...targets].sort());
    const facets = await backend.handle('facets:get', { filter: {}, target: 'faces' });
    assert.equal(facets.corrected.find((c) => c.value === 'corrected')?.count, 3);
    assert.ok(before.find((c) => c.value === 'corrected')?.count === 0);
    const undone = await backend.handle('faces:uncorrect', { faceIds: targets, attribute: 'emotion' });
    assert.ok(undone.updated.every((f) => f.emotion?.corrected === false));
  });

  test('media: thumbnails and face crops as WebP bytes, originals as paths inside the library', async () => {
    const { items } = await backend.handle('photos:query', { filter: {}, page });
    const id = items[0]?.id as number;
    const thumb = await backend.media('thumb', id);
    assert.equal(thumb.contentType, 'image/webp');
    assert.ok(Buffer.isBuffer(thumb.body) && thumb.body.subarray(8, 12).toString() === 'WEBP');
    const original = await backend.media('photo', id);
    assert.deepEqual(original, { contentType: 'image/jpeg', body: { path: items[0]?.path } });
    const detail = await backend.handle('photo:get', { id });
    const face = await backend.media('face', detail.faces[0]?.id as number);
    assert.ok(Buffer.isBuffer(face.body) && face.body.subarray(0, 4).toString() === 'RIFF');
    await refused(backend.media('photo', 999_999), 404);
    await refused(backend.media('face', 999_999), 404);
    const broken = (await backend.handle('errors:list', { page })).items[0]?.photoId as number;
    await refused(backend.media('thumb', broken), 404);
  });

  test('a lost thumbnail is re-made from the original', async () => {
    const { items } = await backend.handle('photos:query', { filter: {}, page });
    const first = await backend.media('thumb', items[1]?.id as number);
    rmSync(path.join(work, 'data', 'library.thumbs'), { recursive: true, force: true });
    const again = await backend.media('thumb', items[1]?.id as number);
    assert.ok(Buffer.isBuffer(again.body) && Buffer.isBuffer(first.body) && again.body.length > 0);
  });

  test('hiding ethnicity removes it from answers, facets and corrections', async () => {
    await backend.handle('settings:update', { hideEthnicity: true });
    const faces = await backend.handle('faces:query', { filter: { ethnicities: ['white'] }, page });
    const all = await backend.handle('faces:query', { filter: {}, page });
    assert.equal(faces.total, all.total, 'an ethnicity selection is ignored');
    assert.ok(all.items.every((f) => f.ethnicity === undefined));
    const facets = await backend.handle('facets:get', { filter: {}, target: 'photos' });
    assert.deepEqual(facets.ethnicity, []);
    const detail = await backend.handle('face:get', { id: all.items[0]?.id as number });
    assert.ok(!detail.predictions.some((p) => p.attribute === 'ethnicity'));
    await refused(
      backend.handle('faces:correct', { faceIds: [detail.id], attribute: 'ethnicity', value: 'asian' }),
      409,
    );
    await backend.handle('settings:update', { hideEthnicity: false });
  });

  test('removing a folder hides its photos; adding it back restores them without analysis', async () => {
    const before = await backend.handle('faces:query', { filter: {}, page });
    const settings = await backend.handle('folders:remove', { path: photos });
    assert.deepEqual(settings.folders, []);
    assert.equal((await backend.handle('photos:query', { filter: {}, page })).total, 0);
    await backend.handle('folders:add', { path: photos });
    await scanToEnd([photos]);
    const after = await backend.handle('faces:query', { filter: {}, page });
    assert.deepEqual(
      after.items.map((f) => f.id),
      before.items.map((f) => f.id),
    );
  });

  test('a sub-folder can be scanned on its own; settings persist in the database', async () => {
    const sub = path.join(photos, 'sub');
    mkdirSync(sub);
    writeFileSync(path.join(sub, 'again.jpg'), readFileSync(sample(2)));
    await scanToEnd([sub]);
    assert.equal((await backend.handle('photos:query', { filter: { folder: sub }, page })).total, 1);
    await backend.handle('settings:update', {
      theme: 'dark',
      analysis: { maxSide: 1024, minFaceSize: 24, thresholds: [0.6, 0.7, 0.8] },
    });
    await backend.close();
    backend = await openBackend({ dbPath: path.join(work, 'data', 'library.db') });
    const settings = await backend.handle('settings:get', undefined);
    assert.equal(settings.theme, 'dark');
    assert.equal(settings.analysis.maxSide, 1024);
    // Stored without the later "tilted faces" field (as an older version would): it reads as off.
    assert.equal(settings.analysis.tiltedFaces, false);
    assert.deepEqual(analysisFromSettings(settings).analyzer.detection?.rotations, []);
    assert.deepEqual(settings.folders, [photos]);
    const tilted = await backend.handle('settings:update', { analysis: { ...settings.analysis, tiltedFaces: true } });
    assert.equal(tilted.analysis.tiltedFaces, true);
    assert.deepEqual(analysisFromSettings(tilted).analyzer.detection?.rotations, [-35, 35]);
  });
});
