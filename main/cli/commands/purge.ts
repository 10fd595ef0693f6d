import { parseArgs } from 'node:util';
import { DEFAULT_GRACE_DAYS } from '../../library/library.js';
import type { Command } from '../command.js';
import { dbFlag, openLibrary } from '../library-options.js';

export const purgeCommand: Command = {
  name: 'purge',
  usage: 'purge [--older-than-days N | --all] [--db <file>]',
  summary: `forget photos whose files have been missing for ${DEFAULT_GRACE_DAYS} days (faces, corrections, thumbnails)`,
  help: [
    'A photo whose file disappears is only marked missing, so a folder on an unplugged drive or a',
    'file moved back keeps its faces and corrections. Purge deletes what has stayed missing.',
    '',
    `--older-than-days N  grace period in days (default ${DEFAULT_GRACE_DAYS})`,
    '--all                every missing photo, whatever its age',
    dbFlag.help,
  ].join('\n'),
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { ...dbFlag.options, 'older-than-days': { type: 'string' }, all: { type: 'boolean', default: false } },
    });
    let days = DEFAULT_GRACE_DAYS;
    if (values.all) days = 0;
    else if (values['older-than-days'] !== undefined) {
      days = Number(values['older-than-days']);
      if (!Number.isFinite(days) || days < 0) throw new Error(`--older-than-days must be a number ≥ 0`);
    }
    const library = openLibrary(values.db);
    try {
      const purged = await library.purgeMissing(days);
      for (const p of purged) process.stdout.write(`purged ${p.path}\n`);
      process.stdout.write(`${purged.length} missing photo(s) purged.\n`);
      return 0;
    } finally {
      library.close();
    }
  },
};
