import path from 'node:path';
import { parseArgs } from 'node:util';
import { type RejectedFaceInfo, faceEditsOf } from '../../faces/service.js';
import type { Library } from '../../library/library.js';
import { peopleOf } from '../../people/library.js';
import type { Command } from '../command.js';
import { dbFlag, openLibrary } from '../library-options.js';

const ids = (values: string[], what: string): number[] => {
  if (values.length === 0) throw new Error(`name at least one ${what}`);
  return values.map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`not a ${what}: "${v}"`);
    return n;
  });
};

/** A photo by its id or its path. */
function photoId(library: Library, value: string | undefined): number {
  if (!value) throw new Error('name the photo: its path or its id');
  if (/^\d+$/.test(value)) return Number(value);
  const photo = library.catalog.photos.byPath(path.resolve(value));
  if (!photo) throw new Error(`${path.resolve(value)} is not in the library (scan its folder first)`);
  return photo.id;
}

function parseBox(value: string | undefined): { x: number; y: number; width: number; height: number } {
  const parts = (value ?? '').split(',').map((p) => Number(p.trim()));
  if (parts.length !== 4 || parts.some((p) => !Number.isFinite(p))) {
    throw new Error(`--box takes x,y,width,height in pixels of the upright photo, got "${value ?? ''}"`);
  }
  const [x, y, width, height] = parts as [number, number, number, number];
  return { x, y, width, height };
}

export const facesCommand: Command = {
  name: 'faces',
  usage: 'faces [list|reject|restore|rejected|add] [...] [--json] [--db <file>]',
  summary: 'manage faces: "not a face" (and restore), add a face the detector missed',
  help: [
    'facets faces list <photo>              the faces of a photo (path or id) with their ids and boxes',
    'facets faces reject <face id>...       "not a face": gone from queries, people, counts and sidecars;',
    '                                       a rescan does not bring it back',
    "facets faces rejected <photo>          the photo's rejected faces (ids for restore)",
    'facets faces restore <rejected id>...  put rejected faces back, with their corrections and person',
    'facets faces add <photo> --box x,y,w,h [--name <name>]',
    '                                       add a face by its box (pixels of the upright photo): analysed',
    '                                       like any other face; --name puts it with that person',
    '--json                                 machine-readable output',
    dbFlag.help,
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        ...dbFlag.options,
        json: { type: 'boolean', default: false },
        box: { type: 'string' },
        name: { type: 'string' },
      },
    });
    const [action, ...rest] = positionals;
    const library = openLibrary(values.db);
    peopleOf(library); // names go into sidecars kept up to date ([Note: xmp-names])
    const edits = faceEditsOf(library);
    const out = (json: unknown, text: string) =>
      process.stdout.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
    const box = (b: { x: number; y: number; width: number; height: number }) =>
      `${Math.round(b.x)},${Math.round(b.y)},${Math.round(b.width)},${Math.round(b.height)}`;
    const rejectedLine = (r: RejectedFaceInfo) =>
      `${String(r.id).padStart(6)}  face ${r.faceId} at ${box(r.box)}${r.name ? ` (${r.name})` : ''}  rejected ${r.rejectedAt}` +
      (r.suppressed ? `, ${r.suppressed} later detection(s) dropped` : '');
    const sidecars = (photoIds: number[]) => library.xmp.afterChange(photoIds);
    try {
      switch (action) {
        case 'list': {
          const photo = library.queries.photoDetail(photoId(library, rest[0]));
          if (!photo) throw new Error(`no photo ${rest[0] ?? ''}`);
          out(
            photo.faces.map(({ landmarks: _l, predictions: _p, ...f }) => f),
            photo.faces.length
              ? photo.faces
                  .map((f) => `${String(f.id).padStart(6)}  ${box(f.box)}${f.added ? `  (added: ${f.added})` : ''}`)
                  .join('\n')
              : 'no faces',
          );
          return 0;
        }
        case 'reject': {
          const rejected = edits.reject(ids(rest, 'face id'));
          await sidecars([...new Set(rejected.map((r) => r.photoId))]);
          out({ rejected }, `not a face:\n${rejected.map(rejectedLine).join('\n')}`);
          return 0;
        }
        case 'rejected': {
          const rejected = edits.rejected(photoId(library, rest[0]));
          out(rejected, rejected.length ? rejected.map(rejectedLine).join('\n') : 'no rejected faces');
          return 0;
        }
        case 'restore': {
          const restored = edits.restore(ids(rest, 'rejected face id (see `facets faces rejected <photo>`)'));
          const photos = restored.map((id) => library.catalog.faces.byId(id)?.photo_id);
          await sidecars([...new Set(photos.filter((p) => p !== undefined))]);
          out({ restored }, `restored face(s) ${restored.join(', ')}`);
          return 0;
        }
        case 'add': {
          if (rest.length !== 1) throw new Error('facets faces add <photo> --box x,y,width,height [--name <name>]');
          const id = photoId(library, rest[0]);
          const faceId = await edits.add(id, parseBox(values.box), values.name?.trim() ? { name: values.name } : {});
          await sidecars([id]);
          const face = library.queries.faceDetail(faceId);
          const person = library.catalog.people.assignment(faceId);
          const name = person ? library.catalog.people.person(person.person_id)?.name : undefined;
          const described = [face?.ageGroup?.value, face?.gender?.value, face?.emotion?.value].filter(Boolean);
          out(
            { face, person: person ? { id: person.person_id, name: name ?? null } : null },
            `added face ${faceId} at ${box(face?.box ?? parseBox(values.box))}: ${described.join(', ')}` +
              (person ? ` — ${name ?? `person ${person.person_id}`}` : ''),
          );
          return 0;
        }
        default:
          throw new Error(`unknown action "${action ?? ''}": list, reject, rejected, restore or add`);
      }
    } finally {
      library.close();
    }
  },
};
