/**
 * One query's results (photos or faces), loaded page by page as the grid scrolls: only the pages the
 * user can see are ever fetched, so a 50,000-photo library costs a few requests, not 50,000 items.
 */
import { SvelteMap } from 'svelte/reactivity';
import type { FaceSummary, FacetsBridge, Filter, PhotoSummary } from '../lib/api/index.js';

export const PAGE_SIZE = 200;

type Channel = 'photos:query' | 'faces:query';

export class ResultList<T extends PhotoSummary | FaceSummary> {
  /** Matching items in the library. */
  total = $state(0);
  /** False until the first answer for the current filter arrived. */
  loaded = $state(false);
  error = $state<string | null>(null);

  readonly #pages = new SvelteMap<number, T[]>();
  // Bookkeeping of requests in flight, never rendered: no reactivity wanted.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #pending = new Map<number, Promise<void>>();
  #generation = 0;
  #first = 0;
  #last = 0;

  constructor(
    private readonly bridge: FacetsBridge,
    private readonly channel: Channel,
    private readonly filter: () => Filter,
    /** Extra request fields (the photo grid's sort). */
    private readonly extra: () => Record<string, unknown> = () => ({}),
  ) {}

  /** The item at `index`, if its page is loaded. */
  at(index: number): T | undefined {
    return this.#pages.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE];
  }

  /** The grid shows items `first..last` (inclusive): loads the pages they are on. */
  show(first: number, last: number): void {
    this.#first = first;
    this.#last = Math.max(first, last);
    for (const page of this.#pagesOf(this.#first, this.#last)) {
      if (!this.#pages.has(page)) void this.#load(page, this.#generation);
    }
  }

  /** Loads (if needed) and returns the item at `index`. */
  async get(index: number): Promise<T | undefined> {
    if (index < 0) return undefined;
    const page = Math.floor(index / PAGE_SIZE);
    if (!this.#pages.has(page)) await this.#load(page, this.#generation);
    return this.at(index);
  }

  /** Index of the item with this id among the loaded pages, or -1. */
  indexOf(id: number): number {
    for (const [page, items] of this.#pages) {
      const i = items.findIndex((item) => item.id === id);
      if (i >= 0) return page * PAGE_SIZE + i;
    }
    return -1;
  }

  /**
   * Re-runs the query. `reset` (a new filter) forgets everything at once; otherwise (the library
   * changed) the old pages stay on screen until the fresh ones arrive, so nothing flickers.
   */
  async reload(reset: boolean): Promise<void> {
    const generation = ++this.#generation;
    if (reset) {
      this.#pages.clear();
      this.loaded = false;
      this.#first = 0;
      this.#last = 0;
    }
    this.#pending.clear();
    const pages = [...this.#pagesOf(this.#first, this.#last)];
    const fresh = await Promise.all(pages.map((page) => this.#fetch(page, generation)));
    if (generation !== this.#generation) return;
    this.#pages.clear();
    pages.forEach((page, i) => {
      const items = fresh[i];
      if (items) this.#pages.set(page, items);
    });
  }

  *#pagesOf(first: number, last: number): Generator<number> {
    const from = Math.floor(first / PAGE_SIZE);
    const to = Math.floor(last / PAGE_SIZE);
    for (let p = from; p <= to; p++) yield p;
  }

  #load(page: number, generation: number): Promise<void> {
    const pending = this.#pending.get(page);
    if (pending) return pending;
    const promise = this.#fetch(page, generation).then((items) => {
      if (generation !== this.#generation) return;
      this.#pending.delete(page);
      if (items) this.#pages.set(page, items);
    });
    this.#pending.set(page, promise);
    return promise;
  }

  async #fetch(page: number, generation: number): Promise<T[] | null> {
    try {
      const answer = (await this.bridge.invoke(this.channel, {
        ...this.extra(),
        filter: $state.snapshot(this.filter()) as Filter,
        page: { offset: page * PAGE_SIZE, limit: PAGE_SIZE },
      } as never)) as { total: number; items: T[] };
      if (generation !== this.#generation) return null;
      this.total = answer.total;
      this.loaded = true;
      this.error = null;
      return answer.items;
    } catch (err) {
      if (generation === this.#generation) {
        this.error = (err as Error).message;
        this.loaded = true;
      }
      return null;
    }
  }
}
