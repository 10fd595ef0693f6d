/**
 * Where training caches live: FACETS_CACHE_DIR, else $XDG_CACHE_HOME/facets, else ~/.cache/facets.
 * Nothing under it is ever committed: embeddings of research images stay on the machine that made them.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function cacheDir(): string {
  const fromEnv = process.env['FACETS_CACHE_DIR'];
  if (fromEnv) return path.resolve(fromEnv);
  const xdg = process.env['XDG_CACHE_HOME'];
  return path.join(xdg ? path.resolve(xdg) : path.join(os.homedir(), '.cache'), 'facets');
}

export function shortHash(text: string, length = 16): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** A file's size and mtime: with its path, the cache key of whatever was computed from it. */
export function fileStamp(file: string): string {
  const s = statSync(file);
  return `${s.size}:${Math.round(s.mtimeMs)}`;
}
