/**
 * The photo grid with a synthetic 50,000-photo library: the real UI and `facets serve`, with the one
 * query the grid pages through (`photos:query`) and its thumbnails answered by Playwright with
 * synthetic items, so the count does not need 50,000 real photos. Measures what the grid renders
 * and how fast frames come while scrolling; the numbers go to test-results/grid-50k.json.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import type { Page as ApiPage, PhotoSummary } from '../../main/api/contract.js';
import { ARTIFACTS, chromiumMissing, collectProblems, launchChromium, screenshot } from '../helpers/browser.js';
import { ROOT } from '../helpers/cli.js';
import { type Served, serve } from '../helpers/serve.js';

const TOTAL = 50_000;
const skip = chromiumMissing();

function synthetic({ offset, limit }: ApiPage): PhotoSummary[] {
  const items: PhotoSummary[] = [];
  for (let i = offset; i < Math.min(TOTAL, offset + limit); i++) {
    items.push({
      id: i + 1,
      path: `/photos/${2000 + (i % 24)}/IMG_${String(i).padStart(5, '0')}.jpg`,
      width: 4000,
      height: 3000,
      takenAt: `${2000 + (i % 24)}-06-01T12:00:00`,
      faceCount: i % 7,
    });
  }
  return items;
}

function stats(values: number[]) {
  const sorted = values.toSorted((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const round = (v: number) => Math.round(v * 10) / 10;
  return { frames: values.length, mean: round(mean), p50: round(at(0.5)), p95: round(at(0.95)), max: round(at(1)) };
}

describe('the photo grid with 50,000 photos', { skip }, () => {
  let work: string;
  let server: Served;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  const requested: ApiPage[] = [];

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'facets-50k-'));
    mkdirSync(path.join(work, 'photos'));
    server = await serve({ db: path.join(work, 'library.db') });
    // A library folder, so the UI opens on the grid rather than the welcome screen.
    await server.api('folders:add', { path: path.join(work, 'photos') });
    const thumb = await sharp(path.join(ROOT, 'node_modules/@vladmandic/face-api/demo/sample1.jpg'))
      .resize(256, 192, { fit: 'cover' })
      .jpeg({ quality: 70 })
      .toBuffer();

    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
    problems = collectProblems(page);
    await page.route('**/api/photos:query', async (route) => {
      const body = JSON.parse(route.request().postData() ?? '{}') as { page: ApiPage };
      requested.push(body.page);
      await route.fulfill({ json: { result: { total: TOTAL, items: synthetic(body.page) } } });
    });
    await page.route('**/media/*/thumb/*', (route) => route.fulfill({ body: thumb, contentType: 'image/jpeg' }));
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('renders only the rows in view, and scrolls smoothly from top to bottom', { timeout: 180_000 }, async (t) => {
    await page.goto(server.url);
    await page.getByTestId('photo-count').filter({ hasText: '50,000 photos' }).waitFor();
    await page.locator('[data-photo-id="1"]').waitFor();
    const list = page.getByRole('list', { name: 'Photos' });
    const columns = Number(await list.getAttribute('data-columns'));
    const rows = Number(await list.getAttribute('data-rows'));
    assert.equal(rows, Math.ceil(TOTAL / columns));
    const cellsAtTop = await page.locator('.cell').count();
    assert.ok(cellsAtTop <= 16 * columns, `${cellsAtTop} cells rendered at the top`);
    await screenshot(page, '12-grid-50k');

    // Continuous scrolling: 400 px per frame (much faster than a wheel), timing every frame, and the
    // renderer's main-thread work (Chrome's own counters) over the whole run.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const metrics = async () =>
      Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
    const before = await metrics();
    const scroll = await page.evaluate(async () => {
      const viewport = document.querySelector<HTMLElement>('.viewport') as HTMLElement;
      const longTasks: number[] = [];
      const observer = new PerformanceObserver((list) => longTasks.push(...list.getEntries().map((e) => e.duration)));
      observer.observe({ type: 'longtask', buffered: false });
      const frames: number[] = [];
      let maxCells = 0;
      let maxNodes = 0;
      // (No named helpers in here: tsx would wrap them in a __name() the page does not have.)
      let last = await new Promise<number>((resolve) => requestAnimationFrame(resolve));
      const started = performance.now();
      for (let i = 0; i < 600; i++) {
        viewport.scrollTop += 400;
        const now = await new Promise<number>((resolve) => requestAnimationFrame(resolve));
        frames.push(now - last);
        last = now;
        maxCells = Math.max(maxCells, viewport.querySelectorAll('.cell').length);
        if (i % 50 === 0) maxNodes = Math.max(maxNodes, document.getElementsByTagName('*').length);
      }
      observer.disconnect();
      return {
        frames,
        longTasks,
        maxCells,
        maxNodes,
        scrolledPx: viewport.scrollTop,
        seconds: (performance.now() - started) / 1000,
      };
    });

    const after = await metrics();
    const perFrame = (name: string) =>
      Math.round((((after[name] ?? 0) - (before[name] ?? 0)) * 1000 * 10) / scroll.frames.length) / 10;

    // Jumps: the middle and the very end render at once, with the right items.
    const jump = async (fraction: number) => {
      const started = Date.now();
      await page.evaluate((f) => {
        const viewport = document.querySelector<HTMLElement>('.viewport') as HTMLElement;
        viewport.scrollTop = f * (viewport.scrollHeight - viewport.clientHeight);
      }, fraction);
      return started;
    };
    let started = await jump(0.5);
    await page.locator('[aria-posinset="25000"] [data-photo-id="25000"]').waitFor();
    const middleMs = Date.now() - started;
    started = await jump(1);
    await page.locator('[aria-posinset="50000"] [data-photo-id="50000"]').waitFor();
    const endMs = Date.now() - started;
    const cellsAtEnd = await page.locator('.cell').count();

    const frameStats = stats(scroll.frames);
    const report = {
      photos: TOTAL,
      viewport: '1440x900',
      columns,
      rows,
      cellsAtTop,
      cellsAtEnd,
      maxCellsWhileScrolling: scroll.maxCells,
      maxDomNodesWhileScrolling: scroll.maxNodes,
      scroll: { ...frameStats, scrolledPx: scroll.scrolledPx, seconds: Math.round(scroll.seconds * 10) / 10 },
      mainThreadMsPerFrame: {
        total: perFrame('TaskDuration'),
        script: perFrame('ScriptDuration'),
        style: perFrame('RecalcStyleDuration'),
        layout: perFrame('LayoutDuration'),
      },
      longTasks: { count: scroll.longTasks.length, maxMs: Math.round(Math.max(0, ...scroll.longTasks)) },
      jumpToMiddleMs: middleMs,
      jumpToEndMs: endMs,
      photoQueries: requested.length,
      photosFetched: requested.reduce((n, p) => n + p.limit, 0),
    };
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(path.join(ARTIFACTS, 'grid-50k.json'), `${JSON.stringify(report, null, 2)}\n`);
    t.diagnostic(JSON.stringify(report));

    assert.ok(scroll.maxCells <= 16 * columns, `at most ${16 * columns} cells in the DOM, saw ${scroll.maxCells}`);
    assert.ok(cellsAtEnd <= 16 * columns);
    assert.ok(scroll.maxNodes < 3000, `${scroll.maxNodes} DOM nodes`);
    // Frame times depend on the machine (and its load); these bounds catch pathologies, the report
    // has the numbers.
    assert.ok(frameStats.p50 <= 34, `median frame ${frameStats.p50} ms`);
    assert.ok(frameStats.p95 <= 150, `95th percentile frame ${frameStats.p95} ms`);
    assert.ok(report.mainThreadMsPerFrame.script < 16, `script ${report.mainThreadMsPerFrame.script} ms per frame`);
    assert.ok(report.photosFetched < TOTAL / 4, `fetched ${report.photosFetched} items`);
    await screenshot(page, '13-grid-50k-end');
    assert.deepEqual(problems, []);
  });
});
