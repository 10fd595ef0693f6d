/**
 * Learning from corrections: the status the backend reports ('learning:status', then every
 * 'learning:progress' event), and the actions that start a fine-tune and revert to the previous heads.
 */
import type { FacetsBridge, LearningStatus } from '../lib/api/index.js';
import { ATTRIBUTE_NAMES, percent } from '../lib/labels.js';
import type { Toasts } from './toasts.svelte.js';

export class LearningState {
  status = $state<LearningStatus | null>(null);
  loadError = $state<string | null>(null);
  /** A start or revert request is on its way. */
  pending = $state<'start' | 'revert' | null>(null);

  readonly canStart = $derived((this.status?.canStart ?? false) && this.pending === null);
  readonly canRevert = $derived(
    (this.status?.previous ?? null) !== null && !this.status?.running && this.pending === null,
  );

  readonly #bridge: FacetsBridge;
  readonly #toasts: Toasts;

  constructor(bridge: FacetsBridge, toasts: Toasts) {
    this.#bridge = bridge;
    this.#toasts = toasts;
  }

  /** Follows the backend's learning events; returns the unsubscribe function. */
  listen(): () => void {
    return this.#bridge.on('learning:progress', (status) => this.#update(status));
  }

  async refresh(): Promise<void> {
    try {
      this.#update(await this.#bridge.invoke('learning:status', undefined));
      this.loadError = null;
    } catch (err) {
      this.loadError = (err as Error).message;
    }
  }

  async start(): Promise<void> {
    this.pending = 'start';
    try {
      this.#update(await this.#bridge.invoke('learning:start', undefined));
    } catch (err) {
      this.#toasts.error(err);
      await this.refresh();
    } finally {
      this.pending = null;
    }
  }

  async revert(): Promise<boolean> {
    this.pending = 'revert';
    try {
      this.#update(await this.#bridge.invoke('learning:revert', undefined));
      this.#toasts.show('Reverted to the previous heads: photos scanned from now on use them.');
      return true;
    } catch (err) {
      this.#toasts.error(err);
      await this.refresh();
      return false;
    } finally {
      this.pending = null;
    }
  }

  #update(status: LearningStatus): void {
    const wasRunning = (this.status?.running ?? null) !== null;
    this.status = status;
    if (!wasRunning || status.running) return;
    // A fine-tune just ended.
    if (status.lastError) this.#toasts.error(status.lastError.message);
    else if (status.lastResult) {
      const r = status.lastResult;
      const kept = r.attributes.filter((a) => a.kept).map((a) => ATTRIBUTE_NAMES[a.attribute]);
      this.#toasts.show(
        kept.length > 0
          ? `Fine-tune finished: ${kept.join(', ')} improved on held-out corrections (${percent(r.overall.before)} → ${percent(r.overall.after)}).`
          : 'Fine-tune finished: nothing did better on the held-out corrections, so the heads stay as they were.',
        { timeoutMs: 8000 },
      );
    }
  }
}
