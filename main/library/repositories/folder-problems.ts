/** The `folder_problems` table (migration 5): folders a scan could not list, shown under Problems. */
import type { FolderProblem } from '../../api/contract.js';
import type { Db } from '../db.js';
import { folderRange } from './photos.js';

export class FolderProblemRepository {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      put: db.prepare(
        `INSERT INTO folder_problems (path, root, problem, at) VALUES (?, ?, ?, ?)
         ON CONFLICT (path) DO UPDATE SET root = excluded.root, problem = excluded.problem, at = excluded.at`,
      ),
      clearUnder: db.prepare(`DELETE FROM folder_problems WHERE (path = ? OR (path > ? AND path < ?)) AND at < ?`),
      all: db.prepare<[], FolderProblem>('SELECT path, problem, at FROM folder_problems ORDER BY path LIMIT 1000'),
    };
  }

  record(folder: string, root: string, problem: string, at: string): void {
    this.stmts.put.run(folder, root, problem, at);
  }

  /** After a scan of `root` that started at `since`: its problems not seen again are gone. */
  clearStale(root: string, since: string): void {
    const [low, high] = folderRange(root);
    this.stmts.clearUnder.run(root, low, high, since);
  }

  list(): FolderProblem[] {
    return this.stmts.all.all();
  }
}
