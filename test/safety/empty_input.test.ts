/**
 * Issue 4, part 8: empty input never wipes secrets. `write` with empty or blank stdin over a file that holds
 * secrets (or that we cannot read, so it may hold anything) is refused with exit 7 and the file is kept;
 * `--allow-empty` clears it on purpose; a new file from empty input is written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { OTHER_KEY_BASE } from '../helpers/gitlab_tree.ts';
import { EXIT, NOT_A_MAPPING, SAVED, SECRETS, TEST_TIMEOUT_MS, assertCleanError, setup } from './safety_helpers.ts';
import type { Safety } from './safety_helpers.ts';

const BLANK_INPUTS: Array<[string, string]> = [
  ['empty stdin', ''],
  ['a single newline', '\n'],
  ['whitespace-only stdin', ' \n\t\n  \n'],
  ['CRLF blank lines', '\r\n\r\n'],
  ['a no-break space', '\u00a0\n'],
];

interface Kept {
  bytes: Buffer;
  ino: number;
}

function keep(path: string): Kept {
  return { bytes: readFileSync(path), ino: statSync(path).ino };
}

function assertKept(path: string, before: Kept): void {
  assert.ok(readFileSync(path).equals(before.bytes), 'the secrets were wiped');
  assert.equal(statSync(path).ino, before.ino, 'the file was replaced');
}

async function assertRefusedOver(s: Safety, path: string, input: string): Promise<void> {
  const before = keep(path);
  const result = await s.run([...s.root, 'smtp', 'write'], { input });
  assertCleanError(result, { exitCode: EXIT.INVALID_CONTENT, mentions: [path, '--allow-empty'] });
  assertKept(path, before);
  assert.deepEqual(s.tree.listSettings(), ['smtp.yaml.enc']);
}

for (const [name, input] of BLANK_INPUTS) {
  test(`write of ${name} over a file that holds secrets is refused and the file kept`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const s = setup(t);
    await assertRefusedOver(s, s.tree.writeEncrypted('smtp.yaml.enc', SECRETS), input);
  });
}

test('write of empty stdin over a file encrypted with another key is refused: what it holds is unknown', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  await assertRefusedOver(s, s.tree.writeEncrypted('smtp.yaml.enc', SECRETS, OTHER_KEY_BASE), '');
});

test('write of blank stdin over a file encrypted with another key is refused', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  await assertRefusedOver(s, s.tree.writeEncrypted('smtp.yaml.enc', '\n', OTHER_KEY_BASE), '  \n');
});

test('write of empty stdin over a corrupt file is refused: what it holds is unknown', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = s.tree.file('smtp.yaml.enc');
  writeFileSync(path, 'bm90IGEgYm9keQ==--but--maybe secrets');
  await assertRefusedOver(s, path, '');
});

test('empty input from a failed command before the pipe does not wipe the secrets', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = keep(path);
  // `gcloud kms decrypt … | gitlab-secrets smtp write` where gcloud failed and sent nothing.
  const result = await s.run([...s.root, 'smtp', 'write'], { wrapper: ['sh', '-c', 'false | "$@"', 'sh'] });
  assertCleanError(result, { exitCode: EXIT.INVALID_CONTENT, mentions: [path] });
  assertKept(path, before);
});

// A tab on a blank line is a YAML error for Psych ("found character that cannot start any token"), so
// GitLab could not load that file: the whitespace cleared on purpose here is spaces only.
const CLEARING_INPUTS: Array<[string, string]> = [...BLANK_INPUTS.slice(0, 2), ['whitespace-only stdin', ' \n  \n   \n']];

for (const [name, input] of CLEARING_INPUTS) {
  test(`write --allow-empty of ${name} clears a file that holds secrets`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const s = setup(t);
    s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
    const result = await s.run([...s.root, 'smtp', 'write', '--allow-empty'], { input });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout, `${NOT_A_MAPPING('SMTP')}${SAVED}`);
    assert.equal(result.stderr, '');
    assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString('utf8'), input);
  });
}

test('write --allow-empty over a file encrypted with another key still needs --force (issue 10)', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS, OTHER_KEY_BASE);
  const before = keep(path);
  const refused = await s.run([...s.root, 'smtp', 'write', '--allow-empty'], { input: '' });
  assert.equal(refused.exitCode, EXIT.DECRYPT, refused.stderr);
  assertKept(path, before);
});

test('write --allow-empty --force clears a file encrypted with another key', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS, OTHER_KEY_BASE);
  const result = await s.run([...s.root, 'smtp', 'write', '--allow-empty', '--force'], { input: '' });
  assert.equal(result.exitCode, 0, result.stderr);
  assert.ok(result.stdout.endsWith(SAVED), result.stdout);
  assert.equal(s.tree.readPlaintext('smtp.yaml.enc').length, 0);
});

test('write of empty stdin creates a new file', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const result = await s.run([...s.root, 'smtp', 'write'], { input: '' });
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(result.stdout, `${NOT_A_MAPPING('SMTP')}${SAVED}`);
  assert.equal(result.stderr, '');
  assert.deepEqual(s.tree.listSettings(), ['smtp.yaml.enc']);
  assert.equal(s.tree.readPlaintext('smtp.yaml.enc').length, 0);
});

test('write of empty stdin over a file whose plaintext is already blank is allowed', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', ' \n');
  const result = await s.run([...s.root, 'smtp', 'write'], { input: '' });
  assert.equal(result.exitCode, 0, result.stderr);
  assert.ok(result.stdout.endsWith(SAVED), result.stdout);
  assert.equal(s.tree.readPlaintext('smtp.yaml.enc').length, 0);
});
