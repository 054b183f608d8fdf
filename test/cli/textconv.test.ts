/** `textconv <file>`: the plaintext for `git diff`, checked through a real git in a temp repository. */
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { runCli } from '../helpers/run_cli.ts';
import { OTHER_KEY_BASE } from '../helpers/gitlab_tree.ts';
import type { GitlabTree } from '../helpers/gitlab_tree.ts';
import { newTree, rootArgs } from './cli_helpers.ts';
import { git, textconvCommand } from './gitops_helpers.ts';

const V1 = "password: 'hunter2'\nuser_name: 'gitlab-mailer'\n";
const V2 = "password: 'hunter3'\nuser_name: 'gitlab-mailer'\nport: 587\n";

test('textconv prints the plaintext exactly, with no newline added', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', 'a: 1\nb: "no final newline"');
  const result = await runCli([...rootArgs(tree), 'textconv', path]);
  assert.equal(result.stderr, '');
  assert.equal(result.stdout, 'a: 1\nb: "no final newline"');
  assert.equal(result.exitCode, 0);
});

test('textconv finds the key through --secrets alone, with no GitLab root (a workstation clone)', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('ldap.yaml.enc', V1);
  const elsewhere = tempDir(t);
  const result = await runCli(['--secrets', join(tree.root, 'config', 'secrets.yml'), 'textconv', path], { cwd: elsewhere });
  assert.equal(result.stderr, '');
  assert.equal(result.stdout, V1);
  assert.equal(result.exitCode, 0);
});

test('textconv takes the key from GITLAB_ENCRYPTED_SETTINGS_KEY_BASE, with no key file at all', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', V1);
  const elsewhere = tempDir(t);
  const result = await runCli(['textconv', path], { cwd: elsewhere, env: { GITLAB_ENCRYPTED_SETTINGS_KEY_BASE: tree.keyBase! } });
  assert.equal(result.stderr, '');
  assert.equal(result.stdout, V1);
  assert.equal(result.exitCode, 0);
});

test('textconv reads a version under a rotated key', async (t) => {
  const tree = newTree(t, { rotatedKeyBases: [OTHER_KEY_BASE] });
  const path = tree.writeEncrypted('smtp.yaml.enc', V1, OTHER_KEY_BASE);
  const result = await runCli([...rootArgs(tree), 'textconv', path]);
  assert.equal(result.stdout, V1);
  assert.equal(result.exitCode, 0);
});

test('textconv of a file it cannot decrypt prints one placeholder line, the reason on stderr, and exits 0', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', V1, OTHER_KEY_BASE);
  const result = await runCli([...rootArgs(tree), 'textconv', path]);
  assert.match(result.stdout, /^# gitlab-secrets: cannot decrypt this version \(ciphertext sha256 [0-9a-f]{16}…\); see the message on stderr\n$/);
  assert.equal(result.stderr, `gitlab-secrets textconv: Couldn't decrypt ${path}. Perhaps you passed the wrong key?\n`);
  assert.equal(result.exitCode, 0);

  // Another ciphertext gives another placeholder, so git still shows that the file changed.
  const other = tree.writeEncrypted('other.yaml.enc', V1, OTHER_KEY_BASE);
  const second = await runCli([...rootArgs(tree), 'textconv', other]);
  assert.notEqual(second.stdout, result.stdout);
});

test('textconv without any key prints the placeholder and says the key is missing', async (t) => {
  const tree = newTree(t, { keyBase: null });
  const path = tree.writeEncrypted('smtp.yaml.enc', V1, OTHER_KEY_BASE);
  const result = await runCli([...rootArgs(tree), 'textconv', path]);
  assert.match(result.stdout, /^# gitlab-secrets: cannot decrypt this version/);
  assert.match(result.stderr, /^gitlab-secrets textconv: Missing encryption key encrypted_settings_key_base\.\nhint: looked in .*\n$/);
  assert.equal(result.exitCode, 0);
});

test('textconv of an empty file prints nothing; of a missing file fails (exit 11)', async (t) => {
  const tree = newTree(t);
  writeFileSync(tree.file('empty.yaml.enc'), '');
  const empty = await runCli([...rootArgs(tree), 'textconv', tree.file('empty.yaml.enc')]);
  assert.equal(empty.stdout, '');
  assert.equal(empty.exitCode, 0);
  const missing = await runCli([...rootArgs(tree), 'textconv', tree.file('missing.yaml.enc')]);
  assert.equal(missing.stderr, `${tree.file('missing.yaml.enc')} does not exist.\n`);
  assert.equal(missing.exitCode, 11);
});

test('textconv of a named pipe is refused at once (git must never hang on it), naming it', async (t) => {
  const tree = newTree(t);
  const fifo = join(tempDir(t), 'smtp.yaml.enc');
  execFileSync('mkfifo', [fifo]);
  // A real process: were it to block on the pipe, only this run would hang, until its timeout.
  const result = await runCli([...rootArgs(tree), 'textconv', fifo], { spawn: true, timeoutMs: 20_000 });
  assert.equal(result.exitCode, 9, result.stderr);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, new RegExp(`^Cannot read ${fifo}: it is a named pipe \\(FIFO\\), not a regular file\\.\n$`));
});

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'gitlab-secrets-gitops-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A repository set up as the README says: the attribute line and the textconv driver, no cachetextconv. */
async function gitopsRepo(t: TestContext, tree: GitlabTree): Promise<string> {
  const repo = tempDir(t);
  for (const args of [
    ['init', '-q', '.'],
    ['config', 'diff.gitlab-secrets.textconv', textconvCommand(['--secrets', join(tree.root, 'config', 'secrets.yml')])],
  ]) {
    const result = await git(repo, args);
    assert.equal(result.exitCode, 0, result.stderr);
  }
  writeFileSync(join(repo, '.gitattributes'), '*.yaml.enc diff=gitlab-secrets\n');
  return repo;
}

async function commit(repo: string, message: string): Promise<void> {
  assert.equal((await git(repo, ['add', '-A'])).exitCode, 0);
  const result = await git(repo, ['commit', '-q', '-m', message]);
  assert.equal(result.exitCode, 0, result.stderr);
}

test('git diff and git log -p show the decrypted change between two commits', async (t) => {
  const tree = newTree(t);
  const repo = await gitopsRepo(t, tree);
  copyFileSync(tree.writeEncrypted('smtp.yaml.enc', V1), join(repo, 'smtp.yaml.enc'));
  await commit(repo, 'first');
  copyFileSync(tree.writeEncrypted('smtp.yaml.enc', V2), join(repo, 'smtp.yaml.enc'));
  await commit(repo, 'second');

  const diff = await git(repo, ['diff', 'HEAD~1', 'HEAD']);
  assert.equal(diff.exitCode, 0, diff.stderr);
  assert.equal(diff.stderr, '');
  assert.match(diff.stdout, /^-password: 'hunter2'$/m);
  assert.match(diff.stdout, /^\+password: 'hunter3'$/m);
  assert.match(diff.stdout, /^\+port: 587$/m);
  assert.match(diff.stdout, /^ user_name: 'gitlab-mailer'$/m);

  const log = await git(repo, ['log', '-p', '--format=%s']);
  assert.equal(log.exitCode, 0, log.stderr);
  assert.match(log.stdout, /^\+password: 'hunter2'$/m, 'the first commit adds the plaintext');
  assert.match(log.stdout, /^\+password: 'hunter3'$/m);

  // No cachetextconv: git keeps no copy of the plaintext in the repository.
  const notes = await git(repo, ['for-each-ref', 'refs/notes']);
  assert.equal(notes.stdout, '');

  // With cachetextconv it would: the README's warning, shown.
  assert.equal((await git(repo, ['config', 'diff.gitlab-secrets.cachetextconv', 'true'])).exitCode, 0);
  assert.equal((await git(repo, ['diff', 'HEAD~1', 'HEAD'])).exitCode, 0);
  const cached = await git(repo, ['log', '-p', 'refs/notes/textconv/gitlab-secrets']);
  assert.match(cached.stdout, /hunter3/, 'git did not cache the plaintext in refs/notes');
});

test('git stops the whole diff when a textconv command fails, which is why textconv prints a placeholder instead', async (t) => {
  const tree = newTree(t);
  const repo = await gitopsRepo(t, tree);
  copyFileSync(tree.writeEncrypted('smtp.yaml.enc', V1), join(repo, 'smtp.yaml.enc'));
  writeFileSync(join(repo, 'z-notes.txt'), 'one\n');
  await commit(repo, 'first');
  // A new version under a key this machine does not have, next to an ordinary change.
  copyFileSync(tree.writeEncrypted('smtp.yaml.enc', V2, OTHER_KEY_BASE), join(repo, 'smtp.yaml.enc'));
  writeFileSync(join(repo, 'z-notes.txt'), 'two\n');
  await commit(repo, 'second');

  const ours = await git(repo, ['diff', 'HEAD~1', 'HEAD']);
  assert.equal(ours.exitCode, 0, ours.stderr);
  assert.match(ours.stdout, /^-password: 'hunter2'$/m, 'the readable version is still shown');
  assert.match(ours.stdout, /^\+# gitlab-secrets: cannot decrypt this version \(ciphertext sha256 [0-9a-f]{16}…\); see the message on stderr$/m);
  assert.match(ours.stdout, /^\+two$/m, 'the other file is still shown');
  assert.match(ours.stderr, /^gitlab-secrets textconv: Couldn't decrypt .*\. Perhaps you passed the wrong key\?$/m);

  // The same diff with a textconv command that exits non-zero: git dies at that file, and nothing after it shows.
  assert.equal((await git(repo, ['config', 'diff.gitlab-secrets.textconv', 'false'])).exitCode, 0);
  const failing = await git(repo, ['diff', 'HEAD~1', 'HEAD']);
  assert.equal(failing.exitCode, 128);
  assert.match(failing.stderr, /fatal: unable to read files to diff/);
  assert.ok(!failing.stdout.includes('+two'), 'git showed the file after the failing one');
});
