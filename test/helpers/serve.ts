import { type ChildProcess, spawn } from 'node:child_process';
import { ROOT } from './cli.js';

export interface Served {
  url: string;
  origin: string;
  token: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts the real `facets serve` command and waits for the URL it prints. */
export function serve(args: string[] = []): Promise<Served> {
  const child = spawn(process.execPath, [`${ROOT}/bin/facets.js`, 'serve', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`facets serve did not start: ${out}${err}`)), 30_000);
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => reject(new Error(`facets serve exited with ${code}: ${err}`)));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=([\w-]+))/.exec(out);
      if (m?.[1] && m[2]) {
        clearTimeout(timer);
        const url = new URL(m[1]);
        resolve({
          url: m[1],
          origin: url.origin,
          token: m[2],
          child,
          stop: () =>
            new Promise((done) => {
              child.removeAllListeners('exit');
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    });
  });
}
