import path from 'node:path';
import { parseArgs } from 'node:util';
import { openBackend } from '../../library/backend.js';
import { defaultDbPath } from '../../library/paths.js';
import { packageRoot } from '../../paths.js';
import { startWebServer } from '../../server/web-server.js';
import type { Command } from '../command.js';

export const serveCommand: Command = {
  name: 'serve',
  usage: 'serve [--db <file>] [--port N]',
  summary: 'serve the Facets UI to a browser on 127.0.0.1 (prints a URL with a per-run token)',
  help: [
    'Options:',
    '  --db <file>  the library database (default: FACETS_DB, else library.db in the app-data folder)',
    '  --port N     the port to listen on (default: a free one)',
    '',
    'Binds to 127.0.0.1 only. Every API request needs the per-run token; open the printed URL, whose',
    'fragment hands it to the page (no cookie is ever set, so other local web servers never see it).',
    'Stop with Ctrl+C.',
  ].join('\n'),
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { port: { type: 'string', default: '0' }, db: { type: 'string' } },
    });
    const port = Number(values.port);
    if (!/^\d+$/.test(values.port) || !Number.isInteger(port) || port > 65535) {
      throw new Error(`invalid --port ${values.port}`);
    }
    const dbPath = values.db ? path.resolve(values.db) : defaultDbPath();
    const backend = await openBackend({ dbPath });
    let server;
    try {
      server = await startWebServer({ staticDir: path.join(packageRoot(), 'dist', 'renderer'), backend, port });
    } catch (err) {
      await backend.close();
      throw err;
    }
    process.stdout.write(`Library: ${dbPath}\nFacets is ready: ${server.url}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    await backend.close();
    return 0;
  },
};
