/**
 * Where the library lives by default: the platform's per-user application-data folder.
 * `FACETS_DB` overrides the database file; the CLI's `--db` overrides both.
 */
import path from 'node:path';
import { appDataDir } from '../paths.js';

const DB_FILE = 'library.db';

export { appDataDir };

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
