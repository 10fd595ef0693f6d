/**
 * Application state shared by every view: the bridge, settings, scan progress, the current view, the
 * library under the active filter, the face selection, and the actions that change them.
 */
import { getContext, setContext } from 'svelte';
import {
  type AppInfo,
  type Attribute,
  type FacetsBridge,
  HttpBridge,
  type ScanProgress,
  type Settings,
  idleScanProgress,
} from '../lib/api/index.js';
import { plainError } from '../lib/errors.js';
import { ATTRIBUTE_NAMES, plural, valueName } from '../lib/labels.js';
import { LearningState } from './learning.svelte.js';
import { LibraryState } from './library.svelte.js';
import { PeopleState } from './people.svelte.js';
import { FaceEditsState } from './face-edits.svelte.js';
import { Selection } from './selection.svelte.js';
import { Toasts } from './toasts.svelte.js';

export type View = 'photos' | 'faces' | 'people' | 'errors' | 'settings';

/** What the photo viewer shows: a position in the photo results, or the photo of a face result. */
export interface ViewerTarget {
  source: 'photos' | 'faces';
  index: number;
}

export class AppState {
  readonly bridge: FacetsBridge;
  /** The desktop app (native folder picker) rather than a browser. */
  readonly desktop: boolean;
  readonly toasts = new Toasts();
  readonly library: LibraryState;
  readonly selection = new Selection();
  readonly learning: LearningState;
  readonly people: PeopleState;
  /** "Not a face" and "Add face" in the photo viewer. */
  readonly faceEdits: FaceEditsState;

  info = $state<AppInfo | null>(null);
  settings = $state<Settings | null>(null);
  scan = $state<ScanProgress>(idleScanProgress());
  /** The last scan's final progress, shown until dismissed. */
  finishedScan = $state<ScanProgress | null>(null);
  view = $state<View>('photos');
  /** First run: the welcome screen stays until the user starts the first scan. */
  onboarding = $state(false);
  ready = $state(false);
  loadError = $state<string | null>(null);
  connection = $state<'open' | 'connecting' | 'lost'>('open');
  viewer = $state<ViewerTarget | null>(null);
  errorCount = $state(0);
  /** The last correction made in this window, for Ctrl+Z / ⌘Z. */
  lastCorrection = $state<{ faceIds: number[]; attribute: Attribute } | null>(null);

  readonly hideEthnicity = $derived(this.settings?.hideEthnicity ?? false);

  constructor(bridge: FacetsBridge) {
    this.bridge = bridge;
    this.desktop = typeof bridge.chooseFolder === 'function';
    this.library = new LibraryState(bridge, (err) => this.toasts.error(err));
    this.learning = new LearningState(bridge, this.toasts);
    this.people = new PeopleState(bridge, this.toasts);
    this.faceEdits = new FaceEditsState(bridge, this.toasts, () => this.library.changed());
  }

  async start(): Promise<void> {
    this.bridge.on('scan:progress', (progress) => this.#onProgress(progress));
    this.bridge.on('library:changed', () => {
      this.library.changed();
      // Corrections count toward learning from them: the panel shows the new totals.
      if (this.view === 'settings') void this.learning.refresh();
      if (this.view === 'people') void this.people.load();
    });
    this.learning.listen();
    if (this.bridge instanceof HttpBridge) {
      let previous = this.connection;
      this.bridge.onConnection((state) => {
        // Back after an outage: events were missed, so catch up.
        if (state === 'open' && previous !== 'open') void this.#catchUp();
        previous = state;
        this.connection = state;
      });
    }
    try {
      const [info, settings, scan] = await Promise.all([
        this.bridge.invoke('app:info', undefined),
        this.bridge.invoke('settings:get', undefined),
        this.bridge.invoke('scan:status', undefined),
      ]);
      this.info = info;
      this.settings = settings;
      this.scan = scan;
      this.onboarding = settings.folders.length === 0;
      this.ready = true;
      await Promise.all([this.library.refresh(true), this.refreshErrorCount()]);
    } catch (err) {
      this.loadError = (err as Error).message;
    }
  }

  async #catchUp(): Promise<void> {
    try {
      this.scan = await this.bridge.invoke('scan:status', undefined);
      await Promise.all([this.library.refresh(false), this.learning.refresh()]);
    } catch (err) {
      this.toasts.error(err);
    }
  }

  #onProgress(progress: ScanProgress): void {
    const wasRunning = this.scan.state !== 'idle';
    const newErrors = progress.errors !== this.scan.errors;
    this.scan = progress;
    if (newErrors) void this.refreshErrorCount();
    if (progress.state === 'idle' && wasRunning) {
      this.finishedScan = progress;
      this.library.changed();
      void this.refreshErrorCount();
    }
  }

  setView(view: View): void {
    if (view !== this.view) this.toasts.clearInfo();
    this.view = view;
    if (view === 'photos' || view === 'faces') this.library.setTarget(view);
    if (view === 'errors') void this.refreshErrorCount();
  }

  async refreshErrorCount(): Promise<void> {
    try {
      const { total } = await this.bridge.invoke('errors:list', { page: { offset: 0, limit: 1 } });
      this.errorCount = total;
    } catch {
      // The count is a hint; the errors view reports failures itself.
    }
  }

  async updateSettings(patch: Partial<Settings>): Promise<boolean> {
    try {
      this.settings = await this.bridge.invoke('settings:update', patch);
      return true;
    } catch (err) {
      this.toasts.error(err);
      return false;
    }
  }

  /** Adds a library folder; on failure returns what went wrong in plain words, for beside the field. */
  async addFolder(path: string): Promise<string | null> {
    try {
      this.settings = await this.bridge.invoke('folders:add', { path: path.trim() });
      return null;
    } catch (err) {
      return plainError(err);
    }
  }

  /** Saves settings; on failure returns the plain-words problem for beside the field (no toast). */
  async saveSettings(patch: Partial<Settings>): Promise<string | null> {
    try {
      this.settings = await this.bridge.invoke('settings:update', patch);
      return null;
    } catch (err) {
      return plainError(err);
    }
  }

  async removeFolder(path: string): Promise<void> {
    try {
      this.settings = await this.bridge.invoke('folders:remove', { path });
      this.library.changed();
    } catch (err) {
      this.toasts.error(err);
    }
  }

  async startScan(folders?: string[]): Promise<void> {
    try {
      this.finishedScan = null;
      this.scan = await this.bridge.invoke('scan:start', folders ? { folders } : {});
      this.onboarding = false;
    } catch (err) {
      this.toasts.error(err);
    }
  }

  async scanControl(action: 'scan:pause' | 'scan:resume' | 'scan:cancel'): Promise<void> {
    try {
      this.scan = await this.bridge.invoke(action, undefined);
    } catch (err) {
      this.toasts.error(err);
    }
  }

  /** Tries the failed files again now (all of them, or the ones given), through a scan. */
  async retryFailed(photoIds?: number[]): Promise<void> {
    try {
      this.finishedScan = null;
      this.scan = await this.bridge.invoke('errors:retry', photoIds ? { photoIds } : {});
    } catch (err) {
      this.toasts.error(err);
    }
  }

  /** Stores a correction on every face in `faceIds`, with Undo in the confirmation. */
  async correct(faceIds: number[], attribute: Attribute, value: string): Promise<boolean> {
    try {
      await this.bridge.invoke('faces:correct', { faceIds, attribute, value });
      this.lastCorrection = { faceIds, attribute };
      this.library.changed();
      this.toasts.show(
        `${ATTRIBUTE_NAMES[attribute]} set to ${valueName(value)} on ${plural(faceIds.length, 'face')}`,
        { action: { label: 'Undo', run: () => void this.uncorrect(faceIds, attribute) } },
      );
      return true;
    } catch (err) {
      this.toasts.error(err);
      return false;
    }
  }

  async uncorrect(faceIds: number[], attribute: Attribute): Promise<boolean> {
    try {
      await this.bridge.invoke('faces:uncorrect', { faceIds, attribute });
      if (
        this.lastCorrection?.attribute === attribute &&
        this.lastCorrection.faceIds.every((id) => faceIds.includes(id))
      )
        this.lastCorrection = null;
      this.library.changed();
      this.toasts.show(`${ATTRIBUTE_NAMES[attribute]} back to the prediction on ${plural(faceIds.length, 'face')}`);
      return true;
    } catch (err) {
      this.toasts.error(err);
      return false;
    }
  }

  /** Ctrl+Z / ⌘Z: undoes the last correction as its Undo button does (back to the prediction). */
  async undoLast(): Promise<boolean> {
    const last = this.lastCorrection;
    if (!last) {
      this.toasts.show('Nothing to undo');
      return false;
    }
    return this.uncorrect(last.faceIds, last.attribute);
  }

  /** "Show in folder" in the desktop app; a browser cannot, so the path goes to the clipboard instead. */
  async revealPhoto(photo: { id: number; path: string }): Promise<void> {
    try {
      if (this.bridge.showInFolder) {
        await this.bridge.showInFolder(photo.id);
        return;
      }
      await navigator.clipboard.writeText(photo.path);
      this.toasts.show(`Path copied: ${photo.path}`);
    } catch (err) {
      // No clipboard (permission refused): show the path so it can be copied by hand.
      if (!this.bridge.showInFolder) this.toasts.show(`Copy this path: ${photo.path}`);
      else this.toasts.error(err);
    }
  }

  /** Hides problems from the Problems view (until the file is analysed again), with Undo. */
  async ignoreErrors(photoIds: number[], ignored = true): Promise<boolean> {
    try {
      await this.bridge.invoke('errors:ignore', { photoIds, ignored });
      this.library.changed();
      void this.refreshErrorCount();
      if (ignored)
        this.toasts.show(`${plural(photoIds.length, 'problem')} ignored`, {
          action: { label: 'Undo', run: () => void this.ignoreErrors(photoIds, false) },
        });
      return true;
    } catch (err) {
      this.toasts.error(err);
      return false;
    }
  }

  openViewer(source: 'photos' | 'faces', index: number): void {
    this.viewer = { source, index };
  }

  closeViewer(): void {
    this.viewer = null;
  }
}

const KEY = Symbol('facets-app');

export function provideApp(app: AppState): void {
  setContext(KEY, app);
}

export function useApp(): AppState {
  return getContext<AppState>(KEY);
}
