import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT } from './cli.js';

/** Debian's Chromium (installed by .ci/run); override with FACETS_CHROMIUM. */
export const CHROMIUM = process.env['FACETS_CHROMIUM'] ?? '/usr/bin/chromium';

/** Screenshots and other artifacts of the end-to-end tests (git-ignored). */
export const ARTIFACTS = path.join(ROOT, 'test-results');

export function chromiumMissing(): string | false {
  return existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set FACETS_CHROMIUM)`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // No sandbox as root in CI; no background networking on a machine without a route out.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Saves a full-window screenshot as test-results/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Console errors, warnings and page errors seen on a page (CSP violations show up here). */
export function collectProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  return problems;
}

/**
 * The Electron binary, if this machine has one. `require('electron')` would try to download it, so
 * this reads the path the electron package records (node_modules/electron/path.txt) instead.
 */
export function electronBinary(): string | null {
  const override = process.env['ELECTRON_OVERRIDE_DIST_PATH'];
  const pkg = path.join(ROOT, 'node_modules', 'electron');
  let relative = 'electron';
  try {
    relative = readFileSync(path.join(pkg, 'path.txt'), 'utf8').trim();
  } catch {
    if (!override) return null;
  }
  const binary = override ? path.join(override, relative) : path.join(pkg, 'dist', relative);
  return existsSync(binary) ? binary : null;
}
