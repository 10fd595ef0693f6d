/**
 * Face management in the UI, against the real `facets serve` (real models, real SQLite file) in Debian's
 * Chromium: in the photo viewer the user says a face is not a face, restores it, says so again; draws a
 * rectangle over a face the detector missed (Escape cancels a first try) and names it; the photos then
 * change on disk and are analysed again: both stay as the user left them, also after a reload.
 */
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { FaceDetail, PhotoDetail, PhotoSummary, ScanProgress, Settings } from '../../main/api/contract.js';
import { FaceAnalyzer } from '../../main/engine/analyzer.js';
import { ModelStore } from '../../main/engine/sessions.js';
import { iou } from '../../main/library/catalog.js';
import { chromiumMissing, collectProblems, launchChromium, screenshot } from '../helpers/browser.js';
import { sample } from '../helpers/library-fixtures.js';
import { type Served, serve } from '../helpers/serve.js';

const TIMEOUT = 300_000;
const skip = chromiumMissing();

type Box = FaceDetail['box'];

describe('face management in the UI (web mode)', { skip, timeout: TIMEOUT }, () => {
  let work: string;
  let photos: string;
  let missed: string;
  let server: Served;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  /** Where the engine, with its default settings, finds the face of sample2 (the missed photo's pixels). */
  let faceBox: Box;

  const until = async <T>(what: string, f: () => Promise<T | undefined | false | null>): Promise<T> => {
    const deadline = Date.now() + TIMEOUT / 3;
    for (;;) {
      const v = await f();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const scanned = async (folders?: string[]) => {
    await server.api('scan:start', folders ? { folders } : {});
    await until('the scan to end', async () => (await server.api<ScanProgress>('scan:status')).state === 'idle');
  };
  const photoByName = async (name: string): Promise<PhotoDetail> => {
    const list = await server.api<{ items: PhotoSummary[] }>('photos:query', {
      filter: {},
      page: { offset: 0, limit: 50 },
    });
    const found = list.items.find((p) => path.basename(p.path) === name);
    assert.ok(found, `${name} is in the library`);
    return server.api<PhotoDetail>('photo:get', { id: found.id });
  };
  const faceIds = async () =>
    (
      await server.api<{ items: { id: number }[] }>('faces:query', { filter: {}, page: { offset: 0, limit: 500 } })
    ).items.map((f) => f.id);
  const openPhoto = async (id: number) => {
    if (await page.getByRole('dialog').isVisible()) {
      await page.keyboard.press('Escape'); // the viewer has the keyboard after every face action
      await page.getByRole('dialog').waitFor({ state: 'detached' });
    }
    await page.locator('nav [data-view="photos"]').click();
    await page.locator(`[data-photo-id="${id}"]`).click();
    await page.getByRole('dialog').waitFor();
    await page.locator('.canvas img.full.loaded').waitFor();
  };
  /** A point of the photo (upright pixels) on the screen. */
  const onScreen = async (photo: PhotoDetail, x: number, y: number) => {
    const canvas = await page.locator('.canvas').boundingBox();
    assert.ok(canvas);
    return { x: canvas.x + (x / photo.width) * canvas.width, y: canvas.y + (y / photo.height) * canvas.height };
  };
  const drag = async (photo: PhotoDetail, box: Box, release = true) => {
    const from = await onScreen(photo, box.x, box.y);
    const to = await onScreen(photo, box.x + box.width, box.y + box.height);
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(to.x, to.y, { steps: 8 });
    if (release) await page.mouse.up();
  };

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'facets-face-edits-ui-'));
    photos = path.join(work, 'Photos');
    missed = path.join(work, 'Missed');
    mkdirSync(photos);
    mkdirSync(missed);
    copyFileSync(sample(1), path.join(photos, 'group.jpg'));
    // sample2 with other bytes (not a duplicate), scanned below where the detector cannot see its face.
    copyFileSync(sample(2), path.join(missed, 'missed.jpg'));
    appendFileSync(path.join(missed, 'missed.jpg'), Buffer.from([0]));
    const models = new ModelStore();
    const [found] = (await new FaceAnalyzer(models).analyze(sample(2))).faces;
    await models.release();
    assert.ok(found, 'the engine finds the face of sample2');
    faceBox = found.box;
    server = await serve({ db: path.join(work, 'library.db') });
    await server.api('folders:add', { path: photos });
    await scanned();
    const settings = await server.api<Settings>('settings:get');
    await server.api('settings:update', { analysis: { ...settings.analysis, minFaceSize: 2000 } });
    await server.api('folders:add', { path: missed });
    await scanned([missed]);
    await server.api('settings:update', { analysis: settings.analysis });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
    problems = collectProblems(page);
    await page.goto(server.url);
    await page.locator('nav [data-view="photos"]').waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('"Not a face" removes a face; Restore brings it back; removed again, a re-analysis keeps it out', async () => {
    const group = await photoByName('group.jpg');
    assert.ok(group.faces.length >= 2, `the group photo has faces (${group.faces.length})`);
    const target = group.faces[0] as FaceDetail;
    await openPhoto(group.id);
    await page.locator(`[data-face-box="${target.id}"]`).click();
    await page.getByRole('button', { name: 'Not a face' }).click();
    await page.locator(`[data-face-box="${target.id}"]`).waitFor({ state: 'detached' });
    await until('the face to leave the library', async () => !(await faceIds()).includes(target.id));
    assert.equal((await photoByName('group.jpg')).faces.length, group.faces.length - 1);
    await screenshot(page, 'face-edits-01-rejected');

    // Restore it from the list of the photo's removed faces.
    await page.getByRole('button', { name: `Restore face ${target.id}` }).click();
    await page.locator(`[data-face-box="${target.id}"]`).waitFor();
    assert.ok((await faceIds()).includes(target.id), 'the same face is back');
    assert.equal((await photoByName('group.jpg')).faces.length, group.faces.length);

    // Not a face after all.
    await page.locator(`[data-face-box="${target.id}"]`).click();
    await page.getByRole('button', { name: 'Not a face' }).click();
    await page.locator(`[data-face-box="${target.id}"]`).waitFor({ state: 'detached' });
    await page.getByRole('button', { name: `Restore face ${target.id}` }).waitFor();
  });

  test('"Add face": Escape cancels a drag; a rectangle drawn over a missed face becomes a named face', async () => {
    const photo = await photoByName('missed.jpg');
    assert.equal(photo.faces.length, 0, 'the detector missed the face');
    await openPhoto(photo.id);

    const add = page.getByRole('button', { name: 'Add face' });
    await add.click();
    assert.equal(await add.getAttribute('aria-pressed'), 'true');
    await drag(photo, faceBox, false);
    await page.getByTestId('draft-box').waitFor();
    await page.mouse.up();
    await page.keyboard.press('Escape');
    await page.getByTestId('draft-box').waitFor({ state: 'detached' });
    assert.equal(await add.getAttribute('aria-pressed'), 'false', 'Escape left "Add face"');
    assert.ok(await page.getByRole('dialog').isVisible(), 'and the viewer stays open');

    await add.click();
    await drag(photo, faceBox);
    await page.getByLabel('Name of the added face').fill('Bea');
    await screenshot(page, 'face-edits-02-drawn');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    const added = await until('the added face', async () => (await photoByName('missed.jpg')).faces[0]);
    assert.equal(added.added, 'user');
    assert.ok(iou(added.box, faceBox) > 0.9, `drawn where the face is: ${JSON.stringify(added.box)}`);
    assert.equal(added.person?.name, 'Bea');
    assert.ok(added.ageGroup && added.gender && added.emotion, 'analysed like any face');
    await page.locator(`[data-face-box="${added.id}"]`).waitFor();
    assert.ok((await faceIds()).includes(added.id));
  });

  test('the photos change and are analysed again: the removed face stays out, the added one stays, once', async () => {
    const group = await photoByName('group.jpg');
    const missedPhoto = await photoByName('missed.jpg');
    const [added] = missedPhoto.faces;
    assert.ok(added);
    const rejected = await server.api<{ id: number; box: Box }[]>('faces:rejected', { photoId: group.id });
    assert.equal(rejected.length, 1);
    appendFileSync(group.path, Buffer.from([0]));
    appendFileSync(missedPhoto.path, Buffer.from([0]));
    await scanned();

    const groupAfter = await photoByName('group.jpg');
    assert.equal(groupAfter.faces.length, group.faces.length, 'the group photo as the user left it');
    assert.ok(!groupAfter.faces.some((f) => iou(f.box, (rejected[0] as { box: Box }).box) > 0.5), 'still not a face');
    const [again] = await server.api<{ suppressed: number }[]>('faces:rejected', { photoId: group.id });
    assert.equal(again?.suppressed, 1, 'detected again, and kept out');
    const missedAfter = await photoByName('missed.jpg');
    assert.deepEqual(
      missedAfter.faces.map((f) => [f.id, f.added, f.person?.name]),
      [[added.id, 'user', 'Bea']],
      'the added face, once (its detection now is not added beside it)',
    );

    await page.reload();
    await page.locator('nav [data-view="photos"]').waitFor();
    await openPhoto(missedPhoto.id);
    await page.locator(`[data-face-box="${added.id}"]`).waitFor();
    await screenshot(page, 'face-edits-03-after-rescan');
    assert.deepEqual(
      problems.filter((p) => !/favicon/.test(p)),
      [],
      'no console errors',
    );
  });
});
