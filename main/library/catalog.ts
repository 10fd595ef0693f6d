/**
 * Everything a scan writes, one transaction per photo: a crash between two photos loses nothing
 * already written and leaves nothing half-written, so the next scan simply carries on.
 */
import type { Attribute } from '../api/contract.js';
import type { FaceBox } from '../engine/analyzer.js';
import { type Db, now } from './db.js';
import { FaceEditRepository } from './repositories/face-edits.js';
import { FaceRepository } from './repositories/faces.js';
import { PeopleRepository } from './repositories/people.js';
import { type PhotoContent, type PhotoFile, PhotoRepository, type PhotoRow } from './repositories/photos.js';
import { RetryRepository } from './repositories/retries.js';
import type { PhotoResult } from './worker-protocol.js';

/** A re-analysed face inherits the corrections of the old face it overlaps this much (IoU). */
const CORRECTION_CARRY_IOU = 0.5;
/**
 * [Note: face edits] A detection overlapping a face the user rejected ("not a face") or added by more than
 * this (IoU) is that face again: re-analysis drops it, so "not a face" stays so and an added face is not doubled.
 */
export const SAME_FACE_IOU = 0.5;

export class Catalog {
  readonly photos: PhotoRepository;
  readonly faces: FaceRepository;
  /** When failed files are tried again (migration 5). */
  readonly retries: RetryRepository;
  readonly people: PeopleRepository;
  /** Faces the user rejected or added (migration 6). */
  readonly edits: FaceEditRepository;

  constructor(readonly db: Db) {
    this.edits = new FaceEditRepository(db);
    this.photos = new PhotoRepository(db);
    this.faces = new FaceRepository(db);
    this.retries = new RetryRepository(db);
    this.people = new PeopleRepository(db);
  }

  /** Stores an analysis; an existing row at that path (its file changed) is re-analysed in place. */
  recordAnalysed(file: PhotoFile, hash: string, result: PhotoResult): number {
    const content: PhotoContent = {
      content_hash: hash,
      format: result.format,
      width: result.width,
      height: result.height,
      orientation: result.orientation,
      taken_at: result.takenAt,
      camera: result.camera,
      status: 'ok',
      // An analysed photo's error is its damage, if any ([Note: damaged JPEGs]): listed under Problems.
      error: result.damage ?? null,
      face_count: result.faces.length,
      analysed_at: now(),
    };
    return this.db
      .transaction(() => {
        const existing = this.photos.byPath(file.path);
        if (!existing) {
          const id = this.photos.insert(file, content, now());
          this.storeVectors(this.faces.insert(id, result.faces), result.faces);
          return id;
        }
        const corrected = this.correctedBoxes(existing.id);
        const userWord = this.people.userWordOfPhoto(existing.id);
        this.photos.updateContent(existing.id, file, content);
        this.retries.succeeded(existing.id);
        this.faces.deleteDetectedOfPhoto(existing.id);
        // Each detection keeps its position as idx (its thumbnail's name), even when one before it is dropped.
        const kept = this.withoutEditedFaces(
          existing.id,
          result.faces.map((f, idx) => ({ ...f, idx })),
        );
        const ids = this.faces.insert(existing.id, kept);
        this.faces.recount(existing.id);
        this.storeVectors(ids, kept);
        const fresh = kept.map((f, i) => ({ id: ids[i] as number, box: f.box }));
        this.carryCorrections(corrected, fresh);
        this.carryUserWord(userWord, fresh);
        return existing.id;
      })
      .immediate();
  }

  /** Records a file that could not be analysed, with a message for the user. */
  recordFailure(file: PhotoFile, hash: string | null, status: 'error' | 'unsupported', error: string): number {
    const content: PhotoContent = {
      content_hash: hash,
      format: null,
      width: null,
      height: null,
      orientation: null,
      taken_at: null,
      camera: null,
      status,
      error,
      face_count: 0,
      analysed_at: now(),
    };
    return this.db
      .transaction(() => {
        const existing = this.photos.byPath(file.path);
        const id = existing ? existing.id : this.photos.insert(file, content, now());
        if (existing) {
          // What the user added stays for when the file can be read again ([Note: face edits]).
          this.faces.deleteDetectedOfPhoto(existing.id);
          this.photos.updateContent(existing.id, file, content);
          this.faces.recount(existing.id);
        }
        this.retries.failed(id, new Date());
        return id;
      })
      .immediate();
  }

  /** The file of `photo` now lives at `file` (moved, renamed, or its times changed): nothing else changes. */
  recordMove(photo: PhotoRow, file: PhotoFile): void {
    this.photos.updateFile(photo.id, file, photo.taken_at);
  }

  /** `file` holds the same content as `source`: it gets its own row with a copy of the faces. */
  recordCopy(source: PhotoRow, file: PhotoFile): number {
    const content: PhotoContent = {
      content_hash: source.content_hash,
      format: source.format,
      width: source.width,
      height: source.height,
      orientation: source.orientation,
      taken_at: source.taken_at,
      camera: source.camera,
      status: source.status,
      error: source.error,
      face_count: source.face_count,
      analysed_at: source.analysed_at,
    };
    return this.db
      .transaction(() => {
        const existing = this.photos.byPath(file.path);
        let id: number;
        if (existing) {
          this.faces.deleteOfPhoto(existing.id);
          this.photos.updateContent(existing.id, file, content);
          id = existing.id;
        } else {
          id = this.photos.insert(file, content, now());
        }
        this.faces.copy(source.id, id);
        this.people.copyVectors(source.id, id);
        this.edits.copyRejected(source.id, id);
        return id;
      })
      .immediate();
  }

  restore(photoId: number): void {
    this.photos.restore(photoId);
  }

  markMissing(photoIds: readonly number[]): void {
    if (photoIds.length === 0) return;
    const since = now();
    this.db.transaction(() => this.photos.markMissing(photoIds, since)).immediate();
  }

  private correctedBoxes(
    photoId: number,
  ): { box: FaceBox; corrections: { attribute: Attribute; value: string; at: string }[] }[] {
    const byIdx = new Map<number, { attribute: Attribute; value: string; at: string }[]>();
    for (const c of this.faces.correctionsOfPhoto(photoId)) {
      byIdx.set(c.idx, [...(byIdx.get(c.idx) ?? []), { attribute: c.attribute, value: c.value, at: c.corrected_at }]);
    }
    return this.faces
      .ofPhoto(photoId)
      .filter((f) => byIdx.has(f.idx) && f.source === 'detected')
      .map((f) => ({ box: { x: f.x, y: f.y, width: f.w, height: f.h }, corrections: byIdx.get(f.idx) ?? [] }));
  }

  /** After re-analysis, each old corrected face hands its corrections to the new face it overlaps best. */
  private carryCorrections(
    old: ReturnType<Catalog['correctedBoxes']>,
    fresh: readonly { id: number; box: FaceBox }[],
  ): void {
    for (const face of old) {
      let best: { id: number; iou: number } | null = null;
      for (const candidate of fresh) {
        const overlap = iou(face.box, candidate.box);
        if (overlap >= CORRECTION_CARRY_IOU && (!best || overlap > best.iou)) best = { id: candidate.id, iou: overlap };
      }
      if (best) for (const c of face.corrections) this.faces.correct(best.id, c.attribute, c.value, c.at);
    }
  }

  // People ([Note: people tables]): vectors are stored with the faces, and the user's word on who a face
  // is (and is not) follows a re-analysed face as its corrections do.
  private storeVectors(ids: readonly number[], faces: PhotoResult['faces']): void {
    faces.forEach((f, i) => {
      if (f.vectors?.length) this.people.insertVectors(ids[i] as number, f.vectors);
    });
  }

  /**
   * [Note: face edits] The detections of a re-analysis that are not a rejected face again, nor a face the
   * user added; each dropped one is counted on the rejected face it matched.
   */
  private withoutEditedFaces<F extends { box: FaceBox }>(photoId: number, faces: readonly F[]): F[] {
    const rejected = this.edits.rejectedOfPhoto(photoId);
    const added = this.edits.addedOfPhoto(photoId);
    if (rejected.length === 0 && added.length === 0) return [...faces];
    const at = now();
    const boxOf = (r: { x: number; y: number; w: number; h: number }): FaceBox => ({
      x: r.x,
      y: r.y,
      width: r.w,
      height: r.h,
    });
    return faces.filter((f) => {
      const again = rejected.find((r) => iou(boxOf(r), f.box) > SAME_FACE_IOU);
      if (again) {
        this.edits.suppressed(again.id, at);
        return false;
      }
      return !added.some((a) => iou(boxOf(a), f.box) > SAME_FACE_IOU);
    });
  }

  private carryUserWord(
    old: ReturnType<PeopleRepository['userWordOfPhoto']>,
    fresh: readonly { id: number; box: FaceBox }[],
  ): void {
    const best = (box: { x: number; y: number; w: number; h: number }) => {
      let found: { id: number; iou: number } | null = null;
      for (const c of fresh) {
        const overlap = iou({ x: box.x, y: box.y, width: box.w, height: box.h }, c.box);
        if (overlap >= CORRECTION_CARRY_IOU && (!found || overlap > found.iou)) found = { id: c.id, iou: overlap };
      }
      return found?.id;
    };
    for (const a of old.assignments) {
      const id = best(a.box);
      if (id !== undefined) this.people.assign(id, a.personId, 'user', a.at);
    }
    for (const r of old.rejections) {
      const id = best(r.box);
      if (id !== undefined) this.people.reject(id, r.personId, r.at);
    }
  }
}

export function iou(a: FaceBox, b: FaceBox): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a.width * a.height + b.width * b.height - inter);
}
