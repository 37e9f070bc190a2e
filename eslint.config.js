import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'coverage/',
      'test-results/',
      '.bench-out/',
      '.kiln/',
      'src/web/static/vendor/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: 'TSEnumDeclaration',
          message: 'Use an `as const` union instead of an enum.',
        },
      ],
    },
  },
  {
    // The pure core never does I/O and never reaches into adapters.
    files: ['src/config/**/*.ts', 'src/model/**/*.ts', 'src/metrics/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'node:fs',
                'node:fs/*',
                'node:child_process',
                'node:net',
                'node:http',
                '**/runtime/**',
                '**/git/**',
                '**/queue/**',
                '**/store/**',
                '**/server/**',
                '**/forge/**',
              ],
              message:
                'The config/model/metrics core is pure: no I/O, no adapters.',
            },
          ],
        },
      ],
    },
  },
);
