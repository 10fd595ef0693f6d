/**
 * What learning from corrections reads of the library: the corrections with their faces, the shown
 * values left standing beside them (confirmations), the uncorrected faces anchors are drawn from, the
 * heads' inputs stored at scan time (`face_embeddings`, migration 3) and the counts the Learning status
 * shows. The learn worker runs in a thread of its own and opens the library read-only for it; the app
 * reads the counts on its own connection.
 */
import type { Db } from '../db.js';

export interface LearningFaceRow {
  faceId: number;
  photo: string;
  contentHash: string | null;
  x: number;
  y: number;
  w: number;
  h: number;
  landmarks: string;
}

const FACE_COLUMNS = `f.id AS faceId, p.path AS photo, p.content_hash AS contentHash, f.x, f.y, f.w, f.h, f.landmarks`;
/** A face counts where its photo is present and readable. */
const VISIBLE = `p.status = 'ok' AND p.missing_since IS NULL`;

export class LearningRepository {
  constructor(private readonly db: Db) {}

  /** Corrections of faces whose photo is present, oldest first. */
  corrections(): (LearningFaceRow & { attribute: string; value: string; correctedAt: string })[] {
    return this.db
      .prepare<[], LearningFaceRow & { attribute: string; value: string; correctedAt: string }>(
        `SELECT ${FACE_COLUMNS}, c.attribute, c.value, c.corrected_at AS correctedAt
           FROM corrections c JOIN faces f ON f.id = c.face_id JOIN photos p ON p.id = f.photo_id
          WHERE ${VISIBLE} ORDER BY c.corrected_at, c.face_id, c.attribute`,
      )
      .all();
  }

  /**
   * The shown value (faces column `column`) of corrected faces whose `attribute` the user left standing.
   * `column` is one of the library's attribute columns (attributes.ts), never user input.
   */
  confirmations(attribute: string, column: string): (LearningFaceRow & { value: string })[] {
    return this.db
      .prepare<[string], LearningFaceRow & { value: string }>(
        `SELECT ${FACE_COLUMNS}, f.${column} AS value FROM faces f JOIN photos p ON p.id = f.photo_id
          WHERE ${VISIBLE} AND f.${column} IS NOT NULL
            AND EXISTS (SELECT 1 FROM corrections c WHERE c.face_id = f.id)
            AND NOT EXISTS (SELECT 1 FROM corrections c WHERE c.face_id = f.id AND c.attribute = ?)
          ORDER BY f.id`,
      )
      .all(attribute);
  }

  /** Every visible face without any correction, by id. */
  uncorrectedFaces(): LearningFaceRow[] {
    return this.db
      .prepare<[], LearningFaceRow>(
        `SELECT ${FACE_COLUMNS} FROM faces f JOIN photos p ON p.id = f.photo_id
          WHERE ${VISIBLE} AND NOT EXISTS (SELECT 1 FROM corrections c WHERE c.face_id = f.id) ORDER BY f.id`,
      )
      .all();
  }

  /** The stored vectors of one embedding spec (none where the library predates the table). */
  storedVectors(spec: string): { faceId: number; vector: Buffer }[] {
    const table = this.db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'face_embeddings'`)
      .get();
    if (!table) return [];
    return this.db
      .prepare<[string], { faceId: number; vector: Buffer }>(
        'SELECT face_id AS faceId, vector FROM face_embeddings WHERE spec = ?',
      )
      .all(spec);
  }

  /** Faces on present, readable photos. */
  visibleFaces(): number {
    return (
      this.db
        .prepare<[], { n: number }>(
          `SELECT count(*) AS n FROM faces f JOIN photos p ON p.id = f.photo_id WHERE ${VISIBLE}`,
        )
        .get()?.n ?? 0
    );
  }

  /** Corrections per attribute, of faces on present photos. */
  correctionCounts(): { attribute: string; n: number }[] {
    return this.db
      .prepare<[], { attribute: string; n: number }>(
        `SELECT c.attribute, count(*) AS n FROM corrections c JOIN faces f ON f.id = c.face_id
           JOIN photos p ON p.id = f.photo_id
          WHERE ${VISIBLE} GROUP BY c.attribute`,
      )
      .all();
  }
}
