import { parseArgs } from 'node:util';
import { backfillIdentity, peopleOf } from '../../people/library.js';
import type { PersonInfo } from '../../people/service.js';
import type { Command } from '../command.js';
import { dbFlag, openLibrary } from '../library-options.js';

const id = (value: string | undefined, what: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${what} must be a person id (see \`facets people\`), got "${value ?? ''}"`);
  return n;
};

const faceIds = (values: string[]): number[] => {
  if (values.length === 0) throw new Error('name at least one face id');
  return values.map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`not a face id: "${v}"`);
    return n;
  });
};

export const peopleCommand: Command = {
  name: 'people',
  usage: 'people [name|merge|assign|move-out|confirm|hide|show|undo|recluster|backfill] [...] [--json] [--db <file>]',
  summary: 'the people in the library: faces of one person grouped, named, merged, corrected',
  help: [
    'facets people                     people with their face counts (--all: hidden ones too)',
    'facets people name <id> <name>    name a person (an empty name: unnamed again)',
    'facets people merge <id> <id>     the second person becomes part of the first',
    'facets people assign <name|id> <face id>...   put faces with a person (a new name: a new person)',
    'facets people move-out <face id>...           "not this person": never put back there by clustering',
    'facets people confirm <face id>...            keep faces where they are',
    'facets people hide|show <id>      hide a person from the People view and filters',
    'facets people undo                undo the last of these',
    'facets people recluster           cluster every face again (what the user said stays)',
    'facets people backfill            identity vectors for faces scanned before people existed',
    '--json                            machine-readable output',
    dbFlag.help,
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        ...dbFlag.options,
        json: { type: 'boolean', default: false },
        all: { type: 'boolean', default: false },
      },
    });
    const [action = 'list', ...rest] = positionals;
    const library = openLibrary(values.db);
    const people = peopleOf(library);
    const out = (json: unknown, text: string) =>
      process.stdout.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
    const line = (p: PersonInfo) =>
      `${String(p.id).padStart(6)}  ${String(p.faceCount).padStart(6)} face(s)  ${p.name ?? 'Unnamed person'}${p.hidden ? ' (hidden)' : ''}`;
    try {
      switch (action) {
        case 'list': {
          const all = people.list({ includeHidden: values.all, limit: 1_000_000 });
          out(all, all.items.length ? `    id   faces\n${all.items.map(line).join('\n')}` : 'no people yet');
          return 0;
        }
        case 'name': {
          const [who, ...name] = rest;
          const p = people.name(id(who, 'the person'), name.join(' '));
          out(p, line(p));
          return 0;
        }
        case 'merge': {
          const p = people.merge(id(rest[0], 'the first person'), id(rest[1], 'the second person'));
          out(p, line(p));
          return 0;
        }
        case 'assign': {
          const [who, ...faces] = rest;
          if (!who) throw new Error('name the person: a name or an id');
          const target = /^\d+$/.test(who) ? { personId: Number(who) } : { name: who };
          const p = people.assign(faceIds(faces), target);
          out(p, line(p));
          return 0;
        }
        case 'move-out':
          people.moveOut(faceIds(rest));
          out({ moved: rest.length }, `${rest.length} face(s) moved out`);
          return 0;
        case 'confirm':
          people.confirm(faceIds(rest));
          out({ confirmed: rest.length }, `${rest.length} face(s) confirmed`);
          return 0;
        case 'hide':
        case 'show': {
          const p = people.hide(id(rest[0], 'the person'), action === 'hide');
          out(p, line(p));
          return 0;
        }
        case 'undo': {
          const undone = people.undo();
          out({ undone }, undone ? `undone: ${undone}` : 'nothing to undo');
          return 0;
        }
        case 'recluster': {
          const t0 = performance.now();
          const r = await people.recluster();
          out(
            { ...r, seconds: (performance.now() - t0) / 1000 },
            `${r.people} people, ${r.assigned} faces placed by clustering`,
          );
          return 0;
        }
        case 'backfill': {
          const r = await backfillIdentity(library);
          const placed = await people.assignNew();
          out({ ...r, placed }, `${r.embedded} face(s) embedded, ${r.skipped} skipped, ${placed} placed`);
          return 0;
        }
        default:
          throw new Error(`unknown people action "${action}" (see facets people --help)`);
      }
    } finally {
      library.close();
    }
  },
};
