/**
 * Issue 10, part 1: a command that replaces the file never destroys one that no configured key decrypts.
 * A stale `RAILS_ENV=development` in the shell picks another key; `write` used to replace production's
 * secrets with it, silently, exit 0. Now: GitLab's "Couldn't decrypt" line, a hint naming the key file,
 * the environment and --force, exit 6, the file untouched; --force replaces it on purpose.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decrypt } from '../../src/index.ts';
import { KEY_BASE, OTHER_KEY_BASE } from '../helpers/gitlab_tree.ts';
import { EXIT, SAVED, SECRETS, TEST_TIMEOUT_MS, assertCleanError, couldNotDecrypt, setup } from './safety_helpers.ts';
import type { Safety } from './safety_helpers.ts';

const NEW = 'user_name: "new"\npassword: "from development"\n';

/** Production and development sections with different keys, as a real secrets.yml has. */
function twoEnvironments(t: Parameters<typeof setup>[0]): Safety {
  return setup(t, {
    gitlabYml: 'production: &base\n  gitlab:\n    host: gitlab.example.com\ndevelopment:\n  <<: *base\n',
    secretsYml:
      `production:\n  encrypted_settings_key_base: ${JSON.stringify(KEY_BASE)}\n` +
      `development:\n  encrypted_settings_key_base: ${JSON.stringify(OTHER_KEY_BASE)}\n`,
  });
}

function snapshot(path: string): { bytes: Buffer; ino: number } {
  return { bytes: readFileSync(path), ino: statSync(path).ino };
}

function assertUntouched(path: string, before: { bytes: Buffer; ino: number }): void {
  assert.ok(readFileSync(path).equals(before.bytes), 'the file no key decrypts was changed');
  assert.equal(statSync(path).ino, before.ino, 'the file no key decrypts was replaced');
}

test('write with a stale RAILS_ENV does not destroy the production secrets: exit 6, GitLab line and a hint', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = twoEnvironments(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = snapshot(path);
  const result = await s.run([...s.root, 'smtp', 'write'], { input: NEW, env: { RAILS_ENV: 'development' } });
  assertCleanError(result, { exitCode: EXIT.DECRYPT, lines: 2 });
  const [gitlab, hint] = result.stderr.split('\n');
  assert.equal(gitlab, couldNotDecrypt(path), "the first line is not GitLab's");
  assert.match(hint!, /^hint: /);
  for (const text of [join(s.tree.root, 'config', 'secrets.yml'), '"development"', '--force']) {
    assert.ok(hint!.includes(text), `the hint does not name ${text}: ${hint}`);
  }
  assertUntouched(path, before);
  assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString(), SECRETS);
});

test('write over a corrupt file is refused the same way', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const body = readFileSync(path, 'latin1');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(path, (body[0] === 'A' ? 'B' : 'A') + body.slice(1), 'latin1');
  const before = snapshot(path);
  const result = await s.run([...s.root, 'smtp', 'write'], { input: NEW });
  assertCleanError(result, { exitCode: EXIT.DECRYPT, lines: 2, mentions: [couldNotDecrypt(path), '--force'] });
  assertUntouched(path, before);
});

test('write --force replaces a file that no key decrypts, on purpose', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = twoEnvironments(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const result = await s.run([...s.root, 'smtp', 'write', '--force'], { input: NEW, env: { RAILS_ENV: 'development' } });
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(result.stdout, SAVED);
  assert.equal(decrypt(readFileSync(path, 'latin1'), OTHER_KEY_BASE).toString(), NEW);
});

test('write with the right key still replaces the file, and --force changes nothing there', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  for (const extra of [[], ['--force']]) {
    const result = await s.run([...s.root, 'smtp', 'write', ...extra], { input: NEW });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout, SAVED);
    assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString(), NEW);
  }
});

test('edit with a stale RAILS_ENV refuses before the editor runs; edit --force starts from the template', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = twoEnvironments(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = snapshot(path);
  const editor = s.editor([{ write: NEW }]);
  const refused = await s.run([...s.root, 'smtp', 'edit'], { env: { ...editor.env, RAILS_ENV: 'development' } });
  assertCleanError(refused, { exitCode: EXIT.DECRYPT, stderr: `${couldNotDecrypt(path)}\n` });
  assert.equal(editor.runs().length, 0, 'the editor ran');
  assertUntouched(path, before);

  const forced = await s.run([...s.root, 'smtp', 'edit', '--force'], { env: { ...editor.env, RAILS_ENV: 'development' } });
  assert.equal(forced.exitCode, 0, forced.stderr);
  const seen = Buffer.from(editor.run(1)!.seen, 'base64').toString();
  assert.ok(!seen.includes('hunter2'), 'the editor was given something other than the template');
  assert.equal(decrypt(readFileSync(path, 'latin1'), OTHER_KEY_BASE).toString(), NEW);
});

test('rotate of a file that no key decrypts leaves it alone', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = twoEnvironments(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = snapshot(path);
  const result = await s.run([...s.root, 'smtp', 'rotate'], { env: { RAILS_ENV: 'development' } });
  assertCleanError(result, { exitCode: EXIT.DECRYPT, mentions: [couldNotDecrypt(path)] });
  assertUntouched(path, before);
});
