/**
 * Web mode: serves the renderer build and the API contract over HTTP on 127.0.0.1 only, guarded by
 * random per-run secrets. [Note: web-mode credentials]
 *
 * No credential ever rides on a cookie: browsers send 127.0.0.1's cookies to every port, so any other
 * local web server the user opens in the same browser would receive it. The printed URL carries the
 * secrets in its fragment (`#token=…&media=…`), which browsers never send to a server; the page reads it,
 * keeps it in memory (and in its own origin's sessionStorage, for a reload), removes it from the address bar
 * and sends the token as an `Authorization: Bearer` header (renderer/src/lib/api/http.ts, which also reads
 * the event stream through fetch for that reason). `<img>` cannot send a header, so media go through a
 * second per-run secret in the path: a capability that reads images and nothing else.
 *
 * Routes:
 * - `POST /api/<channel>` (token) — JSON body in, `{ result }` or `{ error }` out, answered by the same
 *   `Backend` Electron's IPC uses (it validates the request itself).
 * - `GET /api/events` (token) — server-sent events: one `event: <name>` per contract event.
 * - `GET /media/<media key>/<thumb|photo|face>/<id>` — bytes or a file from `backend.media`; never a path.
 * - anything else `GET` — the static renderer build, which holds no data and no secret.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ApiError, type Backend, type MediaFile } from '../api/backend.js';
import { EVENTS, type MediaKind, isChannel } from '../api/contract.js';
import { contentTypeOf } from './content-types.js';

const MAX_BODY = 1024 * 1024;
const SSE_HEARTBEAT_MS = 20_000;
const MEDIA_KINDS: readonly MediaKind[] = ['photo', 'thumb', 'face'];
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
  "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export interface WebServerOptions {
  /** Folder of the renderer build (dist/renderer). */
  staticDir: string;
  /** Answers the API, emits events, resolves media. */
  backend: Backend;
  /** 0 picks a free port. */
  port?: number;
  /** Fixed token (tests); default: 32 random bytes. */
  token?: string;
  /** Fixed media capability key (tests); default: 32 random bytes. */
  mediaKey?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  mediaKey: string;
  close(): Promise<void>;
}

export async function startWebServer(options: WebServerOptions): Promise<RunningServer> {
  const { backend } = options;
  const token = options.token ?? randomBytes(32).toString('base64url');
  const mediaKey = options.mediaKey ?? randomBytes(32).toString('base64url');
  const staticDir = path.resolve(options.staticDir);
  if (!existsSync(path.join(staticDir, 'index.html'))) {
    throw new Error(`no renderer build at ${staticDir} — run npm run build`);
  }
  const streams = new Set<http.ServerResponse>();

  const authorised = (req: http.IncomingMessage): boolean => {
    const header = /^Bearer ([\w-]+)$/.exec(req.headers.authorization ?? '')?.[1];
    return header !== undefined && safeEqual(header, token);
  };

  const server = http.createServer((req, res) => {
    void route(req, res).catch((err: unknown) => {
      logInternal(`${req.method} ${req.url}`, err);
      if (!res.headersSent) send(res, 500, { error: publicMessage(err) });
      else res.destroy();
    });
  });

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    // Host check: refuse DNS-rebinding requests that reach us under a foreign name.
    const host = req.headers.host ?? '';
    if (!/^(127\.0\.0\.1|localhost)(:\d+)?$/.test(host)) return send(res, 403, { error: 'forbidden host' });
    // Cross-site requests are refused outright.
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${host}`) return send(res, 403, { error: 'forbidden origin' });

    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://127.0.0.1');
    } catch {
      return send(res, 400, { error: 'bad url' });
    }
    if (url.pathname.startsWith('/api/')) {
      if (!authorised(req))
        return send(res, 401, { error: 'missing or invalid token: open the URL printed by facets serve' });
      if (url.pathname === '/api/events') {
        if (req.method !== 'GET') return send(res, 405, { error: 'use GET' });
        return openEventStream(req, res);
      }
      return api(url.pathname.slice('/api/'.length), req, res);
    }
    if (url.pathname.startsWith('/media/')) {
      const m = /^\/media\/([\w-]+)(\/.*)$/.exec(url.pathname);
      if (!m?.[1] || !safeEqual(m[1], mediaKey)) return send(res, 401, { error: 'missing or invalid media key' });
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'use GET' });
      return media(m[2] as string, url, req, res);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method not allowed' });
    return serveStatic(url.pathname, res);
  }

  async function api(name: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method !== 'POST') return send(res, 405, { error: 'use POST' });
    // Channel names are plain ASCII (`photos:query`); anything else is refused before decoding.
    if (!/^[a-z]+:[a-z]+$/.test(name) || !isChannel(name)) return send(res, 404, { error: 'unknown channel' });
    const type = req.headers['content-type'];
    if (type !== undefined && !/^application\/json\s*(;\s*charset=utf-8\s*)?$/i.test(type)) {
      return send(res, 415, { error: 'the body must be application/json' });
    }
    let body: unknown;
    try {
      const raw = await readBody(req);
      if (raw.length > 0 && type === undefined) return send(res, 415, { error: 'the body must be application/json' });
      body = raw.length === 0 ? undefined : (JSON.parse(raw) as unknown);
    } catch (err) {
      return send(res, (err as { status?: number }).status ?? 400, {
        error: `bad request body: ${(err as Error).message}`,
      });
    }
    try {
      return send(res, 200, { result: await backend.handle(name, body) });
    } catch (err) {
      if (!(err instanceof ApiError)) logInternal(`POST /api/${name}`, err);
      return send(res, err instanceof ApiError ? err.status : 500, { error: publicMessage(err) });
    }
  }

  function openEventStream(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
    });
    res.write('retry: 2000\n\n');
    const unsubscribe = EVENTS.map((event) =>
      backend.on(event, (payload) => {
        res.write(`event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`);
      }),
    );
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), SSE_HEARTBEAT_MS);
    streams.add(res);
    const stop = () => {
      clearInterval(heartbeat);
      for (const off of unsubscribe) off();
      streams.delete(res);
    };
    req.on('close', stop);
    res.on('error', stop);
  }

  async function media(rest: string, url: URL, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // Exactly /media/<key>/<kind>/<positive integer id>, no query: anything odd is refused here, before
    // the backend (which only ever serves files it knows, inside the library) is asked.
    const m = /^\/(photo|thumb|face)\/([1-9][0-9]{0,14})$/.exec(rest);
    if (!m || url.search !== '') return send(res, 404, { error: 'not found' });
    const kind = m[1] as MediaKind;
    const id = Number(m[2]);
    if (!MEDIA_KINDS.includes(kind) || !Number.isSafeInteger(id)) return send(res, 404, { error: 'not found' });
    let file: MediaFile;
    try {
      file = await backend.media(kind, id);
    } catch (err) {
      if (!(err instanceof ApiError)) logInternal(`GET /media${rest}`, err);
      const status = err instanceof ApiError ? err.status : 500;
      return send(res, status === 400 ? 404 : status, { error: publicMessage(err) });
    }
    if (!/^image\/[a-z0-9.+-]+$/i.test(file.contentType)) return send(res, 415, { error: 'not an image' });
    const headers: http.OutgoingHttpHeaders = {
      'Content-Type': file.contentType,
      'Cache-Control': 'private, no-cache',
      'Content-Security-Policy': "default-src 'none'; sandbox",
    };
    if (Buffer.isBuffer(file.body)) {
      const etag = `"${createHash('sha1').update(file.body).digest('base64url')}"`;
      if (req.headers['if-none-match'] === etag) return void res.writeHead(304, { ETag: etag }).end();
      res.writeHead(200, { ...headers, ETag: etag, 'Content-Length': file.body.length });
      res.end(req.method === 'HEAD' ? undefined : file.body);
      return;
    }
    const filePath = file.body.path;
    const info = path.isAbsolute(filePath) ? await stat(filePath).catch(() => null) : null;
    if (!info?.isFile()) return send(res, 404, { error: 'not found' });
    const etag = `"${info.size.toString(36)}-${Math.floor(info.mtimeMs).toString(36)}"`;
    if (req.headers['if-none-match'] === etag) return void res.writeHead(304, { ETag: etag }).end();
    res.writeHead(200, { ...headers, ETag: etag, 'Content-Length': info.size });
    if (req.method === 'HEAD') return void res.end();
    const stream = createReadStream(filePath);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  }

  function serveStatic(pathname: string, res: http.ServerResponse): void {
    let relative: string;
    try {
      relative = decodeURIComponent(pathname === '/' ? '/index.html' : pathname);
    } catch {
      return send(res, 400, { error: 'bad path' });
    }
    const file = path.resolve(staticDir, `.${relative}`);
    if (relative.includes('\0') || !file.startsWith(staticDir + path.sep))
      return send(res, 404, { error: 'not found' });
    if (!existsSync(file) || !statSync(file).isFile()) return send(res, 404, { error: 'not found' });
    res.writeHead(200, {
      'Content-Type': contentTypeOf(file),
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
    url: `http://127.0.0.1:${port}/#token=${token}&media=${mediaKey}`,
    port,
    token,
    mediaKey,
    close: () =>
      new Promise<void>((resolve) => {
        for (const stream of streams) stream.end();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** ApiError messages are meant for the user; anything else is an internal failure, logged here. */
function publicMessage(err: unknown): string {
  return err instanceof ApiError ? err.message : 'internal error (details in the facets serve output)';
}

function logInternal(what: string, err: unknown): void {
  process.stderr.write(`facets serve: ${what} failed: ${(err as Error).stack ?? String(err)}\n`);
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
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY) return reject(Object.assign(new Error('body too large'), { status: 413 }));
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        // Stop keeping the body but drain it, so the 413 answer still reaches the client.
        req.off('data', onData);
        req.resume();
        reject(Object.assign(new Error('body too large'), { status: 413 }));
      } else chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
