/**
 * Web mode: serves the renderer build and the API contract over HTTP on 127.0.0.1 only, guarded by a
 * random per-run token. The printed URL carries the token once; the server swaps it for an HttpOnly,
 * SameSite=Strict cookie and redirects, so the token does not linger in the address bar. API calls are
 * `POST /api/<channel>` with a JSON body, answered by the same handlers Electron's IPC uses.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { isChannel } from '../api/contract.js';
import { handle } from '../api/handlers.js';

const COOKIE = 'facets_token';
const MAX_BODY = 1024 * 1024;
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.jpg': 'image/jpeg',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
  "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export interface WebServerOptions {
  /** Folder of the renderer build (dist/renderer). */
  staticDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** Fixed token (tests); default: 32 random bytes. */
  token?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

export async function startWebServer(options: WebServerOptions): Promise<RunningServer> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  const staticDir = path.resolve(options.staticDir);
  if (!existsSync(path.join(staticDir, 'index.html'))) {
    throw new Error(`no renderer build at ${staticDir} — run npm run build`);
  }

  const authorised = (req: http.IncomingMessage): boolean => {
    const header = req.headers.authorization?.replace(/^Bearer /, '');
    const cookie = /(?:^|;\s*)facets_token=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    return [header, cookie].some((candidate) => candidate !== undefined && safeEqual(candidate, token));
  };

  const server = http.createServer((req, res) => {
    void route(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { error: (err as Error).message });
      else res.destroy();
    });
  });

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    // Host check: refuse DNS-rebinding requests that reach us under a foreign name.
    const host = req.headers.host ?? '';
    if (!/^(127\.0\.0\.1|localhost)(:\d+)?$/.test(host)) return send(res, 403, { error: 'forbidden host' });

    const offered = url.searchParams.get('token');
    if (offered !== null && req.method === 'GET') {
      if (!safeEqual(offered, token)) return send(res, 401, { error: 'invalid token' });
      res.setHeader('Set-Cookie', `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
      url.searchParams.delete('token');
      res.writeHead(303, { Location: `${url.pathname}${url.search}` });
      res.end();
      return;
    }
    if (!authorised(req))
      return send(res, 401, { error: 'missing or invalid token: open the URL printed by facets serve' });

    if (url.pathname.startsWith('/api/')) {
      const channel = decodeURIComponent(url.pathname.slice('/api/'.length));
      if (req.method !== 'POST') return send(res, 405, { error: 'use POST' });
      if (!isChannel(channel)) return send(res, 404, { error: `unknown channel ${channel}` });
      let body: unknown;
      try {
        const raw = await readBody(req);
        body = raw.length === 0 ? undefined : (JSON.parse(raw) as unknown);
      } catch (err) {
        return send(res, 400, { error: `bad request body: ${(err as Error).message}` });
      }
      try {
        return send(res, 200, { result: await handle(channel, body) });
      } catch (err) {
        return send(res, 400, { error: (err as Error).message });
      }
    }

    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method not allowed' });
    return serveStatic(url.pathname, res);
  }

  function serveStatic(pathname: string, res: http.ServerResponse): void {
    const relative = decodeURIComponent(pathname === '/' ? '/index.html' : pathname);
    const file = path.resolve(staticDir, `.${relative}`);
    if (!file.startsWith(staticDir + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
      return send(res, 404, { error: 'not found' });
    }
    res.writeHead(200, {
      'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
      'Content-Security-Policy': CSP,
    });
    createReadStream(file).pipe(res);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
