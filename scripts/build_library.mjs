// Build the library entry of the npm package: src/index.ts bundled into dist/lib/index.mjs (no runtime
// dependencies, like the CLI bundle), and its declaration files into dist/types by tsc.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

for (const dir of ['dist/lib', 'dist/types']) rmSync(new URL(`../${dir}`, import.meta.url), { recursive: true, force: true });

await build({
  absWorkingDir: root,
  entryPoints: ['src/index.ts'],
  outfile: 'dist/lib/index.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  legalComments: 'none',
  logLevel: 'warning',
});

// tsconfig.lib.json emits declarations only, for src/index.ts and what it imports. They keep the `.ts`
// import specifiers of the sources, which TypeScript resolves to the emitted `.d.ts` files.
// TypeScript 7's package exports no bin path: its tsc lies beside its package.json.
const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.lib.json'], { cwd: root, stdio: 'inherit' });
