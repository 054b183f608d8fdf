/**
 * The single executable (`npm run build:binary`): built once, copied away from the project, and run with
 * no node on PATH, as on a GitLab host or in GitLab's Docker image.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import type { SpawnSyncOptions } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, PROJECT_ROOT, ensureBuilt } from '../helpers/project.ts';
import { InjectError, countInFile, injectSeaBlob } from '../../scripts/inject_sea_blob.mjs';

const TARGET = `${process.platform}-${process.arch}`;
const SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const DEMO_ROOT = join(PROJECT_ROOT, 'examples', 'gitlab');
const { version } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
/** An environment with no node to be found: what `env -i PATH=/nonexistent` gives. */
const NO_NODE = { PATH: '/nonexistent' };

/** Why the executable cannot be built here, or null when it can. */
function cannotBuild(): string | null {
  if (!['linux-x64', 'linux-arm64'].includes(TARGET)) return `the single executable is built on linux-x64 and linux-arm64, not ${TARGET}`;
  // grep, not readFileSync: reading all 100 MB into this process cost half a second of CPU.
  const grep = spawnSync('grep', ['-qF', SENTINEL_FUSE, process.execPath]);
  if (grep.error) throw grep.error;
  if (grep.status !== 0) return `${process.execPath} is a Node without single-executable support`;
  return null;
}

const skip = cannotBuild();
const work = mkdtempSync(join(tmpdir(), 'gitlab-secrets-binary-'));
const executable = join(work, 'gitlab-secrets');

before(() => {
  if (skip) return;
  ensureBuilt();
  execFileSync(process.execPath, ['scripts/build_binary.mjs'], { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'pipe'], timeout: 540_000 });
  copyFileSync(join(PROJECT_ROOT, 'dist', `gitlab-secrets-${TARGET}`), executable);
});

after(() => rmSync(work, { recursive: true, force: true }));

function runExecutable(args: readonly string[], options: SpawnSyncOptions = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(executable, args, { cwd: PROJECT_ROOT, env: NO_NODE, encoding: 'utf8', timeout: 30_000, ...options });
  if (result.error) throw result.error;
  return { status: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
}

test('the executable shows the demo secrets exactly as npm run demo does, with no node on PATH', { skip: skip ?? false }, () => {
  const args = ['--gitlab-root', 'examples/gitlab', 'smtp', 'show'];
  const demo = spawnSync(process.execPath, [BIN, ...args], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  const result = runExecutable(args);
  assert.equal(result.stderr, '');
  assert.equal(result.status, 0);
  assert.match(result.stdout, /smtp-relay@example\.com/);
  assert.equal(result.stdout, demo.stdout);
});

test('the executable prints the package version', { skip: skip ?? false }, () => {
  assert.deepEqual(runExecutable(['--version']), { status: 0, stdout: `${version}\n`, stderr: '' });
});

test('the executable exits with the CLI exit codes and one-line errors', { skip: skip ?? false }, () => {
  const usage = runExecutable(['--gitlab-root', 'examples/gitlab', 'redis', 'show', 'nope']);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /^Specified instance name nope does not exist\./);

  const secrets = join(work, 'other_secrets.yml');
  writeFileSync(secrets, `production:\n  encrypted_settings_key_base: ${'0123456789abcdef'.repeat(8)}\n`);
  const wrongKey = runExecutable(['--gitlab-root', 'examples/gitlab', '--secrets', secrets, 'smtp', 'show']);
  assert.equal(wrongKey.status, 6);
  assert.match(wrongKey.stderr, /^Couldn't decrypt .*smtp\.yaml\.enc\. Perhaps you passed the wrong key\?\n$/);
});

test('the executable edits and writes secrets, running $EDITOR without node', { skip: skip ?? false }, () => {
  const tree = join(work, 'tree');
  cpSync(DEMO_ROOT, tree, { recursive: true });
  const editor = `/bin/sh -c 'printf "password: edited\\n" > "$1"' editor`;
  const edit = runExecutable(['--gitlab-root', tree, 'smtp', 'edit'], { env: { ...NO_NODE, EDITOR: editor } });
  assert.equal(edit.status, 0, edit.stderr);
  assert.match(edit.stdout, /File encrypted and saved\./);
  assert.equal(runExecutable(['--gitlab-root', tree, 'smtp', 'show']).stdout, 'password: edited\n');

  const write = runExecutable(['--gitlab-root', tree, 'smtp', 'write'], { input: 'password: written\n' });
  assert.equal(write.status, 0, write.stderr);
  assert.equal(runExecutable(['--gitlab-root', tree, 'smtp', 'get', 'password']).stdout, 'written\n');
  assert.equal(runExecutable(['--gitlab-root', tree, 'smtp', 'show', '--json']).stdout, '{\n  "password": "written"\n}\n');
});

test('the build refuses to inject a second blob into an executable that holds one, and leaves no file', { skip: skip ?? false }, () => {
  assert.equal(countInFile(executable, `${SENTINEL_FUSE}:1`), 1, 'the fuse of the built executable is not set');
  const twice = join(work, 'twice');
  assert.throws(() => injectSeaBlob(executable, twice, Buffer.from('blob'), SENTINEL_FUSE), (error: unknown) => {
    assert.ok(error instanceof InjectError);
    assert.match(error.message, /already holds a single-executable blob/);
    return true;
  });
  assert.equal(existsSync(twice), false, 'the failed copy was left behind');
});
