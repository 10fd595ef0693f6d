/**
 * Opening the library database: better-sqlite3, WAL journal (readers never block the scanner's
 * writes, and a killed process loses at most the transaction in flight), foreign keys on, schema
 * migrated to the latest version.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { packageRoot } from '../paths.js';
import { migrate } from './migrations.js';

export type Db = Database.Database;

export interface OpenDbOptions {
  readonly?: boolean;
}

export function openDatabase(file: string, options: OpenDbOptions = {}): Db {
  if (!options.readonly) mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const nativeBinding = electronBinding();
  const db = new Database(file, {
    readonly: options.readonly ?? false,
    fileMustExist: options.readonly ?? false,
    ...(nativeBinding ? { nativeBinding } : {}),
  });
  try {
    // Another Facets process (the app while the CLI scans) may hold the write lock briefly.
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      // With WAL, NORMAL survives a killed process (only power loss can drop the last commits).
      db.pragma('synchronous = NORMAL');
      migrate(db);
    }
    db.pragma('cache_size = -65536'); // 64 MiB
    db.pragma('temp_store = MEMORY');
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * better-sqlite3 compiled for Electron's ABI, when running the unpackaged app (`npm start` builds it into
 * dist/electron-native/ with scripts/electron-native.mjs, leaving node_modules' build to Node: the CLI
 * and the tests). Packaged apps need none: electron-builder rebuilds node_modules for Electron.
 */
function electronBinding(): string | undefined {
  if (!process.versions['electron']) return undefined;
  const file = path.join(packageRoot(), 'dist', 'electron-native', 'better_sqlite3.node');
  return !file.includes('.asar') && existsSync(file) ? file : undefined;
}

/** ISO 8601 UTC timestamp for "when" columns. */
export function now(): string {
  return new Date().toISOString();
}
