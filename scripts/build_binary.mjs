// Build dist/gitlab-secrets-<platform>-<arch>: a Node single executable application (SEA) that runs on a
// host without Node. Steps from https://nodejs.org/docs/latest-v20.x/api/single-executable-applications.html:
// one CommonJS script, a preparation blob made by `node --experimental-sea-config`, and a copy of this
// very `node` executable with the blob injected (as postject would, by scripts/inject_sea_blob.mjs).
//
// Only the host's own architecture is built. The executable is a copy of the running `node` (there is no
// other Node binary to copy without downloading one, which this build must not do), and the blob's code
// cache is made by this Node's V8, which only that same binary accepts. So an arm64 executable is built
// on an arm64 machine, by the same command.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InjectError, countInFile, injectSeaBlob } from './inject_sea_blob.mjs';

const SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const SUPPORTED = ['linux-x64', 'linux-arm64'];

const root = fileURLToPath(new URL('..', import.meta.url));
const target = `${process.platform}-${process.arch}`;
const output = join(root, 'dist', `gitlab-secrets-${target}`);

class BuildError extends Error {}

try {
  await buildBinary();
} catch (error) {
  if (!(error instanceof BuildError)) throw error;
  console.error(`build_binary: ${error.message}`);
  process.exitCode = 1;
}

async function buildBinary() {
  if (!SUPPORTED.includes(target)) fail(`building the executable is supported on ${SUPPORTED.join(' and ')}, not ${target}`);
  // Node builds without SEA support (some distributions' packages) lack the fuse postject flips.
  if (countInFile(process.execPath, SENTINEL_FUSE) === 0) {
    fail(`${process.execPath} has no single-executable support (no ${SENTINEL_FUSE} in it)`);
  }
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const work = mkdtempSync(join(tmpdir(), 'gitlab-secrets-sea-'));
  try {
    await buildIn(work, version);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function buildIn(work, version) {
  // 1. One CommonJS file: SEA runs its main script as CommonJS, whose require() loads built-ins only.
  // Without code splitting, esbuild inlines the CLI's lazy `await import('./commands/…')` and those of its
  // dependencies; a dynamic import left in would fail in the executable (and defeats the code cache).
  const script = join(work, 'gitlab-secrets.cjs');
  const result = await build({
    absWorkingDir: root,
    stdin: {
      // What bin/gitlab-secrets.cjs does: start the key derivation, then run the CLI.
      contents:
        "const prefetched = require('./src/prefetch.ts').prefetchKey(process.argv.slice(2));\n" +
        "const { main } = require('./src/cli.ts');\n" +
        'main(process.argv.slice(2), { prefetched }).then((code) => { process.exitCode = code; });\n',
      resolveDir: root,
      sourcefile: 'sea_main.cjs',
      loader: 'js',
    },
    outfile: script,
    bundle: true,
    splitting: false,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    define: { PACKAGE_VERSION: JSON.stringify(version) },
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
  });
  const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
  const leftOver = Object.values(result.metafile.outputs)
    .flatMap((out) => out.imports)
    .filter((entry) => entry.kind === 'dynamic-import' || !builtins.has(entry.path));
  if (Object.keys(result.metafile.outputs).length !== 1 || leftOver.length > 0) {
    fail(`the executable's script must be one file importing built-ins only; it imports ${leftOver.map((entry) => entry.path).join(', ')}`);
  }

  // 2. The preparation blob. The code cache saves compiling the script at each start (measured on
  // linux-x64: median `show` about 10 ms faster of ~130 ms, `--version` ~50 ms against ~90 ms for
  // `node bin/gitlab-secrets.cjs`). useSnapshot is left off: it was no faster than the code cache (the
  // commands' modules are evaluated after start-up either way), and Node warns that child_process,
  // which the editor needs, is not verified in user snapshots.
  const blob = join(work, 'sea-prep.blob');
  const seaConfig = join(work, 'sea-config.json');
  writeFileSync(seaConfig, JSON.stringify({ main: script, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }));
  execFileSync(process.execPath, ['--experimental-sea-config', seaConfig], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });

  // 3. A copy of this node with the blob injected (what postject does, see inject_sea_blob.mjs); renamed
  // into place only when complete.
  mkdirSync(join(root, 'dist'), { recursive: true });
  const partial = `${output}.partial`;
  try {
    injectSeaBlob(process.execPath, partial, readFileSync(blob), SENTINEL_FUSE);
    chmodSync(partial, 0o755);
    renameSync(partial, output);
  } catch (error) {
    if (error instanceof InjectError) fail(`cannot inject into ${process.execPath}: ${error.message}`);
    throw error;
  } finally {
    rmSync(partial, { force: true });
  }

  const printed = execFileSync(output, ['--version'], { encoding: 'utf8', env: { PATH: '/nonexistent' } }).trim();
  if (printed !== version) fail(`the built executable printed version '${printed}', expected '${version}'`);
  console.log(`built ${output} (${version})`);
}

function fail(message) {
  throw new BuildError(message);
}
