/**
 * The desktop shell's security policy as plain functions and constants (no Electron import), so that it
 * is tested under Node (test/unit/electron-policy.test.ts) although Electron itself cannot run here.
 *
 * - The renderer is served by the app's own protocol, `facets-app://renderer/…`, not `file://`: the
 *   protocol answers with the CSP as a header (the page's meta tag says the same), refuses any path out
 *   of the renderer folder, and `file://` keeps no extra privileges (the GrantFileProtocolExtraPrivileges
 *   fuse is off, see electron-builder.yml).
 * - External links open in the system browser only when they are on the allow-list.
 */
import path from 'node:path';
import { contentTypeOf } from '../server/content-types.js';

export const APP_SCHEME = 'facets-app';
export const APP_HOST = 'renderer';
export const RENDERER_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** The renderer's CSP; renderer/index.html carries the same policy as a meta tag. */
export const RENDERER_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: facets-media:; " +
  "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Media answers are images, never documents: nothing in them may run. */
export const MEDIA_CSP = "default-src 'none'; sandbox";

/** Pages the app may open in the system browser (the project's and the models' documentation). */
export const EXTERNAL_ALLOW_LIST: readonly string[] = [
  'https://github.com/',
  'https://onnxruntime.ai/',
  'https://www.electronjs.org/',
];

export function isAllowedExternalUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'https:' || parsed.username || parsed.password || parsed.port) return false;
  return EXTERNAL_ALLOW_LIST.some((prefix) => parsed.href.startsWith(prefix));
}

/** The file a `facets-app://renderer/…` URL names inside `rendererDir`, or null (other hosts, traversal). */
export function resolveAppFile(rendererDir: string, url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.hostname !== APP_HOST || parsed.port || parsed.username) {
    return null;
  }
  let relative: string;
  try {
    relative = decodeURIComponent(parsed.pathname === '/' ? '/index.html' : parsed.pathname);
  } catch {
    return null;
  }
  if (relative.includes('\0') || relative.includes('\\')) return null;
  const root = path.resolve(rendererDir);
  const file = path.resolve(root, `.${relative}`);
  return file.startsWith(root + path.sep) ? file : null;
}

/** Headers of an app-protocol answer: its type, the CSP, no sniffing. */
export function appHeaders(file: string): Record<string, string> {
  return {
    'Content-Type': contentTypeOf(file),
    'Content-Security-Policy': RENDERER_CSP,
    'X-Content-Type-Options': 'nosniff',
  };
}
