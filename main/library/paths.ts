/**
 * Where the library lives by default: the platform's per-user application-data folder.
 * `FACETS_DB` overrides the database file; the CLI's `--db` overrides both.
 */
import os from 'node:os';
import path from 'node:path';

const APP_FOLDER = 'Facets';
const DB_FILE = 'library.db';

/** The per-user application-data folder for Facets on this platform. */
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

/** The library database: FACETS_DB if set, else `library.db` in the application-data folder. */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['FACETS_DB'];
  return fromEnv ? path.resolve(fromEnv) : path.join(appDataDir(env), DB_FILE);
}

/** The thumbnail cache that belongs to a database: `<name>.thumbs/` next to it. */
export function defaultCacheDir(dbPath: string): string {
  const parsed = path.parse(path.resolve(dbPath));
  return path.join(parsed.dir, `${parsed.name}.thumbs`);
}
