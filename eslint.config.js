// ESLint's flat config: `make lint` (or `npx eslint .`) checks every JavaScript file of the
// repository. The browser library, web/herald/, is ES modules run by pages: browser globals
// only, so a node-only name cannot slip into it. Tests and the bench tooling run in node; the
// browser tests also hand functions to the page (page.evaluate), where the browser's globals
// and the test harness's (window.T, Herald) are what they see.
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['build/', 'build-*/', 'node_modules/', 'tests/artifacts/', 'bench/results/'] },
  js.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      'prefer-const': 'error',
      'no-var': 'error',
      eqeqeq: ['error', 'smart'],
      // Functions and classes are hoisted or only called later; a top-level const read before
      // its line is a TDZ error at load time, in the modules and in the joined bundle alike.
      'no-use-before-define': ['error', { functions: false, classes: false, variables: true }],
    },
  },
  {
    files: ['web/**/*.js'],
    languageOptions: { sourceType: 'module', globals: globals.browser },
  },
  {
    files: ['**/*.mjs', 'eslint.config.js'],
    languageOptions: { sourceType: 'module', globals: globals.node },
  },
  {
    files: ['tests/browser/**/*.mjs'],
    languageOptions: { globals: { ...globals.node, ...globals.browser, T: 'readonly', Herald: 'readonly' } },
  },
];
