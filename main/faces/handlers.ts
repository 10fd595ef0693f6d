/**
 * The face management channels of the API contract (FaceEditApi), answered from a library by the
 * same service as `facets faces …`; the back end (main/library/backend.ts) serves them on both transports.
 */
import { ApiError } from '../api/backend.js';
import type { FaceDetail, FaceEditApi, Request, Response } from '../api/contract.js';
import type { Library } from '../library/library.js';
import { FaceEditError, faceEditsOf } from './service.js';

type FaceEditHandlers = { [C in keyof FaceEditApi]: (request: Request<C>) => Response<C> | Promise<Response<C>> };

export interface FaceEditHost {
  library: Library;
  /** Face detail as the API shows it (person, ethnicity hidden where the user hides it). */
  detail(faceId: number): FaceDetail | undefined;
  /** Tells the renderer which photos changed, and keeps their sidecars up to date when set so. */
  changed(photoIds: number[]): void;
}

async function guarded<T>(f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (!(err instanceof FaceEditError)) throw err;
    throw new ApiError(err.message, err.kind === 'not-found' ? 404 : err.kind === 'conflict' ? 409 : 400);
  }
}

export function faceEditHandlers(host: FaceEditHost): FaceEditHandlers {
  const edits = () => faceEditsOf(host.library);
  return {
    'faces:reject': ({ faceIds }) =>
      guarded(() => {
        const rejected = edits().reject(faceIds);
        host.changed([...new Set(rejected.map((r) => r.photoId))]);
        return { rejected };
      }),
    'faces:restore': ({ ids }) =>
      guarded(() => {
        const restored = edits().restore(ids);
        const photos = restored.map((id) => host.library.catalog.faces.byId(id)?.photo_id);
        host.changed([...new Set(photos.filter((p) => p !== undefined))]);
        return { restored };
      }),
    'faces:rejected': ({ photoId }) => edits().rejected(photoId),
    'faces:add': ({ photoId, box, name }) =>
      guarded(async () => {
        const id = await edits().add(photoId, box, name?.trim() ? { name } : {});
        host.changed([photoId]);
        const face = host.detail(id);
        if (!face) throw new ApiError(`face ${id} vanished`, 500);
        return face;
      }),
  };
}
