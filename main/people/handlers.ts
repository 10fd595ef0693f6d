/**
 * The people channels of the API contract (PeopleApi), answered from a library; the back end
 * (main/library/backend.ts) serves them beside its own, on both transports.
 */
import { ApiError } from '../api/backend.js';
import type { FacePerson, FaceSummary, PeopleApi, Request, Response } from '../api/contract.js';
import type { Library } from '../library/library.js';
import { peopleAfterScan, peopleOf } from './library.js';
import type { PersonInfo } from './service.js';

type PeopleHandlers = { [C in keyof PeopleApi]: (request: Request<C>) => Response<C> | Promise<Response<C>> };

export interface PeopleHost {
  library: Library;
  /** A face summary as the API shows it (ethnicity hidden where the user hides it). */
  present(face: FaceSummary): FaceSummary;
  /** Tells the renderer what changed. */
  changed(photoIds: number[] | 'all'): void;
  /** The library is closing: background work stops. */
  closed: () => boolean;
}

function guarded<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    const message = (err as Error).message;
    if (/^no person \d+/.test(message)) throw new ApiError(message, 404);
    if (/cannot be merged/.test(message)) throw new ApiError(message, 400);
    throw err;
  }
}

export function peopleHandlers(host: PeopleHost): PeopleHandlers {
  const people = () => peopleOf(host.library);
  const summary = (p: PersonInfo) => p;
  const photosOf = (faceIds: readonly number[]) =>
    faceIds.map((id) => host.library.catalog.faces.byId(id)?.photo_id).filter((id): id is number => id !== undefined);
  const faces = (ids: readonly number[]) =>
    ids
      .map((id) => host.library.queries.faceDetail(id))
      .filter((f) => f !== undefined)
      .map((f) => host.present(f));
  // Faces from before people existed get their vectors in the background, once the People view is opened.
  let backfill: Promise<unknown> | null = null;
  const startBackfill = () => {
    backfill ??= peopleAfterScan(host.library, { shouldStop: host.closed })
      .then(({ embedded, placed }) => {
        if (embedded > 0 || placed > 0) host.changed('all');
      })
      .catch((err: unknown) => console.error('facets: computing identity vectors failed', err));
  };
  return {
    'people:list': ({ page, includeHidden }) => {
      startBackfill();
      return people().list({ includeHidden: includeHidden ?? false, limit: page.limit, offset: page.offset });
    },
    'people:get': ({ id }) => guarded(() => summary(people().get(id))),
    'people:names': ({ prefix }) => people().names(prefix.trim()),
    'people:counts': ({ filter }) => host.library.catalog.people.personCounts(filter, 200),
    'people:suggestions': ({ id }) =>
      guarded(() => {
        people().get(id);
        return faces(
          people()
            .suggestions(id)
            .map((s) => s.faceId),
        );
      }),
    'people:name': ({ id, name }) =>
      guarded(() => {
        const p = people().name(id, name);
        host.changed('all');
        return p;
      }),
    'people:merge': ({ into, from }) =>
      guarded(() => {
        const p = people().merge(into, from);
        host.changed('all');
        return p;
      }),
    'people:hide': ({ id, hidden }) =>
      guarded(() => {
        const p = people().hide(id, hidden);
        host.changed('all');
        return p;
      }),
    'people:assign': ({ faceIds, personId, name }) =>
      guarded(() => {
        const p = people().assign(faceIds, personId !== undefined ? { personId } : { name: name ?? '' });
        host.changed(photosOf(faceIds));
        return p;
      }),
    'people:confirm': ({ faceIds }) => {
      people().confirm(faceIds);
      host.changed(photosOf(faceIds));
      return { confirmed: faceIds.length };
    },
    'people:remove': ({ faceIds }) => {
      people().moveOut(faceIds);
      host.changed(photosOf(faceIds));
      return { moved: faceIds.length };
    },
    'people:undo': () => {
      const undone = people().undo();
      if (undone) host.changed('all');
      return { undone };
    },
    'people:recluster': async () => {
      const r = await people().recluster();
      host.changed('all');
      return r;
    },
  };
}

/** Who a face is, for face detail. */
export function personOfFace(library: Library, faceId: number): FacePerson | null {
  const a = library.catalog.people.assignment(faceId);
  if (!a) return null;
  const p = library.catalog.people.person(a.person_id);
  return p ? { id: p.id, name: p.name, confirmed: a.source === 'user' } : null;
}
