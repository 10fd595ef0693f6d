/**
 * The XMP sidecar settings in the Settings view, against the real `facets serve` and Debian's Chromium:
 * off by default, each control stored through the API, ethnicity unavailable while it is hidden.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Settings } from '../../main/api/contract.js';
import { chromiumMissing, collectProblems, launchChromium, screenshot } from '../helpers/browser.js';
import { type Served, serve } from '../helpers/serve.js';

describe('XMP sidecar settings (web mode)', { skip: chromiumMissing(), timeout: 120_000 }, () => {
  let server: Served;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let folder: string;
  const xmp = async () => (await server.api<Settings>('settings:get')).xmp;
  const until = async (check: () => Promise<boolean>) => {
    const end = Date.now() + 15_000;
    while (!(await check())) {
      if (Date.now() > end) throw new Error('the setting was not stored');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  before(async () => {
    server = await serve();
    // A library folder (empty: nothing to scan), so the app opens on its views rather than the first run.
    folder = mkdtempSync(path.join(tmpdir(), 'facets-xmp-ui-'));
    await server.api('folders:add', { path: folder });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    problems = collectProblems(page);
    await page.goto(server.url);
    await page.locator('nav [data-view="settings"]').click();
    await page.getByRole('heading', { name: 'XMP sidecars' }).waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  test('keep up to date, the sidecar naming and the keywords are stored; hidden ethnicity cannot be chosen', async () => {
    const keep = page.getByRole('switch', { name: 'Keep XMP sidecars up to date' });
    assert.equal(await keep.getAttribute('aria-checked'), 'false', 'off by default');
    await keep.click();
    await page.getByRole('switch', { name: 'Keep XMP sidecars up to date', checked: true }).waitFor();
    await until(async () => (await xmp()).keepUpToDate);

    await page.getByLabel('Sidecar file name').selectOption('xmp');
    await until(async () => (await xmp()).sidecar === 'xmp');

    const ethnicity = page.getByRole('checkbox', { name: /Apparent ethnicity/ });
    assert.equal(await ethnicity.isChecked(), false, 'never written unless chosen');
    await ethnicity.check();
    await page.getByRole('checkbox', { name: 'Gender' }).uncheck();
    await until(async () => {
      const k = (await xmp()).keywords;
      return k.includes('ethnicity') && !k.includes('gender');
    });
    await screenshot(page, 'xmp-settings');

    await page.getByRole('switch', { name: 'Hide ethnicity' }).click();
    await page.getByRole('checkbox', { name: /Apparent ethnicity \(hidden in Privacy: never written\)/ }).waitFor();
    assert.equal(await ethnicity.isDisabled(), true);
    assert.equal(await ethnicity.isChecked(), false);
    assert.deepEqual(problems, []);
  });
});
