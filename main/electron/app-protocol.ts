/** `facets-app://renderer/…`: serves the renderer build with the CSP as a header (policy.ts). */
import { protocol } from 'electron';
import { readFile } from 'node:fs/promises';
import { APP_SCHEME, appHeaders, resolveAppFile } from './policy.js';

export function handleAppProtocol(rendererDir: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const file = request.method === 'GET' ? resolveAppFile(rendererDir, request.url) : null;
    if (!file) return new Response('not found', { status: 404 });
    try {
      return new Response(new Uint8Array(await readFile(file)), { headers: appHeaders(file) });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });
}
