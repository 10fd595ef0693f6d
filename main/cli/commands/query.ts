import { parseArgs } from 'node:util';
import { exportedRecord, type FaceRecord } from '../../library/export.js';
import type { Library } from '../../library/library.js';
import { Presentation } from '../../library/presentation.js';
import { peopleOf } from '../../people/library.js';
import type { Command } from '../command.js';
import { dbFlag, filterFlags, filterFrom, openLibrary } from '../library-options.js';

export const queryCommand: Command = {
  name: 'query',
  usage: 'query [filters] [--json] [--limit N] [--db <file>]',
  summary: 'list the faces matching a filter, with their photo paths',
  help: [
    'Filters combine with AND; values of one filter combine with OR. Corrections override predictions.',
    '',
    ...filterFlags.help,
    '--json              print an array of faces (path, box, attributes with confidences)',
    '--limit N           at most N faces',
    '--person <name|id>  faces of this person (`facets people`; repeat for any of several)',
    dbFlag.help,
    '',
    'Example: facets query --emotion happy --age-group 20-29,30-39 --min-confidence 0.6',
  ].join('\n'),
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        ...filterFlags.options,
        ...dbFlag.options,
        json: { type: 'boolean', default: false },
        limit: { type: 'string' },
        person: { type: 'string', multiple: true },
      },
    });
    const filter = filterFrom(values);
    const limit = values.limit === undefined ? Infinity : Number(values.limit);
    if (!(limit >= 0)) throw new Error(`--limit must be a number, got "${values.limit}"`);
    const library = openLibrary(values.db, { readonly: true });
    try {
      if (values.person?.length) filter.people = personIds(library, values.person);
      // As the app shows them ([Note: presentation policy]).
      const view = Presentation.of(library.settings.get());
      const records: FaceRecord[] = [];
      for (const record of view.records(library.queries, filter)) {
        if (records.length >= limit) break;
        records.push(record);
      }
      if (values.json) {
        process.stdout.write(`${JSON.stringify(records.map(exportedRecord), null, 2)}\n`);
      } else {
        for (const r of records) process.stdout.write(`${describe(r)}\n`);
        process.stderr.write(`${records.length} face(s)\n`);
      }
      return 0;
    } finally {
      library.close();
    }
  },
};

/** People ids for `--person` values: an id, or every person of that name. */
function personIds(library: Library, values: readonly string[]): number[] {
  const people = peopleOf(library);
  return values.flatMap((v) => {
    if (/^\d+$/.test(v)) return [Number(v)];
    const ids = people.idsNamed(v);
    if (ids.length === 0) throw new Error(`no person named "${v}" (see facets people)`);
    return ids;
  });
}

function describe(r: FaceRecord): string {
  const value = (label: string | null | undefined, confidence: number | null | undefined, attribute: string) =>
    label
      ? `${label}${r.corrected.includes(attribute) ? ' (corrected)' : ` ${Math.round((confidence ?? 0) * 100)}%`}${
          r.unsure.includes(attribute) ? ' (unsure)' : ''
        }`
      : '';
  const attributes = [
    value(r.ageGroup, r.ageGroupConfidence, 'ageGroup'),
    value(r.gender, r.genderConfidence, 'gender'),
    value(r.ethnicity, r.ethnicityConfidence, 'ethnicity'),
    value(r.emotion, r.emotionConfidence, 'emotion'),
  ].filter(Boolean);
  return `${r.path}\t[${r.box.x}, ${r.box.y}, ${r.box.width}×${r.box.height}]\t${attributes.join(' · ')}`;
}
