#!/usr/bin/env node
/**
 * Builds better-sqlite3 for the installed Electron (`npm start` runs this first).
 *
 * better-sqlite3 is the one native dependency compiled against a specific runtime ABI (onnxruntime-node
 * and sharp use Node-API and load in Electron as they are). Rebuilding it in node_modules would break
 * the CLI and the tests, which run under Node, so the Electron build goes to a separate file,
 * dist/electron-native/better_sqlite3.node, which main/library/db.ts loads when running inside Electron.
 * Needs Electron's headers, i.e. a connected machine, once. electron-builder rebuilds native modules for
 * packaged apps by itself.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const electronVersion = JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')).version;
const out = path.join(root, 'dist', 'electron-native', 'better_sqlite3.node');
const stamp = `${out}.electron-${electronVersion}`;
if (existsSync(out) && existsSync(stamp)) process.exit(0);

const nodeGyp = process.env.npm_config_node_gyp;
if (!nodeGyp) {
  console.error('electron-native: run through npm (npm start), which provides node-gyp');
  process.exit(1);
}
const work = mkdtempSync(path.join(tmpdir(), 'facets-electron-native-'));
try {
  cpSync(path.dirname(require.resolve('better-sqlite3/package.json')), work, { recursive: true });
  rmSync(path.join(work, 'build'), { recursive: true, force: true });
  console.log(`building better-sqlite3 for Electron ${electronVersion}…`);
  const r = spawnSync(
    process.execPath,
    [nodeGyp, 'rebuild', '--release', `--target=${electronVersion}`, '--dist-url=https://electronjs.org/headers'],
    { cwd: work, stdio: 'inherit' },
  );
  if (r.status !== 0) process.exit(r.status ?? 1);
  mkdirSync(path.dirname(out), { recursive: true });
  cpSync(path.join(work, 'build', 'Release', 'better_sqlite3.node'), out);
  cpSync(out, stamp);
} finally {
  rmSync(work, { recursive: true, force: true });
}
