// ESLint flat config: typescript-eslint's recommended rules (syntax only, no type information, to stay fast) and the
// import boundaries of CONVENTIONS.md: app/ never imports Electron; renderer/ sees app/defs types and nothing else
// of app/, and no Node builtins.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const nodeBuiltins = builtinModules.filter((name) => !name.startsWith('_'));

export default defineConfig([
  globalIgnores(['dist/', 'release/', 'node_modules/', '.cupola/', 'test-results/']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.{js,mjs,cjs,ts,mts,cts}'],
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['app/**/*.{ts,mts,cts}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'app/ runs headless: only main/ may import electron.' }],
          patterns: [{ group: ['electron/*'], message: 'app/ runs headless: only main/ may import electron.' }],
        },
      ],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx,js,jsx}'],
    ignores: ['renderer/vite.config.ts'],
    languageOptions: { globals: globals.browser },
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'renderer/ runs in the browser: no Node builtins (talk to the core through Platform).',
          })),
          patterns: [
            {
              regex: '^node:',
              message: 'renderer/ runs in the browser: no Node builtins (talk to the core through Platform).',
            },
            {
              regex: '^(\\.\\./)+app(/(?!defs(/|$)).*)?$',
              message: 'renderer/ may import only types from app/defs, nothing else of app/.',
            },
            {
              regex: '^(\\.\\./)+app/defs(/.*)?$',
              allowTypeImports: true,
              message: 'renderer/ may import app/defs with `import type` only.',
            },
          ],
        },
      ],
    },
  },
]);
