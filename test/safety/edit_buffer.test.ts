/**
 * Issue 4, part 3: the edit buffer. The plaintext lives in a 0600 file in a private 0700 directory on a
 * RAM-backed filesystem ($XDG_RUNTIME_DIR, else /dev/shm), never in the settings directory, and it is
 * removed on every exit: success, refused content, a failed editor, and SIGINT, SIGTERM or SIGHUP (which also
 * stop the editor and exit 128 + the signal number with "Aborted changing file: nothing saved.").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessSync, chownSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative } from 'node:path';
import { join } from 'node:path';
import {
  ABORTED,
  EXIT,
  INVALID_YAML_PREFIX,
  NEEDS_ROOT,
  NOBODY,
  SAVED,
  SECRETS,
  TEST_TIMEOUT_MS,
  UNCHANGED,
  assertCleanError,
  assertSuccess,
  setup,
  waitFor,
  waitForProcessGone,
} from './safety_helpers.ts';
import type { EditorRecord, Safety } from './safety_helpers.ts';

const NEW_SECRETS = 'user_name: "new-user"\npassword: "typed in the editor"\n';

function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

const SHM_PROBLEM: string | false = (() => {
  try {
    accessSync('/dev/shm', constants.W_OK | constants.X_OK);
    return statSync('/dev/shm').isDirectory() ? false : '/dev/shm is not a directory here';
  } catch {
    return 'no writable /dev/shm here';
  }
})();

/** The buffer was private while the editor ran. */
function assertPrivateBuffer(s: Safety, record: EditorRecord, uid: number): void {
  assert.ok(!isInside(s.tree.root, record.buffer), `the buffer ${record.buffer} is inside the GitLab tree`);
  assert.ok(record.bufferStat.isFile, 'the buffer is not a regular file');
  assert.equal(record.bufferStat.mode.toString(8), '600', 'buffer mode');
  assert.equal(record.bufferStat.uid, uid, 'buffer owner');
  assert.ok(record.dirStat.isDirectory, "the buffer's directory is not a directory");
  assert.equal(record.dirStat.mode.toString(8), '700', "the buffer directory's mode");
  assert.equal(record.dirStat.uid, uid, "the buffer directory's owner");
  assert.deepEqual(record.dirEntries, [basename(record.buffer)], 'the private directory holds more than the buffer');
  assert.match(basename(dirname(record.buffer)), /^gitlab-secrets-/);
}

function assertBufferGone(record: EditorRecord): void {
  assert.equal(existsSync(record.buffer), false, `the plaintext buffer ${record.buffer} was left on disk`);
  assert.equal(existsSync(dirname(record.buffer)), false, `the buffer directory ${dirname(record.buffer)} was left on disk`);
}

// --- where the buffer lives ------------------------------------------------------------------------

test('the edit buffer is a 0600 file alone in a private 0700 directory in $XDG_RUNTIME_DIR', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const editor = s.editor([{ write: NEW_SECRETS }]);
  const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env });
  assertSuccess(result, SAVED);
  const record = editor.run(1);
  assert.ok(record, 'the editor did not run');
  assertPrivateBuffer(s, record, process.getuid!());
  assert.equal(dirname(dirname(record.buffer)), s.runtimeDir, `the buffer ${record.buffer} is not in $XDG_RUNTIME_DIR`);
  assert.equal(Buffer.from(record.seen, 'base64').toString('utf8'), SECRETS);
  assertBufferGone(record);
});

test('without $XDG_RUNTIME_DIR the edit buffer is on /dev/shm', { timeout: TEST_TIMEOUT_MS, skip: SHM_PROBLEM }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const editor = s.editor([{ write: NEW_SECRETS }]);
  const result = await s.run([...s.root, 'smtp', 'edit'], { env: { ...editor.env, XDG_RUNTIME_DIR: undefined } });
  assertSuccess(result, SAVED);
  const record = editor.run(1)!;
  assert.equal(dirname(dirname(record.buffer)), '/dev/shm');
  assertPrivateBuffer(s, record, process.getuid!());
  assertBufferGone(record);
});

test('an $XDG_RUNTIME_DIR that does not exist is passed over for /dev/shm', { timeout: TEST_TIMEOUT_MS, skip: SHM_PROBLEM }, async (t) => {
  const s = setup(t);
  const editor = s.editor([{ write: NEW_SECRETS }]);
  const missing = join(s.work, 'no-such-runtime-dir');
  const result = await s.run([...s.root, 'smtp', 'edit'], { env: { ...editor.env, XDG_RUNTIME_DIR: missing } });
  assertSuccess(result, SAVED);
  const record = editor.run(1)!;
  assert.equal(dirname(dirname(record.buffer)), '/dev/shm');
  assert.equal(existsSync(missing), false, 'the missing runtime directory was created');
  assertBufferGone(record);
});

test(
  'the git user editing its own file gets a buffer of its own on /dev/shm, not in an $XDG_RUNTIME_DIR it cannot write',
  { timeout: TEST_TIMEOUT_MS, skip: NEEDS_ROOT || SHM_PROBLEM },
  async (t) => {
    const s = setup(t);
    const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
    s.shareWithNobody();
    chownSync(s.tree.settingsDir, NOBODY!.uid, NOBODY!.gid);
    chownSync(path, NOBODY!.uid, NOBODY!.gid);
    const editor = s.editor([{ write: NEW_SECRETS }]);
    // $XDG_RUNTIME_DIR is root's private directory here.
    const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env, unprivileged: true });
    assertSuccess(result, SAVED);
    const record = editor.run(1)!;
    assert.equal(dirname(dirname(record.buffer)), '/dev/shm');
    assertPrivateBuffer(s, record, NOBODY!.uid);
    assertBufferGone(record);
    assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString('utf8'), NEW_SECRETS);
    assert.equal(statSync(path).uid, NOBODY!.uid);
  },
);

// --- removed on every exit -------------------------------------------------------------------------

test('the buffer is removed after an edit that leaves the file unchanged', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const editor = s.editor([{}]);
  const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env });
  assertSuccess(result, `${UNCHANGED}${SAVED}`);
  assertBufferGone(editor.run(1)!);
});

test('the buffer is removed when invalid YAML is refused without a terminal', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = readFileSync(path);
  const editor = s.editor([{ write: 'password: "unterminated\nuser_name: [\n' }]);
  const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env });
  assert.ok(result.stdout.startsWith(INVALID_YAML_PREFIX('SMTP')), `stdout: ${result.stdout}`);
  assertCleanError(result, { exitCode: EXIT.INVALID_CONTENT, stdout: result.stdout });
  assert.equal(result.stdout.split('\n').length, 2, `stdout is not one WARNING line: ${result.stdout}`);
  assert.ok(readFileSync(path).equals(before), 'the file changed');
  assertBufferGone(editor.run(1)!);
});

test('the buffer is removed when the edited text is not UTF-8', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = readFileSync(path);
  const editor = s.editor([{ write: Buffer.from([0x70, 0x3a, 0x20, 0xff, 0xfe, 0x0a]) }]);
  const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env });
  assertCleanError(result, { exitCode: EXIT.INVALID_CONTENT });
  assert.ok(readFileSync(path).equals(before), 'the file changed');
  assertBufferGone(editor.run(1)!);
});

for (const exit of [1, 2, 130]) {
  test(`the buffer is removed when the editor exits ${exit}, and nothing is saved`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const s = setup(t);
    const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
    const before = readFileSync(path);
    const editor = s.editor([{ write: NEW_SECRETS, exit }]);
    const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env });
    assertCleanError(result, { exitCode: EXIT.EDITOR, mentions: ['Unable to run $EDITOR'] });
    assert.ok(readFileSync(path).equals(before), 'the file changed');
    assertBufferGone(editor.run(1)!);
  });
}

test('the buffer is removed when the editor exits non-zero on a new file, and no file is created', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const editor = s.editor([{ write: NEW_SECRETS, exit: 1 }]);
  const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env });
  assertCleanError(result, { exitCode: EXIT.EDITOR });
  assert.deepEqual(s.tree.listSettings(), []);
  assertBufferGone(editor.run(1)!);
});

test('nothing is left when the editor cannot be started', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const result = await s.run([...s.root, 'smtp', 'edit'], { env: { EDITOR: join(s.work, 'no-such-editor') } });
  assertCleanError(result, { exitCode: EXIT.EDITOR, mentions: ['Unable to run $EDITOR'] });
  // setup()'s checks: nothing in $XDG_RUNTIME_DIR, /dev/shm or the temp directory.
});

// --- signals ---------------------------------------------------------------------------------------

const SIGNALS = [
  ['SIGINT', EXIT.SIGINT],
  ['SIGTERM', EXIT.SIGTERM],
  ['SIGHUP', EXIT.SIGHUP],
] as const;

for (const [signal, code] of SIGNALS) {
  for (const existing of [true, false]) {
    const what = existing ? 'an existing file' : 'a new file';
    test(`${signal} to the CLI while the editor runs on ${what} aborts, saves nothing and stops the editor`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const s = setup(t);
      const path = s.tree.file('smtp.yaml.enc');
      if (existing) s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
      const before = existing ? readFileSync(path) : null;
      // The editor has typed new secrets into the buffer and is still open.
      const editor = s.editor([{ write: NEW_SECRETS, sleepMs: 20_000 }]);
      const run = s.start([...s.root, 'smtp', 'edit'], { env: editor.env });
      const record = await waitFor('the editor to start', () => editor.run(1));
      assert.ok(existsSync(record.buffer), 'the buffer is not there while the editor runs');
      run.subprocess.kill(signal);
      const result = await run.result();
      assert.equal(result.signal, undefined, `the CLI died of ${result.signal} instead of handling it`);
      assert.equal(result.exitCode, code, `exit code (stderr: ${result.stderr})`);
      assert.equal(result.stderr, ABORTED);
      assert.equal(result.stdout, '');
      assert.ok(result.durationMs < 15_000, `the CLI took ${result.durationMs} ms to stop: it waited for the editor`);
      if (before) assert.ok(readFileSync(path).equals(before), 'the file changed');
      else assert.equal(existsSync(path), false, 'a file was created');
      assert.deepEqual(s.tree.listSettings(), existing ? ['smtp.yaml.enc'] : []);
      assertBufferGone(record);
      assert.ok(await waitForProcessGone(record.pid), `the editor (pid ${record.pid}) is still running`);
    });
  }
}

for (const [signal, code] of [
  ['SIGHUP', EXIT.SIGHUP],
  ['SIGTERM', EXIT.SIGTERM],
  ['SIGINT', EXIT.SIGINT],
] as const) {
  test(`${signal} to the whole process group (editor included) aborts, saves nothing and leaves nothing`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const s = setup(t);
    const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
    const before = readFileSync(path);
    const editor = s.editor([{ write: NEW_SECRETS, sleepMs: 20_000 }]);
    const run = s.start([...s.root, 'smtp', 'edit'], { env: editor.env, detached: true });
    const record = await waitFor('the editor to start', () => editor.run(1));
    // A closed terminal window (SIGHUP), `kill -TERM -<pgid>` or Ctrl-C reach the editor too.
    process.kill(-run.subprocess.pid!, signal);
    const result = await run.result();
    assert.equal(result.signal, undefined, `the CLI died of ${result.signal} instead of handling it`);
    assert.equal(result.exitCode, code, `exit code (stderr: ${result.stderr})`);
    assert.equal(result.stderr, ABORTED);
    assert.equal(result.stdout, '');
    assert.ok(readFileSync(path).equals(before), 'the file changed');
    assertBufferGone(record);
    assert.ok(await waitForProcessGone(record.pid), `the editor (pid ${record.pid}) is still running`);
  });
}

// --- what the editor leaves beside the buffer ------------------------------------------------------

test("an editor's swap file beside the buffer is removed with the private directory after a save", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const editor = s.editor([{ write: NEW_SECRETS, sidecar: '.smtp.yaml.swp' }]);
  const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env });
  assertSuccess(result, SAVED);
  const record = editor.run(1)!;
  assert.equal(existsSync(join(dirname(record.buffer), '.smtp.yaml.swp')), false, 'the swap file with the plaintext was left');
  assertBufferGone(record);
});

test("an editor's backup file beside the buffer is removed when the CLI is interrupted", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const editor = s.editor([{ write: NEW_SECRETS, sidecar: 'smtp.yaml~', sleepMs: 20_000 }]);
  const run = s.start([...s.root, 'smtp', 'edit'], { env: editor.env });
  const record = await waitFor('the editor to start', () => editor.run(1));
  run.subprocess.kill('SIGTERM');
  const result = await run.result();
  assert.equal(result.exitCode, EXIT.SIGTERM, result.stderr);
  assertBufferGone(record);
});

test('an editor that deletes the buffer saves nothing and is reported in one line, not as an internal error', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = readFileSync(path);
  const editor = s.editor([{ removeBuffer: true }]);
  const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env });
  assertCleanError(result);
  assert.notEqual(result.exitCode, 1, `reported as an internal error (a bug): ${result.stderr}`);
  assert.doesNotMatch(result.stderr, /internal error/);
  assert.ok(readFileSync(path).equals(before), 'the file changed');
  assertBufferGone(editor.run(1)!);
});
