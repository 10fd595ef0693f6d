/**
 * Opening the library database: better-sqlite3, WAL journal (readers never block the scanner's
 * writes, and a killed process loses at most the transaction in flight), foreign keys on, schema
 * migrated to the latest version.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { packageRoot } from '../paths.js';
import { MIGRATIONS, migrate } from './migrations.js';
import { quickCheckProblems } from './repositories/recovery.js';

export type Db = Database.Database;

export interface OpenDbOptions {
  /**
   * Open for reading only (the read commands: a library on a read-only disk can be browsed). The file
   * must exist and be at the latest schema: nothing is created or migrated.
   */
  readonly?: boolean;
  /** Run `PRAGMA quick_check` first and refuse a damaged database (default true; `facets doctor` opens it raw). */
  check?: boolean;
}

/** The database could not be opened as a library: missing, damaged, or too old to read without upgrading. */
export class LibraryOpenError extends Error {
  constructor(
    message: string,
    readonly reason: 'missing' | 'damaged' | 'outdated',
  ) {
    super(message);
    this.name = 'LibraryOpenError';
  }
}

export function openDatabase(file: string, options: OpenDbOptions = {}): Db {
  if (options.readonly && !existsSync(file)) {
    throw new LibraryOpenError(
      `no library at ${file}: check the path (facets scan <folder> --db ${file} creates one)`,
      'missing',
    );
  }
  if (!options.readonly) mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  try {
    return connect(file, file, options);
  } catch (err) {
    if (!options.readonly || !cannotShareReadOnly(err)) throw err;
    return connect(readOnlySnapshot(file), file, options);
  }
}

/**
 * A WAL database on a read-only disk: SQLite cannot create the `-shm` file readers share, so it cannot
 * read it in place. Read commands then read a copy in memory (the file as it is, written by a Facets that
 * closed it cleanly, which folds the WAL back in).
 */
function cannotShareReadOnly(err: unknown): boolean {
  const code = String((err as { code?: unknown }).code ?? '');
  return code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN');
}

const MAX_SNAPSHOT_BYTES = 2 * 1024 ** 3;

function readOnlySnapshot(file: string): Buffer {
  if (statSync(file).size > MAX_SNAPSHOT_BYTES) {
    throw new Error(`the library at ${file} is on a read-only disk and too large to read from memory`);
  }
  const bytes = readFileSync(file);
  // Bytes 18-19 say "WAL"; an in-memory copy has no WAL, so it is read as a rollback-journal database.
  if (bytes.length >= 20 && bytes[18] === 2 && bytes[19] === 2) bytes[18] = bytes[19] = 1;
  return bytes;
}

function connect(source: string | Buffer, file: string, options: OpenDbOptions): Db {
  const nativeBinding = electronBinding();
  const db = new Database(source, {
    readonly: options.readonly ?? false,
    fileMustExist: options.readonly ?? false,
    ...(nativeBinding ? { nativeBinding } : {}),
  });
  try {
    // Another Facets process (the app while the CLI scans) may hold the write lock briefly.
    db.pragma('busy_timeout = 5000');
    if (options.check ?? true) checkIntegrity(db, file);
    db.pragma('foreign_keys = ON');
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      // With WAL, NORMAL survives a killed process (only power loss can drop the last commits).
      db.pragma('synchronous = NORMAL');
      migrate(db);
    } else {
      const version = db.pragma('user_version', { simple: true }) as number;
      const latest = MIGRATIONS.at(-1)?.version ?? 0;
      if (version < latest) {
        throw new LibraryOpenError(
          `the library at ${file} was made by an older Facets and must be upgraded before it can be read: ` +
            'run facets scan (or open it in the app) once on a writable disk',
          'outdated',
        );
      }
      if (version > latest) migrate(db); // throws its clear "newer Facets" message
    }
    db.pragma('cache_size = -65536'); // 64 MiB
    db.pragma('temp_store = MEMORY');
    return db;
  } catch (err) {
    db.close();
    throw damagedError(err, file) ?? err;
  }
}

/**
 * [Note: damaged libraries] A database with a corrupted page used to open fine, and failed later
 * (stats and scans carried on, web mode answered 500s). Every open runs `PRAGMA quick_check` (it reads
 * every page once, without the index cross-checks of integrity_check) and refuses a damaged library with
 * a way out: `facets doctor` (main/library/doctor.ts) checks it fully, backs it up and rebuilds it from
 * what can still be read, corrections and names first.
 */
function checkIntegrity(db: Db, file: string): void {
  const problems = quickCheckProblems(db);
  if (problems.length > 0) throw damaged(file, problems.slice(0, 3).join('; '));
}

function damaged(file: string, detail: string): LibraryOpenError {
  return new LibraryOpenError(
    `the library at ${file} is damaged (${detail}). Nothing was changed. Run \`facets doctor --db ${file}\`: ` +
      'it checks it, keeps a backup and rebuilds it from what can still be read (corrections and names first)',
    'damaged',
  );
}

/** SQLite's own "this is not a (sound) database" errors, as the message above. */
function damagedError(err: unknown, file: string): LibraryOpenError | null {
  const code = (err as { code?: unknown }).code;
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT_INDEX') {
    return damaged(file, (err as Error).message);
  }
  return null;
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
