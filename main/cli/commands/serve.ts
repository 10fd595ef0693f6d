import path from 'node:path';
import { parseArgs } from 'node:util';
import { startWebServer } from '../../server/web-server.js';
import { packageRoot } from '../../paths.js';
import type { Command } from '../command.js';

export const serveCommand: Command = {
  name: 'serve',
  usage: 'serve [--port N]',
  summary: 'serve the Facets UI to a browser on 127.0.0.1 (prints a URL with a one-time token)',
  help: 'Binds to 127.0.0.1 only. Every request needs the per-run token; the printed URL sets it.',
  async run(args) {
    const { values } = parseArgs({ args, options: { port: { type: 'string', default: '0' } } });
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${values.port}`);
    const server = await startWebServer({ staticDir: path.join(packageRoot(), 'dist', 'renderer'), port });
    process.stdout.write(`Facets is ready: ${server.url}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    return 0;
  },
};
