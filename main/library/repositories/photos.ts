/** The `photos` table: one row per file path. */
import path from 'node:path';
import type { Db } from '../db.js';

export type PhotoStatus = 'ok' | 'error' | 'unsupported';

export interface PhotoRow {
  id: number;
  path: string;
  folder: string;
  content_hash: string | null;
  size: number;
  mtime_ms: number;
  format: string | null;
  width: number | null;
  height: number | null;
  orientation: number | null;
  taken_at: string | null;
  sort_date: string;
  camera: string | null;
  status: PhotoStatus;
  error: string | null;
  face_count: number;
  missing_since: string | null;
  added_at: string;
  analysed_at: string | null;
}

/** What a scan learns about a file's content (everything but identity and bookkeeping). */
export type PhotoContent = Pick<
  PhotoRow,
  | 'content_hash'
  | 'format'
  | 'width'
  | 'height'
  | 'orientation'
  | 'taken_at'
  | 'camera'
  | 'status'
  | 'error'
  | 'face_count'
  | 'analysed_at'
>;

/** Where a file is and what its file system says about it. */
export interface PhotoFile {
  path: string;
  size: number;
  mtimeMs: number;
}

/** Upper bound for a path-prefix range scan: every path under `folder` sorts between these. */
export function folderRange(folder: string): [string, string] {
  const prefix = folder.endsWith(path.sep) ? folder : folder + path.sep;
  const upper = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  return [prefix, upper];
}

export class PhotoRepository {
  private readonly stmts;

  constructor(private readonly db: Db) {
    this.stmts = {
      byPath: db.prepare<[string], PhotoRow>('SELECT * FROM photos WHERE path = ?'),
      byId: db.prepare<[number], PhotoRow>('SELECT * FROM photos WHERE id = ?'),
      byHash: db.prepare<[string], PhotoRow>('SELECT * FROM photos WHERE content_hash = ? ORDER BY id'),
      insert: db.prepare(
        `INSERT INTO photos (path, folder, content_hash, size, mtime_ms, format, width, height, orientation, taken_at,
           sort_date, camera, status, error, face_count, missing_since, added_at, analysed_at)
         VALUES (@path, @folder, @content_hash, @size, @mtime_ms, @format, @width, @height, @orientation, @taken_at,
           @sort_date, @camera, @status, @error, @face_count, NULL, @added_at, @analysed_at)`,
      ),
      updateContent: db.prepare(
        `UPDATE photos SET content_hash = @content_hash, size = @size, mtime_ms = @mtime_ms, format = @format,
           width = @width, height = @height, orientation = @orientation, taken_at = @taken_at, sort_date = @sort_date,
           camera = @camera, status = @status, error = @error, face_count = @face_count, missing_since = NULL,
           analysed_at = @analysed_at, error_ignored_at = NULL
         WHERE id = @id`,
      ),
      updateFile: db.prepare(
        `UPDATE photos SET path = @path, folder = @folder, size = @size, mtime_ms = @mtime_ms, sort_date = @sort_date,
           missing_since = NULL
         WHERE id = @id`,
      ),
      restore: db.prepare('UPDATE photos SET missing_since = NULL WHERE id = ?'),
      markMissing: db.prepare('UPDATE photos SET missing_since = ? WHERE id = ? AND missing_since IS NULL'),
      presentUnder: db.prepare<[string, string], { id: number }>(
        'SELECT id FROM photos WHERE path > ? AND path < ? AND missing_since IS NULL',
      ),
      delete: db.prepare('DELETE FROM photos WHERE id = ?'),
    };
  }

  byPath(file: string): PhotoRow | undefined {
    return this.stmts.byPath.get(file);
  }

  byId(id: number): PhotoRow | undefined {
    return this.stmts.byId.get(id);
  }

  byHash(hash: string): PhotoRow[] {
    return this.stmts.byHash.all(hash);
  }

  insert(file: PhotoFile, content: PhotoContent, addedAt: string): number {
    const info = this.stmts.insert.run({
      ...content,
      ...fileColumns(file, content.taken_at),
      added_at: addedAt,
    });
    return Number(info.lastInsertRowid);
  }

  /** New content at a known path (the file changed, or was re-analysed). */
  updateContent(id: number, file: PhotoFile, content: PhotoContent): void {
    const { path: _path, folder: _folder, ...columns } = fileColumns(file, content.taken_at);
    this.stmts.updateContent.run({ id, ...content, ...columns });
  }

  /** Same content, new path or file times (a move, a rename, a touch). */
  updateFile(id: number, file: PhotoFile, takenAt: string | null): void {
    this.stmts.updateFile.run({ id, ...fileColumns(file, takenAt) });
  }

  restore(id: number): void {
    this.stmts.restore.run(id);
  }

  /** Ids of present photos under a folder. */
  presentUnder(folder: string): number[] {
    return this.stmts.presentUnder.all(...folderRange(folder)).map((r) => r.id);
  }

  markMissing(ids: readonly number[], since: string): void {
    for (const id of ids) this.stmts.markMissing.run(since, id);
  }

  /** Ignores (or stops ignoring) the problems of these photos in the Problems view; returns how many changed. */
  setErrorIgnored(ids: readonly number[], ignored: boolean, at: string): number {
    const stmt = this.db.prepare(
      `UPDATE photos SET error_ignored_at = ? WHERE id = ? AND (status <> 'ok' OR error IS NOT NULL) AND (error_ignored_at IS NULL) = ?`,
    );
    let changed = 0;
    this.db.transaction(() => {
      for (const id of ids) changed += stmt.run(ignored ? at : null, id, ignored ? 1 : 0).changes;
    })();
    return changed;
  }

  delete(id: number): void {
    this.stmts.delete.run(id);
  }
}

function fileColumns(file: PhotoFile, takenAt: string | null) {
  return {
    path: file.path,
    folder: path.dirname(file.path),
    size: file.size,
    mtime_ms: file.mtimeMs,
    sort_date: takenAt ?? localDateTime(file.mtimeMs),
  };
}

/** A local time as 'YYYY-MM-DDTHH:MM:SS', the shape of EXIF dates, for files without one. */
export function localDateTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
