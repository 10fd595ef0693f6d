/** XMP sidecars: the photos an export covers, and the problems met reading or writing sidecars. */
import type { Db } from '../db.js';
import { folderRange } from './photos.js';

export interface XmpPhotoRow {
  id: number;
  path: string;
  width: number;
  height: number;
  orientation: number | null;
  taken_at: string | null;
}

export interface XmpProblem {
  path: string;
  operation: 'read' | 'write';
  photoId: number | null;
  problem: string;
  at: string;
}

/** Analysed photos whose file is present (what can have a sidecar). */
const EXPORTABLE = `status = 'ok' AND missing_since IS NULL AND width IS NOT NULL AND height IS NOT NULL`;

export class XmpRepository {
  private readonly stmts;

  constructor(db: Db) {
    const columns = 'id, path, width, height, orientation, taken_at';
    this.stmts = {
      all: db.prepare<[], XmpPhotoRow>(`SELECT ${columns} FROM photos WHERE ${EXPORTABLE} ORDER BY path`),
      under: db.prepare<[string, string], XmpPhotoRow>(
        `SELECT ${columns} FROM photos WHERE path > ? AND path < ? AND ${EXPORTABLE} ORDER BY path`,
      ),
      byId: db.prepare<[number], XmpPhotoRow>(`SELECT ${columns} FROM photos WHERE id = ? AND ${EXPORTABLE}`),
      record: db.prepare(
        `INSERT INTO xmp_problems (path, operation, photo_id, problem, at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (path, operation) DO UPDATE SET photo_id = excluded.photo_id, problem = excluded.problem, at = excluded.at`,
      ),
      clear: db.prepare('DELETE FROM xmp_problems WHERE path = ? AND operation = ?'),
      sidecar: db.prepare<[string], { size: number; mtime_ms: number }>(
        'SELECT size, mtime_ms FROM xmp_sidecars WHERE path = ?',
      ),
      putSidecar: db.prepare(
        `INSERT INTO xmp_sidecars (path, photo_id, size, mtime_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT (path) DO UPDATE SET photo_id = excluded.photo_id, size = excluded.size, mtime_ms = excluded.mtime_ms`,
      ),
      forgetSidecar: db.prepare('DELETE FROM xmp_sidecars WHERE path = ?'),
      problems: db.prepare<
        [],
        { path: string; operation: 'read' | 'write'; photo_id: number | null; problem: string; at: string }
      >('SELECT path, operation, photo_id, problem, at FROM xmp_problems ORDER BY at DESC, path'),
    };
  }

  /** Every exportable photo, or those under `folder`, in path order. */
  photos(folder?: string): XmpPhotoRow[] {
    return folder === undefined ? this.stmts.all.all() : this.stmts.under.all(...folderRange(folder));
  }

  photo(id: number): XmpPhotoRow | undefined {
    return this.stmts.byId.get(id);
  }

  recordProblem(path: string, operation: 'read' | 'write', photoId: number | null, problem: string, at: string): void {
    this.stmts.record.run(path, operation, photoId, problem, at);
  }

  clearProblem(path: string, operation: 'read' | 'write'): void {
    this.stmts.clear.run(path, operation);
  }

  /** The size and modification time a sidecar had when last read or written; undefined if never. */
  sidecar(path: string): { size: number; mtimeMs: number } | undefined {
    const row = this.stmts.sidecar.get(path);
    return row && { size: row.size, mtimeMs: row.mtime_ms };
  }

  recordSidecar(path: string, photoId: number, size: number, mtimeMs: number): void {
    this.stmts.putSidecar.run(path, photoId, size, mtimeMs);
  }

  forgetSidecar(path: string): void {
    this.stmts.forgetSidecar.run(path);
  }

  problems(): XmpProblem[] {
    return this.stmts.problems
      .all()
      .map((r) => ({ path: r.path, operation: r.operation, photoId: r.photo_id, problem: r.problem, at: r.at }));
  }
}
