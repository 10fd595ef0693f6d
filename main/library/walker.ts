/**
 * Finds the photos under the library roots: a recursive walk that skips hidden and system folders,
 * honours exclusion patterns, follows symbolic links without ever looping (every directory and file
 * is visited once, by device and inode), and reports unreadable entries instead of failing.
 */
import type { Dirent, Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { type PhotoKind, photoKind } from '../engine/image/formats.js';

/** Folders that hold no user photos: tool metadata, trash, NAS thumbnail caches. */
const SYSTEM_FOLDERS = new Set(
  [
    'node_modules',
    '@eaDir', // Synology thumbnails
    '#recycle', // Synology trash
    '$RECYCLE.BIN',
    'System Volume Information',
    'lost+found',
    '__MACOSX',
  ].map((n) => n.toLowerCase()),
);

export interface WalkedFile {
  kind: 'file';
  path: string;
  photoKind: PhotoKind;
  size: number;
  mtimeMs: number;
}

/** A photo-named entry that exists but cannot be read (dangling link, no permission). */
export interface WalkedUnreadable {
  kind: 'unreadable';
  path: string;
  photoKind: PhotoKind;
  error: string;
}

export type WalkEntry = WalkedFile | WalkedUnreadable;

export interface WalkOptions {
  /** Glob-ish patterns (see compileExclusions) matched against paths relative to their root. */
  exclude?: readonly string[];
  /** Absolute paths never entered (the thumbnail cache when it sits inside a root). */
  skipPaths?: readonly string[];
  /** Folders that could not be listed. */
  onWarning?: (path: string, message: string) => void;
  /** 'inside-folders': links whose target is outside every root are not followed (Settings['symlinks']). */
  symlinks?: 'follow' | 'inside-folders';
}

/** Every photo under the roots, each file once, in a stable (sorted) order. */
export async function* walkLibrary(roots: readonly string[], options: WalkOptions = {}): AsyncGenerator<WalkEntry> {
  const excluded = compileExclusions(options.exclude ?? []);
  const skip = new Set((options.skipPaths ?? []).map((p) => path.resolve(p)));
  const seen = new Set<string>(); // "dev:ino" of every directory and file visited
  const warn = options.onWarning ?? (() => undefined);
  const insideOnly = options.symlinks === 'inside-folders';
  const realRoots = insideOnly ? await Promise.all(roots.map((r) => realpath(r).catch(() => path.resolve(r)))) : [];
  const insideRoots = (target: string) =>
    realRoots.some((r) => target === r || target.startsWith(r.endsWith(path.sep) ? r : r + path.sep));

  async function* walkDir(dir: string, root: string): AsyncGenerator<WalkEntry> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      warn(dir, describeFsError(err));
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    // Stat a directory's entries concurrently (network drives), then visit them in order.
    const visited = await Promise.all(entries.map((entry) => inspect(dir, root, entry)));
    for (const item of visited) {
      if (!item) continue;
      if (item.kind === 'dir') yield* walkDir(item.path, root);
      else yield item;
    }
  }

  async function inspect(
    dir: string,
    root: string,
    entry: Dirent,
  ): Promise<WalkEntry | { kind: 'dir'; path: string } | null> {
    const full = path.join(dir, entry.name);
    if (entry.name.startsWith('.') || skip.has(full)) return null;
    const relative = path.relative(root, full).split(path.sep).join('/');
    if (excluded(relative)) return null;
    const kind = entry.isDirectory() || entry.isSymbolicLink() ? null : photoKind(entry.name);
    if (!entry.isDirectory() && !entry.isSymbolicLink() && !kind) return null; // not a photo
    let stats: Stats;
    try {
      stats = await stat(full); // follows links
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && !entry.isSymbolicLink()) return null; // deleted meanwhile
      const linkKind = photoKind(entry.name);
      if (!linkKind) return null;
      return {
        kind: 'unreadable',
        path: full,
        photoKind: linkKind,
        error: describeFsError(err, entry.isSymbolicLink()),
      };
    }
    if (insideOnly && entry.isSymbolicLink()) {
      const target = await realpath(full).catch(() => null);
      if (target === null || !insideRoots(target)) return null; // leads out of the library folders
    }
    const identity = `${stats.dev}:${stats.ino}`;
    if (stats.isDirectory()) {
      if (SYSTEM_FOLDERS.has(entry.name.toLowerCase()) || seen.has(identity)) return null;
      seen.add(identity);
      return { kind: 'dir', path: full };
    }
    const fileKind = photoKind(entry.name);
    if (!stats.isFile() || !fileKind || seen.has(identity)) return null;
    seen.add(identity);
    return { kind: 'file', path: full, photoKind: fileKind, size: stats.size, mtimeMs: stats.mtimeMs };
  }

  for (const root of roots) {
    let stats: Stats;
    try {
      stats = await stat(root);
    } catch (err) {
      warn(root, describeFsError(err));
      continue;
    }
    if (!stats.isDirectory()) {
      warn(root, 'not a folder');
      continue;
    }
    const identity = `${stats.dev}:${stats.ino}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    yield* walkDir(path.resolve(root), path.resolve(root));
  }
}

/**
 * Exclusion patterns, matched against the path relative to its root with `/` separators:
 * `*` any run of characters within a name, `?` one character, `**` any number of folders.
 * A pattern without `/` matches any single name in the path (`*.tmp`, `Private`); one with `/`
 * matches from the root (`Scans/**`, `2019/raw`). Case-insensitive.
 */
export function compileExclusions(patterns: readonly string[]): (relativePath: string) => boolean {
  const matchers = patterns
    .map((p) =>
      p
        .trim()
        .replace(/\\/g, '/')
        .replace(/^\/+|\/+$/g, ''),
    )
    .filter(Boolean)
    .map((p) => {
      const regex = new RegExp(`^${globToRegex(p)}$`, 'i');
      return p.includes('/')
        ? (rel: string) =>
            regex.test(rel) || rel.split('/').some((_, i, parts) => regex.test(parts.slice(0, i + 1).join('/')))
        : (rel: string) => rel.split('/').some((name) => regex.test(name));
    });
  return (rel) => matchers.some((m) => m(rel));
}

function globToRegex(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      // "**/" or a trailing "**": any number of whole folders
      if (glob[i + 2] === '/') {
        out += '(?:.*/)?';
        i += 2;
      } else {
        out += '.*';
        i += 1;
      }
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return out;
}

/** A short, human-readable reason for a file-system error. */
export function describeFsError(err: unknown, symlink = false): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return symlink ? 'broken symbolic link (its target does not exist)' : 'file not found';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'symbolic link loop';
    case 'EIO':
      return 'input/output error (failing disk or disconnected drive?)';
    default:
      return e.message ?? String(err);
  }
}
