/**
 * People in the UI, against the real `facets serve` on a fixture library (face-api's demo samples,
 * the real models, a real SQLite file) in Debian's Chromium: the People view lists what the back end
 * clustered; the user names a person, merges two, takes a face out; after a reload everything is as
 * the user left it; the sidebar's person filter combined with an emotion shows exactly the faces the
 * database query returns.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import type { FaceDetail, FaceSummary, PersonSummary, ScanProgress } from '../../main/api/contract.js';
import { chromiumMissing, collectProblems, launchChromium, screenshot } from '../helpers/browser.js';
import { ROOT } from '../helpers/cli.js';
import { type Served, serve } from '../helpers/serve.js';

const SAMPLES = path.join(ROOT, 'node_modules', '@vladmandic', 'face-api', 'demo');
const PAGE = { offset: 0, limit: 500 };
const TIMEOUT = 300_000;

const skip = chromiumMissing();

describe('people in the UI (web mode)', { skip, timeout: TIMEOUT }, () => {
  let work: string;
  let server: Served;
  let browser: Browser;
  let page: Page;
  let problems: string[];

  const people = async () =>
    (await server.api<{ total: number; items: PersonSummary[] }>('people:list', { page: PAGE })).items;
  const until = async <T>(what: string, f: () => Promise<T | undefined | false>): Promise<T> => {
    const deadline = Date.now() + TIMEOUT / 2;
    for (;;) {
      const v = await f();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const openPeople = async () => {
    await page.locator('nav [data-view="people"]').click();
    await page.locator('nav [data-view="people"][aria-current="page"]').waitFor();
  };

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'facets-people-ui-'));
    const photos = path.join(work, 'Photos');
    mkdirSync(photos);
    for (let i = 1; i <= 6; i++)
      copyFileSync(path.join(SAMPLES, `sample${i}.jpg`), path.join(photos, `sample${i}.jpg`));
    // The same people again in other photos (smaller copies of three samples: other bytes, same faces).
    for (const i of [1, 2, 4]) {
      await sharp(path.join(SAMPLES, `sample${i}.jpg`))
        .resize({ width: 900 })
        .jpeg({ quality: 90 })
        .toFile(path.join(photos, `copy${i}.jpg`));
    }
    server = await serve({ db: path.join(work, 'library.db') });
    await server.api('folders:add', { path: photos });
    await server.api('scan:start', {});
    await until('the scan to end', async () => {
      const s = await server.api<ScanProgress>('scan:status');
      return s.state === 'idle' && s.done > 0;
    });
    // People are made once the scan has ended.
    await until('people', async () => (await people()).length >= 3);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
    problems = collectProblems(page);
    await page.goto(server.url);
    await page.locator('nav [data-view="people"]').waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('name, merge, move a face out; reload: as the user left it', async () => {
    await openPeople();
    const before = await people();
    const cards = page.locator('[aria-label="People list"] [data-person]');
    await cards.first().waitFor();
    assert.equal(await cards.count(), before.length, 'one card per person');
    assert.ok((await page.getByText('Unnamed person').count()) >= 1, 'unnamed clusters say so');
    await screenshot(page, 'people-01-list');

    // Name the largest person.
    const [anna, second, third] = before as [PersonSummary, PersonSummary, PersonSummary];
    await page.locator(`[aria-label="People list"] [data-person="${anna.id}"] button.open`).click();
    await page.locator(`.person[data-person="${anna.id}"]`).waitFor();
    await page.locator('input[name="person-name"]').fill('Anna');
    await page.getByRole('button', { name: 'Save name' }).click();
    await until(
      'the name',
      async () => (await server.api<PersonSummary>('people:get', { id: anna.id })).name === 'Anna',
    );
    await page.getByRole('button', { name: '← All people' }).click();

    // Merge the second and third people.
    await page.locator(`[data-person="${second.id}"] .mark input`).check();
    await page.locator(`[data-person="${third.id}"] .mark input`).check();
    await page.locator('[data-action="merge"]').click();
    const merged = await until('the merge', async () => {
      const list = await people();
      return !list.some((p) => p.id === third.id) && list.find((p) => p.id === second.id);
    });
    assert.equal(merged.faceCount, second.faceCount + third.faceCount);

    // Take one of Anna's faces out.
    await page.getByRole('button', { name: '← All people' }).click();
    await page.locator(`[aria-label="People list"] [data-person="${anna.id}"] button.open`).click();
    const face = page.locator(`.person[data-person="${anna.id}"] [data-face]`).first();
    const faceId = Number(await face.getAttribute('data-face'));
    await face.locator('[data-action="move-out"]').click();
    await until('the face to leave Anna', async () => {
      const d = await server.api<FaceDetail>('face:get', { id: faceId });
      return d.person?.id !== anna.id;
    });
    await screenshot(page, 'people-02-person');

    // Reload: the UI shows what the back end kept.
    await page.reload();
    await openPeople();
    const after = await people();
    assert.equal(after.find((p) => p.id === anna.id)?.name, 'Anna');
    assert.equal(after.find((p) => p.id === anna.id)?.faceCount, anna.faceCount - 1);
    assert.ok(!after.some((p) => p.id === third.id));
    await page.locator(`[aria-label="People list"] [data-person="${anna.id}"]`).getByText('Anna').waitFor();
    assert.equal(await page.locator('[aria-label="People list"] [data-person]').count(), after.length);
    await page.locator(`[aria-label="People list"] [data-person="${anna.id}"] button.open`).click();
    await page.locator(`.person[data-person="${anna.id}"] [data-face]`).first().waitFor();
    assert.equal(await page.locator(`.person [data-face="${faceId}"]`).count(), 0, 'the face stays out');
  });

  test('the person filter with an emotion shows exactly what the database returns', async () => {
    const anna = (await people()).find((p) => p.name === 'Anna');
    assert.ok(anna);
    const annaFaces = (
      await server.api<{ items: FaceSummary[] }>('faces:query', { filter: { people: [anna.id] }, page: PAGE })
    ).items;
    const emotion = annaFaces[0]?.emotion?.value;
    assert.ok(emotion, 'one of her faces has an emotion');
    const expected = (
      await server.api<{ items: FaceSummary[] }>('faces:query', {
        filter: { people: [anna.id], emotions: [emotion] },
        page: PAGE,
      })
    ).items
      .map((f) => f.id)
      .sort((a, b) => a - b);
    await page.locator('nav [data-view="faces"]').click();
    await page.locator('[data-facet="person"]').getByRole('button', { name: /Anna/ }).click();
    await page
      .locator(`[data-facet="emotion"]`)
      .getByRole('button', { name: new RegExp(emotion, 'i') })
      .click();
    await until('the grid to show the filtered faces', async () => {
      const shown = (
        await page
          .locator('[data-face-id]')
          .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-face-id'))))
      ).sort((a, b) => a - b);
      return JSON.stringify(shown) === JSON.stringify(expected);
    });
    await screenshot(page, 'people-03-filter');
    assert.deepEqual(problems, []);
  });

  test("the viewer's label on a named person's face starts with the name", async () => {
    const anna = (await people()).find((p) => p.name === 'Anna');
    assert.ok(anna);
    const [face] = (
      await server.api<{ items: FaceSummary[] }>('faces:query', { filter: { people: [anna.id] }, page: PAGE })
    ).items;
    assert.ok(face, 'Anna has a face');
    await page.reload();
    await page.locator('nav [data-view="photos"]').click();
    const tile = page.locator(`[data-photo-id="${face.photoId}"]`);
    await tile.scrollIntoViewIfNeeded();
    await tile.click();
    await page.getByRole('dialog').waitFor();
    const label = page.locator(`[data-face-label="${face.id}"]`);
    await label.waitFor({ state: 'attached' });
    await until('the name on the label', async () => ((await label.textContent()) ?? '').trim().startsWith('Anna'));
    assert.deepEqual(problems, []);
  });
});
