/**
 * Every view at 390, 768 and 1440 px wide, light and dark ([Note: narrow windows] in App.svelte),
 * against the real `facets serve` on a real library (face-api's sample photos, an unreadable file for
 * Problems, and the dlib-pascal group photos when ../shared/data is there): no sideways scrolling, every
 * visible control can be scrolled to and is not covered by anything else, "Apparent ethnicity" in the
 * sidebar and the face detail; the viewer's labels inside the photo and never over each other; zoom
 * pressed while the next photo loads is kept. Screenshots land in test-results/layout-*.png.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { PhotoSummary, ScanProgress } from '../../main/api/contract.js';
import { chromiumMissing, collectProblems, launchChromium, screenshot } from '../helpers/browser.js';
import { ROOT, SHARED_DATA } from '../helpers/cli.js';
import { type Served, serve } from '../helpers/serve.js';

const SAMPLES = path.join(ROOT, 'node_modules', '@vladmandic', 'face-api', 'demo');
const PASCAL = path.join(SHARED_DATA, 'eval', 'dlib-pascal', 'images');
const WIDTHS = [390, 768, 1440] as const;
const HEIGHT: Record<number, number> = { 390: 844, 768: 1024, 1440: 900 };
const VIEWS = ['photos', 'faces', 'errors', 'settings'] as const;
const HEADINGS: Record<(typeof VIEWS)[number], string> = {
  photos: 'Photos',
  faces: 'Faces',
  errors: 'Problems',
  settings: 'Settings',
};

const skip = chromiumMissing();
const pascal = existsSync(PASCAL);

interface LayoutReport {
  viewport: number;
  scrollWidth: number;
  /** Controls that cannot be brought into the window, or that something else covers. */
  unreachable: string[];
}

/**
 * In the page: sideways overflow, then each visible control scrolled to and hit-tested at its centre.
 * Plain JavaScript in a string: the test runner's transform would add helpers the page does not have.
 */
const LAYOUT_SCRIPT = String.raw`(scope) => {
  const root = (scope && document.querySelector(scope)) || document.body;
  const name = (el) =>
    el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    '[' + (el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 40) + ']';
  const visible = (el) => {
    if (el.getClientRects().length === 0) return false;
    // Content of a closed <details> keeps its boxes but is not rendered.
    if (!el.checkVisibility({ visibilityProperty: true, opacityProperty: false })) return false;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') return false;
    // The skip link waits off-screen until focused (checked on its own).
    return !el.closest('[aria-hidden="true"], .visually-hidden, .skip');
  };
  const vw = document.documentElement.clientWidth;
  const vh = document.documentElement.clientHeight;
  const unreachable = [];
  const controls = Array.from(
    root.querySelectorAll('button, input, select, textarea, a[href], [role="switch"], [role="radio"], [tabindex="0"]'),
  ).filter(visible);
  for (const el of controls) {
    el.scrollIntoView({ block: 'center', inline: 'center' });
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) continue;
    if (r.left < -1 || r.right > vw + 1 || r.top < -1 || r.bottom > vh + 1) {
      unreachable.push(name(el) + ' outside the window (' + Math.round(r.left) + '..' + Math.round(r.right) + ' of ' + vw + ')');
      continue;
    }
    const x = Math.min(vw - 1, Math.max(0, r.left + r.width / 2));
    const y = Math.min(vh - 1, Math.max(0, r.top + r.height / 2));
    const hit = document.elementFromPoint(x, y);
    const labels = el instanceof HTMLInputElement ? Array.from(el.labels || []) : [];
    if (!hit || !(el === hit || el.contains(hit) || labels.some((l) => l.contains(hit)))) {
      unreachable.push(name(el) + ' covered by ' + (hit ? name(hit) : 'nothing'));
    }
  }
  return { viewport: vw, scrollWidth: document.documentElement.scrollWidth, unreachable };
}`;

function layoutReport(page: Page, within?: string): Promise<LayoutReport> {
  return page.evaluate(`(${LAYOUT_SCRIPT})(${JSON.stringify(within ?? null)})`) as Promise<LayoutReport>;
}

async function assertLayout(page: Page, name: string, within?: string): Promise<void> {
  const report = await layoutReport(page, within);
  await screenshot(page, `layout-${name}`);
  assert.ok(report.scrollWidth <= report.viewport, `${name}: ${report.scrollWidth} px wide in ${report.viewport} px`);
  assert.deepEqual(report.unreachable, [], `${name}: every control reachable`);
}

describe('layout from 390 px up, light and dark (web mode)', { skip, timeout: 900_000 }, () => {
  let work: string;
  let server: Served;
  let browser: Browser;
  let photosTotal = 0;

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'facets-layout-'));
    const photos = path.join(work, 'Photos');
    mkdirSync(photos);
    for (let i = 1; i <= 3; i++)
      copyFileSync(path.join(SAMPLES, `sample${i}.jpg`), path.join(photos, `sample${i}.jpg`));
    writeFileSync(path.join(photos, 'broken.jpg'), Buffer.from('not a JPEG'));
    // The group photos are copied (a scan may write sidecars next to them; ../shared stays untouched).
    if (pascal) {
      const groups = path.join(photos, 'groups');
      mkdirSync(groups);
      for (const f of readdirSync(PASCAL)) copyFileSync(path.join(PASCAL, f), path.join(groups, `pascal-${f}`));
    }
    server = await serve({ db: path.join(work, 'library.db') });
    await server.api('folders:add', { path: photos });
    await server.api('scan:start', {});
    // Wait for the state, not for a time: the scan is over when it is idle with every file counted.
    const deadline = Date.now() + 600_000;
    for (;;) {
      const status = await server.api<ScanProgress>('scan:status');
      if (status.state === 'idle') break;
      assert.ok(Date.now() < deadline, 'the scan finishes');
      await new Promise((r) => setTimeout(r, 500));
    }
    photosTotal = (await server.api<{ total: number }>('photos:query', { filter: {}, page: { offset: 0, limit: 1 } }))
      .total;
    assert.equal(photosTotal, 3 + (pascal ? readdirSync(PASCAL).length : 0));
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const openView = async (page: Page, view: (typeof VIEWS)[number]) => {
    const menu = page.getByRole('button', { name: 'Views' });
    if (await menu.isVisible()) {
      if ((await menu.getAttribute('aria-expanded')) !== 'true') await menu.click();
    }
    await page.locator(`nav [data-view="${view}"]`).click();
    await page.locator(`nav [data-view="${view}"][aria-current="page"]`).waitFor({ state: 'attached' });
    await page.getByRole('heading', { level: 1, name: HEADINGS[view], exact: true }).waitFor();
  };

  for (const width of WIDTHS) {
    for (const scheme of ['light', 'dark'] as const) {
      test(`${width} px, ${scheme}: Photos, Faces, Problems and Settings fit and every control is reachable`, async () => {
        const page = await browser.newPage({
          viewport: { width, height: HEIGHT[width] as number },
          colorScheme: scheme,
        });
        const problems = collectProblems(page);
        try {
          await page.goto(server.url);
          await page.locator('nav [data-view="photos"]').waitFor({ state: 'attached' });
          await page.locator('[data-photo-id]').first().waitFor();

          // The skip link is the first stop and takes focus to the results.
          await page.keyboard.press('Tab');
          const skipLink = page.getByRole('link', { name: 'Skip to results' });
          assert.ok(await skipLink.evaluate((el) => el === document.activeElement));
          const box = await skipLink.boundingBox();
          assert.ok(box && box.y >= 0 && box.x + box.width <= width, 'the focused skip link is in view');
          await page.keyboard.press('Enter');
          assert.equal(await page.evaluate(() => document.activeElement?.id), 'results');

          for (const view of VIEWS) {
            await openView(page, view);
            if (view === 'photos') await page.locator('[data-photo-id]').first().waitFor();
            if (view === 'faces') await page.locator('[data-face-id]').first().waitFor();
            if (view === 'errors') await page.getByText('broken.jpg').first().waitFor();
            await assertLayout(page, `${width}-${scheme}-${view}`);

            if (view === 'photos' || view === 'faces') {
              // The filters: beside the results when wide, a drawer when narrow.
              const sidebar = page.getByRole('complementary', { name: 'Filters' });
              const drawer = page.getByRole('button', { name: /^Filters/ });
              if (await drawer.isVisible()) {
                assert.equal(await sidebar.isVisible(), false, 'the drawer starts closed');
                await drawer.click();
                // Opened: its slide-in has ended.
                await page.waitForFunction(
                  () => getComputedStyle(document.querySelector('#filters') as Element).transform === 'none',
                );
              }
              await sidebar.getByRole('heading', { name: 'Apparent ethnicity' }).waitFor();
              await assertLayout(page, `${width}-${scheme}-${view}-filters`, '#filters');
              if (width < 1000) {
                await page.keyboard.press('Escape');
                await sidebar.waitFor({ state: 'hidden' });
              }
            }
            if (view === 'settings') {
              // Detector thresholds, provider and model versions wait under Advanced.
              await page.locator('details.advanced > summary').click();
              await page.getByLabel('Detector threshold: proposals (P-Net)').waitFor();
              await page.getByRole('cell', { name: 'pnet', exact: true }).waitFor();
              await assertLayout(page, `${width}-${scheme}-settings-advanced`);
              if (scheme === 'light') {
                // A bad value is explained under its field, in plain words, and not saved.
                const detail = page.getByLabel(/^Detail looked at/);
                await detail.fill('10');
                await detail.press('Tab');
                await page
                  .locator('#max-side-problem')
                  .filter({ hasText: 'Choose a value from 160 to 8192.' })
                  .waitFor();
                const stored = await server.api<{ analysis: { maxSide: number } }>('settings:get');
                assert.equal(stored.analysis.maxSide, 1280);
                await detail.fill('1280');
                await detail.press('Tab');
                await page.locator('#max-side-problem').waitFor({ state: 'detached' });
                const missing = path.join(work, 'no such folder');
                await page.getByLabel('Folder path').fill(missing);
                await page.getByRole('button', { name: 'Add folder' }).click();
                await page
                  .locator('#folder-path-help')
                  .filter({ hasText: `There is no folder at ${missing}.` })
                  .waitFor();
              }
            }
            if (view === 'faces') {
              // A face's detail: beside the grid when wide, a bottom sheet when narrow.
              await page.locator('[data-face-id] button.main').first().click();
              const detail = page.locator('[data-face-detail]');
              await detail.getByText('Apparent ethnicity', { exact: true }).waitFor();
              await assertLayout(page, `${width}-${scheme}-face-detail`, '.panel');
              const close = page.getByRole('button', { name: 'Close', exact: true });
              if (await close.isVisible()) await close.click();
              else
                await page
                  .getByRole('button', { name: /^Face \d+:/ })
                  .first()
                  .click({ modifiers: ['Control'] });
              await page.locator('[data-face-detail]').waitFor({ state: 'detached' });
            }
          }

          // The viewer, its controls reachable too.
          await openView(page, 'photos');
          await page.locator('[data-photo-id]').first().click();
          await page.getByRole('dialog').waitFor();
          await page.locator('[data-face-label]').first().waitFor({ state: 'attached' });
          await assertLayout(page, `${width}-${scheme}-viewer`, '[role="dialog"]');
          await page.keyboard.press('Escape');
          await page.getByRole('dialog').waitFor({ state: 'detached' });
          // The two bad values typed on purpose in Settings (light runs) answer 400; nothing else may complain.
          const refused = problems.filter((p) => /status of 400 \(Bad Request\)/.test(p));
          assert.deepEqual(
            problems.filter((p) => !refused.includes(p)),
            [],
          );
          assert.equal(refused.length, scheme === 'light' ? 2 : 0);
        } finally {
          await page.close();
        }
      });
    }
  }

  test(
    "the viewer's labels stay inside the photo and never overlap (dlib-pascal group photos)",
    { skip: pascal ? false : `no ${PASCAL} (../shared/data is not here)` },
    async () => {
      const groups = (
        await server.api<{ items: PhotoSummary[] }>('photos:query', {
          filter: {},
          page: { offset: 0, limit: 500 },
        })
      ).items.filter((p) => path.basename(p.path).startsWith('pascal-'));
      assert.ok(groups.length > 0);
      for (const width of [1440, 390]) {
        const page = await browser.newPage({ viewport: { width, height: HEIGHT[width] as number } });
        try {
          await page.goto(server.url);
          let checked = 0;
          for (const photo of groups) {
            await page.locator(`[data-photo-id="${photo.id}"]`).scrollIntoViewIfNeeded();
            await page.locator(`[data-photo-id="${photo.id}"]`).click();
            const viewer = page.getByRole('dialog');
            await viewer.waitFor();
            await viewer.getByRole('heading', { name: path.basename(photo.path) }).waitFor();
            if (photo.faceCount > 0) await page.locator('[data-face-label]').first().waitFor({ state: 'attached' });
            // Labels are placed from their measured widths: wait until every label has been measured and laid out.
            await page.waitForFunction(() =>
              Array.from(document.querySelectorAll('[data-face-label]')).every(
                (el) => (el as HTMLElement).offsetWidth > 0,
              ),
            );
            await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
            const { canvas, labels } = await page.evaluate(() => {
              const c = document.querySelector('.canvas')?.getBoundingClientRect();
              return {
                canvas: c ? { x: c.x, y: c.y, w: c.width, h: c.height } : null,
                labels: Array.from(document.querySelectorAll('[data-face-label]'))
                  .filter((el) => getComputedStyle(el).visibility !== 'hidden')
                  .map((el) => {
                    const r = el.getBoundingClientRect();
                    return { id: el.getAttribute('data-face-label'), x: r.x, y: r.y, w: r.width, h: r.height };
                  }),
              };
            });
            assert.ok(canvas);
            for (const l of labels) {
              assert.ok(
                l.x >= canvas.x - 0.5 &&
                  l.y >= canvas.y - 0.5 &&
                  l.x + l.w <= canvas.x + canvas.w + 0.5 &&
                  l.y + l.h <= canvas.y + canvas.h + 0.5,
                `${photo.path} at ${width} px: label ${l.id} inside the photo`,
              );
            }
            for (const a of labels)
              for (const b of labels)
                if (a !== b && (a.id ?? '') < (b.id ?? ''))
                  assert.ok(
                    a.x + a.w <= b.x + 0.5 ||
                      b.x + b.w <= a.x + 0.5 ||
                      a.y + a.h <= b.y + 0.5 ||
                      b.y + b.h <= a.y + 0.5,
                    `${photo.path} at ${width} px: labels ${a.id} and ${b.id} overlap`,
                  );
            checked += labels.length;
            await screenshot(page, `layout-labels-${width}-${path.basename(photo.path, '.jpg')}`);
            await page.keyboard.press('Escape');
            await viewer.waitFor({ state: 'detached' });
          }
          assert.ok(checked > 0, 'some labels were shown');
        } finally {
          await page.close();
        }
      }
    },
  );

  test('Problems: copy the path (web mode), ignore with Undo; the viewer copies a photo path', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    try {
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.origin });
      await page.goto(server.url);
      await openView(page, 'errors');
      const row = page.getByRole('row').filter({ hasText: 'broken.jpg' });
      await row.getByRole('button', { name: 'Copy path: broken.jpg' }).click();
      const broken = path.join(work, 'Photos', 'broken.jpg');
      await page.getByText(`Path copied: ${broken}`).waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), broken);

      await row.getByRole('button', { name: 'Ignore: broken.jpg' }).click();
      await page.getByText('1 problem ignored').waitFor();
      await row.waitFor({ state: 'detached' });
      await page.getByRole('heading', { name: 'No problems' }).waitFor();
      await page.getByRole('button', { name: 'Undo' }).click();
      await page.getByRole('row').filter({ hasText: 'broken.jpg' }).waitFor();

      await openView(page, 'photos');
      await page.locator('[data-photo-id]').first().click();
      const viewer = page.getByRole('dialog');
      const first = (
        await server.api<{ items: PhotoSummary[] }>('photos:query', { filter: {}, page: { offset: 0, limit: 1 } })
      ).items[0] as PhotoSummary;
      await viewer.getByRole('heading', { name: path.basename(first.path) }).waitFor();
      await viewer.getByRole('button', { name: 'Copy file path' }).click();
      await page.getByText(`Path copied: ${first.path}`).waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), first.path);
    } finally {
      await page.close();
    }
  });

  test('faces: no value cut short on the cards; hide uncertain per attribute; photos sorted by name', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    try {
      await page.goto(server.url);
      await openView(page, 'faces');
      await page.locator('[data-face-id]').first().waitFor();
      // Every label on every card fits: nothing is clipped or ellipsised ("Wh…").
      const clipped = await page
        .locator('[data-face-id] .labels *')
        .evaluateAll((els) =>
          els.filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.textContent?.trim() ?? ''),
        );
      assert.deepEqual(clipped, []);

      const total = async (filter: object) =>
        (await server.api<{ total: number }>('faces:query', { filter, page: { offset: 0, limit: 1 } })).total;
      const all = await total({});
      const sure = await total({ hideUncertain: ['ageGroup'] });
      assert.ok(sure < all, 'some age estimates are uncertain in this library');
      const sidebar = page.getByRole('complementary', { name: 'Filters' });
      await sidebar.locator('[data-facet="hideUncertain"]').getByLabel('Age group').check();
      await page
        .getByTestId('face-count')
        .filter({ hasText: new RegExp(`^\\s*${sure} faces?\\s*$`) })
        .waitFor();
      const search = page.getByRole('searchbox', { name: 'Search faces and photos' });
      assert.equal(await search.inputValue(), 'sure:age');
      // Every face still shown is sure of its age group.
      const unsure = await page.locator('[data-face-id] [data-unsure="ageGroup"]').count();
      assert.equal(unsure, 0);
      await page.getByRole('button', { name: 'Clear all' }).click();
      await page
        .getByTestId('face-count')
        .filter({ hasText: new RegExp(`^\\s*${all} faces?\\s*$`) })
        .waitFor();

      await openView(page, 'photos');
      await page.getByLabel('Sort by').selectOption('name');
      const byName = (
        await server.api<{ items: PhotoSummary[] }>('photos:query', {
          filter: {},
          page: { offset: 0, limit: 500 },
          sort: 'name',
        })
      ).items.map((p) => p.id);
      await page.waitForFunction(
        (first) => document.querySelector('[data-photo-id]')?.getAttribute('data-photo-id') === String(first),
        byName[0],
      );
      const shown = await page
        .locator('[data-photo-id]')
        .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-photo-id'))));
      assert.deepEqual(shown, byName.slice(0, shown.length));
      // The file name shows on hover (and on keyboard focus, the same rule).
      await page.locator('[data-photo-id]').first().hover();
      await page.waitForFunction(
        () => getComputedStyle(document.querySelector('[data-photo-id] .name') as Element).opacity === '1',
      );
    } finally {
      await page.close();
    }
  });

  test('zoom pressed while the next photo loads is kept; navigating resets it', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    try {
      await page.goto(server.url);
      const items = (
        await server.api<{ items: PhotoSummary[] }>('photos:query', { filter: {}, page: { offset: 0, limit: 3 } })
      ).items;
      await page.locator(`[data-photo-id="${items[0]?.id}"]`).click();
      const viewer = page.getByRole('dialog');
      await viewer.getByRole('heading', { name: path.basename(items[0]?.path ?? '') }).waitFor();
      const zoom = viewer.getByTestId('zoom-level');

      // → then + at once: the zoom is pressed before the next photo has arrived (or just after, on a fast
      // machine); either way, once that photo is shown the zoom is still 150 %.
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('+');
      await viewer.getByText(`2 / ${photosTotal}`).waitFor();
      await viewer.getByRole('heading', { name: path.basename(items[1]?.path ?? '') }).waitFor();
      await page.waitForFunction(() => document.querySelector('img.full.loaded') !== null);
      await zoom.filter({ hasText: '150%' }).waitFor();
      assert.equal((await zoom.textContent())?.trim(), '150%');

      // Navigating resets the zoom, at once.
      await page.keyboard.press('ArrowRight');
      await zoom.filter({ hasText: '100%' }).waitFor();
      await viewer.getByText(`3 / ${photosTotal}`).waitFor();
      await viewer.getByRole('heading', { name: path.basename(items[2]?.path ?? '') }).waitFor();
      assert.equal((await zoom.textContent())?.trim(), '100%');
    } finally {
      await page.close();
    }
  });
});

describe('the first-run screen from 390 px up (web mode)', { skip }, () => {
  let server: Served;
  let browser: Browser;

  before(async () => {
    server = await serve();
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  for (const width of WIDTHS) {
    test(`first run at ${width} px: the whole card can be scrolled to, every control reachable`, async () => {
      const page = await browser.newPage({ viewport: { width, height: HEIGHT[width] as number } });
      try {
        await page.goto(server.url);
        await page.getByRole('heading', { name: 'Welcome to Facets' }).waitFor();
        // The top of the card is never cut off above the window (a centred card taller than it was).
        const card = await page.locator('.welcome .card').boundingBox();
        assert.ok(card && card.y >= 0, `the card starts inside the window (${card?.y})`);
        await assertLayout(page, `${width}-first-run`);
      } finally {
        await page.close();
      }
    });
  }
});
