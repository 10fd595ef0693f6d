/**
 * The SQL of face management ([Note: face edits] in main/library/migrations.ts): faces the user said are
 * not faces (rejected_faces, with what restoring them needs) and the faces the user or XMP added.
 */
import type { Db } from '../db.js';
import type { AssignmentSource } from './people.js';
import type { CorrectionDbRow, FaceRow, PredictionDbRow } from './faces.js';
import { USER_FACE_IDX } from './faces.js';

/** Everything a rejected face had, kept to put it back as it was. */
export interface SavedFace {
  face: Omit<FaceRow, 'photo_visible' | 'photo_sort_date' | 'photo_face_count' | 'photo_folder' | 'photo_year'>;
  predictions: Omit<PredictionDbRow, 'face_id'>[];
  corrections: Omit<CorrectionDbRow, 'face_id'>[];
  /** face_embeddings rows, the vector base64. */
  vectors: { spec: string; dim: number; vector: string }[];
  person: { personId: number; source: AssignmentSource; at: string } | null;
  /** "Not this person" (face_person_rejections). */
  notPeople: { personId: number; at: string }[];
  /** People whose chosen cover this face was. */
  coverOf: number[];
}

export interface RejectedRow {
  id: number;
  photo_id: number;
  face_id: number;
  x: number;
  y: number;
  w: number;
  h: number;
  rejected_at: string;
  suppressed: number;
  suppressed_at: string | null;
  saved: string;
}

export class FaceEditRepository {
  private readonly stmts;

  constructor(readonly db: Db) {
    this.stmts = {
      insertRejected: db.prepare<[number, number, number, number, number, number, string, string]>(
        `INSERT INTO rejected_faces (photo_id, face_id, x, y, w, h, rejected_at, saved) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      rejected: db.prepare<[number], RejectedRow>('SELECT * FROM rejected_faces WHERE id = ?'),
      rejectedOfPhoto: db.prepare<[number], RejectedRow>(
        'SELECT * FROM rejected_faces WHERE photo_id = ? ORDER BY rejected_at, id',
      ),
      deleteRejected: db.prepare<[number]>('DELETE FROM rejected_faces WHERE id = ?'),
      suppressed: db.prepare<[string, number]>(
        'UPDATE rejected_faces SET suppressed = suppressed + 1, suppressed_at = ? WHERE id = ?',
      ),
      copyRejected: db.prepare<[number, number]>(
        `INSERT INTO rejected_faces (photo_id, face_id, x, y, w, h, rejected_at, suppressed, suppressed_at, saved)
         SELECT ?, face_id, x, y, w, h, rejected_at, suppressed, suppressed_at, saved FROM rejected_faces WHERE photo_id = ?`,
      ),
      deleteFace: db.prepare<[number]>('DELETE FROM faces WHERE id = ?'),
      faceIdTaken: db.prepare<[number], { id: number }>('SELECT id FROM faces WHERE id = ?'),
      idxTaken: db.prepare<[number, number], { id: number }>('SELECT id FROM faces WHERE photo_id = ? AND idx = ?'),
      nextUserIdx: db.prepare<[number, number], { idx: number | null }>(
        'SELECT max(idx) AS idx FROM faces WHERE photo_id = ? AND idx >= ?',
      ),
      addedOfPhoto: db.prepare<[number], FaceRow>(
        `SELECT * FROM faces WHERE photo_id = ? AND source <> 'detected' ORDER BY idx`,
      ),
      vectors: db.prepare<[number], { spec: string; dim: number; vector: Buffer }>(
        'SELECT spec, dim, vector FROM face_embeddings WHERE face_id = ?',
      ),
      insertVector: db.prepare<[number, string, number, Buffer]>(
        'INSERT OR REPLACE INTO face_embeddings (face_id, spec, dim, vector) VALUES (?, ?, ?, ?)',
      ),
      insertPrediction: db.prepare(
        `INSERT OR REPLACE INTO predictions (face_id, attribute, label, confidence, probabilities, years, model, model_version)
         VALUES (@face_id, @attribute, @label, @confidence, @probabilities, @years, @model, @model_version)`,
      ),
      insertCorrection: db.prepare(
        `INSERT OR REPLACE INTO corrections (face_id, attribute, value, corrected_at)
         VALUES (@face_id, @attribute, @value, @corrected_at)`,
      ),
      coversOf: db.prepare<[number], { id: number }>('SELECT id FROM people WHERE cover_face_id = ?'),
      restoreCover: db.prepare<[number, number]>(
        'UPDATE people SET cover_face_id = ? WHERE id = ? AND cover_face_id IS NULL',
      ),
      personExists: db.prepare<[number], { id: number }>('SELECT id FROM people WHERE id = ?'),
      assign: db.prepare<[number, number, AssignmentSource, string]>(
        `INSERT OR REPLACE INTO face_people (face_id, person_id, source, assigned_at) VALUES (?, ?, ?, ?)`,
      ),
      notPerson: db.prepare<[number, number, string]>(
        'INSERT OR IGNORE INTO face_person_rejections (face_id, person_id, at) VALUES (?, ?, ?)',
      ),
    };
  }

  /** Moves a face out of `faces` into rejected_faces (its predictions, corrections, vectors go with it). */
  reject(face: FaceRow, saved: Omit<SavedFace, 'face' | 'vectors' | 'coverOf'>, at: string): number {
    const {
      photo_visible: _v,
      photo_sort_date: _d,
      photo_face_count: _c,
      photo_folder: _f,
      photo_year: _y,
      ...row
    } = face;
    const full: SavedFace = {
      face: row,
      ...saved,
      vectors: this.stmts.vectors
        .all(face.id)
        .map((v) => ({ spec: v.spec, dim: v.dim, vector: v.vector.toString('base64') })),
      coverOf: this.stmts.coversOf.all(face.id).map((r) => r.id),
    };
    const id = Number(
      this.stmts.insertRejected.run(face.photo_id, face.id, face.x, face.y, face.w, face.h, at, JSON.stringify(full))
        .lastInsertRowid,
    );
    this.stmts.deleteFace.run(face.id);
    return id;
  }

  rejected(id: number): RejectedRow | undefined {
    return this.stmts.rejected.get(id);
  }

  rejectedOfPhoto(photoId: number): RejectedRow[] {
    return this.stmts.rejectedOfPhoto.all(photoId);
  }

  forgetRejected(id: number): void {
    this.stmts.deleteRejected.run(id);
  }

  /** A detection dropped for being this rejected face again. */
  suppressed(id: number, at: string): void {
    this.stmts.suppressed.run(at, id);
  }

  /** A copy of a photo (same content) says "not a face" of the same faces. */
  copyRejected(fromPhotoId: number, toPhotoId: number): void {
    this.stmts.copyRejected.run(toPhotoId, fromPhotoId);
  }

  faceIdFree(id: number): boolean {
    return this.stmts.faceIdTaken.get(id) === undefined;
  }

  idxFree(photoId: number, idx: number): boolean {
    return this.stmts.idxTaken.get(photoId, idx) === undefined;
  }

  /** The next idx for a face added to this photo (USER_FACE_IDX and up). */
  nextUserIdx(photoId: number): number {
    const max = this.stmts.nextUserIdx.get(photoId, USER_FACE_IDX)?.idx;
    return max === null || max === undefined ? USER_FACE_IDX : max + 1;
  }

  /** The faces of a photo the user or XMP added. */
  addedOfPhoto(photoId: number): FaceRow[] {
    return this.stmts.addedOfPhoto.all(photoId);
  }

  /** Puts back what a rejected face had on the face row inserted for it (people that are gone stay gone). */
  restoreSaved(faceId: number, saved: SavedFace): void {
    for (const p of saved.predictions) this.stmts.insertPrediction.run({ ...p, face_id: faceId });
    for (const c of saved.corrections) this.stmts.insertCorrection.run({ ...c, face_id: faceId });
    for (const v of saved.vectors) this.stmts.insertVector.run(faceId, v.spec, v.dim, Buffer.from(v.vector, 'base64'));
    const exists = (id: number) => this.stmts.personExists.get(id) !== undefined;
    if (saved.person && exists(saved.person.personId)) {
      this.stmts.assign.run(faceId, saved.person.personId, saved.person.source, saved.person.at);
    }
    for (const r of saved.notPeople) if (exists(r.personId)) this.stmts.notPerson.run(faceId, r.personId, r.at);
    for (const personId of saved.coverOf) this.stmts.restoreCover.run(faceId, personId);
  }
}
