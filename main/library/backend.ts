/**
 * The backend both transports sit on (Electron IPC, web mode): validates each request at the
 * boundary (main/api/handlers.ts), answers it from the library, runs scans in worker threads, emits
 * 'scan:progress' and 'library:changed', and serves media from inside the library only.
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ApiError, type Backend, type BackendOptions, type MediaFile } from '../api/backend.js';
import type {
  Api,
  Attribute,
  Channel,
  EventName,
  Events,
  FaceDetail,
  FaceSummary,
  Facets,
  Filter,
  MediaKind,
  Request,
  Response,
  ScanProgress,
  Settings,
} from '../api/contract.js';
import { idleScanProgress } from '../api/contract.js';
import { validateRequest } from '../api/handlers.js';
import { headsDir } from '../engine/attributes/heads.js';
import { packageVersion } from '../paths.js';
import { decodePhoto } from '../engine/image/photos.js';
import { photoKind } from '../engine/image/formats.js';
import { hashFile } from './hash.js';
import { Learning } from '../learning/learning.js';
import { faceEditHandlers } from '../faces/handlers.js';
import { peopleHandlers, personOfFace } from '../people/handlers.js';
import { peopleAfterScan, peopleOf } from '../people/library.js';
import { Presentation } from './presentation.js';
import { Library, analysisFromSettings } from './library.js';
import { readMetadata } from './metadata.js';
import { folderRange } from './repositories/photos.js';
import { scanLockFile, scanLockHolder } from './scan-lock.js';
import type { Scanner, ScanSummary } from './scanner.js';
import { now } from './db.js';
import { uncertainThresholds } from './uncertainty.js';
import { modelVersions } from './model-versions.js';
import { writeFaceThumbnails } from './thumbnails.js';

const CHANGE_FLUSH_MS = 300;
/** Beyond this many changed photos in one flush, listeners are told 'all'. */
const CHANGE_LIST_LIMIT = 1000;

const CONTENT_TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.jpe': 'image/jpeg',
  '.jfif': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.avif': 'image/avif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.heic': 'image/heic',
  '.heif': 'image/heif',
  '.hif': 'image/heif',
};

type Handlers = { [C in Channel]: (request: Request<C>) => Response<C> | Promise<Response<C>> };

export async function openBackend(options: BackendOptions): Promise<Backend> {
  const library = new Library({ dbPath: options.dbPath, ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}) });
  peopleOf(library); // names in and out of sidecars from the first export on ([Note: xmp-names])
  return new LibraryBackend(library, options);
}

class LibraryBackend implements Backend {
  private readonly events = new EventEmitter();
  private scanner: Scanner | null = null;
  private scanRun: Promise<ScanSummary | null> | null = null;
  private lastProgress: ScanProgress = idleScanProgress();
  private readonly changed = new Set<number>();
  private changedAll = false;
  private flushTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly handlers: Handlers;
  private readonly learning: Learning;
  /** XMP sidecar work after scans and corrections, one after another; awaited on close. */
  private xmpWork: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly library: Library,
    private readonly options: BackendOptions,
  ) {
    this.events.setMaxListeners(0);
    this.learning = new Learning({
      db: library.db,
      dbPath: library.dbPath,
      headsDir: options.headsDir ?? headsDir(),
      ...(options.minCorrections !== undefined ? { minCorrections: options.minCorrections } : {}),
      providers: () => analysisFromSettings(library.settings.get()).providers,
      emit: (status) => this.events.emit('learning:progress', status),
    });
    this.handlers = {
      'app:info': () => ({
        name: 'Facets',
        version: packageVersion(),
        platform: process.platform,
        database: this.library.dbPath,
        uncertainty: uncertainThresholds(),
        models: modelVersions(),
      }),
      'settings:get': () => this.library.settings.get(),
      'settings:update': (changes) => this.updateSettings(changes),
      'folders:add': ({ path: folder }) => {
        const { folders } = this.library.settings.get();
        return folders.includes(folder)
          ? this.library.settings.get()
          : this.updateSettings({ folders: [...folders, folder] });
      },
      'folders:remove': ({ path: folder }) => {
        const { folders } = this.library.settings.get();
        if (!folders.includes(folder)) throw new ApiError(`${folder} is not a library folder`, 404);
        return this.updateSettings({ folders: folders.filter((f) => f !== folder) });
      },
      'scan:start': ({ folders }) => this.startScan(folders),
      'scan:pause': () => {
        this.scanner?.pause();
        return this.progress();
      },
      'scan:resume': () => {
        this.scanner?.resume();
        return this.progress();
      },
      'scan:cancel': () => {
        this.scanner?.cancel();
        return this.progress();
      },
      'scan:status': () => this.progress(),
      'photos:query': ({ filter, page, sort }) => this.library.queries.photos(this.visibleFilter(filter), page, sort),
      'faces:query': ({ filter, page }) => {
        const result = this.library.queries.faces(this.visibleFilter(filter), page);
        return { total: result.total, items: result.items.map((f) => this.present(f)) };
      },
      'facets:get': ({ filter, target }) => this.facets(filter, target),
      'photo:get': ({ id }) => {
        const photo = this.library.queries.photoDetail(id);
        if (!photo) throw new ApiError(`no photo ${id}`, 404);
        return { ...photo, faces: photo.faces.map((f) => this.presentDetail(f)) };
      },
      'face:get': ({ id }) => {
        const face = this.library.queries.faceDetail(id);
        if (!face) throw new ApiError(`no face ${id}`, 404);
        return this.presentDetail(face);
      },
      'faces:correct': ({ faceIds, attribute, value }) => this.correct(faceIds, attribute, value),
      'faces:uncorrect': ({ faceIds, attribute }) => this.correct(faceIds, attribute, null),
      'errors:list': ({ page }) => ({
        ...this.library.queries.errors(page),
        folders: this.library.folderProblems.list(),
      }),
      'errors:ignore': ({ photoIds, ignored }) => ({
        changed: this.library.catalog.photos.setErrorIgnored(photoIds, ignored, now()),
      }),
      'learning:status': () => this.learning.status(),
      'learning:start': () => this.learning.start(),
      'learning:revert': () => this.learning.revert(),
      'errors:retry': ({ photoIds }) => {
        this.library.catalog.retries.makeDue(photoIds);
        if (this.scanner?.busy) return this.scanner.progress;
        return this.library.settings.get().folders.length === 0 ? this.progress() : this.startScan(undefined);
      },
      ...peopleHandlers({
        library: this.library,
        present: (face) => this.present(face),
        changed: (ids) => this.emitChanged(ids),
        closed: () => this.closed,
      }),
      ...faceEditHandlers({
        library: this.library,
        detail: (id) => {
          const face = this.library.queries.faceDetail(id);
          return face && this.presentDetail(face);
        },
        changed: (photoIds) => {
          this.emitChanged(photoIds);
          this.afterXmp(() => this.library.xmp.afterChange(photoIds, () => this.closed));
        },
      }),
    };
  }

  async handle<C extends Channel>(channel: C, request: unknown): Promise<Response<C>> {
    if (this.closed) throw new ApiError('the library is closed', 409);
    const valid = validateRequest(channel, request);
    const handler = this.handlers[channel] as (request: Api[C]['request']) => Response<C> | Promise<Response<C>>;
    return handler(valid);
  }

  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
    this.events.on(event, listener);
    return () => this.events.off(event, listener);
  }

  async media(kind: MediaKind, id: number): Promise<MediaFile> {
    if (!Number.isSafeInteger(id) || id < 1) throw new ApiError('not found', 404);
    if (kind === 'face') {
      const face = this.library.catalog.faces.byId(id);
      const photo = face && this.library.catalog.photos.byId(face.photo_id);
      if (!face || !photo?.content_hash) throw new ApiError(`no face ${id}`, 404);
      const file = this.library.thumbnails.faceFile(photo.content_hash, face.idx);
      return { contentType: 'image/webp', body: await this.thumbnail(file, photo.id) };
    }
    const photo = this.library.catalog.photos.byId(id);
    if (!photo || photo.missing_since) throw new ApiError(`no photo ${id}`, 404);
    if (kind === 'photo') {
      if (!existsSync(photo.path)) throw new ApiError(`the file of photo ${id} is gone`, 404);
      const type = CONTENT_TYPES[path.extname(photo.path).toLowerCase()] ?? 'application/octet-stream';
      return { contentType: type, body: { path: photo.path } };
    }
    if (!photo.content_hash || photo.status !== 'ok') throw new ApiError(`photo ${id} has no thumbnail`, 404);
    return {
      contentType: 'image/webp',
      body: await this.thumbnail(this.library.thumbnails.photoFile(photo.content_hash), id),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.scanner?.cancel();
    await Promise.all([this.scanRun, this.learning.close()]);
    await this.xmpWork;
    this.flushChanges();
    this.events.removeAllListeners();
    this.library.close();
  }

  private progress(): ScanProgress {
    return this.scanner?.busy ? this.scanner.progress : this.lastProgress;
  }

  private async updateSettings(changes: Partial<Settings>): Promise<Settings> {
    const before = this.library.settings.get();
    const after = this.library.settings.update(changes);
    const removed = before.folders.filter((f) => !after.folders.includes(f));
    if (removed.length > 0) {
      // A scan of a folder being removed would write photos back into it.
      if (this.scanner?.busy) {
        this.scanner.cancel();
        await this.scanRun;
      }
      for (const folder of removed) this.library.forgetFolder(folder, after.folders);
    }
    if (removed.length > 0 || before.hideEthnicity !== after.hideEthnicity) this.emitChanged('all');
    // What the sidecars say changed (hiding ethnicity above all): rewrite them all, in the background.
    const sidecarsChanged =
      before.hideEthnicity !== after.hideEthnicity || JSON.stringify(before.xmp) !== JSON.stringify(after.xmp);
    if (after.xmp.keepUpToDate && sidecarsChanged) {
      this.afterXmp(() => this.library.xmp.export({ shouldStop: () => this.closed }));
    }
    return after;
  }

  private startScan(requested: string[] | undefined): ScanProgress {
    if (this.scanner?.busy) return this.scanner.progress;
    const holder = scanLockHolder(scanLockFile(this.library.dbPath));
    if (holder !== null && holder !== process.pid) {
      throw new ApiError(`another Facets (process ${holder}) is scanning this library: wait for it to finish`, 409);
    }
    const roots = this.library.settings.get().folders;
    if (roots.length === 0) throw new ApiError('no photo folders yet: add a folder first', 409);
    const folders = requested ?? roots;
    for (const folder of folders) {
      if (!roots.some((root) => folder === root || folder.startsWith(folderRange(root)[0]))) {
        throw new ApiError(`${folder} is not inside a library folder: add it first`, 400);
      }
    }
    const changed = new Set<number>();
    const scanner = this.library.scanner({
      ...(this.options.workers ? { workers: this.options.workers } : {}),
      onProgress: (progress) => {
        this.lastProgress = progress;
        this.events.emit('scan:progress', progress);
      },
      onChanged: (ids) => {
        for (const id of ids) changed.add(id);
        this.emitChanged(ids);
      },
    });
    this.scanner = scanner;
    this.scanRun = scanner
      .scan(folders)
      .then(async (summary) => {
        this.afterXmp(() =>
          this.library.xmp.afterScan([...changed], { roots: folders, shouldStop: () => this.closed }),
        );
        // New faces join people (and faces from before people existed get their vectors first).
        const { placed, embedded } = await peopleAfterScan(this.library, { shouldStop: () => this.closed });
        if (placed > 0 || embedded > 0) this.emitChanged('all');
        return summary;
      })
      .catch((err: unknown) => {
        console.error('facets: scan failed', err);
        return null;
      });
    return scanner.progress;
  }

  private facets(filter: Filter, target: 'photos' | 'faces'): Facets {
    const facets = this.library.queries.facets(this.visibleFilter(filter), target, this.library.settings.get().folders);
    return this.view().facets(facets);
  }

  private correct(faceIds: number[], attribute: Attribute, value: string | null): { updated: FaceSummary[] } {
    if (attribute === 'ethnicity' && this.ethnicityHidden()) {
      throw new ApiError('ethnicity is hidden in the settings', 409);
    }
    const { faces } = this.library.catalog;
    const rows = faceIds.map((id) => faces.byId(id));
    const unknown = faceIds.filter((_, i) => !rows[i]);
    if (unknown.length > 0) throw new ApiError(`no face ${unknown.slice(0, 10).join(', ')}`, 404);
    const at = new Date().toISOString();
    this.library.db
      .transaction(() => {
        for (const id of faceIds) {
          if (value === null) faces.uncorrect(id, attribute);
          else faces.correct(id, attribute, value, at);
        }
      })
      .immediate();
    const updated = faceIds.map((id) => this.library.queries.faceDetail(id)).filter((f) => f !== undefined);
    const photoIds = [...new Set(updated.map((f) => f.photoId))];
    this.emitChanged(photoIds);
    this.afterXmp(() => this.library.xmp.afterChange(photoIds, () => this.closed));
    return {
      updated: updated.map(({ landmarks: _l, quality: _q, predictions: _p, corrections: _c, ...summary }) =>
        this.present(summary),
      ),
    };
  }

  /** Sidecar reads and writes run after the request (their problems are recorded by the XMP service). */
  private afterXmp(work: () => Promise<unknown>): void {
    this.xmpWork = this.xmpWork
      .then(() => (this.library.db.open ? work() : null))
      .catch((err: unknown) => console.error('facets: XMP sidecars', err));
  }

  private ethnicityHidden(): boolean {
    return this.library.settings.get().hideEthnicity;
  }

  /** What the answers show ([Note: presentation policy]: the CLI applies the same). */
  private view(): Presentation {
    return Presentation.of(this.library.settings.get());
  }

  private visibleFilter(filter: Filter): Filter {
    return this.view().filter(filter);
  }

  private present(face: FaceSummary): FaceSummary {
    return this.view().face(face);
  }

  private presentDetail(detail: FaceDetail): FaceDetail {
    return this.view().detail({ ...detail, person: personOfFace(this.library, detail.id) });
  }

  /** A cached thumbnail, re-made from the original when the cache lost it. */
  private async thumbnail(file: string, photoId: number): Promise<Buffer> {
    try {
      return await readFile(file);
    } catch {
      await this.rebuildThumbnails(photoId);
      try {
        return await readFile(file);
      } catch {
        throw new ApiError('thumbnail unavailable', 404);
      }
    }
  }

  private async rebuildThumbnails(photoId: number): Promise<void> {
    const photo = this.library.catalog.photos.byId(photoId);
    const kind = photo && photoKind(photo.path);
    if (!photo?.content_hash || !kind || photo.status !== 'ok' || !existsSync(photo.path)) return;
    if ((await hashFile(photo.path)) !== photo.content_hash) return; // changed since: the next scan redoes it
    const file = await readFile(photo.path);
    const { maxSide } = this.library.settings.get().analysis;
    const image = await decodePhoto(file, kind, { maxSide }, (await readMetadata(file)).orientation);
    // By idx: faces the user added or put back are not at their position ([Note: face edits]).
    const faces = this.library.catalog.faces
      .ofPhoto(photoId)
      .map((f) => ({ idx: f.idx, box: { x: f.x, y: f.y, width: f.w, height: f.h } }));
    await this.library.thumbnails.writeAll(photo.content_hash, image, []);
    await writeFaceThumbnails(this.library.thumbnails, photo.content_hash, image, faces);
  }

  private emitChanged(ids: number[] | 'all'): void {
    if (ids === 'all') this.changedAll = true;
    else for (const id of ids) this.changed.add(id);
    this.flushTimer ??= setTimeout(() => this.flushChanges(), CHANGE_FLUSH_MS);
  }

  private flushChanges(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (!this.changedAll && this.changed.size === 0) return;
    const photoIds = this.changedAll || this.changed.size > CHANGE_LIST_LIMIT ? 'all' : [...this.changed];
    this.changed.clear();
    this.changedAll = false;
    this.events.emit('library:changed', { photoIds });
  }
}
