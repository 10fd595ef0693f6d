/**
 * What the in-memory facet index (main/library/facet-index.ts) reads: the browsable photos' photo-level
 * values and their faces' shown values and people, in photo id order; the photos changed since a
 * sequence number ([Note: facet index changes]); and the database's change counters.
 */
import type { Db } from '../db.js';

export type PhotoValuesRow = [id: number, folder: string, sortDate: string, faceCount: number];
export type FaceValuesRow = [
  photoId: number,
  ageGroup: string | null,
  gender: string | null,
  ethnicity: string | null,
  emotion: string | null,
  corrected: number,
  ageGroupConf: number | null,
  genderConf: number | null,
  ethnicityConf: number | null,
  emotionConf: number | null,
  personId: number | null,
];

const FACE_VALUES = `f.photo_id, f.age_group, f.gender, f.ethnicity, f.emotion, f.corrected,
  f.age_group_conf, f.gender_conf, f.ethnicity_conf, f.emotion_conf, fp.person_id`;

/** The triggers of migration 7 that fill facet_changes. */
const CHANGE_TRIGGERS = 9;

export class FacetIndexRepository {
  constructor(private readonly db: Db) {}

  /** Photos a browse can show (present and readable), by id. */
  visiblePhotos(): IterableIterator<PhotoValuesRow> {
    return this.db
      .prepare<[], PhotoValuesRow>(
        `SELECT id, folder, sort_date, face_count FROM photos
         WHERE status = 'ok' AND missing_since IS NULL ORDER BY id`,
      )
      .raw()
      .iterate();
  }

  /** Faces of those photos, by photo id (read from the covering index faces_by_photo), with their person. */
  visibleFaces(): IterableIterator<FaceValuesRow> {
    return this.db
      .prepare<[], FaceValuesRow>(
        `SELECT ${FACE_VALUES}
         FROM faces f INDEXED BY faces_by_photo LEFT JOIN face_people fp ON fp.face_id = f.id
         WHERE f.photo_visible = 1 ORDER BY f.photo_id`,
      )
      .raw()
      .iterate();
  }

  /** One photo's row when it is browsable. */
  visiblePhoto(id: number): PhotoValuesRow | undefined {
    return this.db
      .prepare<[number], PhotoValuesRow>(
        `SELECT id, folder, sort_date, face_count FROM photos
         WHERE id = ? AND status = 'ok' AND missing_since IS NULL`,
      )
      .raw()
      .get(id);
  }

  /** One photo's faces, as visibleFaces reads them. */
  facesOf(photoId: number): FaceValuesRow[] {
    return this.db
      .prepare<[number], FaceValuesRow>(
        `SELECT ${FACE_VALUES}
         FROM faces f INDEXED BY faces_by_photo LEFT JOIN face_people fp ON fp.face_id = f.id
         WHERE f.photo_visible = 1 AND f.photo_id = ?`,
      )
      .raw()
      .all(photoId);
  }

  /** The latest change's sequence number (0: none recorded). */
  lastChange(): number {
    return this.db.prepare<[], number>('SELECT coalesce(max(seq), 0) FROM facet_changes').pluck().get() as number;
  }

  /** How many photos changed after `seq`. */
  changedCount(seq: number): number {
    return this.db
      .prepare<[number], number>('SELECT count(*) FROM facet_changes WHERE seq > ?')
      .pluck()
      .get(seq) as number;
  }

  /** The photos changed after `seq`. */
  changedSince(seq: number): number[] {
    return this.db.prepare<[number], number>('SELECT photo_id FROM facet_changes WHERE seq > ?').pluck().all(seq);
  }

  /** Whether every trigger that records changes is there (a later migration that rebuilds a table drops them). */
  recordsChanges(): boolean {
    const n = this.db
      .prepare<[], number>(
        `SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'facet\\_changes\\_%' ESCAPE '\\'`,
      )
      .pluck()
      .get() as number;
    return n === CHANGE_TRIGGERS;
  }

  /** Runs `fn` in one read transaction (a consistent snapshot). */
  read<T>(fn: () => T): T {
    return this.db.transaction(fn).deferred();
  }

  inTransaction(): boolean {
    return this.db.inTransaction;
  }

  /**
   * Changes since the connection opened: this connection's row changes (total_changes) and another
   * connection's commits (data_version). Equal values mean nothing the index reads has changed.
   */
  version(): string {
    const changes = this.db.prepare<[], number>('SELECT total_changes()').pluck().get() as number;
    const dataVersion = this.db.pragma('data_version', { simple: true }) as number;
    return `${dataVersion}:${changes}`;
  }
}
