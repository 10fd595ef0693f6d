/**
 * Face management in the photo viewer ([Note: face edits] in main/library/migrations.ts): "Not a face"
 * on a face, with Undo and the photo's rejected faces to restore, and "Add face" mode, where the user
 * drags a rectangle over the photo (Escape cancels), may type a name, and adds it. Every action asks
 * the back end, then tells the library it changed (the viewer shows the photo again); components only
 * call these.
 */
import type { FaceDetail, FacetsBridge, RejectedFace } from '../lib/api/index.js';
import type { Toasts } from './toasts.svelte.js';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The back end refuses smaller boxes (main/faces/service.ts MIN_ADDED_FACE_PX). */
export const MIN_BOX_PX = 8;

/** The rectangle between two corners, in photo pixels, kept on the photo. */
export function dragBox(
  a: { x: number; y: number },
  b: { x: number; y: number },
  size: { width: number; height: number },
): Box {
  const clampX = (v: number) => Math.min(size.width, Math.max(0, v));
  const clampY = (v: number) => Math.min(size.height, Math.max(0, v));
  const x1 = clampX(Math.min(a.x, b.x));
  const x2 = clampX(Math.max(a.x, b.x));
  const y1 = clampY(Math.min(a.y, b.y));
  const y2 = clampY(Math.max(a.y, b.y));
  return { x: Math.round(x1), y: Math.round(y1), width: Math.round(x2 - x1), height: Math.round(y2 - y1) };
}

export class FaceEditsState {
  /** The photo open in the viewer. */
  photoId = $state<number | null>(null);
  /** Its rejected faces (oldest first), each restorable. */
  rejected = $state<RejectedFace[]>([]);
  /** The last face rejected, for Undo. */
  lastRejected = $state<RejectedFace | null>(null);
  /** "Add face" mode: a drag over the photo draws a rectangle. */
  drawing = $state(false);
  /** The rectangle as drawn so far, or drawn and waiting for Add (photo pixels). */
  draft = $state<Box | null>(null);
  /** Whether the pointer is still down (the draft is still being dragged). */
  dragging = $state(false);
  /** The optional name for the face being added. */
  name = $state('');
  busy = $state(false);
  readonly canAdd = $derived(
    this.draft !== null && !this.dragging && this.draft.width >= MIN_BOX_PX && this.draft.height >= MIN_BOX_PX,
  );

  readonly #bridge: FacetsBridge;
  readonly #toasts: Pick<Toasts, 'show' | 'error'>;
  readonly #changed: () => void;
  #anchor: { x: number; y: number } | null = null;
  #size = { width: 0, height: 0 };
  /** Bumped by every open(): a slower answer for a photo the user has left is dropped. */
  #opening = 0;

  constructor(bridge: FacetsBridge, toasts: Pick<Toasts, 'show' | 'error'>, changed: () => void) {
    this.#bridge = bridge;
    this.#toasts = toasts;
    this.#changed = changed;
  }

  /** The viewer shows this photo: its rejected faces are loaded; drawing stops on another photo. */
  async open(photoId: number): Promise<void> {
    const generation = ++this.#opening;
    if (photoId !== this.photoId) {
      this.photoId = photoId;
      this.rejected = [];
      this.lastRejected = null;
      this.cancelDrawing();
    }
    try {
      const rejected = await this.#bridge.invoke('faces:rejected', { photoId });
      if (generation === this.#opening) this.rejected = rejected;
    } catch (err) {
      if (generation === this.#opening) this.#toasts.error(err);
    }
  }

  /** "Not a face". */
  async reject(faceId: number): Promise<void> {
    await this.#act(async () => {
      const { rejected } = await this.#bridge.invoke('faces:reject', { faceIds: [faceId] });
      const [done] = rejected;
      if (!done) return;
      this.lastRejected = done;
      this.rejected = [...this.rejected, done];
      this.#toasts.show('Not a face: removed from this photo', {
        action: { label: 'Undo', run: () => void this.undo() },
      });
    });
  }

  /** Puts a rejected face back. */
  async restore(id: number): Promise<void> {
    await this.#act(async () => {
      await this.#bridge.invoke('faces:restore', { ids: [id] });
      this.rejected = this.rejected.filter((r) => r.id !== id);
      if (this.lastRejected?.id === id) this.lastRejected = null;
      this.#toasts.show('Face restored');
    });
  }

  /** Restores the last face rejected here. */
  async undo(): Promise<void> {
    const last = this.lastRejected;
    if (last) await this.restore(last.id);
  }

  startDrawing(): void {
    this.drawing = true;
    this.draft = null;
    this.dragging = false;
    this.name = '';
  }

  /** Escape, Cancel, another photo: no rectangle, out of "Add face" mode. */
  cancelDrawing(): void {
    this.drawing = false;
    this.draft = null;
    this.dragging = false;
    this.#anchor = null;
    this.name = '';
  }

  /** The pointer went down at `point` (photo pixels) on a photo of `size`. */
  pointerDown(point: { x: number; y: number }, size: { width: number; height: number }): void {
    if (!this.drawing) return;
    this.#anchor = point;
    this.#size = size;
    this.dragging = true;
    this.draft = dragBox(point, point, size);
  }

  pointerMove(point: { x: number; y: number }): void {
    if (!this.dragging || !this.#anchor) return;
    this.draft = dragBox(this.#anchor, point, this.#size);
  }

  /** The drag ends: the rectangle waits for Add (a click without a drag leaves none). */
  pointerUp(point?: { x: number; y: number }): void {
    if (!this.dragging || !this.#anchor) return;
    if (point) this.draft = dragBox(this.#anchor, point, this.#size);
    this.dragging = false;
    this.#anchor = null;
    if (this.draft && (this.draft.width < MIN_BOX_PX || this.draft.height < MIN_BOX_PX)) this.draft = null;
  }

  /** Adds the drawn rectangle as a face (with the name, if one was typed); returns it. */
  async add(): Promise<FaceDetail | null> {
    const photoId = this.photoId;
    const box = this.draft;
    if (photoId === null || !box || !this.canAdd) return null;
    let added: FaceDetail | null = null;
    await this.#act(async () => {
      const name = this.name.trim();
      added = await this.#bridge.invoke('faces:add', { photoId, box: { ...box }, ...(name ? { name } : {}) });
      this.cancelDrawing();
      this.#toasts.show(name ? `Face added: ${name}` : 'Face added');
    });
    return added;
  }

  async #act(work: () => Promise<void>): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await work();
      this.#changed();
    } catch (err) {
      this.#toasts.error(err);
    } finally {
      this.busy = false;
    }
  }
}
