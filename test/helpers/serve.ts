import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from './cli.js';

export interface Served {
  url: string;
  origin: string;
  token: string;
  /** The per-run media capability key (the printed URL's `media=`). */
  mediaKey: string;
  /** The library database this server uses. */
  db: string;
  child: ChildProcess;
  /** Everything the server printed so far. */
  output(): string;
  /** `POST /api/<channel>` with the token, returning `result` (throws on `error`). */
  api<T = unknown>(channel: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

export interface ServeOptions {
  /** Library database; default: a fresh one in a temp folder, removed by stop(). */
  db?: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  startTimeoutMs?: number;
}

/** Starts the real `facets serve` command (bin/facets.js → dist/) and waits for the URL it prints. */
export function serve(options: ServeOptions = {}): Promise<Served> {
  const tempDir = options.db ? null : mkdtempSync(path.join(tmpdir(), 'facets-serve-'));
  const db = options.db ?? path.join(tempDir as string, 'library.db');
  const child = spawn(process.execPath, [`${ROOT}/bin/facets.js`, 'serve', '--db', db, ...(options.args ?? [])], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const cleanup = () => {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      cleanup();
      reject(new Error(`facets serve did not start: ${out}${err}`));
    }, options.startTimeoutMs ?? 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      cleanup();
      reject(new Error(`facets serve exited with ${code}: ${err}`));
    });
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/#token=([\w-]+)&media=([\w-]+))/.exec(out);
      if (m?.[1] && m[2] && m[3]) {
        clearTimeout(timer);
        const url = new URL(m[1]);
        const token = m[2];
        resolve({
          url: m[1],
          origin: url.origin,
          token,
          mediaKey: m[3],
          db,
          child,
          output: () => out + err,
          async api<T>(channel: string, body?: unknown): Promise<T> {
            const res = await fetch(`${url.origin}/api/${channel}`, {
              method: 'POST',
              headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
              ...(body === undefined ? {} : { body: JSON.stringify(body) }),
            });
            const json = (await res.json()) as { result?: T; error?: string };
            if (!res.ok || json.error !== undefined) throw new Error(`${channel}: ${res.status} ${json.error}`);
            return json.result as T;
          },
          stop: () =>
            new Promise((done) => {
              child.removeAllListeners('exit');
              if (child.exitCode !== null) {
                cleanup();
                return done();
              }
              child.once('exit', () => {
                cleanup();
                done();
              });
              child.kill('SIGTERM');
            }),
        });
      }
    });
  });
}
