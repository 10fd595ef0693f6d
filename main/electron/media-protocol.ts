/**
 * `facets-media://<thumb|photo|face>/<id>`: the only way the renderer gets images in the desktop app.
 * The renderer names an id, never a path; `backend.media` decides what (if anything) that id is.
 */
import { protocol } from 'electron';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ApiError, type Backend } from '../api/backend.js';
import type { MediaKind } from '../api/contract.js';
import { MEDIA_KINDS, MEDIA_SCHEME } from './bridge.js';
import { APP_SCHEME, MEDIA_CSP } from './policy.js';

/** Must run before the app is ready. */
export function registerMediaScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: MEDIA_SCHEME, privileges: { standard: true, secure: true, stream: true } },
    // The renderer's own origin (app-protocol.ts), instead of file://.
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  ]);
}

/** Parses `facets-media://thumb/12` into its kind and id; null for anything else. */
export function parseMediaUrl(url: string): { kind: MediaKind; id: number } | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const m = /^\/([1-9][0-9]{0,14})$/.exec(parsed.pathname);
  const kind = parsed.hostname as MediaKind;
  if (parsed.protocol !== `${MEDIA_SCHEME}:` || !m || parsed.search || parsed.hash || parsed.port) return null;
  if (!(MEDIA_KINDS as readonly string[]).includes(kind)) return null;
  return { kind, id: Number(m[1]) };
}

export function handleMediaProtocol(backend: Backend): void {
  const notFound = () => new Response('not found', { status: 404 });
  protocol.handle(MEDIA_SCHEME, async (request) => {
    const target = parseMediaUrl(request.url);
    if (!target || request.method !== 'GET') return notFound();
    try {
      const file = await backend.media(target.kind, target.id);
      if (!/^image\/[a-z0-9.+-]+$/i.test(file.contentType)) return notFound();
      const headers = {
        'Content-Type': file.contentType,
        'Cache-Control': 'private, max-age=60',
        'Content-Security-Policy': MEDIA_CSP,
        'X-Content-Type-Options': 'nosniff',
      };
      if (Buffer.isBuffer(file.body)) return new Response(new Uint8Array(file.body), { headers });
      const filePath = file.body.path;
      const info = path.isAbsolute(filePath) ? await stat(filePath).catch(() => null) : null;
      if (!info?.isFile()) return notFound();
      const body = Readable.toWeb(createReadStream(filePath)) as ReadableStream<Uint8Array>;
      return new Response(body, { headers: { ...headers, 'Content-Length': String(info.size) } });
    } catch (err) {
      if (!(err instanceof ApiError)) console.error(`facets: ${request.url} failed`, err);
      return notFound();
    }
  });
}
