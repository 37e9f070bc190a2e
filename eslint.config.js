import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Import patterns of the given top-level folders of src/. */
function layers(...names) {
  return names.flatMap((name) => [`**/${name}/**`, `**/${name}/*.js`]);
}

/** Concrete adapters: only the composition roots (engine/, cli/) pick them. */
const ADAPTERS = [
  '**/store/redis-*',
  '**/store/create-stores*',
  '**/runtime/docker/**',
  '**/runtime/local/**',
  '**/runtime/kubernetes/**',
  '**/runtime/null-runtime*',
  '**/artifacts/fs-artifact-store*',
  '**/artifacts/s3-*',
];

function boundary(files, group, message) {
  return [
    {
      files,
      rules: {
        'no-restricted-imports': ['error', { patterns: [{ group, message }] }],
      },
    },
  ];
}

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
  // kiln's browser scripts (plain ES modules served as they are).
  {
    files: ['src/web/client/**/*.js'],
    languageOptions: {
      globals: {
        window: 'readonly',
        document: 'readonly',
        location: 'readonly',
        history: 'readonly',
        fetch: 'readonly',
        EventSource: 'readonly',
        CSS: 'readonly',
        URLSearchParams: 'readonly',
        requestAnimationFrame: 'readonly',
        ResizeObserver: 'readonly',
        IntersectionObserver: 'readonly',
        Blob: 'readonly',
        navigator: 'readonly',
        HTMLElement: 'readonly',
        KeyboardEvent: 'readonly',
        Intl: 'readonly',
        DOMParser: 'readonly',
        Event: 'readonly',
      },
    },
  },
  // Import boundaries (docs/architecture.md): a pure core; adapters behind
  // ports; the control plane, worker, server, web, intake and reporter on
  // ports only and never on each other; the composition roots (engine/,
  // cli/) alone pick adapters.
  ...boundary(
    [
      'src/config/**',
      'src/model/**',
      'src/metrics/**',
      'src/orchestrator/**',
      'src/errors.ts',
    ],
    [
      'node:fs',
      'node:fs/*',
      'node:child_process',
      'node:net',
      'node:http',
      ...layers(
        'runtime',
        'git',
        'queue',
        'store',
        'redis',
        'artifacts',
        'forge',
        'secrets',
        'net',
        'telemetry',
      ),
      ...layers(
        'control',
        'worker',
        'server',
        'web',
        'http',
        'intake',
        'reporter',
        'scheduler',
        'cli',
        'engine',
      ),
    ],
    'The core (config, model, metrics, orchestrator) is pure: no I/O, no adapters, no application layers.',
  ),
  ...boundary(
    [
      'src/store/**',
      'src/queue/**',
      'src/redis/**',
      'src/git/**',
      'src/runtime/**',
      'src/artifacts/**',
      'src/forge/**',
      'src/secrets/**',
      'src/net/**',
    ],
    layers(
      'control',
      'worker',
      'server',
      'web',
      'http',
      'intake',
      'reporter',
      'scheduler',
      'cli',
      'engine',
    ),
    'Adapters depend on the core only, never on the layers that use them.',
  ),
  ...boundary(
    ['src/control/**'],
    [
      ...layers(
        'worker',
        'server',
        'web',
        'http',
        'intake',
        'reporter',
        'scheduler',
        'cli',
        'engine',
      ),
      ...ADAPTERS,
    ],
    'The control plane works through ports (store/index, queue/step-jobs, …), never adapters or the layers above it.',
  ),
  ...boundary(
    ['src/worker/**'],
    [
      ...layers(
        'server',
        'web',
        'http',
        'intake',
        'reporter',
        'scheduler',
        'cli',
        'engine',
      ),
      ...ADAPTERS,
    ],
    'The worker depends on ports and the control plane, never on the server, web, intake or reporter.',
  ),
  ...boundary(
    ['src/server/**'],
    [
      ...layers('worker', 'web', 'scheduler', 'cli', 'engine'),
      ...ADAPTERS,
      '**/runtime/**',
    ],
    'The server never runs containers and never reaches into the web pages or the worker.',
  ),
  // web/ and http/ may read intake/'s delivery log (the Deliveries page,
  // the repositories a webhook named) and name its queue (the queue board):
  // the one crossing between roles (docs/architecture.md).
  ...boundary(
    ['src/web/**'],
    [
      ...layers('worker', 'server', 'reporter', 'scheduler', 'cli', 'engine'),
      ...ADAPTERS,
      '**/runtime/**',
    ],
    'The web pages depend on ports, the control plane and the shared HTTP layer, never on the API routes, the reporter or the worker.',
  ),
  ...boundary(
    ['src/http/**'],
    [
      ...layers(
        'worker',
        'server',
        'web',
        'reporter',
        'scheduler',
        'cli',
        'engine',
      ),
      ...ADAPTERS,
      '**/runtime/**',
    ],
    'The shared HTTP layer sits below the API routes and the web pages.',
  ),
  ...boundary(
    ['src/intake/**', 'src/reporter/**', 'src/scheduler/**'],
    [
      ...layers('worker', 'server', 'web', 'http', 'cli', 'engine'),
      ...ADAPTERS,
      '**/runtime/**',
    ],
    'Intake, the reporter and the scheduler depend on ports and the control plane only.',
  ),
);
