import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { csvHeader, csvRow, exportedRecord } from '../../library/export.js';
import { Presentation } from '../../library/presentation.js';
import type { Command } from '../command.js';
import { exportXmp } from './export-xmp.js';
import { dbFlag, filterFlags, filterFrom, openLibrary } from '../library-options.js';

export const exportCommand: Command = {
  name: 'export',
  usage:
    'export --format csv|json [filters] [--output <file>] [--db <file>]\n' +
    '       facets export --format xmp [--folder <dir>] [--sidecar jpg.xmp|xmp] [--dry-run] [--json] [--db <file>]',
  summary: 'export every face (or those matching filters) with its photo path and attributes, or XMP sidecars',
  help: [
    "--format csv|json   CSV (one row per face) or a JSON array; without it, the --output file's extension",
    '--output <file>     write there instead of to standard output',
    '--format xmp        an XMP sidecar per photo (faces as MWG regions, attributes as keywords), merged',
    '                    into any sidecar already there; photos are never modified',
    '--sidecar <naming>  jpg.xmp: photo.jpg.xmp (digiKam) or xmp: photo.xmp (Lightroom); default: the setting',
    '--dry-run           list the sidecars that would be created or updated, write nothing',
    '--json              (xmp) print the outcome per photo as JSON',
    dbFlag.help,
    ...filterFlags.help,
  ].join('\n'),
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        ...filterFlags.options,
        ...dbFlag.options,
        format: { type: 'string' },
        output: { type: 'string' },
        sidecar: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    });
    if (values.format === 'xmp') {
      const { folder, db, sidecar, json, 'dry-run': dryRun, format: _format, ...rest } = values;
      const other = Object.entries(rest).find(([, v]) => v !== undefined && v !== false);
      if (other) throw new Error(`--${other[0]} does not apply to --format xmp (sidecars are per photo; use --folder)`);
      const library = openLibrary(db);
      try {
        return await exportXmp(library, {
          ...(folder ? { folder } : {}),
          ...(sidecar ? { sidecar } : {}),
          dryRun,
          json,
        });
      } finally {
        library.close();
      }
    }
    // Without --format, the output file's extension says it (faces.csv, faces.json); else ask.
    if (values.format === undefined) {
      const ext = values.output ? path.extname(values.output).slice(1).toLowerCase() : '';
      if (ext === 'csv' || ext === 'json') values.format = ext;
      else
        throw new Error(
          values.output
            ? `cannot tell the format from "${path.basename(values.output)}": add --format csv or --format json (or name the file .csv or .json)`
            : 'choose what to export: --format csv (one row per face), --format json, or --format xmp (sidecars next to the photos)',
        );
    }
    if (values.format !== 'csv' && values.format !== 'json') throw new Error('--format must be csv, json or xmp');
    const filter = filterFrom(values);
    const library = openLibrary(values.db, { readonly: true });
    const out = values.output ? createWriteStream(path.resolve(values.output)) : process.stdout;
    const write = async (text: string) => {
      if (!out.write(text)) await once(out, 'drain');
    };
    try {
      // As the app shows them ([Note: presentation policy]).
      const view = Presentation.of(library.settings.get());
      const hide = view.hideEthnicity;
      let count = 0;
      if (values.format === 'csv') await write(`${csvHeader(hide)}\n`);
      else await write('[');
      for (const record of view.records(library.queries, filter)) {
        if (values.format === 'csv') await write(`${csvRow(record, hide)}\n`);
        else await write(`${count ? ',' : ''}\n  ${JSON.stringify(exportedRecord(record))}`);
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
