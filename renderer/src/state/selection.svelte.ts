/**
 * Which faces are selected in the faces grid: click selects one, Ctrl/⌘-click (or the checkbox)
 * toggles, Shift-click extends from the last clicked face.
 */
import { SvelteSet } from 'svelte/reactivity';

export class Selection {
  readonly ids = new SvelteSet<number>();
  /** Index (in the grid) of the last plain or toggling click: Shift-click ranges start here. */
  anchor = $state<number | null>(null);

  get size(): number {
    return this.ids.size;
  }

  has(id: number): boolean {
    return this.ids.has(id);
  }

  /** `idAt` gives the id at a grid index (undefined where not loaded). */
  click(index: number, id: number, how: { range: boolean; toggle: boolean }, idAt: (i: number) => number | undefined) {
    if (how.range && this.anchor !== null) {
      const [from, to] = this.anchor <= index ? [this.anchor, index] : [index, this.anchor];
      if (!how.toggle) this.ids.clear();
      for (let i = from; i <= to; i++) {
        const other = idAt(i);
        if (other !== undefined) this.ids.add(other);
      }
      return;
    }
    if (how.toggle) {
      if (this.ids.has(id)) this.ids.delete(id);
      else this.ids.add(id);
    } else {
      this.ids.clear();
      this.ids.add(id);
    }
    this.anchor = index;
  }

  clear(): void {
    this.ids.clear();
    this.anchor = null;
  }
}
