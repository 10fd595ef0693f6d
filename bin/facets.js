#!/usr/bin/env node
// Entry point of the `facets` command: runs the compiled CLI from dist/ (built by `npm run setup`).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const entry = fileURLToPath(new URL('../dist/main/cli/main.js', import.meta.url));
if (!existsSync(entry)) {
  process.stderr.write('facets: not built yet — run `npm run setup` (or `npm run build:main`) first\n');
  process.exit(1);
}
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));
