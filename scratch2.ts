import { main } from './main/cli/main.js';
process.exitCode = await main(process.argv.slice(2));
