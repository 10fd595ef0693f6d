/**
 * What the in-memory facet index (main/library/facet-index.ts) reads: the browsable photos' photo-level
 * values and their faces' shown values, both in photo id order, and the database's change counters.
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
];

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

  /** Faces of those photos, by photo id (read from the covering index faces_by_photo). */
  visibleFaces(): IterableIterator<FaceValuesRow> {
    return this.db
      .prepare<[], FaceValuesRow>(
        `SELECT photo_id, age_group, gender, ethnicity, emotion, corrected,
                age_group_conf, gender_conf, ethnicity_conf, emotion_conf
         FROM faces INDEXED BY faces_by_photo WHERE photo_visible = 1 ORDER BY photo_id`,
      )
      .raw()
      .iterate();
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
