// Bundle the CLI with esbuild into one CommonJS file, and the key prefetch into another that bin/ loads
// first. CommonJS because Node's ES module loader costs ~12 ms at start-up, which is a fifth of a `show`
// (measured with `npm run bench`). Commands still load lazily: esbuild turns their `await import()` into
// modules initialized on first use, so `show` never runs the editor's code.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

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
await build({
  ...common,
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/gitlab-secrets.cjs',
  define: { PACKAGE_VERSION: JSON.stringify(version) },
});
/**
 * The prefetch reads the command table for its names only: the handlers the table loads with `import()`
 * are never called there, so they stay out of dist/prefetch.cjs.
 */
const handlersApart = {
  name: 'handlers-apart',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) =>
      args.kind === 'dynamic-import' && /[\\/]commands[\\/]table\.ts$/.test(args.importer) ? { path: args.path, external: true } : undefined,
    );
  },
};
await build({ ...common, entryPoints: ['src/prefetch.ts'], outfile: 'dist/prefetch.cjs', plugins: [handlersApart] });
