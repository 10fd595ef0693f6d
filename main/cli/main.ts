/**
 * The `facets` command line. Each subcommand lives in main/cli/commands/ and is registered here.
 */
import { packageVersion } from '../paths.js';
import type { Command } from './command.js';
import { analyzeCommand } from './commands/analyze.js';
import { doctorCommand } from './commands/doctor.js';
import { evalCommand } from './commands/eval.js';
import { exportCommand } from './commands/export.js';
import { facesCommand } from './commands/faces.js';
import { modelsCommand } from './commands/models.js';
import { peopleCommand } from './commands/people.js';
import { purgeCommand } from './commands/purge.js';
import { queryCommand } from './commands/query.js';
import { scanCommand } from './commands/scan.js';
import { serveCommand } from './commands/serve.js';
import { statsCommand } from './commands/stats.js';
import { trainHeadsCommand } from './commands/train-heads.js';

const COMMANDS: Command[] = [
  analyzeCommand,
  evalCommand,
  modelsCommand,
  serveCommand,
  scanCommand,
  queryCommand,
  statsCommand,
  exportCommand,
  purgeCommand,
  trainHeadsCommand,
  doctorCommand,
  peopleCommand,
  facesCommand,
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `facets ${packageVersion()} — offline face attributes for your photo library`,
    '',
    'Usage: facets <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `facets <command> --help` for its options.',
    '',
    'Options:',
    '  -h, --help     show help (also: facets <command> --help)',
    '  -v, --version  print the version',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (name === '-v' || name === '--version') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`facets: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(
      `Usage: facets ${command.usage}\n\n${command.summary}\n${command.help ? `\n${command.help}\n` : ''}`,
    );
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    const e = err as Error & { code?: string };
    process.stderr.write(`facets ${name}: ${e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? e.message : e.message}\n`);
    return e.code?.startsWith('ERR_PARSE_ARGS') ? 2 : 1;
  }
}
