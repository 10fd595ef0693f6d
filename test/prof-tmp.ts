import { Library } from '../main/library/library.js';
import { FACET_FILTERS } from '../bench/library.js';
const library = new Library({ dbPath: '/tmp/counts/facets-1m.db' });
const idx = library.queries.facetIndex;
idx.build();
console.log('build', idx.lastBuildMs.toFixed(0));
for (const [name, filter] of FACET_FILTERS) {
  const t: number[] = [];
  for (const target of ['faces', 'photos'] as const) {
    const s: number[] = [];
    for (let i = 0; i < 5; i++) { const t0 = performance.now(); idx.facets(filter, target, ['/photos']); s.push(performance.now() - t0); }
    t.push(s.sort((a, b) => a - b)[2] as number);
  }
  console.log(name, t.map((x) => x.toFixed(1)).join(' / '));
}
library.close();
