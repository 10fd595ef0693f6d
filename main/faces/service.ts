/**
 * Face management, one service for the CLI (`facets faces …`), the app's back end and the XMP import:
 * "not a face" (reject, restore) and adding a face the detector missed from its box alone.
 *
 * [Note: face edits] A rejected face's row leaves `faces` (so every query, count, facet, person and
 * sidecar stops seeing it, untouched) for rejected_faces, with its predictions, corrections, vectors
 * and person, in one transaction; restore puts all of it back. Re-analysis (Catalog.recordAnalysed)
 * drops detections overlapping a rejected face or an added one (IoU > SAME_FACE_IOU) and keeps added
 * faces (source 'user' or 'xmp'), whose idx start at USER_FACE_IDX so they never take a detected
 * face's thumbnail. Added faces are analysed from their box (FaceAnalyzer.analyzeBoxes) and join
 * people through the People service like any other face.
 */
import { readFile } from 'node:fs/promises';
import type { FaceBox } from '../engine/analyzer.js';
import { FaceAnalyzer } from '../engine/analyzer.js';
import type { Point } from '../engine/detection/mtcnn.js';
import { ModelStore } from '../engine/sessions.js';
import { predictionsOf } from '../library/attributes.js';
import { SAME_FACE_IOU, iou } from '../library/catalog.js';
import { now } from '../library/db.js';
import { decodePhoto } from '../engine/image/photos.js';
import { photoKind } from '../engine/image/formats.js';
import { hashBuffer } from '../library/hash.js';
import { type Library, analysisFromSettings } from '../library/library.js';
import { readMetadata } from '../library/metadata.js';
import type { RejectedRow, SavedFace } from '../library/repositories/face-edits.js';
import type { FaceInput, FaceSource } from '../library/repositories/faces.js';
import { writeFaceThumbnails } from '../library/thumbnails.js';
import { peopleOf } from '../people/library.js';

/** Drawn boxes smaller than this (shorter side, upright photo pixels) are refused: nothing to analyse. */
export const MIN_ADDED_FACE_PX = 8;

export interface RejectedFaceInfo {
  id: number;
  photoId: number;
  faceId: number;
  box: FaceBox;
  rejectedAt: string;
  name: string | null;
  suppressed: number;
}

/** A problem with the request itself (unknown face, a box outside the photo): shown to the user as it is. */
export class FaceEditError extends Error {
  constructor(
    message: string,
    readonly kind: 'not-found' | 'invalid' | 'conflict',
  ) {
    super(message);
    this.name = 'FaceEditError';
  }
}

export interface AddOptions {
  /** Puts the face with the person of this name (a new one when nobody has it), as the user's word. */
  name?: string;
  source?: Exclude<FaceSource, 'detected'>;
  /** Sessions to reuse (default: loaded for this call and released after it). */
  models?: ModelStore;
}

const services = new WeakMap<Library, FaceEditService>();

export function faceEditsOf(library: Library): FaceEditService {
  let s = services.get(library);
  if (!s) services.set(library, (s = new FaceEditService(library)));
  return s;
}

export class FaceEditService {
  constructor(readonly library: Library) {}

  /** "Not a face", for each face, in one transaction. */
  reject(faceIds: readonly number[]): RejectedFaceInfo[] {
    const { catalog } = this.library;
    const at = now();
    const ids = this.library.db
      .transaction(() =>
        faceIds.map((faceId) => {
          const face = catalog.faces.byId(faceId);
          if (!face) throw new FaceEditError(`no face ${faceId}`, 'not-found');
          const person = catalog.people.assignment(faceId);
          const id = catalog.edits.reject(
            face,
            {
              predictions: catalog.faces.predictions(faceId).map(({ face_id: _f, ...p }) => p),
              corrections: catalog.faces.corrections(faceId).map(({ face_id: _f, ...c }) => c),
              person: person ? { personId: person.person_id, source: person.source, at: person.assigned_at } : null,
              notPeople: catalog.people.rejectionsOf(faceId).map((r) => ({ personId: r.person_id, at: r.at })),
            },
            at,
          );
          catalog.faces.recount(face.photo_id);
          return id;
        }),
      )
      .immediate();
    return ids.map((id) => this.info(catalog.edits.rejected(id) as RejectedRow));
  }

  /** Puts rejected faces back, each as it was; returns their face ids (the old id where still free). */
  restore(rejectedIds: readonly number[]): number[] {
    const { catalog } = this.library;
    return this.library.db
      .transaction(() =>
        rejectedIds.map((id) => {
          const row = catalog.edits.rejected(id);
          if (!row) throw new FaceEditError(`no rejected face ${id}`, 'not-found');
          const saved = JSON.parse(row.saved) as SavedFace;
          const f = saved.face;
          const idx = catalog.edits.idxFree(row.photo_id, f.idx) ? f.idx : catalog.edits.nextUserIdx(row.photo_id);
          const input: FaceInput = {
            idx,
            source: f.source,
            box: { x: f.x, y: f.y, width: f.w, height: f.h },
            score: f.score,
            landmarks: JSON.parse(f.landmarks) as [number, number][],
            quality: {
              faceSize: f.face_size,
              sharpness: f.sharpness,
              uncertain: f.uncertain !== 0,
              reasons: JSON.parse(f.quality_reasons) as string[],
            },
            predictions: [],
          };
          const [faceId] = catalog.faces.insert(
            row.photo_id,
            [input],
            [catalog.edits.faceIdFree(f.id) ? f.id : null],
          ) as [number];
          catalog.edits.restoreSaved(faceId, saved);
          catalog.faces.refreshShown(faceId);
          catalog.faces.recount(row.photo_id);
          catalog.edits.forgetRejected(id);
          return faceId;
        }),
      )
      .immediate();
  }

  /** The photo's rejected faces, oldest first. */
  rejected(photoId: number): RejectedFaceInfo[] {
    return this.library.catalog.edits.rejectedOfPhoto(photoId).map((r) => this.info(r));
  }

  private info(r: RejectedRow): RejectedFaceInfo {
    const saved = JSON.parse(r.saved) as SavedFace;
    const person = saved.person ? this.library.catalog.people.person(saved.person.personId) : undefined;
    return {
      id: r.id,
      photoId: r.photo_id,
      faceId: r.face_id,
      box: { x: r.x, y: r.y, width: r.w, height: r.h },
      rejectedAt: r.rejected_at,
      name: person?.name ?? null,
      suppressed: r.suppressed,
    };
  }

  /** Adds one face by its box (upright photo pixels); returns its id. */
  async add(photoId: number, box: FaceBox, options: AddOptions = {}): Promise<number> {
    const [id] = await this.addMany(photoId, [{ box, ...(options.name ? { name: options.name } : {}) }], options);
    return id as number;
  }

  /**
   * Adds faces to one photo by their boxes: the stored file decoded as the scan decodes it, each box
   * analysed (landmarks by O-Net, attributes, identity vector), stored with its thumbnail, then put
   * with its named person or left to clustering. A box over a face already there is refused.
   */
  async addMany(
    photoId: number,
    faces: readonly { box: FaceBox; name?: string }[],
    options: Omit<AddOptions, 'name'> = {},
  ): Promise<number[]> {
    const { catalog, settings, thumbnails } = this.library;
    const photo = catalog.photos.byId(photoId);
    if (!photo) throw new FaceEditError(`no photo ${photoId}`, 'not-found');
    if (photo.status !== 'ok' || photo.missing_since || !photo.content_hash || !photo.width || !photo.height) {
      throw new FaceEditError(`photo ${photoId} has not been analysed (or its file is missing)`, 'conflict');
    }
    const W = photo.width;
    const H = photo.height;
    const boxes = faces.map(({ box }) => {
      const x1 = Math.max(0, box.x);
      const y1 = Math.max(0, box.y);
      const x2 = Math.min(W, box.x + box.width);
      const y2 = Math.min(H, box.y + box.height);
      if (!(x2 - x1 >= MIN_ADDED_FACE_PX && y2 - y1 >= MIN_ADDED_FACE_PX)) {
        throw new FaceEditError(
          `the box must lie on the photo (${W}×${H}) and be at least ${MIN_ADDED_FACE_PX} px on each side`,
          'invalid',
        );
      }
      const clamped = { x: x1, y: y1, width: x2 - x1, height: y2 - y1 };
      const taken = catalog.faces
        .ofPhoto(photoId)
        .find((f) => iou({ x: f.x, y: f.y, width: f.w, height: f.h }, clamped) > SAME_FACE_IOU);
      if (taken) throw new FaceEditError(`face ${taken.id} is already there`, 'conflict');
      return clamped;
    });
    const kind = photoKind(photo.path);
    if (!kind) throw new FaceEditError(`${photo.path} is not a photo Facets reads`, 'conflict');
    const bytes = await readFile(photo.path).catch((err: unknown) => {
      throw new FaceEditError(`cannot read ${photo.path}: ${(err as Error).message}`, 'conflict');
    });
    if (hashBuffer(bytes) !== photo.content_hash) {
      throw new FaceEditError(`${photo.path} changed since it was scanned: scan it again first`, 'conflict');
    }
    const analysis = analysisFromSettings(settings.get());
    const image = await decodePhoto(
      bytes,
      kind,
      analysis.analyzer.decode ?? {},
      (await readMetadata(bytes)).orientation,
    );
    const models =
      options.models ?? new ModelStore(undefined, analysis.providers ? { providers: analysis.providers } : {});
    let analysed;
    try {
      const analyzer = new FaceAnalyzer(models, { ...analysis.analyzer, identity: true });
      analysed = await analyzer.analyzeBoxes(image, boxes);
    } finally {
      if (!options.models) await models.release();
    }
    const source = options.source ?? 'user';
    const people = peopleOf(this.library);
    const added = this.library.db
      .transaction(() => {
        // A scan may have analysed a changed file meanwhile: these boxes belong to the pixels read above.
        if (catalog.photos.byId(photoId)?.content_hash !== photo.content_hash) {
          throw new FaceEditError(`${photo.path} changed while the face was analysed: try again`, 'conflict');
        }
        const inserted = analysed.map((f, i) => {
          const idx = catalog.edits.nextUserIdx(photoId);
          const input: FaceInput = {
            idx,
            source,
            // The box as drawn (clamped), not O-Net's: the user said where the face is.
            box: boxes[i] as FaceBox,
            score: f.score,
            landmarks: f.landmarks.map(([x, y]) => [x, y] as Point),
            quality: {
              faceSize: f.quality.faceSize,
              sharpness: f.quality.sharpness,
              uncertain: f.quality.uncertain,
              reasons: f.quality.reasons,
            },
            predictions: predictionsOf(f),
          };
          const [faceId] = catalog.faces.insert(photoId, [input]) as [number];
          if (f.vectors?.length) catalog.people.insertVectors(faceId, f.vectors);
          catalog.faces.recount(photoId);
          return { faceId, idx, box: input.box };
        });
        // The names go in with the faces, in one transaction: nobody (the UI, a crash) sees a drawn and
        // named face without its name.
        const named = new Map<string, number[]>();
        faces.forEach((f, i) => {
          const name = f.name?.trim();
          if (name) named.set(name, [...(named.get(name) ?? []), (inserted[i] as { faceId: number }).faceId]);
        });
        for (const [name, ids] of named) people.assign(ids, { name });
        return { inserted, named: named.size };
      })
      .immediate();
    await writeFaceThumbnails(
      thumbnails,
      photo.content_hash,
      image,
      added.inserted.map((a) => ({ idx: a.idx, box: a.box })),
      true,
    );
    // The others join whoever clustering finds them close to, as new faces of a scan do.
    // (Faces from XMP are named by the importer, right after.)
    if (source === 'user' && added.named < added.inserted.length) await people.assignNew();
    return added.inserted.map((a) => a.faceId);
  }

  /**
   * [Note: xmp-names] Named regions of other tools' XMP with no face under them become faces (source
   * 'xmp'), except where the user said "not a face" (a rejected face there). Names are left to the
   * importer (they match these faces now). Returns the faces added, with the region each came from.
   */
  async addFromXmp(
    photoId: number,
    regions: readonly { name: string; box: FaceBox }[],
  ): Promise<{ faceId: number; name: string; box: FaceBox }[]> {
    const photo = this.library.catalog.photos.byId(photoId);
    if (!photo?.width || !photo.height) return [];
    const rejected = this.library.catalog.edits.rejectedOfPhoto(photoId);
    const wanted = regions.filter((r) => {
      if (rejected.some((x) => iou({ x: x.x, y: x.y, width: x.w, height: x.h }, r.box) > SAME_FACE_IOU)) return false;
      const w = Math.min(photo.width as number, r.box.x + r.box.width) - Math.max(0, r.box.x);
      const h = Math.min(photo.height as number, r.box.y + r.box.height) - Math.max(0, r.box.y);
      return w >= MIN_ADDED_FACE_PX && h >= MIN_ADDED_FACE_PX;
    });
    if (wanted.length === 0) return [];
    const ids = await this.addMany(
      photoId,
      wanted.map((r) => ({ box: r.box })),
      { source: 'xmp' },
    );
    return wanted.map((r, i) => ({ faceId: ids[i] as number, name: r.name, box: r.box }));
  }
}
