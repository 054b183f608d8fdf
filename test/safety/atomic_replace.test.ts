/**
 * Issue 4, part 1: saving is atomic. A write that fails at any point leaves the old file as it was, no
 * temporary sibling (`.smtp.yaml.enc.*.tmp`) survives any exit, and after a success the settings directory
 * holds only the target.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ABORTED,
  EXIT,
  IS_ROOT,
  NEEDS_PERMISSIONS_ENFORCED,
  NOBODY,
  SAVED,
  SECRETS,
  TEST_TIMEOUT_MS,
  assertCleanError,
  assertSuccess,
  delay,
  setup,
  waitForSignalGuard,
} from './safety_helpers.ts';

const NEW_SECRETS = 'user_name: "new-user"\npassword: "correct horse battery staple"\n';

/** A valid YAML mapping of about `size` bytes. */
function bigSecrets(size: number): string {
  const lines: string[] = [];
  for (let i = 0, length = 0; length < size; i++) {
    const line = `key_${String(i).padStart(6, '0')}: "${'v'.repeat(50)}"\n`;
    lines.push(line);
    length += line.length;
  }
  return lines.join('');
}

interface FileState {
  bytes: Buffer;
  ino: number;
  mode: number;
}

function state(path: string): FileState {
  const stat = statSync(path);
  return { bytes: readFileSync(path), ino: stat.ino, mode: stat.mode & 0o7777 };
}

function assertIntact(path: string, before: FileState): void {
  const after = state(path);
  assert.ok(after.bytes.equals(before.bytes), `${path} changed`);
  assert.equal(after.ino, before.ino, `${path} was replaced`);
  assert.equal(after.mode, before.mode, `${path} changed mode`);
}

/** Temporary siblings of a target: `.smtp.yaml.enc.<pid>.<random>.tmp` or anything else hidden or *.tmp. */
function temporaryFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.startsWith('.') || name.endsWith('.tmp'));
}

// --- after a success: only the target --------------------------------------------------------------

test('write over an existing file replaces it by a rename and leaves only the target', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = statSync(path);
  const result = await s.run([...s.root, 'smtp', 'write'], { input: NEW_SECRETS });
  assertSuccess(result, SAVED);
  assert.deepEqual(s.tree.listSettings(), ['smtp.yaml.enc']);
  assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString('utf8'), NEW_SECRETS);
  assert.notEqual(statSync(path).ino, before.ino, 'the file was rewritten in place, not replaced by a rename');
});

test('write of a new file leaves only the target in the settings directory', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const result = await s.run([...s.root, 'smtp', 'write'], { input: NEW_SECRETS });
  assertSuccess(result, SAVED);
  assert.deepEqual(s.tree.listSettings(), ['smtp.yaml.enc']);
});

test('edit that changes the file leaves only the target in the settings directory', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const editor = s.editor([{ write: NEW_SECRETS }]);
  const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env });
  assertSuccess(result, SAVED);
  assert.deepEqual(s.tree.listSettings(), ['smtp.yaml.enc']);
  assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString('utf8'), NEW_SECRETS);
});

// --- failed writes: the old file intact -------------------------------------------------------------

test(
  'write into a directory the user cannot write to fails in one line and keeps the old file',
  { timeout: TEST_TIMEOUT_MS, skip: NEEDS_PERMISSIONS_ENFORCED },
  async (t) => {
    const s = setup(t);
    const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
    s.shareWithNobody();
    if (IS_ROOT) {
      // root owns the directory (0755); the file is nobody's own, as the git user's file would be.
      chownSync(path, NOBODY!.uid, NOBODY!.gid);
    } else {
      chmodSync(s.tree.settingsDir, 0o555);
    }
    const before = state(path);
    try {
      const result = await s.run([...s.root, 'smtp', 'write'], { input: NEW_SECRETS, unprivileged: true });
      assertCleanError(result, { exitCode: EXIT.IO, mentions: [path, 'intact'] });
      assertIntact(path, before);
      assert.deepEqual(temporaryFiles(s.tree.settingsDir), []);
    } finally {
      chmodSync(s.tree.settingsDir, 0o755);
    }
  },
);

test(
  'edit whose save fails for lack of permission keeps the old file and removes the buffer',
  { timeout: TEST_TIMEOUT_MS, skip: NEEDS_PERMISSIONS_ENFORCED },
  async (t) => {
    const s = setup(t);
    const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
    s.shareWithNobody();
    if (IS_ROOT) chownSync(path, NOBODY!.uid, NOBODY!.gid);
    else chmodSync(s.tree.settingsDir, 0o555);
    const before = state(path);
    const editor = s.editor([{ write: NEW_SECRETS }]);
    try {
      const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env, unprivileged: true });
      assertCleanError(result, { exitCode: EXIT.IO, mentions: [path, 'intact'] });
      assertIntact(path, before);
      const [run] = editor.runs();
      assert.ok(run, 'the editor did not run');
      assert.equal(existsSync(run.buffer), false, `the plaintext buffer ${run.buffer} was left on disk`);
    } finally {
      chmodSync(s.tree.settingsDir, 0o755);
    }
  },
);

test('write fails in one line and keeps the old file when the temporary file cannot be created', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  // A 251-byte name is a valid file name; the temporary sibling's name (name + pid + random + .tmp) is over
  // the 255-byte limit, so creating it fails (ENAMETOOLONG) even for root.
  const name = `${'x'.repeat(242)}.yaml.enc`;
  const path = s.tree.writeEncrypted(name, SECRETS);
  const before = state(path);
  const result = await s.run([...s.root, '--file', path, 'smtp', 'write'], { input: NEW_SECRETS });
  assertCleanError(result, { exitCode: EXIT.IO, mentions: [path, 'intact'] });
  assertIntact(path, before);
  assert.deepEqual(s.tree.listSettings(), [name]);
});

test('write into an immutable directory fails in one line, even for root, and keeps the old file', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = state(path);
  try {
    execFileSync('chattr', ['+i', s.tree.settingsDir], { stdio: 'ignore' });
  } catch {
    t.skip('chattr +i is not available here (needs root and a filesystem with attributes)');
    return;
  }
  try {
    const result = await s.run([...s.root, 'smtp', 'write'], { input: NEW_SECRETS });
    assertCleanError(result, { exitCode: EXIT.IO, mentions: [path, 'intact'] });
    assertIntact(path, before);
    assert.deepEqual(temporaryFiles(s.tree.settingsDir), []);
  } finally {
    execFileSync('chattr', ['-i', s.tree.settingsDir], { stdio: 'ignore' });
  }
});

test('write that cannot finish the temporary file (file size limit) keeps the old file and removes the temporary file', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  try {
    execFileSync('prlimit', ['--version'], { stdio: 'ignore' });
  } catch {
    t.skip('prlimit (util-linux) is not available');
    return;
  }
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = state(path);
  // RLIMIT_FSIZE: the temporary file is created, then writing past 16 KiB fails (EFBIG) half-way.
  const result = await s.run([...s.root, 'smtp', 'write'], { input: bigSecrets(256 * 1024), wrapper: ['prlimit', '--fsize=16384'] });
  assertCleanError(result, { exitCode: EXIT.IO, mentions: [path, 'intact'] });
  assertIntact(path, before);
  assert.deepEqual(s.tree.listSettings(), ['smtp.yaml.enc']);
});

test('write to a full filesystem keeps the old file and removes the temporary file', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const full = join(s.work, 'full');
  mkdirSync(full);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', full], { stdio: 'ignore' });
  } catch {
    t.skip('cannot mount a small tmpfs here (needs root with CAP_SYS_ADMIN)');
    return;
  }
  try {
    const path = join(full, 'smtp.yaml.enc');
    writeFileSync(path, readFileSync(s.tree.writeEncrypted('smtp.yaml.enc', SECRETS)));
    // Fill the rest of the filesystem.
    try {
      writeFileSync(join(full, 'filler'), Buffer.alloc(1024 * 1024));
    } catch (error) {
      assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
    }
    const before = state(path);
    const result = await s.run([...s.root, '--file', path, 'smtp', 'write'], { input: bigSecrets(64 * 1024) });
    assertCleanError(result, { exitCode: EXIT.IO, mentions: [path, 'no space left on device', 'intact'] });
    assertIntact(path, before);
    assert.deepEqual(readdirSync(full).sort(), ['filler', 'smtp.yaml.enc']);
  } finally {
    execFileSync('umount', [full], { stdio: 'ignore' });
  }
});

// --- interrupted writes ----------------------------------------------------------------------------

for (const [signal, code] of [
  ['SIGTERM', EXIT.SIGTERM],
  ['SIGINT', EXIT.SIGINT],
  ['SIGHUP', EXIT.SIGHUP],
] as const) {
  test(`${signal} while write waits for its input saves nothing and leaves no temporary file`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const s = setup(t);
    const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
    const before = state(path);
    const run = s.start([...s.root, 'smtp', 'write'], { stdinOpen: true });
    run.subprocess.stdin?.write('password: "half of the inp');
    await waitForSignalGuard(run.subprocess.pid!); // started, handlers installed, blocked reading stdin
    await delay(200);
    run.subprocess.kill(signal);
    const result = await run.result();
    assert.equal(result.signal, undefined, `the CLI died of ${result.signal} instead of handling it`);
    assert.equal(result.exitCode, code, result.stderr);
    assert.equal(result.stderr, ABORTED);
    assert.equal(result.stdout, '');
    assertIntact(path, before);
    assert.deepEqual(s.tree.listSettings(), ['smtp.yaml.enc']);
  });
}
