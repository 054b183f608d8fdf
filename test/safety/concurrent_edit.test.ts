/**
 * Issue 4, part 4: concurrent edits. When another writer changes the encrypted file while an edit is open,
 * the edit must not overwrite it: exit 10 with one clear line, the other writer's version kept, nothing
 * saved, the buffer removed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { encrypt } from '../../src/index.ts';
import { KEY_BASE } from '../helpers/gitlab_tree.ts';
import { EXIT, SECRETS, TEST_TIMEOUT_MS, assertCleanError, setup } from './safety_helpers.ts';

const MINE = 'user_name: "me"\npassword: "my edit"\n';
const THEIRS = 'user_name: "them"\npassword: "their edit"\n';

for (const mode of ['rename', 'inplace'] as const) {
  const how = mode === 'rename' ? 'replaces it by a rename' : 'rewrites it in place';
  test(`edit does not overwrite a file that another writer ${how} during the edit`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const s = setup(t);
    const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
    const theirs = encrypt(Buffer.from(THEIRS), KEY_BASE);
    const editor = s.editor([{ write: MINE, target: { path, mode, body: theirs } }]);
    const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env });
    assertCleanError(result, { exitCode: EXIT.CONFLICT, mentions: [path] });
    assert.match(result.stderr, /changed|modified/i, 'the message does not say the file changed');
    assert.equal(readFileSync(path, 'latin1'), theirs, "the other writer's version was not kept");
    assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString('utf8'), THEIRS);
    const record = editor.run(1)!;
    assert.equal(existsSync(record.buffer), false, 'the buffer with my edit was left on disk');
  });
}

test('edit does not overwrite a file that another writer re-encrypted with the same text', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const theirs = encrypt(Buffer.from(SECRETS), KEY_BASE); // same plaintext, a new IV: another save happened
  const editor = s.editor([{ write: MINE, target: { path, mode: 'rename', body: theirs } }]);
  const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env });
  assertCleanError(result, { exitCode: EXIT.CONFLICT, mentions: [path] });
  assert.equal(readFileSync(path, 'latin1'), theirs);
});

test('edit of a new file does not overwrite the file another writer created meanwhile', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = s.tree.file('smtp.yaml.enc');
  const theirs = encrypt(Buffer.from(THEIRS), KEY_BASE);
  const editor = s.editor([{ write: MINE, target: { path, mode: 'rename', body: theirs } }]);
  const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env });
  assertCleanError(result, { exitCode: EXIT.CONFLICT, mentions: [path] });
  assert.equal(readFileSync(path, 'latin1'), theirs, "the other writer's file was not kept");
  assert.deepEqual(s.tree.listSettings(), ['smtp.yaml.enc']);
});

test('edit does not bring back a file that was deleted during the edit', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const editor = s.editor([{ write: MINE, target: { path, mode: 'delete' } }]);
  const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env });
  assertCleanError(result, { exitCode: EXIT.CONFLICT, mentions: [path] });
  assert.deepEqual(s.tree.listSettings(), []);
});

test('edit does not overwrite a file that another writer encrypted with a different key', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const theirs = encrypt(Buffer.from(THEIRS), 'another key base of the other writer, 0123456789');
  const editor = s.editor([{ write: MINE, target: { path, mode: 'inplace', body: theirs } }]);
  const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env });
  assertCleanError(result, { exitCode: EXIT.CONFLICT, mentions: [path] });
  assert.equal(readFileSync(path, 'latin1'), theirs);
});

test("an edit that changes nothing leaves another writer's change alone", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const theirs = encrypt(Buffer.from(THEIRS), KEY_BASE);
  const editor = s.editor([{ target: { path, mode: 'rename', body: theirs } }]);
  const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env });
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(readFileSync(path, 'latin1'), theirs, "the other writer's version was not kept");
});
