/**
 * The npm package as a user gets it: `npm pack` (whose prepack builds everything), then
 * `npm install -g <tarball>` into a temporary prefix, then the installed command and library.
 *
 * The tarball is packed from a copy of the project's sources, so that prepack's build starts from no
 * dist/ at all and cannot disturb the other tests, which run the repository's dist/ bundle.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { SpawnSyncOptions } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, PROJECT_ROOT, ensureBuilt } from '../helpers/project.ts';

const DEMO_ROOT = join(PROJECT_ROOT, 'examples', 'gitlab');
const TSC = join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const DEMO_SMTP = join(DEMO_ROOT, 'shared', 'encrypted_settings', 'smtp.yaml.enc');
const { version } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };

const work = mkdtempSync(join(tmpdir(), 'gitlab-secrets-pack-'));
const source = join(work, 'source');
const prefix = join(work, 'prefix');
const installedBin = join(prefix, 'bin', 'gitlab-secrets');
const installedPackage = join(prefix, 'lib', 'node_modules', 'gitlab-secrets');
let packedFiles: string[] = [];
let tarballSize = 0;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The environment without the variables the CLI reads, so the developer's shell cannot change an outcome. */
const ENV = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !['GITLAB_ROOT', 'GITLAB_CONFIG', 'RAILS_ENV', 'EDITOR', 'VISUAL'].includes(name)),
);
/** npm's environment: the certificates `npm test` kept out of the test processes (scripts/test.mjs), should npm need the registry. */
const NPM_ENV = { ...ENV, NODE_EXTRA_CA_CERTS: process.env.GITLAB_SECRETS_TEST_NODE_EXTRA_CA_CERTS ?? process.env.NODE_EXTRA_CA_CERTS };

function run(command: string, args: readonly string[], options: SpawnSyncOptions = {}): Run {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 240_000, env: ENV, ...options });
  if (result.error) throw result.error;
  return { status: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
}

function succeed(command: string, args: readonly string[], options: SpawnSyncOptions = {}): Run {
  const result = run(command, args, options);
  assert.equal(result.status, 0, `${command} ${args.join(' ')} failed:\n${result.stderr}${result.stdout}`);
  return result;
}

const SHOW_DEMO = ['--gitlab-root', 'examples/gitlab', 'smtp', 'show'];
let demoShown: string | undefined;

/** What the repository's bin prints for `smtp show` of the demo tree (run once: two tests compare with it). */
function repositoryShow(): string {
  demoShown ??= succeed(process.execPath, [BIN, ...SHOW_DEMO], { cwd: PROJECT_ROOT }).stdout;
  return demoShown;
}

/** The encrypted_settings_key_base of the demo tree. */
function demoKeyBase(): string {
  const match = /^\s*encrypted_settings_key_base:\s*(\S+)\s*$/m.exec(readFileSync(join(DEMO_ROOT, 'config', 'secrets.yml'), 'utf8'));
  assert.ok(match, 'no encrypted_settings_key_base in the demo secrets.yml');
  return match[1]!;
}

before(() => {
  ensureBuilt();
  mkdirSync(source);
  for (const entry of ['package.json', 'bin', 'src', 'scripts', 'tsconfig.json', 'tsconfig.lib.json', 'README.md', 'README.ja.md', 'LICENSE']) {
    cpSync(join(PROJECT_ROOT, entry), join(source, entry), { recursive: true });
  }
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(source, 'node_modules'), 'dir');
  // A built executable lies in dist/ after `npm run build:binary`; it must stay out of the tarball.
  mkdirSync(join(source, 'dist'));
  writeFileSync(join(source, 'dist', `gitlab-secrets-${process.platform}-${process.arch}`), 'not packed');

  const packed = succeed('npm', ['pack', '--json', '--pack-destination', work], { cwd: source, env: NPM_ENV });
  const [report] = JSON.parse(packed.stdout) as Array<{ filename: string; size: number; files: Array<{ path: string }> }>;
  packedFiles = report!.files.map((file) => file.path).sort();
  tarballSize = report!.size;

  // The runtime dependencies come from the npm cache that `npm ci` filled; the network only if missing.
  succeed('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(work, report!.filename)], {
    cwd: work,
    env: NPM_ENV,
  });
});

after(() => rmSync(work, { recursive: true, force: true }));

test('npm pack ships the bundles, bin, library, types, READMEs and LICENSE and nothing else', () => {
  for (const expected of [
    'LICENSE',
    'README.md',
    'README.ja.md',
    'package.json',
    'bin/gitlab-secrets.cjs',
    'dist/gitlab-secrets.cjs',
    'dist/prefetch.cjs',
    'dist/lib/index.mjs',
    'dist/types/index.d.ts',
  ]) {
    assert.ok(packedFiles.includes(expected), `${expected} is not in the tarball: ${packedFiles.join(', ')}`);
  }
  const unexpected = packedFiles.filter(
    (path) => !['LICENSE', 'README.md', 'README.ja.md', 'package.json'].includes(path) && !path.startsWith('bin/') && !path.startsWith('dist/'),
  );
  assert.deepEqual(unexpected, []);
  assert.deepEqual(packedFiles.filter((path) => path.startsWith('dist/gitlab-secrets-')), [], 'the single executable was packed');
  assert.ok(tarballSize < 1_000_000, `the tarball is ${tarballSize} bytes`);
});

test('the installed gitlab-secrets prints the same version as the repository bin', () => {
  const installed = succeed(installedBin, ['--version'], { cwd: PROJECT_ROOT });
  const repository = succeed(process.execPath, [BIN, '--version'], { cwd: PROJECT_ROOT });
  assert.equal(installed.stdout, `${version}\n`);
  assert.equal(installed.stdout, repository.stdout);
});

test('the installed gitlab-secrets shows the demo secrets exactly as the repository bin does', () => {
  const installed = succeed(installedBin, SHOW_DEMO, { cwd: PROJECT_ROOT });
  assert.equal(installed.stderr, '');
  assert.match(installed.stdout, /smtp-relay@example\.com/);
  assert.equal(installed.stdout, repositoryShow());
});

test('the installed CLI needs none of its npm dependencies at run time, editor included', (t) => {
  // The CLI is an esbuild bundle; only node: built-ins may be required from it.
  const dependencies = join(installedPackage, 'node_modules');
  const hidden = join(work, 'hidden_node_modules');
  if (existsSync(dependencies)) {
    renameSync(dependencies, hidden);
    t.after(() => renameSync(hidden, dependencies));
  }
  const tree = join(work, 'tree');
  cpSync(DEMO_ROOT, tree, { recursive: true });
  const editor = `/bin/sh -c 'printf "password: edited\\n" > "$1"' editor`;
  const edit = succeed(installedBin, ['--gitlab-root', tree, 'smtp', 'edit'], { env: { ...ENV, EDITOR: editor }, stdio: ['ignore', 'pipe', 'pipe'] });
  assert.match(edit.stdout, /File encrypted and saved\./);
  assert.equal(succeed(installedBin, ['--gitlab-root', tree, 'smtp', 'show']).stdout, 'password: edited\n');
  succeed(installedBin, ['--gitlab-root', tree, 'smtp', 'write'], { input: 'password: written\n' });
  assert.equal(succeed(installedBin, ['--gitlab-root', tree, 'smtp', 'get', 'password']).stdout, 'written\n');
});

test('the library entry of the installed package decrypts the demo file', () => {
  // A module beside the global node_modules imports the package by name, through its `exports`.
  const script = join(prefix, 'lib', 'decrypt_demo.mjs');
  writeFileSync(
    script,
    [
      "import { readFileSync } from 'node:fs';",
      "import { EncryptedFile, decrypt, encrypt } from 'gitlab-secrets';",
      'const [path, keyBase] = process.argv.slice(2);',
      'const file = await new EncryptedFile({ contentPath: path, keyBase }).read();',
      "const direct = decrypt(readFileSync(path, 'utf8'), keyBase);",
      "const roundTrip = decrypt(encrypt(Buffer.from('a: 1\\n'), keyBase), keyBase);",
      'process.stdout.write(JSON.stringify([file.plaintext.toString(), direct.toString(), roundTrip.toString()]));',
    ].join('\n'),
  );
  const result = succeed(process.execPath, [script, DEMO_SMTP, demoKeyBase()]);
  const shown = repositoryShow();
  const [fromFile, fromBody, roundTrip] = JSON.parse(result.stdout) as string[];
  assert.equal(fromFile, shown);
  assert.equal(fromBody, shown);
  assert.equal(roundTrip, 'a: 1\n');
});

/**
 * What tsc reports for the project in `dir`, checked in full (skipLibCheck off: our declarations,
 * @types/node and TypeScript's own libraries alike), with the files it checked, as `tsc --listFiles` prints
 * them.
 */
function typeCheck(dir: string): { checked: string[]; status: number | null; errors: string } {
  const result = run(process.execPath, [TSC, '-p', dir, '--listFiles', '--pretty', 'false'], { cwd: dir });
  const lines = result.stdout.split('\n').filter(Boolean);
  const isFile = (line: string) => line.startsWith('/') && !/\(\d+,\d+\): error /.test(line);
  const errors = lines.filter((line) => !isFile(line));
  return { checked: lines.filter(isFile), status: result.status, errors: [...errors, result.stderr].join('\n').trim() };
}

test('the installed type declarations type-check a TypeScript consumer with skipLibCheck off', () => {
  const consumer = join(prefix, 'lib', 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(
    join(consumer, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        // A Node program's: no DOM, whose declarations were a third of what there was to read.
        lib: ['ES2023'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
        typeRoots: [join(PROJECT_ROOT, 'node_modules', '@types')],
      },
      files: ['use.ts'],
    }),
  );
  writeFileSync(
    join(consumer, 'use.ts'),
    [
      "import { EncryptedFile, EXIT, decrypt } from 'gitlab-secrets';",
      "import type { ReadResult } from 'gitlab-secrets';",
      "const file = new EncryptedFile({ contentPath: 'smtp.yaml.enc', keyBase: 'k'.repeat(32) });",
      'const result: ReadResult | null = await file.read();',
      "const text: string = decrypt('body', 'key').toString('utf8');",
      '// @ts-expect-error the key base is a string: an error here shows the types are real, not any',
      "decrypt('body', 42);",
      'console.log(result, text, EXIT);',
    ].join('\n'),
  );
  const types = join(realpathSync(installedPackage), 'dist', 'types');
  const { checked, status, errors } = typeCheck(realpathSync(consumer));
  assert.equal(errors, '');
  assert.equal(status, 0);
  // The check covered the consumer and our declarations, reached through the package's `exports`.
  assert.ok(checked.includes(join(realpathSync(consumer), 'use.ts')), checked.join(', '));
  for (const declarations of ['index.d.ts', 'errors.d.ts', 'format/encrypted_file.d.ts']) {
    assert.ok(checked.includes(join(types, declarations)), `${declarations} was not checked: ${checked.join(', ')}`);
  }
});
