// Lint: TypeScript rules plus the import boundaries between runtimes (STYLE.md §4), at error level.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';

const nodeModules = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];

const noElectron = {
  paths: [{ name: 'electron', message: 'app/ is the core domain and never imports Electron: put shell code in main/.' }],
  patterns: [{ group: ['electron/*'], message: 'app/ never imports Electron.' }],
};

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'out/', 'test-results/', 'playwright-report/', 'renderer/dist/', '**/*.svelte'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['app/**/*.ts', 'app/**/*.mjs'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          ...noElectron,
          patterns: [
            ...noElectron.patterns,
            { group: ['**/main/*', '**/renderer/*', '**/workers/*'], message: 'app/ never imports the process entry points.' },
          ],
        },
      ],
    },
  },
  {
    // app/common runs everywhere, the renderer included: no Node modules, no Electron, no TensorFlow.
    files: ['app/common/**/*.ts'],
    ignores: ['app/common/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...noElectron.paths,
            ...nodeModules.map((name) => ({ name, message: 'app/common is shared with the renderer: no Node modules.' })),
          ],
          patterns: [{ group: ['@tensorflow/*', 'electron/*', '**/node/*', '../node/*'], message: 'app/common is pure TypeScript.' }],
        },
      ],
    },
  },
  {
    // Code that runs in the renderer never imports Node modules, Electron, or the Node side of app/.
    files: ['renderer/**/*.ts'],
    ignores: ['renderer/**/*.test.ts', 'renderer/vite.config.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...noElectron.paths, ...nodeModules.map((name) => ({ name, message: 'The renderer is sandboxed: no Node modules.' }))],
          patterns: [
            { regex: '(^|/)app/(?!common/)', message: 'The renderer may import app/common only.' },
            { group: ['**/main/*', '**/workers/*'], message: 'Nothing imports across process lines.' },
          ],
        },
      ],
    },
  },
  {
    files: ['workers/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/main/*', '**/renderer/*'], message: 'Nothing imports across process lines.' }] },
      ],
    },
  },
  {
    files: ['main/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/renderer/*', '**/workers/*'], message: 'Nothing imports across process lines.' }] },
      ],
    },
  },
);
