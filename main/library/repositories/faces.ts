/**
 * Faces, their predictions and corrections, and the shown values denormalised onto `faces`
 * (correction if any, else prediction). Every write that touches predictions or corrections ends
 * with `refreshShown`, the one place that rule is written down.
 */
import type { Attribute } from '../../api/contract.js';
import { ATTRIBUTES, COLUMNS, type PredictionRow } from '../attributes.js';
import type { Db } from '../db.js';
import type { FaceResult } from '../worker-protocol.js';

export interface FaceRow {
  id: number;
  photo_id: number;
  idx: number;
  x: number;
  y: number;
  w: number;
  h: number;
  landmarks: string;
  score: number;
  face_size: number;
  sharpness: number;
  uncertain: number;
  quality_reasons: string;
  age_years: number | null;
  age_group: string | null;
  age_group_conf: number | null;
  gender: string | null;
  gender_conf: number | null;
  ethnicity: string | null;
  ethnicity_conf: number | null;
  emotion: string | null;
  emotion_conf: number | null;
  corrected: number;
  photo_visible: number;
  photo_sort_date: string;
  photo_face_count: number;
  photo_folder: string;
  photo_year: number;
  /** [Note: face edits]: 'detected', or 'user' / 'xmp' for faces the user (or another tool) added. */
  source: FaceSource;
}

export type FaceSource = 'detected' | 'user' | 'xmp';

/** Faces not detected (added by the user or from XMP) take idx from here up ([Note: face edits]). */
export const USER_FACE_IDX = 10_000;

/** A face to insert: an analysed face, with the idx it has (default: its position) and its source. */
export type FaceInput = FaceResult & { idx?: number; source?: FaceSource };

export interface PredictionDbRow {
  face_id: number;
  attribute: Attribute;
  label: string;
  confidence: number;
  probabilities: string;
  years: number | null;
  model: string;
  model_version: string;
}

export interface CorrectionDbRow {
  face_id: number;
  attribute: Attribute;
  value: string;
  corrected_at: string;
}

/** The photo-level columns every face carries, read from its photo (alias p). */
const PHOTO_COLUMNS = 'photo_visible, photo_sort_date, photo_face_count, photo_folder, photo_year';
const PHOTO_VALUES = `p.status = 'ok' AND p.missing_since IS NULL, p.sort_date, p.face_count, p.folder,
  CAST(substr(p.sort_date, 1, 4) AS INTEGER)`;

const FACE_COPY_COLUMNS =
  'idx, x, y, w, h, landmarks, score, face_size, sharpness, uncertain, quality_reasons, age_years, age_group, ' +
  'age_group_conf, gender, gender_conf, ethnicity, ethnicity_conf, emotion, emotion_conf, corrected, source';

function shownValueSql(where: string): string {
  const sets = ATTRIBUTES.flatMap((a) => {
    const c = COLUMNS[a];
    const correction = `(SELECT value FROM corrections WHERE face_id = faces.id AND attribute = '${a}')`;
    const prediction = `FROM predictions WHERE face_id = faces.id AND attribute = '${a}'`;
    return [
      `${c.value} = coalesce(${correction}, (SELECT label ${prediction}))`,
      `${c.confidence} = CASE WHEN ${correction} IS NOT NULL THEN 1.0 ELSE (SELECT confidence ${prediction}) END`,
    ];
  });
  const bits = ATTRIBUTES.map((a) => `WHEN '${a}' THEN ${COLUMNS[a].bit}`).join(' ');
  sets.push(
    `corrected = (SELECT coalesce(sum(CASE attribute ${bits} ELSE 0 END), 0) FROM corrections WHERE face_id = faces.id)`,
  );
  sets.push(`age_years = (SELECT years FROM predictions WHERE face_id = faces.id AND attribute = 'ageGroup')`);
  return `UPDATE faces SET ${sets.join(',\n')} WHERE ${where}`;
}

export class FaceRepository {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      insertFace: db.prepare(
        `INSERT INTO faces (id, photo_id, idx, x, y, w, h, landmarks, score, face_size, sharpness, uncertain, quality_reasons,
           source, ${PHOTO_COLUMNS})
         SELECT @id, @photo_id, @idx, @x, @y, @w, @h, @landmarks, @score, @face_size, @sharpness, @uncertain, @quality_reasons,
           @source, ${PHOTO_VALUES}
         FROM photos p WHERE p.id = @photo_id`,
      ),
      insertPrediction: db.prepare(
        `INSERT INTO predictions (face_id, attribute, label, confidence, probabilities, years, model, model_version)
         VALUES (@face_id, @attribute, @label, @confidence, @probabilities, @years, @model, @model_version)`,
      ),
      refreshFace: db.prepare(shownValueSql('id = ?')),
      refreshPhoto: db.prepare(shownValueSql('photo_id = ?')),
      deleteOfPhoto: db.prepare('DELETE FROM faces WHERE photo_id = ?'),
      deleteDetectedOfPhoto: db.prepare(`DELETE FROM faces WHERE photo_id = ? AND source = 'detected'`),
      countFaces: db.prepare(
        `UPDATE photos SET face_count = (SELECT count(*) FROM faces WHERE photo_id = @id) WHERE id = @id
           AND face_count <> (SELECT count(*) FROM faces WHERE photo_id = @id)`,
      ),
      byId: db.prepare<[number], FaceRow>('SELECT * FROM faces WHERE id = ?'),
      ofPhoto: db.prepare<[number], FaceRow>('SELECT * FROM faces WHERE photo_id = ? ORDER BY idx'),
      predictions: db.prepare<[number], PredictionDbRow>(
        'SELECT * FROM predictions WHERE face_id = ? ORDER BY attribute',
      ),
      corrections: db.prepare<[number], CorrectionDbRow>(
        'SELECT * FROM corrections WHERE face_id = ? ORDER BY attribute',
      ),
      correctionsOfPhoto: db.prepare<[number], CorrectionDbRow & { idx: number }>(
        `SELECT c.*, f.idx FROM corrections c JOIN faces f ON f.id = c.face_id WHERE f.photo_id = ?`,
      ),
      upsertCorrection: db.prepare(
        `INSERT INTO corrections (face_id, attribute, value, corrected_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (face_id, attribute) DO UPDATE SET value = excluded.value, corrected_at = excluded.corrected_at`,
      ),
      deleteCorrection: db.prepare('DELETE FROM corrections WHERE face_id = ? AND attribute = ?'),
      copyFaces: db.prepare(
        `INSERT INTO faces (photo_id, ${FACE_COPY_COLUMNS}, ${PHOTO_COLUMNS})
         SELECT @to, ${FACE_COPY_COLUMNS}, ${PHOTO_VALUES} FROM faces JOIN photos p ON p.id = @to WHERE photo_id = @from`,
      ),
      copyPredictions: db.prepare(
        `INSERT INTO predictions (face_id, attribute, label, confidence, probabilities, years, model, model_version)
         SELECT nf.id, p.attribute, p.label, p.confidence, p.probabilities, p.years, p.model, p.model_version
         FROM faces f JOIN predictions p ON p.face_id = f.id JOIN faces nf ON nf.photo_id = @to AND nf.idx = f.idx
         WHERE f.photo_id = @from`,
      ),
      copyCorrections: db.prepare(
        `INSERT INTO corrections (face_id, attribute, value, corrected_at)
         SELECT nf.id, c.attribute, c.value, c.corrected_at
         FROM faces f JOIN corrections c ON c.face_id = f.id JOIN faces nf ON nf.photo_id = @to AND nf.idx = f.idx
         WHERE f.photo_id = @from`,
      ),
    };
  }

  /**
   * Inserts a photo's analysed faces with their predictions; returns the face ids in order. `id` gives a
   * face back the id it had (restoring a rejected face); by default SQLite picks one.
   */
  insert(photoId: number, faces: readonly FaceInput[], ids: readonly (number | null)[] = []): number[] {
    const inserted = faces.map((face, position) => {
      const info = this.stmts.insertFace.run({
        id: ids[position] ?? null,
        photo_id: photoId,
        idx: face.idx ?? position,
        source: face.source ?? 'detected',
        x: face.box.x,
        y: face.box.y,
        w: face.box.width,
        h: face.box.height,
        landmarks: JSON.stringify(face.landmarks.map(([x, y]) => [round2(x), round2(y)])),
        score: face.score,
        face_size: face.quality.faceSize,
        sharpness: face.quality.sharpness,
        uncertain: face.quality.uncertain ? 1 : 0,
        quality_reasons: JSON.stringify(face.quality.reasons),
      });
      const faceId = Number(info.lastInsertRowid);
      for (const p of face.predictions) this.insertPrediction(faceId, p);
      return faceId;
    });
    this.stmts.refreshPhoto.run(photoId);
    return inserted;
  }

  /** Re-analysis replaces the detected faces only; what the user added stays ([Note: face edits]). */
  deleteDetectedOfPhoto(photoId: number): void {
    this.stmts.deleteDetectedOfPhoto.run(photoId);
  }

  /** photos.face_count follows the photo's face rows (the trigger carries it onto the faces). */
  recount(photoId: number): void {
    this.stmts.countFaces.run({ id: photoId });
  }

  private insertPrediction(faceId: number, p: PredictionRow): void {
    this.stmts.insertPrediction.run({
      face_id: faceId,
      attribute: p.attribute,
      label: p.label,
      confidence: p.confidence,
      probabilities: JSON.stringify(p.probabilities),
      years: p.years,
      model: p.model,
      model_version: p.modelVersion,
    });
  }

  deleteOfPhoto(photoId: number): void {
    this.stmts.deleteOfPhoto.run(photoId);
  }

  /** Copies every face of one photo, with predictions and corrections, to another (same content). */
  copy(fromPhotoId: number, toPhotoId: number): void {
    const ids = { from: fromPhotoId, to: toPhotoId };
    this.stmts.copyFaces.run(ids);
    this.stmts.copyPredictions.run(ids);
    this.stmts.copyCorrections.run(ids);
  }

  byId(id: number): FaceRow | undefined {
    return this.stmts.byId.get(id);
  }

  ofPhoto(photoId: number): FaceRow[] {
    return this.stmts.ofPhoto.all(photoId);
  }

  predictions(faceId: number): PredictionDbRow[] {
    return this.stmts.predictions.all(faceId);
  }

  corrections(faceId: number): CorrectionDbRow[] {
    return this.stmts.corrections.all(faceId);
  }

  correctionsOfPhoto(photoId: number): (CorrectionDbRow & { idx: number })[] {
    return this.stmts.correctionsOfPhoto.all(photoId);
  }

  correct(faceId: number, attribute: Attribute, value: string, at: string): void {
    this.stmts.upsertCorrection.run(faceId, attribute, value, at);
    this.stmts.refreshFace.run(faceId);
  }

  /** The shown values of one face again, from its predictions and corrections (a face put back). */
  refreshShown(faceId: number): void {
    this.stmts.refreshFace.run(faceId);
  }

  uncorrect(faceId: number, attribute: Attribute): void {
    this.stmts.deleteCorrection.run(faceId, attribute);
    this.stmts.refreshFace.run(faceId);
  }
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
