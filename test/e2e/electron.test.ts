/**
 * The same flow as ui-flow.test.ts in the desktop app, through Playwright's Electron support: the
 * preload bridge, IPC, the facets-media:// protocol and the native folder picker (stubbed in the main
 * process, since a test cannot click a native dialog). Runs where the Electron binary exists
 * (`npm install` on a connected machine downloads it); skipped, saying why, where it does not.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import type { FaceSummary, Facets } from '../../main/api/contract.js';
import { collectProblems, electronBinary, screenshot } from '../helpers/browser.js';
import { ROOT } from '../helpers/cli.js';

const SAMPLES = path.join(ROOT, 'node_modules', '@vladmandic', 'face-api', 'demo');
const binary = electronBinary();
const built = existsSync(path.join(ROOT, 'dist', 'main', 'electron', 'main.js'));
const skip = !binary
  ? 'no Electron binary (node_modules/electron/dist is empty: Electron downloads it on `npm install`, which needs a network)'
  : !built
    ? 'the app is not built (npm run build)'
    : false;

type Bridge = {
  invoke(channel: string, request?: unknown): Promise<unknown>;
};

describe('the desktop app (Electron)', { skip }, () => {
  let work: string;
  let photos: string;
  let app: ElectronApplication;
  let page: Page;
  let problems: string[];

  const invoke = <T>(channel: string, request?: unknown) =>
    page.evaluate(([c, r]) => (window as unknown as { facets: Bridge }).facets.invoke(c as string, r), [
      channel,
      request,
    ] as const) as Promise<T>;

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'facets-electron-'));
    photos = path.join(work, 'photos');
    mkdirSync(photos);
    for (let i = 1; i <= 6; i++)
      copyFileSync(path.join(SAMPLES, `sample${i}.jpg`), path.join(photos, `sample${i}.jpg`));
    app = await _electron.launch({
      executablePath: binary as string,
      args: [ROOT, '--no-sandbox'],
      cwd: ROOT,
      env: {
        ...process.env,
        FACETS_DB: path.join(work, 'library.db'),
        FACETS_USER_DATA: path.join(work, 'user-data'),
      },
    });
    page = await app.firstWindow();
    problems = collectProblems(page);
    // The native folder picker, answered in the main process.
    await app.evaluate(({ dialog }, folder) => {
      dialog.showOpenDialog = (() =>
        Promise.resolve({ canceled: false, filePaths: [folder] })) as unknown as typeof dialog.showOpenDialog;
    }, photos);
  });

  after(async () => {
    await app?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the renderer is sandboxed and sees exactly the FacetsBridge', async () => {
    const exposed = await page.evaluate(() => ({
      keys: Object.keys((window as unknown as { facets: object }).facets).sort(),
      require: typeof (window as unknown as { require?: unknown }).require,
      process: typeof (window as unknown as { process?: unknown }).process,
    }));
    assert.deepEqual(exposed, {
      keys: ['chooseFolder', 'invoke', 'mediaUrl', 'on'],
      require: 'undefined',
      process: 'undefined',
    });
    // Navigation away from the renderer page is refused.
    await page.evaluate(() => {
      location.href = 'https://example.com/';
    });
    await page.waitForTimeout(300);
    assert.match(page.url(), /^facets-app:\/\/renderer\/index\.html/);
    await assert.rejects(invoke('fs:read', {}), /unknown channel/);
  });

  test(
    'choose a folder natively, scan with a visible progress bar, browse the results',
    { timeout: 300_000 },
    async () => {
      await page.getByRole('heading', { name: 'Welcome to Facets' }).waitFor();
      await page.getByRole('button', { name: 'Choose a folder…' }).click();
      await page.getByRole('list', { name: 'Chosen folders' }).getByText(photos).waitFor();
      await page.getByRole('button', { name: 'Start scan' }).click();
      await page.getByRole('progressbar', { name: 'Scan progress' }).waitFor();
      await page.getByRole('status', { name: 'Scan finished' }).waitFor({ timeout: 240_000 });
      await page.getByTestId('photo-count').filter({ hasText: '6 photos' }).waitFor();
      // Thumbnails arrive over facets-media://, never as paths.
      const src = await page.locator('[data-photo-id] img').first().getAttribute('src');
      assert.match(src ?? '', /^facets-media:\/\/thumb\/\d+$/);
      await page.locator('[data-photo-id] img.loaded').first().waitFor();
      await screenshot(page, 'electron-library');
    },
  );

  test('filter, open a photo with its boxes, correct an emotion that survives a reload', async () => {
    const faces = await invoke<{ items: FaceSummary[] }>('faces:query', {
      filter: {},
      page: { offset: 0, limit: 500 },
    });
    const face = faces.items.find((f) => f.emotion && !f.emotion.corrected) as FaceSummary;
    const from = face.emotion?.value as string;
    const to = from === 'surprise' ? 'fear' : 'surprise';
    const before = await invoke<Facets>('facets:get', { filter: {}, target: 'faces' });

    await page.locator('nav [data-view="faces"]').click();
    await page.locator(`[data-facet="emotion"] [data-value="${from}"]`).click();
    await page.locator(`[data-face-id="${face.id}"] button.main`).click();
    await page.getByRole('button', { name: 'Open photo' }).click();
    await page.locator('[data-face-box]').first().waitFor();
    await page.keyboard.press('Escape');
    await page.getByLabel('Correct emotion', { exact: true }).selectOption(to);
    await page.getByText(/Emotion set to/).waitFor();
    await page.reload();
    const after = await invoke<Facets>('facets:get', { filter: {}, target: 'faces' });
    const count = (f: Facets, v: string) => f.emotion.find((c) => c.value === v)?.count ?? 0;
    assert.equal(count(after, to), count(before, to) + 1);
    assert.equal(count(after, from), count(before, from) - 1);
    assert.deepEqual(problems, []);
  });

  test('the window state is remembered in userData', async () => {
    await app.evaluate(({ BrowserWindow }) =>
      BrowserWindow.getAllWindows()[0]?.setBounds({ width: 1000, height: 700 }),
    );
    await page.waitForTimeout(800);
    const state = JSON.parse(readFileSync(path.join(work, 'user-data', 'window-state.json'), 'utf8')) as {
      bounds: { width: number; height: number };
    };
    assert.deepEqual([state.bounds.width, state.bounds.height], [1000, 700]);
  });
});
