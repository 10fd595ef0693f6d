import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * Import boundaries: the engine (one image in, faces out) knows neither the library nor the API; the
 * renderer reaches the back end only through its API layer (renderer/src/lib/api/, which re-exports the
 * contract); only the IPC module (main/electron/ipc.ts) touches ipcMain; and what the app ships imports
 * no research code (research/: evaluation, the dataset training pipeline, simulation, the SVM baseline)
 * nor model building (models/build/) — only the CLI's research commands (main/cli/) do, and
 * electron-builder.yml packages neither ([Note: what the app ships]).
 */
const NO_RESEARCH = {
  group: ['**/research/**', '**/research/*', '**/models/build/**', '**/models/build/*'],
  message: 'the app does not ship research or model-building code (research/, models/build/): only main/cli imports it',
};
const ONLY_IPC_MODULE = {
  name: 'electron',
  importNames: ['ipcMain'],
  message: 'only main/electron/ipc.ts touches ipcMain',
};
/** What the app runs: everything under main/ but the CLI (the engine has its own zone), and the preload. */
const APP = ['electron', 'api', 'library', 'server', 'host', 'people', 'learning'].map((d) => `main/${d}/**/*.ts`);

const BOUNDARIES = [
  {
    files: ['main/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/library/**', '**/library/*'], message: 'the engine does not import the library' },
            { group: ['**/api/**', '**/api/*'], message: 'the engine does not import the API' },
            { group: ['electron'], message: 'the engine runs under plain Node' },
            NO_RESEARCH,
          ],
        },
      ],
    },
  },
  {
    files: ['renderer/src/**/*.{ts,svelte}'],
    ignores: ['renderer/src/lib/api/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/main/**', '**/preload/**', 'electron'],
              message: 'the renderer imports the back end only through its API layer (lib/api)',
            },
            NO_RESEARCH,
          ],
        },
      ],
    },
  },
  {
    files: [...APP, 'main/*.ts', 'preload/**/*.ts'],
    ignores: ['main/electron/ipc.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [ONLY_IPC_MODULE], patterns: [NO_RESEARCH] }] },
  },
  {
    files: ['main/electron/ipc.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [NO_RESEARCH] }] },
  },
  {
    files: ['main/cli/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [ONLY_IPC_MODULE] }] },
  },
];

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'release/',
      'node_modules/',
      'models/generated/',
      'models/.cache/',
      'test-results/',
      '.scratch/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // TypeScript already resolves identifiers; no-undef only misfires on ambient declarations.
    files: ['**/*.ts', '**/*.svelte'],
    rules: { 'no-undef': 'off' },
  },
  {
    files: ['renderer/**/*.{ts,svelte}', 'preload/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
  },
  // Boundaries (issue 12), checked by test/unit/boundaries.test.ts: see BOUNDARIES below.
  ...BOUNDARIES,
);
