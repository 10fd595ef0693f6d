/**
 * "Learn from my corrections" in the Settings view, against the real `facets serve` in Debian's
 * Chromium: a fixture library (real SQLite file) with 253 ethnicity corrections — above the product
 * minimum of 200, which is not lowered — and a temporary FACETS_HEADS_DIR, empty at first (a fresh
 * install has no heads), then holding small heads trained here. The fine-tune runs in the server's
 * worker thread; the panel shows the reason it cannot start, the before/after on held-out
 * corrections, and reverts after a confirmation.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { FaceSummary, LearningStatus } from '../../main/api/contract.js';
import { activeHeadsBytes } from '../../main/learning/store.js';
import { Library } from '../../main/library/library.js';
import { chromiumMissing, collectProblems, launchChromium, screenshot } from '../helpers/browser.js';
import { buildCorrectionsLibrary, installSmallHeads } from '../helpers/learning-fixtures.js';
import { type Served, serve } from '../helpers/serve.js';

const skip = chromiumMissing();

describe('learning from corrections in the UI (web mode)', { skip, timeout: 300_000 }, () => {
  let work: string;
  let heads: string;
  let server: Served;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let fixture: { faces: number; corrections: number };

  const panel = () => page.getByTestId('learning-panel');
  const startButton = () => panel().getByRole('button', { name: 'Start fine-tune' });
  const revertButton = () => panel().getByRole('button', { name: 'Revert to previous heads' });

  /** Opens Settings afresh (the panel reads the status when it appears). */
  const openSettings = async () => {
    await page.goto(server.origin);
    await page.locator('nav [data-view="settings"]').click();
    await page.locator('nav [data-view="settings"][aria-current="page"]').waitFor();
    await panel().getByRole('heading', { name: 'Learn from my corrections' }).waitFor();
  };

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'facets-learning-ui-'));
    heads = path.join(work, 'heads');
    const photos = path.join(work, 'photos');
    mkdirSync(photos);
    const dbPath = path.join(work, 'library.db');
    fixture = buildCorrectionsLibrary(dbPath, photos);
    // A library folder, so the app opens on the library rather than the welcome screen.
    const library = new Library({ dbPath });
    library.settings.update({ folders: [photos] });
    library.close();
    server = await serve({
      db: dbPath,
      env: { FACETS_HEADS_DIR: heads, FACETS_CACHE_DIR: path.join(work, 'cache'), FACETS_SHIPPED_HEADS: 'off' },
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, colorScheme: 'light' });
    problems = collectProblems(page);
    await page.goto(server.url);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('without heads the panel says none are installed, what to run, and why it cannot start', async () => {
    await openSettings();
    const missing = panel().getByTestId('no-heads');
    await missing.waitFor();
    assert.match(await missing.innerText(), /No heads installed/);
    assert.match(await missing.innerText(), /npx facets train-heads/);
    assert.match(await missing.innerText(), new RegExp(heads.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.equal(await startButton().isDisabled(), true);
    // The reason is the button's accessible description.
    assert.match((await startButton().getAttribute('aria-describedby')) ?? '', /learning-blocked/);
    assert.match(await panel().getByTestId('learning-blocked').innerText(), /No heads are installed/);
    assert.match(
      await panel().getByTestId('corrections-count').innerText(),
      new RegExp(`${fixture.corrections} of 200 corrections`),
    );
    assert.equal(await revertButton().isDisabled(), true);
    await panel().getByText('There are no earlier heads to revert to.').waitFor();
    await panel().scrollIntoViewIfNeeded();
    await screenshot(page, 'learning-01-no-heads');
  });

  test('with heads and enough corrections it fine-tunes, shows the before/after table, and reverts', async () => {
    const base = installSmallHeads(heads);
    const baseBytes = readFileSync(path.join(heads, base.file));

    // Below the minimum: the button says how many corrections there are of the 200 needed.
    const { items } = await server.api<{ items: FaceSummary[] }>('faces:query', {
      filter: { corrected: 'corrected' },
      page: { offset: 0, limit: 500 },
    });
    const taken = items.slice(0, fixture.corrections - 190).map((f) => f.id);
    await server.api('faces:uncorrect', { faceIds: taken, attribute: 'ethnicity' });
    await openSettings();
    await panel().getByTestId('heads-in-use').filter({ hasText: 'trained on research data' }).waitFor();
    await panel().getByTestId('learning-blocked').filter({ hasText: '190 of 200 corrections' }).waitFor();
    assert.equal(await startButton().isDisabled(), true);
    // Corrections made meanwhile update the panel (the 'library:changed' event).
    await server.api('faces:correct', { faceIds: taken, attribute: 'ethnicity', value: 'black' });
    await panel()
      .getByTestId('corrections-count')
      .filter({ hasText: `${fixture.corrections} of 200` })
      .waitFor();
    await page.waitForFunction(
      () => !(document.querySelector('[data-testid="learning-panel"] button.primary') as HTMLButtonElement).disabled,
    );
    assert.equal(await panel().getByTestId('learning-blocked').count(), 0);

    await startButton().click();
    const result = panel().getByTestId('learning-result');
    await result.waitFor({ timeout: 120_000 });
    const table = result.getByRole('table', { name: /held out from the fine-tune/ });
    const ethnicity = table.locator('tr[data-attribute="ethnicity"]');
    const cells = await ethnicity.locator('td').allInnerTexts();
    assert.equal(cells[1], '0%', 'before: the base heads never predict Black');
    assert.ok(Number(cells[2]?.replace('%', '')) > 70, `after ${cells[2]}`);
    assert.equal(cells[3], 'Fine-tune kept');
    assert.equal(await table.locator('tr[data-attribute="ageGroup"] td').nth(3).innerText(), 'Unchanged');
    await panel().getByTestId('heads-in-use').filter({ hasText: 'fine-tuned on your corrections' }).waitFor();
    await result.getByText('The fine-tuned heads are in use').waitFor();
    await page.getByRole('status').filter({ hasText: 'Fine-tune finished' }).first().waitFor();
    assert.equal(await revertButton().isEnabled(), true);
    await panel().scrollIntoViewIfNeeded();
    await screenshot(page, 'learning-02-result');

    const status = await server.api<LearningStatus>('learning:status');
    assert.equal(status.lastResult?.inUse, true);
    assert.notDeepEqual(Buffer.from(activeHeadsBytes(heads).bytes), baseBytes);

    // Revert asks first; "keep" changes nothing.
    await revertButton().click();
    const dialog = panel().getByRole('alertdialog', { name: 'Revert to the previous heads?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Keep the current heads' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.notDeepEqual(Buffer.from(activeHeadsBytes(heads).bytes), baseBytes);
    await revertButton().click();
    await dialog.getByRole('button', { name: 'Yes, revert' }).click();
    await panel().getByTestId('heads-in-use').filter({ hasText: 'trained on research data' }).waitFor();
    await result.getByText('no longer in use').waitFor();
    assert.deepEqual(Buffer.from(activeHeadsBytes(heads).bytes), baseBytes);
    assert.equal(await revertButton().isDisabled(), true);
    await panel().scrollIntoViewIfNeeded();
    await screenshot(page, 'learning-03-reverted');
    // Thumbnails of the fixture's made-up photos cannot load; nothing else may go wrong.
    const unexpected = problems.filter((p) => !/Failed to load resource/.test(p));
    assert.deepEqual(unexpected, []);
  });
});
