/**
 * Where Facets' own files live, in development (a clone), when run from `dist/`, and inside a packaged
 * Electron app (where models are extra resources next to app.asar).
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

/** The folder holding Facets' package.json (the clone, or app.asar in a packaged build). */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string };
      if (pkg.name === 'facets') return (cachedRoot = dir);
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot locate the Facets package root');
    dir = parent;
  }
}

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * The models folder: FACETS_MODELS_DIR if set; inside a packaged app, `resources/models`; else the
 * clone's `models/`. It holds manifest.json and generated/*.onnx.
 */
export function modelsDir(): string {
  const fromEnv = process.env['FACETS_MODELS_DIR'];
  if (fromEnv) return path.resolve(fromEnv);
  const resourcesPath = (process as NodeJS.Process & { resourcesPath?: string }).resourcesPath;
  if (resourcesPath && existsSync(path.join(resourcesPath, 'models', 'manifest.json'))) {
    return path.join(resourcesPath, 'models');
  }
  return path.join(packageRoot(), 'models');
}

/**
 * The platform's application-data folder for Facets: everything Facets writes for the user (the default
 * library, fine-tuned heads, settings, caches) lives here, never next to the shipped models, which are
 * read-only in a packaged app (inside an AppImage or a signed .app, and replaced on update).
 */
export function appDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = env['HOME'] ?? os.homedir();
  switch (platform) {
    case 'win32':
      return path.win32.join(env['APPDATA'] ?? path.win32.join(home, 'AppData', 'Roaming'), APP_FOLDER);
    case 'darwin':
      return path.posix.join(home, 'Library', 'Application Support', APP_FOLDER);
    default:
      return path.posix.join(env['XDG_DATA_HOME'] || path.posix.join(home, '.local', 'share'), APP_FOLDER);
  }
}

const APP_FOLDER = 'Facets';
