// Bundle the CLI with esbuild into one CommonJS file, and the key prefetch into another that bin/ loads
// first. CommonJS because Node's ES module loader costs ~12 ms at start-up, which is a fifth of a `show`
// (measured with `npm run bench`). Commands still load lazily: esbuild turns their `await import()` into
// modules initialized on first use, so `show` never runs the editor's code.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  legalComments: 'none',
  logLevel: 'warning',
  // Half the bytes to read and parse at every start, and less memory; messages never show our stack.
  minify: true,
};

for (const stale of ['chunks', 'gitlab-secrets.mjs', 'prefetch.mjs', 'editor_deps.cjs']) {
  rmSync(new URL(`../dist/${stale}`, import.meta.url), { recursive: true, force: true });
}
/**
 * Built-in modules that cost a few milliseconds to load (child_process brings net, dgram and tty with it)
 * and that most runs never use: commander requires child_process for subcommands we do not have, and only
 * `edit` starts a process. The bundle gets each as an object that loads the real module on first use.
 */
const LAZY_BUILTINS = /^(?:node:)?(?:child_process|tty)$/;
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(build) {
    build.onResolve({ filter: LAZY_BUILTINS }, (args) =>
      args.namespace === 'lazy-builtin' ? { path: args.path, external: true } : { path: args.path, namespace: 'lazy-builtin' },
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      loader: 'js',
      contents:
        `let loaded;\nconst real = () => (loaded ??= require(${JSON.stringify(args.path)}));\n` +
        'module.exports = new Proxy({}, { get: (_, key) => real()[key], has: (_, key) => key in real(), ' +
        'ownKeys: () => Reflect.ownKeys(real()), getOwnPropertyDescriptor: (_, key) => Reflect.getOwnPropertyDescriptor(real(), key) });\n',
    }));
  },
};
rmSync(new URL('../dist/gitlab-secrets.cjs.cache', import.meta.url), { force: true });
await build({
  ...common,
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/gitlab-secrets.cjs',
  define: { PACKAGE_VERSION: JSON.stringify(version) },
  plugins: [lazyBuiltins],
});
// The code cache bin/ compiles the bundle with (removed before the bundle is replaced, written from it after).
execFileSync(process.execPath, ['scripts/code_cache.cjs', 'dist/gitlab-secrets.cjs'], {
  cwd: fileURLToPath(new URL('..', import.meta.url)),
  stdio: 'inherit',
});
/**
 * The prefetch needs only the names of the commands that need the key. Rather than the whole command table
 * (its help texts made dist/prefetch.cjs 18 kB, ~1.4 ms to load before PBKDF2 could start), it gets them as
 * a list, read from the table at build time: the table stays the one place that says which commands do.
 */
const tableBundle = await build({
  ...common,
  minify: false,
  entryPoints: ['src/commands/table.ts'],
  write: false,
  outfile: 'table.cjs',
  plugins: [
    {
      name: 'handlers-apart',
      setup(build) {
        build.onResolve({ filter: /.*/ }, (args) => (args.kind === 'dynamic-import' ? { path: args.path, external: true } : undefined));
      },
    },
  ],
});
const table = { exports: {} };
new Function('module', 'exports', 'require', tableBundle.outputFiles[0].text)(table, table.exports, createRequire(import.meta.url));
const keyed = [...table.exports.keyedCommandNames()];
const keyedNamesOnly = {
  name: 'keyed-names-only',
  setup(build) {
    build.onResolve({ filter: /[\\/]commands[\\/]table\.ts$/ }, () => ({ path: 'keyed-command-names', namespace: 'generated' }));
    build.onLoad({ filter: /.*/, namespace: 'generated' }, () => ({
      contents: `export function keyedCommandNames() { return new Set(${JSON.stringify(keyed)}); }`,
      loader: 'js',
    }));
  },
};
await build({ ...common, entryPoints: ['src/prefetch.ts'], outfile: 'dist/prefetch.cjs', plugins: [keyedNamesOnly] });
