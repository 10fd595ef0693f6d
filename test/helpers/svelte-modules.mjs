/**
 * Lets node:test import the renderer's Svelte 5 state modules (`*.svelte.ts`, tested by the
 * `*.svelte.spec.ts` beside them): `node --import tsx --import ./test/helpers/svelte-modules.mjs`
 * registers the hook in svelte-modules-hooks.mjs.
 */
import { register } from 'node:module';

register('./svelte-modules-hooks.mjs', import.meta.url);
