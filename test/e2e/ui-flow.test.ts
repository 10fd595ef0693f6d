/**
 * The whole UI against the real `facets serve` on a fixture library: a real SQLite file, the real
 * models and real photos (face-api's demo samples), driven through Debian's Chromium. Screenshots of
 * every main screen land in test-results/.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type {
  FaceDetail,
  FaceSummary,
  Facets,
  Filter,
  PhotoDetail,
  PhotoSummary,
  ScanProgress,
  ScanError,
} from '../../main/api/contract.js';
import { ARTIFACTS, chromiumMissing, collectProblems, launchChromium, screenshot } from '../helpers/browser.js';
import { ROOT } from '../helpers/cli.js';
import { type Served, serve } from '../helpers/serve.js';

const SAMPLES = path.join(ROOT, 'node_modules', '@vladmandic', 'face-api', 'demo');
const PAGE = { offset: 0, limit: 500 };
const SCAN_TIMEOUT_MS = 240_000;

const skip = chromiumMissing();

describe('the UI on a real library (web mode)', { skip }, () => {
  let work: string;
  let photos: string;
  let server: Served;
  let browser: Browser;
  let page: Page;
  let problems: string[];

  const facesQuery = (filter: Filter) =>
    server.api<{ total: number; items: FaceSummary[] }>('faces:query', { filter, page: PAGE });
  const photosQuery = (filter: Filter) =>
    server.api<{ total: number; items: PhotoSummary[] }>('photos:query', { filter, page: PAGE });
  const facets = (filter: Filter, target: 'photos' | 'faces') => server.api<Facets>('facets:get', { filter, target });
  const countOf = (list: { value: string; count: number }[], value: string) =>
    list.find((c) => c.value === value)?.count ?? 0;

  /** Ids rendered in the grid (all of them: the fixture fits in view plus overscan). */
  const shownIds = async (attribute: 'data-face-id' | 'data-photo-id') =>
    (
      await page.locator(`[${attribute}]`).evaluateAll((els, a) => els.map((e) => Number(e.getAttribute(a))), attribute)
    ).sort((a, b) => a - b);

  const openView = async (view: 'photos' | 'faces' | 'errors' | 'settings') => {
    // A test that failed half-way may have left the viewer open over the page.
    if (await page.getByRole('dialog').isVisible()) await page.keyboard.press('Escape');
    await page.locator(`nav [data-view="${view}"]`).click();
    await page.locator(`nav [data-view="${view}"][aria-current="page"]`).waitFor();
  };

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'facets-ui-'));
    photos = path.join(work, 'My Photos');
    mkdirSync(photos);
    for (let i = 1; i <= 6; i++)
      copyFileSync(path.join(SAMPLES, `sample${i}.jpg`), path.join(photos, `sample${i}.jpg`));
    // One file that cannot be decoded, for the errors view.
    writeFileSync(path.join(photos, 'broken.jpg'), Buffer.from('this is not a JPEG file'));
    server = await serve({ db: path.join(work, 'library.db') });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
    problems = collectProblems(page);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test(
    'first run: add a folder, then the scan runs with a visible progress bar and results arrive',
    { timeout: SCAN_TIMEOUT_MS + 60_000 },
    async () => {
      await page.goto(server.url);
      await page.getByRole('heading', { name: 'Welcome to Facets' }).waitFor();
      // A browser cannot open a folder picker: the web UI asks for a typed absolute path.
      await page.getByLabel('Folder path').fill('photos/relative');
      await page.getByRole('button', { name: 'Add folder' }).click();
      await page.getByText('Type the full path of a folder').waitFor();
      await page.getByLabel('Folder path').fill(photos);
      await page.getByRole('button', { name: 'Add folder' }).click();
      await page.getByRole('list', { name: 'Chosen folders' }).getByText(photos).waitFor();
      await screenshot(page, '01-first-run');

      await page.getByRole('button', { name: 'Start scan' }).click();
      const progress = page.getByRole('progressbar', { name: 'Scan progress' });
      await progress.waitFor({ state: 'visible' });
      assert.ok(Number(await progress.getAttribute('aria-valuemax')) >= 1);
      await page.getByRole('button', { name: 'Pause' }).waitFor();
      await page.getByRole('button', { name: 'Cancel' }).waitFor();

      // Pause once the first results are in (unless the scan is over by then): the grid shows them
      // while the bar says where the scan stands. Then resume.
      const finished = page.getByRole('status', { name: 'Scan finished' });
      await page
        .locator('.scanbar [data-testid="scan-count"]')
        .filter({ hasText: /^\s*[1-9]\d* of / })
        .or(finished)
        .first()
        .waitFor({ timeout: SCAN_TIMEOUT_MS });
      const pauseClicked = await page
        .getByRole('button', { name: 'Pause' })
        .click({ timeout: 2000 })
        .then(
          () => true,
          () => false,
        );
      const paused = page.locator('.scanbar[data-state="paused"]');
      if (pauseClicked) await paused.or(finished).first().waitFor();
      if (await paused.isVisible()) {
        await page.locator('[data-photo-id]').first().waitFor();
        await page.getByRole('button', { name: 'Resume' }).waitFor();
        await screenshot(page, '02-scanning');
        await page.getByRole('button', { name: 'Resume' }).click();
      } else {
        await screenshot(page, '02-scanning');
      }

      // Results appear while scanning, and the bar reports the end.
      await page.getByRole('status', { name: 'Scan finished' }).waitFor({ timeout: SCAN_TIMEOUT_MS });
      const status = await server.api<ScanProgress>('scan:status');
      assert.equal(status.state, 'idle');
      const all = await photosQuery({});
      assert.equal(all.total, 6, 'the six decodable samples are in the library');
      await page.getByTestId('photo-count').filter({ hasText: '6 photos' }).waitFor();
      assert.deepEqual(
        await shownIds('data-photo-id'),
        all.items.map((p) => p.id).sort((a, b) => a - b),
      );
      // Thumbnails load through the token-checked media route.
      await page
        .locator('[data-photo-id] img')
        .first()
        .evaluate((img: HTMLImageElement) =>
          img.complete && img.naturalWidth > 0
            ? undefined
            : new Promise((r) => img.addEventListener('load', r, { once: true })),
        );
      await screenshot(page, '03-library');
    },
  );

  test('filter by emotion + age group: the grid shows exactly the faces the database query returns', async () => {
    const everyFace = await facets({}, 'faces');
    const emotion = everyFace.emotion.toSorted((a, b) => b.count - a.count)[0]?.value as string;
    const byEmotion = await facets({ emotions: [emotion as never] }, 'faces');
    const ageGroup = byEmotion.ageGroup.filter((c) => c.count > 0).toSorted((a, b) => b.count - a.count)[0]
      ?.value as string;
    assert.ok(emotion && ageGroup, 'the fixture has faces with an emotion and an age group');
    const filter = { emotions: [emotion], ageGroups: [ageGroup] } as Filter;
    const expected = await facesQuery(filter);
    assert.ok(expected.total > 0);

    await openView('faces');
    const sidebar = page.getByRole('complementary', { name: 'Filters' });
    await sidebar.locator(`[data-facet="emotion"] [data-value="${emotion}"]`).click();
    await sidebar.locator(`[data-facet="ageGroup"] [data-value="${ageGroup}"]`).click();
    await page
      .getByTestId('face-count')
      .filter({ hasText: new RegExp(`^\\s*${expected.total} faces?\\s*$`) })
      .waitFor();
    assert.deepEqual(
      await shownIds('data-face-id'),
      expected.items.map((f) => f.id).sort((a, b) => a - b),
    );
    // The sidebar's counts are the back end's counts, and the search box says what is filtered.
    const counts = await facets(filter, 'faces');
    const shownCount = await sidebar.locator(`[data-facet="emotion"] [data-value="${emotion}"] .n`).textContent();
    assert.equal(Number(shownCount), countOf(counts.emotion, emotion));
    const search = page.getByRole('searchbox', { name: 'Search faces and photos' });
    assert.equal(await search.inputValue(), `${emotion} ${ageGroup}`);
    await page.getByRole('status', { name: 'Scan finished' }).getByRole('button', { name: 'Dismiss' }).click();
    await page.locator(`[data-face-id="${expected.items[0]?.id}"] button.main`).click();
    await page.locator(`[data-face-detail="${expected.items[0]?.id}"] [data-testid="value-emotion"]`).waitFor();
    await screenshot(page, '04-faces-filtered');

    // The same filter on photos.
    const expectedPhotos = await photosQuery(filter);
    await openView('photos');
    await page
      .getByTestId('photo-count')
      .filter({ hasText: new RegExp(`^\\s*${expectedPhotos.total} photos?\\s*$`) })
      .waitFor();
    assert.deepEqual(
      await shownIds('data-photo-id'),
      expectedPhotos.items.map((p) => p.id).sort((a, b) => a - b),
    );
    await screenshot(page, '05-photos-filtered');

    // Typing the words gives the same result as clicking.
    await page.getByRole('button', { name: 'Clear all' }).click();
    await page.getByTestId('photo-count').filter({ hasText: '6 photos' }).waitFor();
    await search.fill(`${emotion} ${ageGroup} beach`);
    await search.press('Enter');
    await page.getByText('Not understood: beach').waitFor();
    await page
      .getByTestId('photo-count')
      .filter({ hasText: new RegExp(`^\\s*${expectedPhotos.total} photos?\\s*$`) })
      .waitFor();
    assert.deepEqual(
      await shownIds('data-photo-id'),
      expectedPhotos.items.map((p) => p.id).sort((a, b) => a - b),
    );
    await search.fill('');
    await search.press('Enter');
    await page.getByTestId('photo-count').filter({ hasText: '6 photos' }).waitFor();
  });

  test('open a photo: its face boxes and labels are drawn; ←/→, zoom and Esc work', async () => {
    const all = await photosQuery({});
    const first = all.items[0] as PhotoSummary;
    const detail = await server.api<PhotoDetail>('photo:get', { id: first.id });
    assert.ok(detail.faces.length > 0);

    await openView('photos');
    // Keyboard: the first tile is the grid's tab stop; Enter opens it.
    await page.locator(`[data-photo-id="${first.id}"]`).focus();
    await page.keyboard.press('Enter');
    const viewer = page.getByRole('dialog');
    await viewer.waitFor();
    await page.locator('[data-face-box]').first().waitFor();
    assert.deepEqual(
      (
        await page
          .locator('[data-face-box]')
          .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-face-box'))))
      ).sort(),
      detail.faces.map((f) => f.id).sort(),
    );
    // Each box sits where the database says, relative to the photo.
    const face = detail.faces[0] as FaceDetail;
    const [canvas, box] = await Promise.all([
      page.locator('.canvas').boundingBox(),
      page.locator(`[data-face-box="${face.id}"]`).boundingBox(),
    ]);
    assert.ok(canvas && box);
    assert.ok(Math.abs((box.x - canvas.x) / canvas.width - face.box.x / detail.width) < 0.01);
    assert.ok(Math.abs(box.width / canvas.width - face.box.width / detail.width) < 0.01);
    await page.waitForFunction(() => {
      const full = document.querySelector('img.full.loaded');
      return full !== null && getComputedStyle(full).opacity === '1';
    });
    await screenshot(page, '06-viewer');

    await page.keyboard.press('ArrowRight');
    await viewer.getByText(`2 / ${all.total}`).waitFor();
    await page.keyboard.press('+');
    await viewer.getByTestId('zoom-level').filter({ hasText: '150%' }).waitFor();
    await page.keyboard.press('0');
    await viewer.getByTestId('zoom-level').filter({ hasText: '100%' }).waitFor();
    await page.keyboard.press('ArrowLeft');
    await viewer.getByText(`1 / ${all.total}`).waitFor();
    await page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached' });
  });

  test("correct a face's emotion: it persists across a reload, the counts change, and Undo restores it", async () => {
    const faces = await facesQuery({});
    const face = faces.items.find((f) => f.emotion && !f.emotion.corrected) as FaceSummary;
    const from = face.emotion?.value as string;
    const to = from === 'surprise' ? 'fear' : 'surprise';
    const before = await facets({}, 'faces');

    await openView('faces');
    await page.locator(`[data-face-id="${face.id}"] button.main`).click();
    const detail = page.locator(`[data-face-detail="${face.id}"]`);
    await detail.getByLabel('Correct emotion', { exact: true }).selectOption(to);
    await page.getByText(/Emotion set to \w+ on 1 face/).waitFor();

    await page.reload();
    await openView('faces');
    await page.locator(`[data-face-id="${face.id}"] button.main`).click();
    await detail
      .locator('[data-testid="value-emotion"]')
      .filter({ hasText: to === 'surprise' ? 'Surprised' : 'Fearful' })
      .waitFor();
    await detail.locator('[data-attribute="emotion"]').getByText('Corrected').waitFor();
    const stored = await server.api<FaceDetail>('face:get', { id: face.id });
    assert.deepEqual(
      stored.corrections.map((c) => [c.attribute, c.value]),
      [['emotion', to]],
    );
    assert.equal(stored.emotion?.value, to);
    assert.equal(stored.emotion?.corrected, true);

    const afterCounts = await facets({}, 'faces');
    assert.equal(countOf(afterCounts.emotion, from), countOf(before.emotion, from) - 1);
    assert.equal(countOf(afterCounts.emotion, to), countOf(before.emotion, to) + 1);
    assert.equal(countOf(afterCounts.corrected, 'corrected'), countOf(before.corrected, 'corrected') + 1);
    const sidebar = page.getByRole('complementary', { name: 'Filters' });
    await sidebar
      .locator(`[data-facet="emotion"] [data-value="${to}"] .n`)
      .filter({ hasText: String(countOf(afterCounts.emotion, to)) })
      .waitFor();
    await screenshot(page, '07-face-corrected');

    await detail.getByRole('button', { name: 'Undo emotion correction' }).click();
    await page.getByText(/Emotion back to the prediction/).waitFor();
    const undone = await server.api<FaceDetail>('face:get', { id: face.id });
    assert.equal(undone.emotion?.value, from);
    assert.deepEqual(undone.corrections, []);

    // Ctrl+Z undoes the last correction like the Undo button.
    await detail.getByLabel('Correct emotion', { exact: true }).selectOption(to);
    await detail.locator('[data-attribute="emotion"]').getByText('Corrected').waitFor();
    await page.keyboard.press('Control+z');
    await detail.locator('[data-attribute="emotion"]').getByText('Corrected').waitFor({ state: 'detached' });
    const keyUndone = await server.api<FaceDetail>('face:get', { id: face.id });
    assert.deepEqual([keyUndone.emotion?.value, keyUndone.corrections], [from, []]);
  });

  test('select several faces (Ctrl-click, Shift-click) and correct them together', async () => {
    await openView('faces');
    const cards = page.locator('[data-face-id]');
    const ids = await cards.evaluateAll((els) => els.slice(0, 3).map((e) => Number(e.getAttribute('data-face-id'))));
    assert.equal(ids.length, 3);
    await page.locator(`[data-face-id="${ids[0]}"] button.main`).click();
    await page.locator(`[data-face-id="${ids[2]}"] button.main`).click({ modifiers: ['Shift'] });
    await page.getByRole('heading', { name: '3 faces selected' }).waitFor();
    await page.locator(`[data-face-id="${ids[1]}"] button.main`).click({ modifiers: ['Control'] });
    await page.getByRole('heading', { name: '2 faces selected' }).waitFor();
    const panel = page.getByRole('region', { name: 'Correct selected faces' });
    await panel.getByLabel('Age group', { exact: true }).selectOption('40-49');
    await panel.getByRole('button', { name: 'Set age group on 2 faces' }).click();
    await page.getByText('Age group set to 40–49 on 2 faces').waitFor();
    for (const id of [ids[0], ids[2]]) {
      const f = await server.api<FaceDetail>('face:get', { id });
      assert.deepEqual([f.ageGroup?.value, f.ageGroup?.corrected], ['40-49', true]);
    }
    assert.equal((await server.api<FaceDetail>('face:get', { id: ids[1] })).ageGroup?.corrected, false);
    await screenshot(page, '08-bulk-correct');
    await panel.getByRole('button', { name: 'Undo age group corrections on the selected faces' }).click();
    await page.getByText('Age group back to the prediction on 2 faces').waitFor();
    assert.equal((await server.api<FaceDetail>('face:get', { id: ids[0] })).corrections.length, 0);
  });

  test('the errors view lists the file that failed, with its reason', async () => {
    const errors = await server.api<{ total: number; items: ScanError[] }>('errors:list', { page: PAGE });
    assert.equal(errors.total, 1);
    await openView('errors');
    const row = page.getByRole('row').filter({ hasText: 'broken.jpg' });
    await row.waitFor();
    assert.ok(((await row.textContent()) ?? '').includes((errors.items[0] as ScanError).error));
    await screenshot(page, '09-errors');
  });

  test('settings: dark theme, and hiding ethnicity removes it everywhere', async () => {
    await openView('settings');
    await page.getByRole('heading', { name: 'Library folders' }).waitFor();
    await screenshot(page, '10-settings');

    await page.getByRole('radio', { name: 'Dark' }).click();
    await page.locator('html[data-theme="dark"]').waitFor({ state: 'attached' });
    await page.getByRole('switch', { name: 'Hide ethnicity' }).click();
    await page.getByRole('switch', { name: 'Hide ethnicity', checked: true }).waitFor();
    assert.equal((await server.api<{ hideEthnicity: boolean }>('settings:get')).hideEthnicity, true);

    await openView('faces');
    const first = page.locator('[data-face-id]').first();
    await first.locator('button.main').click();
    await page.locator('[data-face-detail] [data-attribute="emotion"]').waitFor();
    assert.equal(await page.locator('[data-facet="ethnicity"]').count(), 0);
    assert.equal(await page.locator('[data-face-detail] [data-attribute="ethnicity"]').count(), 0);
    const label = (await first.locator('button.main').getAttribute('aria-label')) ?? '';
    for (const word of ['White', 'Black', 'Asian', 'Indian', 'Other']) assert.ok(!label.includes(word), label);
    const search = page.getByRole('searchbox', { name: 'Search faces and photos' });
    await search.fill('asian');
    await search.press('Enter');
    await page.getByText('Not understood: asian').waitFor();
    await search.fill('');
    await search.press('Enter');
    await screenshot(page, '11-dark-faces');

    // Back to the defaults.
    await openView('settings');
    await page.getByRole('switch', { name: 'Hide ethnicity' }).click();
    // The slower tilted-face search is off until turned on, and is kept with the analysis settings.
    const tilted = page.getByRole('switch', { name: 'Find tilted faces' });
    assert.equal(await tilted.getAttribute('aria-checked'), 'false');
    await tilted.click();
    await page.getByRole('switch', { name: 'Find tilted faces', checked: true }).waitFor();
    type Analysis = { analysis: { tiltedFaces: boolean; maxSide: number } };
    const stored = await server.api<Analysis>('settings:get');
    assert.deepEqual([stored.analysis.tiltedFaces, stored.analysis.maxSide], [true, 1280]);
    await tilted.click();
    await page.getByRole('switch', { name: 'Find tilted faces', checked: false }).waitFor();
    await page.getByRole('radio', { name: 'System' }).click();
    await page.locator('html:not([data-theme])').waitFor({ state: 'attached' });
  });

  test('no console errors, warnings or CSP violations along the way', () => {
    assert.deepEqual(problems, []);
    assert.ok(ARTIFACTS.endsWith('test-results'));
  });
});
