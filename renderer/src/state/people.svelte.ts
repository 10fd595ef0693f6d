/**
 * The People view's state: the people list (cover face, counts), the person open with their faces and
 * "Is this …?" suggestions, and the user's word on them (name, merge, move out, confirm, hide, undo).
 * Every action asks the backend and then reloads what it changed; components only call these.
 */
import type { FaceSummary, FacetsBridge, PersonSummary } from '../lib/api/index.js';
import type { Toasts } from './toasts.svelte.js';

const PAGE = 500;

export function personName(p: { name: string | null } | null | undefined): string {
  return p?.name ?? 'Unnamed person';
}

export class PeopleState {
  people = $state<PersonSummary[]>([]);
  total = $state(0);
  loading = $state(false);
  /** The person whose faces are shown. */
  open = $state<PersonSummary | null>(null);
  faces = $state<FaceSummary[]>([]);
  facesTotal = $state(0);
  suggestions = $state<FaceSummary[]>([]);
  /** Names for autocomplete. */
  names = $state<string[]>([]);
  /** People ticked for merging. */
  marked = $state<number[]>([]);

  readonly #bridge: FacetsBridge;
  readonly #toasts: Toasts;

  constructor(bridge: FacetsBridge, toasts: Toasts) {
    this.#bridge = bridge;
    this.#toasts = toasts;
  }

  async load(): Promise<void> {
    this.loading = true;
    try {
      const r = await this.#bridge.invoke('people:list', { page: { offset: 0, limit: PAGE } });
      this.people = r.items;
      this.total = r.total;
      const open = this.open;
      if (open) await this.show(open.id);
    } catch (err) {
      this.#toasts.error(err);
    } finally {
      this.loading = false;
    }
  }

  /** Bumped by every show(): a slower earlier answer never reopens a person the user has left. */
  #showing = 0;

  async show(id: number | null): Promise<void> {
    const generation = ++this.#showing;
    if (id === null) {
      this.open = null;
      this.faces = [];
      this.suggestions = [];
      return;
    }
    try {
      const [person, faces, suggestions] = await Promise.all([
        this.#bridge.invoke('people:get', { id }),
        this.#bridge.invoke('faces:query', { filter: { people: [id] }, page: { offset: 0, limit: PAGE } }),
        this.#bridge.invoke('people:suggestions', { id }),
      ]);
      if (generation !== this.#showing) return;
      this.open = person;
      this.faces = faces.items;
      this.facesTotal = faces.total;
      this.suggestions = suggestions;
    } catch (err) {
      if (generation !== this.#showing) return;
      // The person was merged away or is gone: back to the list.
      this.open = null;
      this.#toasts.error(err);
    }
  }

  async complete(prefix: string): Promise<void> {
    try {
      this.names = await this.#bridge.invoke('people:names', { prefix });
    } catch {
      this.names = [];
    }
  }

  toggleMark(id: number): void {
    this.marked = this.marked.includes(id) ? this.marked.filter((m) => m !== id) : [...this.marked, id];
  }

  async #act(run: () => Promise<unknown>, message: string): Promise<void> {
    try {
      await run();
      this.#toasts.show(message);
    } catch (err) {
      this.#toasts.error(err);
    }
    await this.load();
  }

  name(id: number, name: string): Promise<void> {
    const clean = name.trim();
    return this.#act(
      () => this.#bridge.invoke('people:name', { id, name: clean === '' ? null : clean }),
      clean ? `Named ${clean}` : 'Name removed',
    );
  }

  /** Merges the marked people into the first marked. */
  async mergeMarked(): Promise<void> {
    const [into, ...others] = this.marked;
    if (into === undefined || others.length === 0) return;
    await this.#act(
      async () => {
        for (const from of others) await this.#bridge.invoke('people:merge', { into, from });
      },
      `Merged ${others.length + 1} people`,
    );
    this.marked = [];
    await this.show(into);
  }

  hide(id: number, hidden: boolean): Promise<void> {
    return this.#act(
      () => this.#bridge.invoke('people:hide', { id, hidden }),
      hidden ? 'Person hidden' : 'Person shown',
    );
  }

  moveOut(faceIds: number[]): Promise<void> {
    return this.#act(
      () => this.#bridge.invoke('people:remove', { faceIds }),
      `${faceIds.length === 1 ? 'Face' : `${faceIds.length} faces`} moved out`,
    );
  }

  /** "Yes, this is them": a suggested face joins the open person as the user's word. */
  accept(faceId: number): Promise<void> {
    const id = this.open?.id;
    if (id === undefined) return Promise.resolve();
    return this.#act(() => this.#bridge.invoke('people:assign', { faceIds: [faceId], personId: id }), 'Face added');
  }

  async undo(): Promise<void> {
    try {
      const { undone } = await this.#bridge.invoke('people:undo', undefined);
      this.#toasts.show(undone ? `Undone: ${undone}` : 'Nothing to undo');
    } catch (err) {
      this.#toasts.error(err);
    }
    await this.load();
  }
}
