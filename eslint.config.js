// Layers by runtime (see ../shared/STYLE.md "The house"): each folder may import only what its runtime has.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const electronOnly = { name: 'electron', message: "Only electron/main and electron/preload may import 'electron'." };

export default tseslint.config(
  { ignores: ['node_modules/', 'out/', 'renderer-dist/', 'dist-app/', 'test-results/', '.stryker-tmp*/', 'reports/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['electron/core/**', 'electron/cli/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [electronOnly],
        patterns: [
          { group: ['**/main/*', '**/preload/*'], message: 'The core and the CLI never reach into the Electron shell.' },
          { group: ['**/renderer/**'], message: 'Node code never imports the renderer.' },
        ],
      }],
    },
  },
  {
    files: ['electron/core/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [electronOnly],
        patterns: [
          { group: ['**/main/*', '**/preload/*', '**/cli/*'], message: 'The core is plain Node: it never imports the shell or the CLI.' },
          { group: ['**/renderer/**'], message: 'Node code never imports the renderer.' },
        ],
      }],
    },
  },
  {
    files: ['shared/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [electronOnly, ...nodeBuiltins.map((name) => ({ name, message: 'shared/ is imported by the renderer too: no Node built-ins.' }))],
        patterns: [{ group: ['**/electron/**', '**/renderer/**'], message: 'shared/ depends on nothing but itself.' }],
      }],
    },
  },
  {
    files: ['renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', {
        paths: [electronOnly, ...nodeBuiltins.map((name) => ({ name, message: 'The renderer talks only to window.kenv: no Node built-ins.' }))],
        patterns: [{ group: ['**/electron/**'], message: 'The renderer never imports main-process code; use window.kenv.' }],
      }],
    },
  },
);
