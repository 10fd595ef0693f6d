import { evalCommand } from './main/cli/commands/eval.js';
process.exitCode = await evalCommand.run(process.argv.slice(3));
