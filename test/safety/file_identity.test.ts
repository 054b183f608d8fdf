/**
 * Issue 4, part 2: a saved file keeps its identity. An existing file keeps its mode, owner and group; a
 * symlink stays a symlink and the file it names is replaced; a new file is 0600; and when root creates one
 * in a directory owned by another user (Omnibus: git), the file is given that directory's owner and group.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { decrypt } from '../../src/index.ts';
import { KEY_BASE } from '../helpers/gitlab_tree.ts';
import {
  NEEDS_ROOT,
  NOBODY,
  SAVED,
  SECRETS,
  TEST_TIMEOUT_MS,
  assertSuccess,
  groupName,
  setup,
} from './safety_helpers.ts';

const NEW_SECRETS = 'user_name: "new-user"\npassword: "s3cr3t"\n';

function modeOf(path: string): string {
  return (statSync(path).mode & 0o7777).toString(8).padStart(4, '0');
}

function plaintextOf(path: string): string {
  return decrypt(readFileSync(path, 'latin1'), KEY_BASE).toString('utf8');
}

// --- mode ------------------------------------------------------------------------------------------

for (const mode of [0o640, 0o440, 0o604]) {
  const octal = mode.toString(8).padStart(4, '0');
  test(`write keeps an existing file's mode ${octal}`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const s = setup(t);
    const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
    chmodSync(path, mode);
    const result = await s.run([...s.root, 'smtp', 'write'], { input: NEW_SECRETS });
    assertSuccess(result, SAVED);
    assert.equal(plaintextOf(path), NEW_SECRETS);
    assert.equal(modeOf(path), octal);
  });
}

test("edit keeps an existing file's mode 0640", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  chmodSync(path, 0o640);
  const editor = s.editor([{ write: NEW_SECRETS }]);
  const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env });
  assertSuccess(result, SAVED);
  assert.equal(plaintextOf(path), NEW_SECRETS);
  assert.equal(modeOf(path), '0640');
});

test('a new file is 0600 even under umask 000', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const result = await s.run([...s.root, 'smtp', 'write'], { input: NEW_SECRETS, umask: 0 });
  assertSuccess(result, SAVED);
  assert.equal(modeOf(s.tree.file('smtp.yaml.enc')), '0600');
});

test('a new file made by edit is 0600 even under umask 000', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const editor = s.editor([{ write: NEW_SECRETS }]);
  const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env, umask: 0 });
  assertSuccess(result, SAVED);
  assert.equal(modeOf(s.tree.file('smtp.yaml.enc')), '0600');
});

// --- owner and group -------------------------------------------------------------------------------

test("write as root keeps an existing file's owner and group", { timeout: TEST_TIMEOUT_MS, skip: NEEDS_ROOT }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  chownSync(path, NOBODY!.uid, NOBODY!.gid);
  chmodSync(path, 0o640);
  const result = await s.run([...s.root, 'smtp', 'write'], { input: NEW_SECRETS });
  assertSuccess(result, SAVED);
  assert.equal(plaintextOf(path), NEW_SECRETS);
  const stat = statSync(path);
  assert.equal(stat.uid, NOBODY!.uid, 'owner');
  assert.equal(stat.gid, NOBODY!.gid, 'group');
  assert.equal(modeOf(path), '0640');
});

test("edit as root keeps an existing file's owner and group", { timeout: TEST_TIMEOUT_MS, skip: NEEDS_ROOT }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  chownSync(path, NOBODY!.uid, NOBODY!.gid);
  const editor = s.editor([{ write: NEW_SECRETS }]);
  const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env });
  assertSuccess(result, SAVED);
  assert.equal(plaintextOf(path), NEW_SECRETS);
  assert.equal(statSync(path).uid, NOBODY!.uid, 'owner');
  assert.equal(statSync(path).gid, NOBODY!.gid, 'group');
});

test("write as root keeps a root-owned file root's in a directory owned by another user", { timeout: TEST_TIMEOUT_MS, skip: NEEDS_ROOT }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  chownSync(s.tree.settingsDir, NOBODY!.uid, NOBODY!.gid);
  const result = await s.run([...s.root, 'smtp', 'write'], { input: NEW_SECRETS });
  assertSuccess(result, SAVED);
  assert.equal(statSync(path).uid, 0, 'owner');
  assert.equal(statSync(path).gid, 0, 'group');
});

for (const command of ['write', 'edit'] as const) {
  test(
    `${command} as root of a new file in a directory owned by another user gives the file that owner, and says so`,
    { timeout: TEST_TIMEOUT_MS, skip: NEEDS_ROOT },
    async (t) => {
      const s = setup(t);
      chownSync(s.tree.settingsDir, NOBODY!.uid, NOBODY!.gid);
      const editor = s.editor([{ write: NEW_SECRETS }]);
      const result =
        command === 'write'
          ? await s.run([...s.root, 'smtp', 'write'], { input: NEW_SECRETS })
          : await s.run([...s.root, 'smtp', 'edit'], { env: editor.env });
      const path = s.tree.file('smtp.yaml.enc');
      assert.equal(result.exitCode, 0, result.stderr);
      assert.equal(result.stdout, SAVED);
      assert.match(result.stderr, /^note: created [^\n]*\n$/, 'one note line on stderr');
      assert.ok(result.stderr.includes(path), `the note does not name the file: ${result.stderr}`);
      assert.ok(result.stderr.includes(`nobody:${groupName(NOBODY!.gid)}`), `the note does not name the owner: ${result.stderr}`);
      const stat = statSync(path);
      assert.equal(stat.uid, NOBODY!.uid, 'owner');
      assert.equal(stat.gid, NOBODY!.gid, 'group');
      assert.equal(modeOf(path), '0600');
      assert.equal(plaintextOf(path), NEW_SECRETS);
    },
  );
}

test('write as root of a new file in its own directory keeps the file root\'s, without a note', { timeout: TEST_TIMEOUT_MS, skip: NEEDS_ROOT }, async (t) => {
  const s = setup(t);
  const result = await s.run([...s.root, 'smtp', 'write'], { input: NEW_SECRETS });
  assertSuccess(result, SAVED);
  const stat = statSync(s.tree.file('smtp.yaml.enc'));
  assert.equal(stat.uid, 0);
  assert.equal(stat.gid, 0);
});

// --- symlinks --------------------------------------------------------------------------------------

/** A real file outside the settings directory, and the settings file a symlink to it. */
function linkedTarget(s: ReturnType<typeof setup>, link: (real: string) => string): { real: string; realDir: string; linkPath: string } {
  const realDir = join(s.tree.root, 'real');
  mkdirSync(realDir);
  s.watchDir(realDir);
  const real = join(realDir, 'smtp.real.enc');
  renameSync(s.tree.writeEncrypted('smtp.yaml.enc', SECRETS), real);
  const linkPath = s.tree.file('smtp.yaml.enc');
  symlinkSync(link(real), linkPath);
  return { real, realDir, linkPath };
}

const linkKinds: Array<[string, (real: string) => string]> = [
  ['a relative symlink', () => '../../real/smtp.real.enc'],
  ['an absolute symlink', (real) => real],
];

for (const [kind, link] of linkKinds) {
  test(`write through ${kind} replaces the real file and keeps the link`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const s = setup(t);
    const { real, realDir, linkPath } = linkedTarget(s, link);
    const linkText = readlinkSync(linkPath);
    chmodSync(real, 0o640);
    const result = await s.run([...s.root, 'smtp', 'write'], { input: NEW_SECRETS });
    assertSuccess(result, SAVED);
    assert.ok(lstatSync(linkPath).isSymbolicLink(), 'the symlink was replaced by a file');
    assert.equal(readlinkSync(linkPath), linkText, 'the symlink points elsewhere');
    assert.equal(plaintextOf(real), NEW_SECRETS);
    assert.equal(modeOf(real), '0640');
    assert.deepEqual(readdirSync(realDir), ['smtp.real.enc']);
    assert.deepEqual(s.tree.listSettings(), ['smtp.yaml.enc']);
  });
}

test('edit through a symlink replaces the real file and keeps the link', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const { real, realDir, linkPath } = linkedTarget(s, () => '../../real/smtp.real.enc');
  const editor = s.editor([{ write: NEW_SECRETS }]);
  const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env });
  assertSuccess(result, SAVED);
  assert.equal(Buffer.from(editor.run(1)!.seen, 'base64').toString('utf8'), SECRETS);
  assert.ok(lstatSync(linkPath).isSymbolicLink(), 'the symlink was replaced by a file');
  assert.equal(plaintextOf(real), NEW_SECRETS);
  assert.deepEqual(readdirSync(realDir), ['smtp.real.enc']);
});

test('write through a chain of two symlinks replaces the last file and keeps both links', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const { real, realDir, linkPath } = linkedTarget(s, () => 'middle.link.enc');
  const middle = s.tree.file('middle.link.enc');
  symlinkSync('../../real/smtp.real.enc', middle);
  const result = await s.run([...s.root, 'smtp', 'write'], { input: NEW_SECRETS });
  assertSuccess(result, SAVED);
  assert.ok(lstatSync(linkPath).isSymbolicLink(), 'the first symlink was replaced by a file');
  assert.ok(lstatSync(middle).isSymbolicLink(), 'the second symlink was replaced by a file');
  assert.equal(plaintextOf(real), NEW_SECRETS);
  assert.deepEqual(readdirSync(realDir), ['smtp.real.enc']);
  assert.deepEqual(s.tree.listSettings(), ['middle.link.enc', 'smtp.yaml.enc']);
});

test('write through a dangling symlink creates the file it names and keeps the link', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const realDir = join(s.tree.root, 'real');
  mkdirSync(realDir);
  s.watchDir(realDir);
  const real = join(realDir, 'smtp.real.enc');
  const linkPath = s.tree.file('smtp.yaml.enc');
  symlinkSync('../../real/smtp.real.enc', linkPath);
  const result = await s.run([...s.root, 'smtp', 'write'], { input: NEW_SECRETS });
  assertSuccess(result, SAVED);
  assert.ok(lstatSync(linkPath).isSymbolicLink(), 'the symlink was replaced by a file');
  assert.ok(existsSync(real), 'the file the link names was not created');
  assert.equal(plaintextOf(real), NEW_SECRETS);
  assert.equal(modeOf(real), '0600');
});
