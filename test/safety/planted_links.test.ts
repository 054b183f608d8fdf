/**
 * Issue 10, parts 1 and 2: never let `git` steer root. Root runs gitlab-secrets where the unprivileged
 * user (here `nobody`, standing in for `git`) owns shared/ and the settings directory, and can plant
 * symlinks there or swap them in while root works. The rule (README "Safety", src/fs/trusted_path.ts):
 * running as root, a symlink owned by another user is followed for a write only if that user owns what it
 * leads to anyway; root's own links (Omnibus) are followed. And `--create-dir` gives the new directory
 * away through a descriptor, so a symlink swapped in after mkdir cannot redirect the chown.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { decrypt } from '../../src/index.ts';
import { KEY_BASE } from '../helpers/gitlab_tree.ts';
import {
  EXIT,
  NEEDS_ROOT,
  NOBODY,
  SAVED,
  TEST_TIMEOUT_MS,
  assertCleanError,
  assertSuccess,
  delay,
  setup,
} from './safety_helpers.ts';
import type { Safety } from './safety_helpers.ts';

const NEW_SECRETS = 'user_name: "new-user"\npassword: "new-pass"\n';
const ROOT_DATA = 'root:x:0:0:root:/root:/bin/bash\n';

/** The attacker's account (skipped unless root with a nobody account). */
function attacker(): { uid: number; gid: number } {
  return NOBODY!;
}

/** A tree whose shared/ and settings directory belong to the attacker, as they belong to git. */
function gitOwnedTree(s: Safety, withSettingsDir = true): void {
  s.shareWithNobody();
  const shared = join(s.tree.root, 'shared');
  chownSync(shared, attacker().uid, attacker().gid);
  if (withSettingsDir) chownSync(s.tree.settingsDir, attacker().uid, attacker().gid);
  else rmSync(s.tree.settingsDir, { recursive: true, force: true });
}

/** A root-owned directory with a root-owned file the attacker must not be able to change through us. */
function victim(s: Safety): { dir: string; file: string } {
  const dir = join(s.work, 'victim');
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755);
  const file = join(dir, 'passwd');
  writeFileSync(file, ROOT_DATA, { mode: 0o644 });
  s.watchDir(dir);
  return { dir, file };
}

/** A symlink owned by `uid`, as if that user had made it. */
function linkAs(target: string, path: string, owner: { uid: number; gid: number }): void {
  symlinkSync(target, path);
  lchownSync(path, owner.uid, owner.gid);
}

function assertVictimIntact(v: { dir: string; file: string }): void {
  assert.equal(readFileSync(v.file, 'utf8'), ROOT_DATA, 'the root-owned file was changed');
  const file = statSync(v.file);
  assert.equal(file.uid, 0, 'the root-owned file was given away');
  assert.equal(file.mode & 0o7777, 0o644, 'the root-owned file was chmod-ed');
  const dir = statSync(v.dir);
  assert.equal(dir.uid, 0, 'the root-owned directory was given away');
  assert.equal(dir.mode & 0o7777, 0o755, 'the root-owned directory was chmod-ed');
  assert.deepEqual(readdirSync(v.dir), ['passwd'], 'something was created in the root-owned directory');
}

const options = { timeout: TEST_TIMEOUT_MS, skip: NEEDS_ROOT };

test('a symlink planted by git at smtp.yaml.enc to a root-owned file is refused, naming the link', options, async (t) => {
  const s = setup(t);
  gitOwnedTree(s);
  const v = victim(s);
  const link = s.tree.file('smtp.yaml.enc');
  linkAs(v.file, link, attacker());
  for (const command of [['smtp', 'write'], ['smtp', 'write', '--allow-empty']]) {
    const result = await s.run([...s.root, ...command], { input: NEW_SECRETS });
    assertCleanError(result, { exitCode: EXIT.IO, mentions: [`Refusing to write through ${link}`, 'nobody', v.file] });
  }
  assertVictimIntact(v);
  assert.equal(readlinkSync(link), v.file, 'the link itself was replaced');
});

test('a dangling symlink planted by git cannot make root create a file in a root-owned directory', options, async (t) => {
  const s = setup(t);
  gitOwnedTree(s);
  const v = victim(s);
  const link = s.tree.file('smtp.yaml.enc');
  linkAs(join(v.dir, 'cron-job'), link, attacker());
  const result = await s.run([...s.root, 'smtp', 'write'], { input: NEW_SECRETS });
  assertCleanError(result, { exitCode: EXIT.IO, mentions: [link, 'nobody'] });
  assertVictimIntact(v);
});

test('a settings directory that git replaced by a symlink to a root-owned directory is refused', options, async (t) => {
  const s = setup(t);
  gitOwnedTree(s, false);
  const v = victim(s);
  linkAs(v.dir, s.tree.settingsDir, attacker());
  for (const command of [['smtp', 'write'], ['smtp', 'write', '--create-dir']]) {
    const result = await s.run([...s.root, ...command], { input: NEW_SECRETS });
    assertCleanError(result, { exitCode: EXIT.IO, mentions: [s.tree.settingsDir, 'nobody'] });
  }
  assertVictimIntact(v);
});

test("root's own symlink (Omnibus) is followed: the target is replaced and the link stays", options, async (t) => {
  const s = setup(t);
  gitOwnedTree(s);
  const realDir = join(s.work, 'real');
  mkdirSync(realDir, { mode: 0o700 });
  s.watchDir(realDir);
  const real = join(realDir, 'smtp.yaml.enc');
  const link = s.tree.file('smtp.yaml.enc');
  symlinkSync(real, link); // owned by root
  const result = await s.run([...s.root, 'smtp', 'write'], { input: NEW_SECRETS });
  assertSuccess(result, SAVED);
  assert.ok(lstatSync(link).isSymbolicLink(), 'the link was replaced by a file');
  assert.equal(decrypt(readFileSync(real, 'latin1'), KEY_BASE).toString(), NEW_SECRETS);
});

test("git's symlink to git's own file is followed, and the file keeps git as its owner", options, async (t) => {
  const s = setup(t);
  gitOwnedTree(s);
  const gitDir = join(s.work, 'git-files');
  mkdirSync(gitDir, { mode: 0o700 });
  chownSync(gitDir, attacker().uid, attacker().gid);
  s.watchDir(gitDir);
  const real = join(gitDir, 'smtp.yaml.enc');
  writeFileSync(real, '');
  chownSync(real, attacker().uid, attacker().gid);
  chmodSync(real, 0o600);
  s.allowInSettings('smtp.yaml.enc');
  linkAs(real, s.tree.file('smtp.yaml.enc'), attacker());
  // The zero-byte file no key decrypts: replacing it takes --force (issue 10 §1).
  const result = await s.run([...s.root, 'smtp', 'write', '--force'], { input: NEW_SECRETS });
  assertSuccess(result, SAVED);
  assert.equal(statSync(real).uid, attacker().uid);
  assert.equal(decrypt(readFileSync(real, 'latin1'), KEY_BASE).toString(), NEW_SECRETS);
});

test("git's symlinked settings directory to a directory git owns is followed; the new file goes to git", options, async (t) => {
  const s = setup(t);
  gitOwnedTree(s, false);
  const gitDir = join(s.work, 'git-settings');
  mkdirSync(gitDir, { mode: 0o700 });
  chownSync(gitDir, attacker().uid, attacker().gid);
  s.watchDir(gitDir);
  linkAs(gitDir, s.tree.settingsDir, attacker());
  const result = await s.run([...s.root, 'smtp', 'write'], { input: NEW_SECRETS });
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(result.stdout, SAVED);
  assert.ok(result.stderr.startsWith(`note: created ${join(gitDir, 'smtp.yaml.enc')} owned by nobody:${groupOf(attacker().gid)}`), result.stderr);
  assert.equal(statSync(join(gitDir, 'smtp.yaml.enc')).uid, attacker().uid);
});

function groupOf(gid: number): string {
  for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
    const [name, , id] = line.split(':');
    if (name && Number(id) === gid) return name;
  }
  return String(gid);
}

// --- the --create-dir race ---------------------------------------------------------------------------

const SWAPPER = `
const fs = require('node:fs');
const [dir, target] = process.argv.slice(2);
let swaps = 0;
for (;;) {
  try {
    fs.rmdirSync(dir);
    fs.symlinkSync(target, dir);
    swaps++;
    fs.writeFileSync(process.argv[4], String(swaps));
    const until = Date.now() + 3;
    while (Date.now() < until);
    fs.unlinkSync(dir);
  } catch {}
}
`;

test('--create-dir: a symlink swapped in after mkdir never gets a root-owned directory chowned (30 tries)', { ...options, timeout: 600_000 }, async (t) => {
  const s = setup(t);
  gitOwnedTree(s, false);
  const v = victim(s);
  const script = join(s.work, 'swapper.cjs');
  writeFileSync(script, SWAPPER, { mode: 0o644 });
  const counter = join(s.work, 'swaps');
  writeFileSync(counter, '0', { mode: 0o666 });
  chmodSync(counter, 0o666);
  const swapper = spawn(process.execPath, [script, s.tree.settingsDir, v.dir, counter], {
    uid: attacker().uid,
    gid: attacker().gid,
    stdio: 'ignore',
  });
  t.after(() => swapper.kill('SIGKILL'));
  const outcomes = new Map<string, number>();
  try {
    for (let run = 0; run < 30; run++) {
      const result = await s.run([...s.root, 'smtp', 'write', '--create-dir'], { input: NEW_SECRETS, timeoutMs: 30_000 });
      const last = result.stderr.replace(/^note: created [^\n]*\n/, '');
      const outcome = result.exitCode === 0 ? 'saved' : last.split(':')[0]!.replace(/\/\S+/g, '<path>');
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      if (result.exitCode !== 0) {
        // A created directory is announced on a line of its own before the failure.
        const stderr = result.stderr.replace(/^note: created [^\n]*\n/, '');
        assertCleanError({ ...result, stderr }, {});
        assert.ok([EXIT.IO, 4].includes(result.exitCode as 9 | 4), `exit ${result.exitCode}: ${result.stderr}`);
      }
      assertVictimIntact(v);
      // Every try creates the directory afresh: once a file is in it, the attacker cannot swap it again.
      await removeWhileSwapped(s.tree.settingsDir);
      await delay(5);
    }
  } finally {
    swapper.kill('SIGKILL');
    await new Promise((resolve) => swapper.once('exit', resolve).once('error', resolve));
  }
  t.diagnostic(`swaps by the attacker: ${readFileSync(counter, 'utf8')}; outcomes: ${JSON.stringify([...outcomes])}`);
  assertVictimIntact(v);
  // Tidy the attacker's leftovers so the after-test check sees only what the CLI left.
  const settings = s.tree.settingsDir;
  if (existsSync(settings) || lstatExists(settings)) {
    if (lstatSync(settings).isDirectory()) {
      for (const name of readdirSync(settings)) assert.ok(name.endsWith('.enc') && !name.startsWith('.'), `left in the settings directory: ${name}`);
    }
    rmSync(settings, { recursive: true, force: true });
  }
});

/**
 * Remove the directory or the attacker's symlink at `path`, whichever is there as the attacker swaps them,
 * trying for up to 5 s and letting the attacker run between tries (on a busy machine a burst of tries can
 * all fall inside one of its swaps).
 */
async function removeWhileSwapped(path: string): Promise<void> {
  let lastError = '';
  for (const deadline = Date.now() + 5000; lstatExists(path) && Date.now() < deadline; ) {
    try {
      if (lstatSync(path).isSymbolicLink()) unlinkSync(path);
      else rmSync(path, { recursive: true });
    } catch (error) {
      lastError = (error as Error).message; // swapped meanwhile: look again
      await delay(1);
    }
  }
  assert.equal(lstatExists(path), false, `could not remove ${path} (${describePath(path)}; last error: ${lastError})`);
}

/** What is at `path`: its type, mode and owner. */
function describePath(path: string): string {
  try {
    const stat = lstatSync(path);
    const type = stat.isSymbolicLink() ? `a symlink to ${readlinkSync(path)}` : stat.isDirectory() ? `a directory holding ${readdirSync(path).join(', ') || 'nothing'}` : 'a file';
    return `${type}, mode ${(stat.mode & 0o7777).toString(8)}, uid ${stat.uid}`;
  } catch (error) {
    return (error as Error).message;
  }
}

function lstatExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

// --- paths chosen by a gitlab.yml that git owns (source installs) -------------------------------------

function gitOwnsGitlabYml(s: Safety, production: string): void {
  const path = join(s.tree.root, 'config', 'gitlab.yml');
  writeFileSync(path, `production:\n${production}`);
  chownSync(path, attacker().uid, attacker().gid);
}

test("a git-owned gitlab.yml pointing the smtp file into a root-owned directory cannot make root write there", options, async (t) => {
  const s = setup(t);
  gitOwnedTree(s);
  const v = victim(s);
  const chosen = join(v.dir, 'cron-job');
  gitOwnsGitlabYml(s, `  gitlab:\n    email_smtp_secret_file: ${chosen}\n`);
  const result = await s.run([...s.root, 'smtp', 'write'], { input: NEW_SECRETS });
  assertCleanError(result, { exitCode: EXIT.IO, mentions: [`Refusing to write ${chosen}`, join(s.tree.root, 'config', 'gitlab.yml'), 'nobody'] });
  const over = join(v.dir, 'passwd');
  gitOwnsGitlabYml(s, `  gitlab:\n    email_smtp_secret_file: ${over}\n`);
  const overwrite = await s.run([...s.root, 'smtp', 'write', '--allow-empty'], { input: NEW_SECRETS });
  assertCleanError(overwrite, { exitCode: EXIT.IO, mentions: [over] });
  const created = await s.run([...s.root, 'smtp', 'write', '--create-dir'], { input: NEW_SECRETS });
  assertCleanError(created, { exitCode: EXIT.IO });
  gitOwnsGitlabYml(s, `  encrypted_settings:\n    path: ${join(v.dir, 'new-settings')}\n`);
  const dir = await s.run([...s.root, 'smtp', 'write', '--create-dir'], { input: NEW_SECRETS });
  assertCleanError(dir, { exitCode: EXIT.IO, mentions: [join(v.dir, 'new-settings')] });
  assertVictimIntact(v);
});

test('a git-owned gitlab.yml with paths in git-owned directories works as before (source install)', options, async (t) => {
  const s = setup(t);
  gitOwnedTree(s);
  gitOwnsGitlabYml(s, '  gitlab:\n    host: gitlab.example.com\n');
  s.tree.writeEncrypted('smtp.yaml.enc', 'a: 1\n');
  chownSync(s.tree.file('smtp.yaml.enc'), 0, 0); // an old root run's file in git's directory: git could replace it anyway
  assertSuccess(await s.run([...s.root, 'smtp', 'write'], { input: NEW_SECRETS }), SAVED);
  assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString(), NEW_SECRETS);
  rmSync(s.tree.settingsDir, { recursive: true });
  const created = await s.run([...s.root, 'smtp', 'write', '--create-dir'], { input: NEW_SECRETS });
  assert.equal(created.exitCode, 0, created.stderr);
  assert.equal(statSync(s.tree.settingsDir).uid, attacker().uid);
});
