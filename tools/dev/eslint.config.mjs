// ESLint for the whole repository, run by `npm run lint` (so by `npm test` and CI).
//
// Type-checked rules run on src/, where a wrong assumption about a type ships to users; tests,
// examples, the bench and scripts get the rules that need no type information, which keeps the
// lint fast on a small machine. Formatting is Prettier's business (.prettierrc.json), so no
// stylistic rules here.
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const root = new URL('../..', import.meta.url).pathname;

export default tseslint.config(
  { ignores: ['**/node_modules/', 'dist/', 'coverage/', 'test-output/', 'docs/api/', 'bench/results/'] },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] })],
    },
    rules: {
      'import-x/order': [
        'error',
        {
          groups: ['builtin', 'external', 'internal', 'parent', 'sibling', 'index'],
          alphabetize: { order: 'asc', caseInsensitive: true },
        },
      ],
      'import-x/no-duplicates': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // The library: type-checked rules, and no import cycles (type-only imports included).
    files: ['src/**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: root } },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // Store methods and hooks are async because their interfaces return promises, with or
      // without an await inside: that is not a mistake here.
      '@typescript-eslint/require-await': 'off',
      // Configuration errors quote what the caller passed, whatever it is (String(value)).
      '@typescript-eslint/no-base-to-string': 'off',
      // The kit and the options pass method references of plain objects (no classes, no `this`).
      '@typescript-eslint/unbound-method': 'off',
      // typescript-eslint type-checks with TypeScript 6.0 (the last with a JS API), the build
      // with TypeScript 7: an assertion one finds unnecessary, the other may need.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['test/**/*.ts'],
    languageOptions: { globals: { ...globals.jest } },
  },
  {
    files: ['examples/basic/pages.js', 'test/fixtures/**/*.html'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
