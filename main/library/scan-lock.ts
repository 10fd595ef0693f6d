/**
 * One scan per library at a time, across processes (the app and `facets scan` on the same library):
 * a lock file beside the database, made with O_EXCL, holding the scanning process's id. A lock whose
 * process is gone (killed, crashed) is stale and taken over. Within one process the Scanner refuses a
 * second scan itself.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';

export class ScanLockedError extends Error {
  constructor(readonly pid: number) {
    super(`a scan of this library is already running (process ${pid}); wait for it to finish or stop it`);
    this.name = 'ScanLockedError';
  }
}

export function scanLockFile(dbPath: string): string {
  return `${dbPath}.scan-lock`;
}

/** The id of the live process holding the lock, or null when it is free (or stale). */
export function scanLockHolder(lockFile: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(lockFile, 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  if (pid === process.pid) return pid;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    // EPERM: alive, another user's; ESRCH: gone.
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

/** Takes the lock (taking over a stale one); throws ScanLockedError while another live process holds it. */
export function acquireScanLock(lockFile: string): () => void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx' });
      let released = false;
      return () => {
        if (released) return;
        released = true;
        if (scanLockHolder(lockFile) === process.pid) rmSync(lockFile, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = scanLockHolder(lockFile);
      if (holder !== null) throw new ScanLockedError(holder);
      rmSync(lockFile, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`cannot take the scan lock ${lockFile}`);
}

/**
 * Removes the temporary thumbnail files a killed scan or a full disk left behind (thumbnails.ts writes
 * `<name>.<pid>.<random>.tmp` and renames it). Called with the scan lock held, so no writer is live.
 */
export async function removeTemporaryThumbnails(cacheDir: string): Promise<number> {
  let removed = 0;
  let entries: string[];
  try {
    entries = await readdir(cacheDir, { recursive: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (!entry.endsWith('.tmp')) continue;
    await rm(path.join(cacheDir, entry), { force: true });
    removed++;
  }
  return removed;
}
