/**
 * The library as the user is looking at it: the active filter, the photo and face results under it,
 * and the facet counts for the sidebar. Library changes (scan results, corrections) refresh it,
 * throttled so that a running scan does not flood the back end.
 */
import type {
  FaceSummary,
  Facets,
  FacetsBridge,
  Filter,
  PersonCount,
  PhotoSort,
  PhotoSummary,
} from '../lib/api/index.js';
import { isEmptyFilter } from '../lib/search.js';
import { ResultList } from './result-list.svelte.js';

type SetKey = 'ageGroups' | 'genders' | 'ethnicities' | 'emotions';

const REFRESH_EVERY_MS = 1200;

/** Drops keys that narrow nothing (undefined, empty arrays). */
export function cleanFilter(filter: Filter): Filter {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(filter)) {
    if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) continue;
    out[key] = Array.isArray(value) ? [...(value as unknown[])] : value;
  }
  return out as Filter;
}

export class LibraryState {
  filter = $state<Filter>({});
  /** A filter narrows the results (the views offer "Clear filters"). */
  readonly filtered = $derived(!isEmptyFilter(this.filter));
  facets = $state<Facets | null>(null);
  /** Faces per person under the filter (its own people selection left out), for the sidebar. */
  personCounts = $state<PersonCount[]>([]);
  target = $state<'photos' | 'faces'>('photos');
  /** Bumped when the filter changes: grids go back to the top. */
  filterVersion = $state(0);
  /** Bumped when the library's content changed: open details reload. */
  revision = $state(0);
  /** The photo grid's order. */
  photoSort = $state<PhotoSort>('taken');

  readonly photos: ResultList<PhotoSummary>;
  readonly faces: ResultList<FaceSummary>;

  #facetsGeneration = 0;
  #lastRefresh = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly bridge: FacetsBridge,
    private readonly onError: (err: unknown) => void,
  ) {
    this.photos = new ResultList<PhotoSummary>(
      bridge,
      'photos:query',
      () => this.filter,
      () => ({ sort: this.photoSort }),
    );
    this.faces = new ResultList<FaceSummary>(bridge, 'faces:query', () => this.filter);
  }

  setFilter(filter: Filter): void {
    this.filter = cleanFilter(filter);
    this.filterVersion++;
    void this.refresh(true);
  }

  update(patch: Partial<Filter>): void {
    this.setFilter({ ...this.filter, ...patch });
  }

  /** Adds or removes one value of a multi-valued facet. */
  toggle<K extends SetKey>(key: K, value: NonNullable<Filter[K]>[number]): void {
    const current = (this.filter[key] ?? []) as string[];
    const next = current.includes(value) ? current.filter((v) => v !== value) : [...current, value];
    this.update({ [key]: next } as Partial<Filter>);
  }

  /** Orders the photo grid (date taken, file name, number of faces); back to the top. */
  setPhotoSort(sort: PhotoSort): void {
    if (sort === this.photoSort) return;
    this.photoSort = sort;
    this.filterVersion++;
    void this.photos.reload(true);
  }

  /** Adds or removes a person of the people filter. */
  togglePerson(id: number): void {
    const current = this.filter.people ?? [];
    this.update({ people: current.includes(id) ? current.filter((p) => p !== id) : [...current, id] });
  }

  setTarget(target: 'photos' | 'faces'): void {
    if (this.target === target) return;
    this.target = target;
    void this.loadFacets();
  }

  /** Re-runs every query; `reset` for a new filter, else keeps showing the old results meanwhile. */
  async refresh(reset: boolean): Promise<void> {
    this.#lastRefresh = Date.now();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await Promise.all([this.photos.reload(reset), this.faces.reload(reset), this.loadFacets()]);
  }

  /** The library changed underneath (scan results, corrections): refresh, at most every ~1 s. */
  changed(): void {
    this.revision++;
    if (this.#timer) return;
    const wait = Math.max(0, this.#lastRefresh + REFRESH_EVERY_MS - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.refresh(false);
    }, wait);
  }

  async loadFacets(): Promise<void> {
    const generation = ++this.#facetsGeneration;
    try {
      const facets = await this.bridge.invoke('facets:get', {
        filter: $state.snapshot(this.filter) as Filter,
        target: this.target,
      });
      const people = await this.bridge.invoke('people:counts', { filter: $state.snapshot(this.filter) as Filter });
      if (generation === this.#facetsGeneration) {
        this.facets = facets;
        this.personCounts = people;
      }
    } catch (err) {
      if (generation === this.#facetsGeneration) this.onError(err);
    }
  }
}
