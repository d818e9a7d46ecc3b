// Lint rules, including the import boundaries between the app's runtimes (see STYLE.md):
// shared/ imports nothing of ours, services never import electron or the renderer,
// and the renderer never imports Node, Electron or electron/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

const NODE_BUILTINS = ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process', 'worker_threads', 'http', 'net', 'stream', 'events', 'url', 'util'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'release/**', 'artifacts/**', 'test-results/**', 'playwright-report/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['electron/**/*.ts', 'scripts/**/*.{cjs,mjs}', 'bin/**/*.cjs', 'bench/**/*.ts', 'e2e/**/*.ts', '*.config.{ts,mjs}'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['shared/**/*.ts'],
    ignores: ['shared/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['../electron/*', '../renderer/*', '**/electron/**', '**/renderer/**'], message: 'shared/ imports nothing of ours.' },
            { group: ['electron', 'react', 'react-dom', ...NODE_BUILTINS], message: 'shared/ runs on both sides: no Node, DOM or Electron.' },
          ],
        },
      ],
    },
  },
  {
    files: ['electron/services/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['electron'], message: 'Only electron/main.ts and preload.ts import electron.' },
            { group: ['**/renderer/**', 'react', 'react-dom'], message: 'Services never import the renderer.' },
          ],
        },
      ],
    },
  },
  {
    files: ['electron/preload.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['./services/*', './services/**', '**/renderer/**'], message: 'A sandboxed preload can load nothing but electron; import types only.' },
          ],
        },
      ],
    },
  },
  {
    files: ['electron/main.ts', 'electron/server.ts', 'electron/cli.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/renderer/**'], message: 'The Node side never imports the renderer.' }] }],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['electron', ...NODE_BUILTINS], message: 'The renderer is sandboxed: no Node or Electron.' },
            { group: ['**/electron/**'], message: 'The renderer talks to the core only through the API client.' },
          ],
        },
      ],
    },
  },
);
