// Bundle the CLI with esbuild. The entry holds what every command needs; each command's code is a
// chunk loaded on first use (code splitting), so `show` never parses the editor, execa or tmp.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

rmSync(new URL('../dist/chunks', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { 'gitlab-secrets': 'src/cli.ts', prefetch: 'src/prefetch.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  define: { PACKAGE_VERSION: JSON.stringify(version) },
  // Some dependencies are CommonJS and call require() on Node built-ins.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
});
