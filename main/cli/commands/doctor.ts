import { parseArgs } from 'node:util';
import { doctor } from '../../library/doctor.js';
import { defaultDbPath } from '../../library/paths.js';
import type { Command } from '../command.js';
import { dbFlag } from '../library-options.js';
import path from 'node:path';

export const doctorCommand: Command = {
  name: 'doctor',
  usage: 'doctor [--db <file>] [--check] [--json]',
  summary: 'check the library for damage; back it up and rebuild it from what can still be read',
  help: [
    'Runs a full integrity check. If the library is damaged, it copies the file aside as',
    '<file>.damaged-<time> and rebuilds the library from every row that can still be read: settings,',
    'photos, faces, corrections and names keep their ids. The next scan finds again what was lost.',
    '',
    dbFlag.help,
    '--check             only check and report; change nothing (exit 1 when damaged)',
    '--json              print the report as JSON',
  ].join('\n'),
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        ...dbFlag.options,
        check: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    });
    const file = values.db ? path.resolve(values.db) : defaultDbPath();
    const report = doctor(file, { checkOnly: values.check });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else if (report.healthy) {
      process.stdout.write(`${file}: no damage found.\n`);
    } else {
      process.stdout.write(`${file}: damaged.\n`);
      for (const p of report.problems.slice(0, 10)) process.stdout.write(`  ${p}\n`);
      if (report.backup) {
        process.stdout.write(`Backup of the damaged file: ${report.backup}\nRebuilt:\n`);
        for (const t of report.tables ?? []) {
          process.stdout.write(`  ${t.table}: ${t.copied} row(s) kept${t.lost ? `, ${t.lost} lost` : ''}\n`);
        }
        process.stdout.write('Run facets scan to find again the photos that were lost.\n');
      } else {
        process.stdout.write('Run facets doctor without --check to back it up and rebuild it.\n');
      }
    }
    return report.healthy || report.backup ? 0 : 1;
  },
};
