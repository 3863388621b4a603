// ESLint (flat config): typescript-eslint's recommended rules, and the layer rules of ARCHITECTURE.md as
// import restrictions: adapters → domain → db → config. Core's no-restricted-imports (typescript-eslint's
// version, which can allow type-only imports) needs no resolver plugin for NodeNext `.js` specifiers.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const adapters = ['slack', 'scim', 'web', 'jobs', 'delivery', 'cli', 'api'];
/** Relative-import patterns that reach a top-level folder of src/, from any depth. */
const folder = (name) => [`../${name}/*`, `../../${name}/*`, `../../../${name}/*`];
const wiring = ['../main.js', '../../main.js'];
/** src/wiring.ts builds the domain from config: for main.ts and the CLI (which builds its own) only. */
const domainBuilder = ['../wiring.js', '../../wiring.js', '../../../wiring.js'];

/** Import rules for files in src/<from>: `forbidden` folders, and npm packages that belong elsewhere. */
function layer(from, forbidden, packages = [], typeOnly = []) {
  return {
    files: [`src/${from}/**/*.ts`],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            ...forbidden.map((name) => ({
              group: folder(name),
              message: `src/${from} must not import src/${name} (see the layers in ARCHITECTURE.md / README Development).`,
            })),
            ...typeOnly.map((name) => ({ group: folder(name), allowTypeImports: true, message: `src/${from} may import only types from src/${name}.` })),
            { group: wiring, message: 'Only main.ts wires everything together.' },
            ...(from === 'cli'
              ? []
              : [{ group: domainBuilder, message: `src/${from} must not import src/wiring.ts: only main.ts and the CLI build the domain from config.` }]),
            ...packages.map((p) => ({ group: [p, `${p}/*`], message: `${p} belongs to an adapter, not to src/${from}.` })),
          ],
        },
      ],
    },
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.data/**', 'src/db/migrations/**', 'bench/RESULTS.md'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        fetch: 'readonly',
        AbortSignal: 'readonly',
        AbortController: 'readonly',
        performance: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        structuredClone: 'readonly',
        queueMicrotask: 'readonly',
        setImmediate: 'readonly',
        Headers: 'readonly',
        Response: 'readonly',
        Request: 'readonly',
        NodeJS: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  // Tests and benchmarks read untyped JSON answers (SCIM, Slack payloads) all the time.
  { files: ['test/**/*.ts', 'bench/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  // The layers. The domain knows no adapter and no adapter's library.
  layer(
    'domain',
    [...adapters, 'config'],
    ['@slack/bolt', '@slack/web-api', 'scimmy', 'scimmy-routers', 'express', 'agenda', '@agendajs/postgres-backend', 'nodemailer', 'pino'],
  ),
  layer('db', ['domain', ...adapters]),
  // Adapters never import each other, and reach the database only through the domain (types aside).
  layer('slack', ['scim', 'web', 'jobs', 'delivery', 'cli', 'api'], [], ['db']),
  layer('scim', ['slack', 'web', 'jobs', 'delivery', 'cli', 'api'], [], ['db']),
  layer('web', ['slack', 'scim', 'jobs', 'delivery', 'cli', 'api'], [], ['db']),
  layer('jobs', ['slack', 'scim', 'web', 'delivery', 'cli', 'api'], [], ['db']),
  layer('delivery', ['slack', 'scim', 'web', 'jobs', 'cli', 'api'], [], ['db']),
  // Shared formatting imports nothing of Roster's.
  layer('shared', ['domain', 'db', 'config', ...adapters]),
  // One concept per file: a file that outgrows 400 lines is split by concept.
  { files: ['src/**/*.ts'], rules: { 'max-lines': ['error', { max: 400 }] } },
  // The CLI builds its own domain over the database with src/wiring.ts, like main.ts; it never imports another adapter.
  layer('cli', ['slack', 'scim', 'web', 'jobs', 'delivery', 'api']),
  layer('api', ['slack', 'scim', 'web', 'jobs', 'delivery', 'cli'], [], ['db']),
);
