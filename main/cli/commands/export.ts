import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { csvHeader, csvRow, faceRecords } from '../../library/export.js';
import type { Command } from '../command.js';
import { dbFlag, filterFlags, filterFrom, openLibrary } from '../library-options.js';

export const exportCommand: Command = {
  name: 'export',
  usage: 'export --format csv|json [filters] [--output <file>] [--db <file>]',
  summary: 'export every face (or those matching filters) with its photo path and attributes',
  help: [
    '--format csv|json   CSV (one row per face) or a JSON array',
    '--output <file>     write there instead of to standard output',
    dbFlag.help,
    ...filterFlags.help,
  ].join('\n'),
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { ...filterFlags.options, ...dbFlag.options, format: { type: 'string' }, output: { type: 'string' } },
    });
    if (values.format !== 'csv' && values.format !== 'json') throw new Error('--format must be csv or json');
    const filter = filterFrom(values);
    const library = openLibrary(values.db);
    const out = values.output ? createWriteStream(path.resolve(values.output)) : process.stdout;
    const write = async (text: string) => {
      if (!out.write(text)) await once(out, 'drain');
    };
    try {
      const hide = library.settings.get().hideEthnicity;
      let count = 0;
      if (values.format === 'csv') await write(`${csvHeader(hide)}\n`);
      else await write('[');
      for (const record of faceRecords(library.queries, filter, hide)) {
        if (values.format === 'csv') await write(`${csvRow(record, hide)}\n`);
        else await write(`${count ? ',' : ''}\n  ${JSON.stringify(record)}`);
        count++;
      }
      if (values.format === 'json') await write(count ? '\n]\n' : ']\n');
      if (values.output) process.stderr.write(`${count} face(s) written to ${path.resolve(values.output)}\n`);
      return 0;
    } finally {
      if (out !== process.stdout) await new Promise<void>((resolve) => out.end(resolve));
      library.close();
    }
  },
};
