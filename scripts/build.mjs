// Bundle the CLI into one ESM file: one file to read at start-up instead of hundreds of modules.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/gitlab-secrets.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  define: { PACKAGE_VERSION: JSON.stringify(version) },
  // Some dependencies are CommonJS and call require() on Node built-ins.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
});
