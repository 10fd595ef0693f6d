/**
 * `facets doctor`: checks a library fully and, when it is damaged, keeps a backup and rebuilds it from
 * what can still be read. See [Note: damaged libraries] in db.ts.
 *
 * The rebuild makes a fresh library with the current schema and copies every readable row of every
 * table into it, keeping ids, so faces still belong to their photos and corrections and names to their
 * faces; rows that point at a lost row are dropped. The damaged file stays as the backup. Photos that
 * were lost are found again by the next scan (their thumbnails are still in the cache, named by content).
 */
import { copyFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { openDatabase } from './db.js';
import {
  type TableCopy,
  checkpoint,
  clearTables,
  copyReadableRows,
  dropDanglingRows,
  integrityProblems,
  setForeignKeys,
  tablesOf,
} from './repositories/recovery.js';

export interface DoctorReport {
  database: string;
  /** 'ok' when the check found nothing; else what it found (or why SQLite could not read it). */
  healthy: boolean;
  problems: string[];
  /** Set when rebuilt: the damaged file as it was, and what was copied and lost per table. */
  backup?: string;
  tables?: TableCopy[];
}

export interface DoctorOptions {
  /** Only check (and report); change nothing. */
  checkOnly?: boolean;
  /** For tests: the backup's name (default: `<db>.damaged-<time>`). */
  backup?: string;
}

export function checkLibrary(file: string): string[] {
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    return integrityProblems(db);
  } catch (err) {
    return [`SQLite cannot read it: ${(err as Error).message}`];
  } finally {
    db?.close();
  }
}

export function doctor(file: string, options: DoctorOptions = {}): DoctorReport {
  if (!existsSync(file)) throw new Error(`no library at ${file}`);
  const problems = checkLibrary(file);
  const report: DoctorReport = { database: file, healthy: problems.length === 0, problems };
  if (report.healthy || options.checkOnly) return report;

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const backup = options.backup ?? `${file}.damaged-${stamp}`;
  // The backup first, with its WAL and shared-memory files: nothing below touches it again.
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(file + suffix)) copyFileSync(file + suffix, backup + suffix);
  }
  const rebuilt = `${file}.rebuilding-${stamp}`;
  const fresh = openDatabase(rebuilt);
  let damaged: Database.Database | null = null;
  const tables: TableCopy[] = [];
  try {
    const wanted = tablesOf(fresh);
    clearTables(fresh, wanted);
    setForeignKeys(fresh, false);
    try {
      damaged = new Database(backup, { readonly: true, fileMustExist: true });
      const readable = new Set(tablesOf(damaged));
      for (const table of wanted) {
        if (!readable.has(table)) continue;
        tables.push(copyReadableRows(damaged, fresh, table));
      }
    } catch (err) {
      // Not even the schema can be read: the library starts again empty (the backup stays).
      report.problems.push(`nothing could be copied: ${(err as Error).message}`);
    }
    const dropped = dropDanglingRows(fresh);
    for (const t of tables) {
      const n = dropped.get(t.table) ?? 0;
      t.copied -= n;
      t.lost += n;
    }
    setForeignKeys(fresh, true);
    checkpoint(fresh);
  } finally {
    damaged?.close();
    fresh.close();
  }
  for (const suffix of ['-wal', '-shm']) rmSync(file + suffix, { force: true });
  renameSync(rebuilt, file);
  for (const suffix of ['-wal', '-shm']) rmSync(rebuilt + suffix, { force: true });
  return { ...report, backup, tables };
}
