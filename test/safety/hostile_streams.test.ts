/**
 * Issue 10, parts 5 and 6: files that are not files. A named pipe (FIFO) as gitlab.yml, secrets.yml,
 * redis.yml, resque.yml or the encrypted file hung `show`, `doctor` and `rotate --all` for ever (deaf to
 * SIGTERM); /dev/zero behind a symlink ate 16 GB. Each is now refused at once with one line naming the file,
 * without blocking, and a file larger than the cap (16 MiB for configuration, 256 MiB for an encrypted file)
 * too. And a path the admin named (--config, $GITLAB_CONFIG, --secrets, --gitlab-root) that is not there is
 * an error naming it, exit 3, where the defaults keep meaning "use the defaults".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { locateTarget } from '../../src/config/locate.ts';
import { namespaceByName } from '../../src/namespaces.ts';
import { makeGitlabTree, KEY_BASE } from '../helpers/gitlab_tree.ts';
import { EXIT, SECRETS, TEST_TIMEOUT_MS, assertCleanError, setup } from './safety_helpers.ts';
import type { SafeResult } from './safety_helpers.ts';

const QUICK_MS = 20_000;

function mkfifo(path: string): void {
  rmSync(path, { force: true });
  execFileSync('mkfifo', ['-m', '0644', path]);
}

function replaceWithLink(path: string, target: string): void {
  rmSync(path, { force: true });
  symlinkSync(target, path);
}

function assertNoHang(result: SafeResult, what: string): void {
  assert.equal(result.timedOut, false, `${what} hung: ${result.stderr}`);
  assert.equal(result.signal, undefined, `${what} died of ${result.signal}: ${result.stderr}`);
  assert.notEqual(result.exitCode, 0, `${what} exit code`);
}

/** [what, which file (relative to the root), the namespace to run, exit code] */
const PIPES: Array<[string, string, string, number]> = [
  ['gitlab.yml', 'config/gitlab.yml', 'smtp', EXIT.CONFIG],
  ['secrets.yml', 'config/secrets.yml', 'smtp', EXIT.CONFIG],
  ['redis.yml', 'config/redis.yml', 'redis', EXIT.CONFIG],
  ['resque.yml', 'config/resque.yml', 'redis', EXIT.CONFIG],
  ['the encrypted file', 'shared/encrypted_settings/smtp.yaml.enc', 'smtp', EXIT.IO],
];

for (const [what, file, namespace, exitCode] of PIPES) {
  test(`a named pipe as ${what}: show, get, edit, doctor and rotate --all refuse it at once`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const s = setup(t);
    s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
    const path = join(s.tree.root, file);
    mkfifo(path);
    const show = await s.run([...s.root, namespace, 'show'], { timeoutMs: QUICK_MS });
    assertCleanError(show, { exitCode, mentions: [path, 'named pipe'] });
    const get = await s.run([...s.root, namespace, 'get', 'password'], { timeoutMs: QUICK_MS });
    assertCleanError(get, { exitCode, mentions: [path] });
    const edit = await s.run([...s.root, namespace, 'edit'], { timeoutMs: QUICK_MS, env: { EDITOR: 'true' } });
    assertCleanError(edit, { exitCode, mentions: [path] });
    const doctor = await s.run([...s.root, 'doctor'], { timeoutMs: QUICK_MS });
    assertNoHang(doctor, 'doctor');
    assert.ok(doctor.stdout.includes(path) || doctor.stderr.includes(path), `doctor does not name ${path}: ${doctor.stdout}${doctor.stderr}`);
    const rotate = await s.run([...s.root, 'rotate', '--all'], { timeoutMs: QUICK_MS });
    assertNoHang(rotate, 'rotate --all');
    assert.ok(rotate.stderr.includes(path), `rotate --all does not name ${path}: ${rotate.stderr}`);
  });
}

test('a named pipe with a writer that never writes does not hang show either', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = join(s.tree.root, 'config', 'gitlab.yml');
  mkfifo(path);
  // Hold the pipe open for writing so that a blocking open would succeed and the read would then block.
  const { spawn } = await import('node:child_process');
  const writer = spawn('sh', ['-c', `exec 3>"${path}"; sleep 60`], { stdio: 'ignore' });
  t.after(() => writer.kill('SIGKILL'));
  const show = await s.run([...s.root, 'smtp', 'show'], { timeoutMs: QUICK_MS });
  assertCleanError(show, { exitCode: EXIT.CONFIG, mentions: [path, 'named pipe'] });
});

/** [what, the file replaced by a link to /dev/zero, namespace, exit code] */
const ZEROS: Array<[string, string, number]> = [
  ['gitlab.yml', 'config/gitlab.yml', EXIT.CONFIG],
  ['secrets.yml', 'config/secrets.yml', EXIT.CONFIG],
  ['the encrypted file', 'shared/encrypted_settings/smtp.yaml.enc', EXIT.IO],
];

for (const [what, file, exitCode] of ZEROS) {
  test(`${what} symlinked to /dev/zero is refused as a device, not read for ever`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const s = setup(t);
    s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
    const path = join(s.tree.root, file);
    replaceWithLink(path, '/dev/zero');
    const result = await s.run([...s.root, 'smtp', 'show'], { timeoutMs: QUICK_MS });
    // The encrypted file's messages name the link's target, as GitLab's realpath does.
    assertCleanError(result, { exitCode, mentions: [exitCode === EXIT.IO ? '/dev/zero' : path, 'character device'] });
  });
}

test('--secrets /dev/zero is refused as a device', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const result = await s.run([...s.root, '--secrets', '/dev/zero', 'smtp', 'show'], { timeoutMs: QUICK_MS });
  assertCleanError(result, { exitCode: EXIT.CONFIG, mentions: ['/dev/zero', 'character device'] });
});

test('a gitlab.yml that is a directory is refused as one', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = join(s.tree.root, 'config', 'gitlab.yml');
  rmSync(path);
  execFileSync('mkdir', [path]);
  const result = await s.run([...s.root, 'smtp', 'show'], { timeoutMs: QUICK_MS });
  assertCleanError(result, { exitCode: EXIT.CONFIG, mentions: [path, 'directory'] });
});

test('a gitlab.yml over 16 MiB is refused without reading it', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = join(s.tree.root, 'config', 'gitlab.yml');
  truncateSync(path, 16 * 1024 * 1024 + 1); // sparse: costs no disk
  const result = await s.run([...s.root, 'smtp', 'show'], { timeoutMs: QUICK_MS });
  assertCleanError(result, { exitCode: EXIT.CONFIG, mentions: [path, '16 MiB'] });
});

test('a gitlab.yml of exactly 16 MiB is still read', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const path = join(s.tree.root, 'config', 'gitlab.yml');
  const head = 'production:\n  gitlab:\n    host: example.com\n';
  writeFileSync(path, head + '#'.repeat(16 * 1024 * 1024 - head.length - 1) + '\n');
  const result = await s.run([...s.root, 'smtp', 'show'], { timeoutMs: 60_000 });
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(result.stdout, SECRETS);
});

test('an encrypted file over 256 MiB is refused without reading it', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = s.tree.file('smtp.yaml.enc');
  writeFileSync(path, '');
  truncateSync(path, 256 * 1024 * 1024 + 1);
  for (const command of ['show', 'edit']) {
    const result = await s.run([...s.root, 'smtp', command], { timeoutMs: QUICK_MS, env: { EDITOR: 'true' } });
    assertCleanError(result, { exitCode: EXIT.IO, mentions: [path, '256 MiB'] });
  }
});

// --- explicit paths that are not there -----------------------------------------------------------------

test('--config naming a missing file is exit 3 naming it, not the defaults', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const missing = join(s.work, 'no-such-gitlab.yml');
  const result = await s.run([...s.root, '--config', missing, 'smtp', 'show'], { timeoutMs: QUICK_MS });
  assertCleanError(result, { exitCode: EXIT.CONFIG, stderr: `${missing} does not exist. Check --config.\n` });
});

test('$GITLAB_CONFIG naming a missing file is exit 3 naming it', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const missing = join(s.work, 'nowhere.yml');
  const result = await s.run([...s.root, 'smtp', 'show'], { timeoutMs: QUICK_MS, env: { GITLAB_CONFIG: missing } });
  assertCleanError(result, { exitCode: EXIT.CONFIG, stderr: `${missing} does not exist. Check GITLAB_CONFIG.\n` });
});

test('--secrets naming a missing file is exit 3 naming it, not "Missing encryption key"', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const missing = join(s.work, 'gitlab-secrets.json');
  const result = await s.run([...s.root, '--secrets', missing, 'smtp', 'show'], { timeoutMs: QUICK_MS });
  assertCleanError(result, { exitCode: EXIT.CONFIG, stderr: `${missing} does not exist. Check --secrets.\n` });
});

test('--secrets naming a dangling symlink is exit 3 naming it', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const link = join(s.work, 'secrets.yml');
  symlinkSync(join(s.work, 'gone'), link);
  const result = await s.run([...s.root, '--secrets', link, 'smtp', 'show'], { timeoutMs: QUICK_MS });
  assertCleanError(result, { exitCode: EXIT.CONFIG, mentions: [link, '--secrets'] });
});

test('$GITLAB_ROOT without config/gitlab.yml is exit 3 naming the file', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  unlinkSync(join(s.tree.root, 'config', 'gitlab.yml'));
  const result = await s.run(['smtp', 'show'], { timeoutMs: QUICK_MS, env: { GITLAB_ROOT: s.tree.root } });
  assertCleanError(result, { exitCode: EXIT.CONFIG, stderr: `${join(s.tree.root, 'config', 'gitlab.yml')} does not exist. Check GITLAB_ROOT.\n` });
});

test('a standard root found on its own without gitlab.yml still means the default paths', () => {
  const tree = makeGitlabTree({ gitlabYml: null });
  const elsewhere = mkdtempSync(join(tmpdir(), 'gitlab-secrets-test-cwd-'));
  try {
    const target = locateTarget(namespaceByName('smtp'), { env: {}, cwd: elsewhere, standardRoots: [tree.root] });
    assert.equal(target.path, tree.file('smtp.yaml.enc'));
    assert.equal(target.keyBase, KEY_BASE);
    assert.deepEqual(target.sources.gitlabConfig, { path: join(tree.root, 'config', 'gitlab.yml'), found: false });
  } finally {
    tree.remove();
    rmSync(elsewhere, { recursive: true, force: true });
  }
});

/** [what, how to make it]: what `--file` may name that a write must never replace (root and /dev/null). */
const NOT_FILES: Array<[string, string, (path: string) => void]> = [
  ['a character device (as /dev/null)', 'character device', (path) => execFileSync('mknod', [path, 'c', '1', '3'])],
  ['a named pipe', 'named pipe', (path) => mkfifo(path)],
  ['a directory', 'directory', (path) => execFileSync('mkdir', [path])],
];

for (const [what, kind, make] of NOT_FILES) {
  test(`write, edit and rotate never replace ${what} named by --file with a regular file`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const s = setup(t);
    const path = join(s.tree.root, 'not-a-file'); // outside the settings directory, which the test checks for leftovers
    make(path);
    const before = execFileSync('stat', ['-c', '%F %t:%T %i', path], { encoding: 'utf8' });
    const args = [...s.root, '--file', path, 'smtp'];
    const write = await s.run([...args, 'write'], { input: 'password: x\n', timeoutMs: QUICK_MS });
    assertNoHang(write, 'write');
    assert.ok(write.stderr.includes(path) && write.stderr.includes(kind), `write: ${write.stderr}`);
    const edit = await s.run([...args, 'edit'], { env: { EDITOR: 'true' }, timeoutMs: QUICK_MS });
    assertNoHang(edit, 'edit');
    const rotate = await s.run([...args, 'rotate'], { timeoutMs: QUICK_MS });
    assertNoHang(rotate, 'rotate');
    assert.equal(execFileSync('stat', ['-c', '%F %t:%T %i', path], { encoding: 'utf8' }), before, `${what} was replaced`);
  });
}
