/**
 * Watches library roots for added, changed, moved and deleted photos and asks for a rescan, debounced
 * (a copy of 500 photos is one rescan, not 500). Recursive fs.watch where the platform has it, else
 * a timer: a rescan of an unchanged library is cheap (no hashing, no decoding), so polling is a fine
 * fallback. Every rescan resolves moves and deletions itself; the watcher only says "look again".
 */
import { type FSWatcher, watch } from 'node:fs';
import path from 'node:path';
import { photoKind } from '../engine/image/formats.js';

export interface WatchOptions {
  /** Quiet time after the last change before a rescan (default 1.5 s). */
  debounceMs?: number;
  /** Rescan interval where recursive watching is unavailable (default 60 s). */
  pollMs?: number;
  /** Paths whose changes never count (the thumbnail cache, the database). */
  ignore?: readonly string[];
}

export interface FolderWatcher {
  /** 'events' (fs.watch) or 'polling' per root. */
  readonly modes: ReadonlyMap<string, 'events' | 'polling'>;
  close(): void;
}

export function watchFolders(
  roots: readonly string[],
  onChange: () => void,
  options: WatchOptions = {},
): FolderWatcher {
  const debounceMs = options.debounceMs ?? 1500;
  const ignore = (options.ignore ?? []).map((p) => path.resolve(p));
  const watchers: FSWatcher[] = [];
  const timers: NodeJS.Timeout[] = [];
  const modes = new Map<string, 'events' | 'polling'>();
  let pending: NodeJS.Timeout | null = null;

  const changed = () => {
    if (pending) clearTimeout(pending);
    pending = setTimeout(() => {
      pending = null;
      onChange();
    }, debounceMs);
  };

  for (const root of roots) {
    try {
      const watcher = watch(root, { recursive: true }, (_event, name) => {
        if (!name) return changed(); // the platform did not say what: look anyway
        const full = path.resolve(root, name.toString());
        if (ignore.some((p) => full === p || full.startsWith(p + path.sep))) return;
        const base = path.basename(full);
        // Photos, and folders (no extension: a moved or deleted folder of photos); not sidecar files.
        if (base.startsWith('.') || (path.extname(base) && !photoKind(base))) return;
        changed();
      });
      watcher.on('error', () => {
        watcher.close();
        modes.set(root, 'polling');
        timers.push(setInterval(changed, options.pollMs ?? 60_000));
      });
      watchers.push(watcher);
      modes.set(root, 'events');
    } catch {
      modes.set(root, 'polling');
      timers.push(setInterval(changed, options.pollMs ?? 60_000));
    }
  }

  return {
    modes,
    close() {
      if (pending) clearTimeout(pending);
      for (const w of watchers) w.close();
      for (const t of timers) clearInterval(t);
    },
  };
}
