/**
 * The SQL of `facets doctor` (main/library/doctor.ts) and of the check every open runs (db.ts): integrity
 * checks, and copying whatever
 * rows of a damaged database can still be read into a freshly made one. Generic over the schema, so the
 * tables later migrations add are rebuilt too.
 */
import type { Db } from '../db.js';

/** Rows read per step; a step that fails is read again row by row, skipping the unreadable ones. */
const BATCH = 500;

export interface TableCopy {
  table: string;
  copied: number;
  /** Rows that could not be read (a damaged page), or that point at a row that was lost. */
  lost: number;
}

/** `PRAGMA integrity_check`: 'ok', or up to `max` problems; an error when SQLite cannot even read it. */
export function integrityProblems(db: Db, max = 100): string[] {
  const rows = db.pragma(`integrity_check(${Math.max(1, Math.floor(max))})`) as { integrity_check: string }[];
  return rows.map((r) => r.integrity_check).filter((r) => r !== 'ok');
}

/** `PRAGMA quick_check` (every page read once, no index cross-checks): up to `max` problems. */
export function quickCheckProblems(db: Db, max = 20): string[] {
  const rows = db.pragma(`quick_check(${Math.max(1, Math.floor(max))})`) as { quick_check: string }[];
  return rows.map((r) => r.quick_check).filter((r) => r !== 'ok');
}

/** Foreign keys off while the rebuild copies rows in table order, on again afterwards. */
export function setForeignKeys(db: Db, on: boolean): void {
  db.pragma(`foreign_keys = ${on ? 'ON' : 'OFF'}`);
}

/** Everything in the WAL written into the database file, the WAL emptied. */
export function checkpoint(db: Db): void {
  db.pragma('wal_checkpoint(TRUNCATE)');
}

/** The tables of a database (not SQLite's own, not virtual), in creation order. */
export function tablesOf(db: Db): string[] {
  return db
    .prepare<[], { name: string }>(
      `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid`,
    )
    .all()
    .map((r) => r.name);
}

function columnsOf(db: Db, table: string): { name: string; pk: number }[] {
  return db.pragma(`table_info(${quote(table)})`) as { name: string; pk: number }[];
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function withoutRowid(db: Db, table: string): boolean {
  const sql = db.prepare<[string], { sql: string }>(`SELECT sql FROM sqlite_master WHERE name = ?`).get(table)?.sql;
  return /WITHOUT\s+ROWID/i.test(sql ?? '');
}

/**
 * Copies the readable rows of `table` from `from` into the same table of `to`, the columns both have,
 * keeping rowids (so the references between tables still hold).
 */
export function copyReadableRows(from: Db, to: Db, table: string): TableCopy {
  const target = new Set(columnsOf(to, table).map((c) => c.name));
  const columns = columnsOf(from, table).filter((c) => target.has(c.name));
  const result: TableCopy = { table, copied: 0, lost: 0 };
  if (columns.length === 0) return result;
  const keyed = withoutRowid(from, table);
  const names = [...(keyed ? [] : ['rowid']), ...columns.map((c) => quote(c.name))];
  const insert = to.prepare(
    `INSERT OR IGNORE INTO ${quote(table)} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`,
  );
  const put = (row: unknown[]) => {
    if (insert.run(...row).changes > 0) result.copied++;
  };
  if (keyed) copyKeyed(from, to, table, columns, names, put, result);
  else copyByRowid(from, to, table, names, put, result);
  return result;
}

function copyByRowid(
  from: Db,
  to: Db,
  table: string,
  names: string[],
  put: (row: unknown[]) => void,
  result: TableCopy,
): void {
  const list = names.join(', ');
  const batch = from.prepare(`SELECT ${list} FROM ${quote(table)} WHERE rowid > ? ORDER BY rowid LIMIT ${BATCH}`).raw();
  const one = from.prepare(`SELECT ${list} FROM ${quote(table)} WHERE rowid = ?`).raw();
  let highest: number | null;
  try {
    highest = (from.prepare(`SELECT max(rowid) AS m FROM ${quote(table)}`).get() as { m: number | null }).m;
  } catch {
    highest = null; // the last page is damaged: read on until the rows run out
  }
  let last = 0;
  let unreadableStretches = 0;
  for (;;) {
    let rows: unknown[][];
    try {
      rows = batch.all(last) as unknown[][];
    } catch {
      // A damaged page in this stretch: read it row by row, then carry on after it.
      const end = last + BATCH;
      let found = false;
      for (let id = last + 1; id <= end; id++) {
        try {
          const row = one.get(id) as unknown[] | undefined;
          if (row) {
            put(row);
            found = true;
          }
        } catch {
          result.lost++;
        }
      }
      last = end;
      unreadableStretches = found ? 0 : unreadableStretches + 1;
      if (highest !== null ? last >= highest : unreadableStretches > 20) break;
      continue;
    }
    if (rows.length === 0) break;
    to.transaction(() => rows.forEach(put))();
    last = Number(rows[rows.length - 1]?.[0]);
  }
}

/**
 * A table keyed by its primary key (WITHOUT ROWID: predictions, corrections). Read in key order; when a
 * stretch is unreadable, it is read again one parent at a time (the rows of each face already rebuilt).
 */
function copyKeyed(
  from: Db,
  to: Db,
  table: string,
  columns: { name: string; pk: number }[],
  names: string[],
  put: (row: unknown[]) => void,
  result: TableCopy,
): void {
  const key = columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
  const list = names.join(', ');
  const keyList = key.map((c) => quote(c.name)).join(', ');
  const keyIndexes = key.map((k) => columns.findIndex((c) => c.name === k.name));
  const first = from.prepare(`SELECT ${list} FROM ${quote(table)} ORDER BY ${keyList} LIMIT ${BATCH}`).raw();
  const next = from
    .prepare(
      `SELECT ${list} FROM ${quote(table)} WHERE (${keyList}) > (${key.map(() => '?').join(', ')})
       ORDER BY ${keyList} LIMIT ${BATCH}`,
    )
    .raw();
  try {
    let rows = first.all() as unknown[][];
    while (rows.length > 0) {
      const page = rows;
      to.transaction(() => page.forEach(put))();
      const last = page[page.length - 1] as unknown[];
      rows = next.all(...keyIndexes.map((i) => last[i])) as unknown[][];
    }
    return;
  } catch {
    // Fall through: read by parent.
  }
  const parent = (
    from.pragma(`foreign_key_list(${quote(table)})`) as { table: string; from: string; to: string }[]
  ).find((fk) => fk.from === key[0]?.name);
  if (!parent) {
    result.lost++;
    return;
  }
  const parents = to
    .prepare(`SELECT ${quote(parent.to)} AS id FROM ${quote(parent.table)}`)
    .pluck()
    .all();
  const ofParent = from.prepare(`SELECT ${list} FROM ${quote(table)} WHERE ${quote(parent.from)} = ?`).raw();
  for (const id of parents) {
    try {
      for (const row of ofParent.all(id) as unknown[][]) put(row);
    } catch {
      result.lost++;
    }
  }
}

/** Deletes rows whose references point at rows that were lost (cascading); returns how many, per table. */
export function dropDanglingRows(db: Db): Map<string, number> {
  const dropped = new Map<string, number>();
  const deletes = tablesOf(db).flatMap((table) =>
    (db.pragma(`foreign_key_list(${quote(table)})`) as { table: string; from: string; to: string | null }[]).map(
      (fk) => ({
        table,
        statement: db.prepare(
          `DELETE FROM ${quote(table)} WHERE ${quote(fk.from)} IS NOT NULL AND ${quote(fk.from)} NOT IN
             (SELECT ${fk.to ? quote(fk.to) : 'rowid'} FROM ${quote(fk.table)})`,
        ),
      }),
    ),
  );
  for (let changed = true; changed;) {
    changed = false;
    for (const { table, statement } of deletes) {
      const n = statement.run().changes;
      if (n > 0) {
        changed = true;
        dropped.set(table, (dropped.get(table) ?? 0) + n);
      }
    }
  }
  return dropped;
}

/** Empties every table of a freshly made library (its migrations may have seeded some). */
export function clearTables(db: Db, tables: readonly string[]): void {
  db.transaction(() => {
    for (const table of tables) db.prepare(`DELETE FROM ${quote(table)}`).run();
  })();
}
