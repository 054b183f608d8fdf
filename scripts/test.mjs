// `npm test`: build, then the type check and the test files side by side. Fails if either does. The type
// check is TypeScript 7's native tsc: ~1.5 s of CPU for the whole project, where TypeScript 5's took 9–13 s
// inside a run (its collector and compiler threads competing with the tests for two cores). The test files
// run as a few bundles, one per process (see `bundled`).
// Arguments are test files to run instead of all of them (through tsx, each in its own process).
import { spawn } from 'node:child_process';
import { build } from 'esbuild';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

const run = (command, args, options = {}) =>
  new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', ...options });
    const output = [];
    child.stdout?.on('data', (chunk) => output.push(chunk));
    child.on('error', () => undefined); // not found: 'close' follows with a negative code
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output: Buffer.concat(output) }));
  });

/**
 * The files of one directory share one process (a generated file that imports them in turn): a process of its
 * own costs each file ~0.6 s of CPU (node, and the sources it loads again). So a file's top-level
 * before/after hooks run before and after its whole group, and no file may leave process-wide state behind.
 * These files run in processes of their own, apart from their directory (the files of one list share one):
 * the lock races spend half their ~25 s waiting (lock timeouts, racing processes), and packing is one long
 * chain (npm, build, tsc, install); other work fills their waits. The core dump tests need a process where no
 * edit ran in-process (one lowers its own process's core limits, for good): the lock races start every edit
 * as a process of its own.
 */
const APART = [['test/safety/lock.test.ts', 'test/safety/core_dumps.test.ts'], ['test/package/pack.test.ts']];
/**
 * Directories whose files are shared among this many processes, the largest files first to the lightest:
 * test/safety is the suite's biggest share of CPU (spawned CLIs, terminals), too long a chain for one worker.
 */
const SPLIT = { 'test/safety': 2 };
/**
 * The longest runs start first, so that the workers finish together (measured: a long run started
 * last, alone on one core at the end, cost ~10 s). Node's runner sorts the files it is given by path, so
 * every run gets a generated file named in this order.
 */
const SLOW_FIRST = [
  'test/safety/lock.test.ts',
  'test/safety',
  'test/package/pack.test.ts',
  'test/cli',
  'test/interop',
  'test/unit',
  'test/package',
];

const named = process.argv.length > 2;
const missing = APART.flat().filter((file) => !existsSync(file));
if (!named && missing.length > 0) {
  console.error(`npm test: scripts/test.mjs runs ${missing.join(', ')} apart, and there is no such file`);
  process.exit(1);
}

/** Directories this run makes, removed when it ends: at exit, or at Ctrl-C, a hang-up or SIGTERM. */
const made = [];
const removeMade = () => made.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true }));
process.on('exit', removeMade);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    removeMade();
    process.kill(process.pid, signal);
  });
}
const groups = mkdtempSync(join(tmpdir(), 'gitlab-secrets-test-groups-'));
made.push(groups);
// The type check needs no build: it runs while the CLI is built, then beside the tests. So do the look-up of
// python3 (~0.8 s through pyenv's shim) and the bundling of the test files.
const typecheck = run(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit'], { stdio: ['ignore', 'pipe', 'inherit'] });
const realPython = run('python3', ['-c', 'import sys; print(sys.executable)'], { stdio: ['ignore', 'pipe', 'ignore'] });
const testFiles = named
  ? Promise.resolve(process.argv.slice(2))
  : bundled(
      allTestFiles()
        .sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name))
        .map(({ name, members }, order) => shared(order, name, members ?? [name])),
    );
testFiles.catch(() => undefined); // awaited below, after the build
if ((await run(process.execPath, ['scripts/build.mjs'])).code !== 0) process.exit(1);
const files = await testFiles.catch((error) => {
  if (!Array.isArray(error?.errors)) console.error(error);
  console.error(`npm test: the test files did not bundle (${Array.isArray(error?.errors) ? 'esbuild said why, above' : 'above: why'})`);
  process.exit(1);
});

const env = { ...process.env, PATH: pathWithRealPython(await realPython) };
/**
 * NODE_EXTRA_CA_CERTS makes every Node process parse that bundle of certificates as it starts (~45 ms of
 * CPU here, a third of a spawned CLI's, and the suite starts Node about 150 times); neither the CLI nor the
 * tests make a TLS connection. Kept aside for npm, which the package test runs (test/package/pack.test.ts).
 */
if (env.NODE_EXTRA_CA_CERTS !== undefined) {
  env.GITLAB_SECRETS_TEST_NODE_EXTRA_CA_CERTS = env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_EXTRA_CA_CERTS;
}

/**
 * PATH with python3 (the pty bridges') found first as the interpreter itself: a version manager's shim
 * (pyenv's) costs ~0.45 s of CPU at every start, the interpreter ~0.07 s, and the tests start it often.
 * `found` is what `python3 -c 'print(sys.executable)'` printed.
 */
function pathWithRealPython(found) {
  const real = found.code === 0 ? found.output.toString('utf8').trim() : '';
  if (!real) return process.env.PATH;
  mkdirSync(join(groups, 'bin'));
  chmodSync(groups, 0o755); // nobody's runs too
  symlinkSync(real, join(groups, 'bin', 'python3'));
  return `${join(groups, 'bin')}${delimiter}${process.env.PATH}`;
}
function rank(file) {
  const at = SLOW_FIRST.findIndex((slow) => file === slow || file.startsWith(`${slow}/`));
  return at < 0 ? SLOW_FIRST.length : at;
}

/** Every test file that runs alone, `{ name }`, and every group of files that share a process, `{ name, members }`. */
function allTestFiles() {
  return readdirSync('test', { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((dir) => {
      const all = readdirSync(`test/${dir.name}`)
        .filter((f) => f.endsWith('.test.ts'))
        .sort()
        .map((f) => `test/${dir.name}/${f}`);
      const apart = APART.filter(([first]) => first.startsWith(`test/${dir.name}/`)).map((members) => ({ name: members[0], members }));
      const inDir = all.filter((file) => !APART.flat().includes(file));
      if (inDir.length < 2) return [...apart, ...inDir.map((name) => ({ name }))];
      return [
        ...apart,
        ...split(inDir, SPLIT[`test/${dir.name}`] ?? 1).map((members, i, parts) => ({
          name: parts.length > 1 ? `test/${dir.name}/part${i + 1}` : `test/${dir.name}`,
          members,
        })),
      ];
    });
}

/** `files` in `parts` lists of about the same total size (the size of a test file as its cost). */
function split(files, parts) {
  const lists = Array.from({ length: Math.min(parts, files.length) }, () => ({ size: 0, files: [] }));
  const sized = files.map((file) => ({ file, size: statSync(file).size })).sort((a, b) => b.size - a.size || a.file.localeCompare(b.file));
  for (const { file, size } of sized) {
    const lightest = lists.reduce((a, b) => (b.size < a.size ? b : a));
    lightest.size += size;
    lightest.files.push(file);
  }
  return lists.map((list) => list.files.sort());
}

/**
 * One file that runs the tests of `members` in one process, in order, named so that Node's runner (which
 * sorts the files by path) starts it `order`-th. Static imports: node:test ends a process's run once the
 * tests registered while its entry module loaded are done, so an `await import()` would drop every file
 * after the first. A member that fails to load fails the whole file, loudly.
 */
function shared(order, name, members) {
  const path = join(groups, `${String(order).padStart(2, '0')}_${name.replaceAll('/', '_')}.test.mjs`);
  const imports = members.map((file) => `import ${JSON.stringify(resolve(file))};`);
  writeFileSync(path, [`// The test files of ${name}, in one process (scripts/test.mjs).`, ...imports, ''].join('\n'));
  return path;
}
/**
 * The group files as bundles, one each (esbuild, which tsx also transpiles with): tsx's loader, a thread that
 * answers every import of a test process and reads each file from its cache, cost each test process ~0.6 s
 * of CPU as it started (a process that only loads its files: 1.3 s through tsx, 0.7 s as a bundle). Only
 * the project's own files are bundled; packages load from node_modules as they do through tsx, so the
 * bundles are written under node_modules/.cache. Stack traces and test locations still name the TypeScript
 * lines (inline source maps, --enable-source-maps), and each file keeps its own `import.meta.url`, by which
 * tests find what lies beside them (no bundle is written if an `import.meta` is left to name it). Files
 * named on the command line run through tsx as they are.
 */
async function bundled(entries) {
  mkdirSync(join('node_modules', '.cache'), { recursive: true });
  const out = mkdtempSync(join('node_modules', '.cache', 'gitlab-secrets-test-'));
  made.push(out);
  const { outputFiles } = await build({
    entryPoints: entries,
    outdir: out,
    write: false,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    keepNames: true, // as tsx: functions keep their names (in stacks too) where files share a scope
    logLevel: 'warning',
    plugins: [ownImportMeta()],
  });
  for (const { path, text } of outputFiles) {
    if (/\bimport\.meta\b/.test(text)) throw new Error(`${path}: an import.meta that names the bundle, not its file`);
    writeFileSync(path, text);
  }
  return entries.map((entry) => resolve(out, basename(entry)));
}

/**
 * An esbuild plugin: `import.meta.url`, `.filename` and `.dirname` in each of the project's files (TypeScript
 * or JavaScript: test/ imports bench/ and scripts/ modules too) are that file's own, as when it runs on its own.
 * A plain text replacement: the project has no string that spells them.
 */
function ownImportMeta() {
  return {
    name: 'own-import-meta',
    setup(build) {
      build.onLoad({ filter: /\.[cm]?[jt]s$/ }, (args) => {
        if (args.path.split(sep).includes('node_modules')) return undefined;
        const own = { url: pathToFileURL(args.path).href, filename: args.path, dirname: dirname(args.path) };
        return {
          contents: readFileSync(args.path, 'utf8').replace(/\bimport\.meta\.(url|filename|dirname)\b/g, (_, key) => JSON.stringify(own[key])),
          loader: /\.[cm]?ts$/.test(args.path) ? 'ts' : 'js',
        };
      });
    },
  };
}

// No --test-force-exit: it drops results a test process had not yet handed to the runner, so the count of
// tests changed from run to run (1,033 to 1,049) while the run stayed green.
// Three test processes at a time on two cores: many tests wait (lock timeouts, racing processes, terminals,
// Ruby), and a third process fills those waits. Measured on a fresh clone with TypeScript 7, before the test
// files were bundled: 50–54 s with three, 54 s with four, 65 s with two (which leaves the lock races' waits
// unfilled).
const concurrency = Number(process.env.GITLAB_SECRETS_TEST_CONCURRENCY) || 3;
const loader = named ? ['--import', 'tsx'] : ['--enable-source-maps'];
const tests = run(process.execPath, [...loader, '--test', `--test-concurrency=${concurrency}`, ...files], { env });
const [typecheckRun, testsRun] = await Promise.all([typecheck, tests]);
if (typecheckRun.code !== 0) {
  process.stderr.write(typecheckRun.output);
  console.error('npm test: tsc --noEmit failed');
}
process.exit(typecheckRun.code || testsRun.code);
