/**
 * People for an open library: the service (memoised per library), the background backfill of identity
 * vectors for faces scanned before migration 3 (their photos decoded again, the stored landmarks
 * reused: no face is detected again), and what runs after every scan.
 */
import type { Point } from '../engine/detection/mtcnn.js';
import { identitySpec, identityVectors } from '../engine/attributes/identity.js';
import { AreaSampler } from '../engine/image/resample.js';
import { ModelStore } from '../engine/sessions.js';
import { type Library, analysisFromSettings } from '../library/library.js';
import { decodeAsScanned } from '../library/photo-decode.js';
import type { FaceToEmbedRow } from '../library/repositories/people.js';
import { faceEditsOf } from '../faces/service.js';
import { PeopleService } from './service.js';

const services = new WeakMap<Library, PeopleService>();

export function peopleOf(library: Library): PeopleService {
  let s = services.get(library);
  if (!s) {
    const service = new PeopleService(library.db, library.catalog.people, identitySpec(new ModelStore()));
    // [Note: xmp-names] Sidecars carry people's names out, and names from other tools come in as people.
    library.xmp.names = {
      nameOf: (faceId) => library.catalog.people.nameOfFace(faceId),
      imported: (found) => void service.importNames(found),
      // [Note: face edits] Named regions with no face under them become faces.
      addFaces: (photoId, regions) => faceEditsOf(library).addFromXmp(photoId, regions),
    };
    services.set(library, service);
    s = service;
  }
  return s;
}

export interface BackfillOptions {
  models?: ModelStore;
  /** Faces read per round (default 64). */
  batch?: number;
  shouldStop?: () => boolean;
  progress?: (done: number, total: number) => void;
}

/**
 * Computes the identity vector of every face of a present photo that has none. A photo that cannot
 * be read any more is skipped (its faces stay without one until the next scan re-analyses it).
 */
export async function backfillIdentity(
  library: Library,
  options: BackfillOptions = {},
): Promise<{ embedded: number; skipped: number }> {
  const people = peopleOf(library);
  const repo = library.catalog.people;
  const models = options.models ?? new ModelStore();
  const total = repo.countUnembedded(people.spec);
  // Decoded as the scan decoded them (by kind, at the library's analysis size): [Note: one decode].
  const decode = analysisFromSettings(library.settings.get()).analyzer.decode ?? {};
  let embedded = 0;
  let skipped = 0;
  let after = 0;
  try {
    while (!options.shouldStop?.()) {
      const rows = repo.unembedded(people.spec, after, options.batch ?? 64);
      if (rows.length === 0) break;
      after = (rows.at(-1) as FaceToEmbedRow).faceId;
      const byPhoto = new Map<string, FaceToEmbedRow[]>();
      for (const r of rows) byPhoto.set(r.path, [...(byPhoto.get(r.path) ?? []), r]);
      for (const [file, faces] of byPhoto) {
        if (options.shouldStop?.()) break;
        try {
          const image = await decodeAsScanned(file, decode);
          const k = image.scale;
          const detections = faces.map((f) => ({
            box: { x1: f.x * k, y1: f.y * k, x2: (f.x + f.w) * k, y2: (f.y + f.h) * k },
            score: 1,
            landmarks: (JSON.parse(f.landmarks) as Point[]).map(([x, y]) => [x * k, y * k] as Point),
          }));
          const vectors = await identityVectors(models, new AreaSampler(image), detections);
          library.db
            .transaction(() => {
              faces.forEach((f, i) =>
                repo.insertVectors(f.faceId, [{ spec: people.spec, vector: vectors[i] as Float32Array }]),
              );
            })
            .immediate();
          embedded += faces.length;
        } catch {
          skipped += faces.length;
        }
        options.progress?.(embedded + skipped, total);
      }
    }
  } finally {
    if (!options.models) await models.release();
  }
  return { embedded, skipped };
}

/** After a scan: vectors for older faces, then the new faces join people. */
export async function peopleAfterScan(
  library: Library,
  options: BackfillOptions = {},
): Promise<{ embedded: number; placed: number }> {
  const { embedded } = await backfillIdentity(library, options);
  return { embedded, placed: options.shouldStop?.() ? 0 : await peopleOf(library).assignNew() };
}
