/**
 * A library on disk: the SQLite database, its thumbnail cache, and everything that reads or writes
 * them. The CLI and the backend (desktop app, web mode) both open one of these.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Settings } from '../api/contract.js';
import type { AnalyzerOptions } from '../engine/analyzer.js';
import { TILTED_FACE_PASSES } from '../engine/detection/mtcnn.js';
import type { Provider } from '../engine/sessions.js';
import { Catalog } from './catalog.js';
import { type Db, openDatabase } from './db.js';
import { defaultCacheDir } from './paths.js';
import { LibraryQueries } from './query.js';
import { FolderProblemRepository } from './repositories/folder-problems.js';
import { MaintenanceRepository } from './repositories/maintenance.js';
import { folderRange } from './repositories/photos.js';
import { ScanRepository } from './repositories/scans.js';
import { SettingsRepository } from './repositories/settings.js';
import { scanLockFile } from './scan-lock.js';
import { Scanner, type ScannerOptions } from './scanner.js';
import { ThumbnailCache } from './thumbnails.js';
import { XmpRepository } from './repositories/xmp.js';
import { XmpService } from './xmp/service.js';

export interface LibraryOptions {
  dbPath: string;
  /** Thumbnail cache (default: `<db name>.thumbs` next to the database). */
  cacheDir?: string;
  /** Read commands: open the database read-only; it must exist (see openDatabase). */
  readonly?: boolean;
}

/** Missing files are kept this long before `purge` deletes their rows (faces, corrections). */
export const DEFAULT_GRACE_DAYS = 30;

export class Library {
  readonly db: Db;
  readonly catalog: Catalog;
  readonly scans: ScanRepository;
  readonly settings: SettingsRepository;
  readonly queries: LibraryQueries;
  readonly thumbnails: ThumbnailCache;
  /** XMP sidecars: export, import on scan, "Keep XMP sidecars up to date". */
  readonly xmp: XmpService;
  /** Folders scans could not list (migration 5). */
  readonly folderProblems: FolderProblemRepository;
  /** Upkeep and totals (forgetting folders, purging, `facets stats`). */
  readonly maintenance: MaintenanceRepository;
  readonly dbPath: string;
  readonly readonly: boolean;

  constructor(options: LibraryOptions) {
    this.dbPath = path.resolve(options.dbPath);
    this.readonly = options.readonly ?? false;
    this.db = openDatabase(this.dbPath, { readonly: this.readonly });
    this.catalog = new Catalog(this.db);
    this.scans = new ScanRepository(this.db);
    this.settings = new SettingsRepository(this.db);
    this.queries = new LibraryQueries(this.db, this.catalog.faces);
    this.thumbnails = new ThumbnailCache(path.resolve(options.cacheDir ?? defaultCacheDir(this.dbPath)));
    this.xmp = new XmpService(new XmpRepository(this.db), this.catalog.faces, this.settings);
    this.folderProblems = new FolderProblemRepository(this.db);
    this.maintenance = new MaintenanceRepository(this.db);
  }

  /** A scanner over this library, analysing with the stored settings unless overridden. */
  scanner(
    options: Partial<Omit<ScannerOptions, 'catalog' | 'scans' | 'cacheDir' | 'lockFile' | 'folderProblems'>> = {},
  ): Scanner {
    return new Scanner({
      catalog: this.catalog,
      scans: this.scans,
      cacheDir: this.thumbnails.dir,
      lockFile: scanLockFile(this.dbPath),
      symlinks: this.settings.get().symlinks,
      folderProblems: this.folderProblems,
      ...analysisFromSettings(this.settings.get()),
      ...options,
    });
  }

  /**
   * Hides the photos under a folder that is no longer a library root (and not under another root)
   * by marking them missing: re-adding the folder within the grace period restores them unchanged.
   */
  forgetFolder(folder: string, remainingRoots: readonly string[]): number[] {
    const covered = (p: string) => remainingRoots.some((r) => p === r || p.startsWith(folderRange(r)[0]));
    const ids = this.maintenance
      .presentIn(folder)
      .filter((p) => !covered(p.path))
      .map((p) => p.id);
    this.catalog.markMissing(ids);
    return ids;
  }

  /**
   * Deletes photos missing for longer than the grace period (all missing ones with `graceDays` 0),
   * with their faces, predictions and corrections, and thumbnails no other photo shares.
   */
  async purgeMissing(graceDays = DEFAULT_GRACE_DAYS): Promise<{ id: number; path: string }[]> {
    const before = new Date(Date.now() - graceDays * 86_400_000).toISOString();
    const doomed = this.maintenance.missingSince(before);
    // Faces added by the user have idx beyond the detected faces' 0..n-1 ([Note: face edits]).
    const added = new Map(doomed.map((p) => [p.id, this.catalog.edits.addedOfPhoto(p.id).map((f) => f.idx)]));
    this.db.transaction(() => doomed.forEach((p) => this.catalog.photos.delete(p.id))).immediate();
    for (const p of doomed) {
      if (!p.content_hash || this.maintenance.photosWithHash(p.content_hash) > 0) continue;
      await rm(this.thumbnails.photoFile(p.content_hash), { force: true });
      for (let i = 0; i < p.face_count; i++) await rm(this.thumbnails.faceFile(p.content_hash, i), { force: true });
      for (const idx of added.get(p.id) ?? []) await rm(this.thumbnails.faceFile(p.content_hash, idx), { force: true });
    }
    return doomed.map(({ id, path: file }) => ({ id, path: file }));
  }

  close(): void {
    if (!this.db.open) return;
    if (!this.readonly) this.db.pragma('optimize');
    this.db.close();
  }
}

/** Analyzer options and execution providers from the stored settings. */
export function analysisFromSettings(settings: Settings): {
  analyzer: Partial<AnalyzerOptions>;
  providers?: Provider[];
} {
  const { maxSide, minFaceSize, thresholds, tiltedFaces } = settings.analysis;
  return {
    analyzer: {
      decode: { maxSide },
      detection: { minFaceSize, thresholds, rotations: tiltedFaces ? TILTED_FACE_PASSES : [] },
    },
    ...(settings.provider === 'auto' ? {} : { providers: [settings.provider] }),
  };
}
