/**
 * A module hook (registered by svelte-modules.mjs) that hands each `.svelte.ts` / `.svelte.js` module,
 * once tsx has stripped its types, to Svelte's own compiler (`compileModule`), as Vite's Svelte plugin
 * does for the app: runes ($state, $derived) then work as in the renderer, on Svelte's client runtime.
 */
import { fileURLToPath } from 'node:url';

export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (!url.startsWith('file:') || !/\.svelte\.(ts|js)$/.test(new URL(url).pathname)) return result;
  const { compileModule } = await import('svelte/compiler');
  const source = typeof result.source === 'string' ? result.source : Buffer.from(result.source).toString('utf8');
  const { js } = compileModule(source, { filename: fileURLToPath(url), generate: 'client' });
  return { ...result, format: 'module', source: js.code, shortCircuit: true };
}
