/**
 * SPEC §4's message table, row by row: exact text, the stream it goes to (and nothing unexpected on the
 * other), the exit code class; then the order in which the checks run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/run_cli.ts';
import { KEY_BASE, OTHER_KEY_BASE } from '../helpers/gitlab_tree.ts';
import {
  FAKE_EDITOR_COMMAND,
  INVALID_YAML_PREFIX,
  NOT_A_MAPPING,
  SAVED,
  UNCHANGED,
  assertFailsWith,
  assertOneErrorLine,
  assertSucceedsWith,
  couldNotDecrypt,
  doesNotExistHint,
  fakeEditor,
  marshalUtf8Short,
  newTree,
  rawEncrypt,
  rootArgs,
  runCliAndSignal,
} from './cli_helpers.ts';
import { assertFailsWithHint } from './key_helpers.ts';

const SECRETS = 'user_name: "smtp-user"\npassword: "hunter2"\n';
const NO_KEY = 'Missing encryption key encrypted_settings_key_base.';
const directoryMissing = (dir: string): string => `Directory ${dir} does not exist. Create the directory and try again.`;

// --- directory missing -----------------------------------------------------------------------------

for (const command of ['show', 'edit', 'write'] as const) {
  test(`${command} reports a missing settings directory on stderr and exits non-zero`, async (t) => {
    const tree = newTree(t, { settingsDir: false });
    const editor = fakeEditor(t, { append: 'a: 1\n' });
    const result = await runCli([...rootArgs(tree), 'smtp', command], { env: editor.env, input: SECRETS });
    assertFailsWith(result, directoryMissing(tree.settingsDir));
    assert.equal(existsSync(tree.settingsDir), false, 'the directory must not be created');
    assert.equal(editor.seen(), null, 'the editor must not run');
  });
}

// --- no key ----------------------------------------------------------------------------------------

for (const command of ['show', 'edit', 'write'] as const) {
  test(`${command} without encrypted_settings_key_base reports the missing key`, async (t) => {
    const tree = newTree(t, { keyBase: null });
    const editor = fakeEditor(t, { append: 'a: 1\n' });
    const result = await runCli([...rootArgs(tree), 'smtp', command], { env: editor.env, input: SECRETS });
    assertFailsWithHint(result, NO_KEY, 'looked in ');
    assert.deepEqual(tree.listSettings(), []);
    assert.equal(editor.seen(), null, 'the editor must not run');
  });
}

test('a missing secrets.yml is the missing key message, not a crash', async (t) => {
  const tree = newTree(t);
  rmSync(join(tree.root, 'config', 'secrets.yml'));
  tree.writeEncrypted('smtp.yaml.enc', SECRETS, KEY_BASE);
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assertFailsWithHint(result, NO_KEY, 'looked in ');
});

test('a key present only in another environment is the missing key message', async (t) => {
  const tree = newTree(t, { secretsYml: `development:\n  encrypted_settings_key_base: "${KEY_BASE}"\n` });
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assertFailsWithHint(result, NO_KEY, 'looked in ');
});

// --- Base key too small ----------------------------------------------------------------------------

test('a 15-character key base fails with Base key too small', async (t) => {
  const tree = newTree(t, { keyBase: '123456789012345' });
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assertFailsWithHint(result, 'Base key too small', 'a key base needs at least 16 characters');
});

test('a blank 16-character key base fails with Base key too small', async (t) => {
  const tree = newTree(t, { keyBase: ' '.repeat(16) });
  const result = await runCli([...rootArgs(tree), 'smtp', 'write'], { input: SECRETS });
  assertFailsWithHint(result, 'Base key too small', 'a key base needs at least 16 characters');
  assert.deepEqual(tree.listSettings(), []);
});

test('a 16-character key base is long enough', async (t) => {
  const tree = newTree(t, { keyBase: '1234567890123456' });
  const written = await runCli([...rootArgs(tree), 'smtp', 'write'], { input: SECRETS });
  assertSucceedsWith(written, SAVED);
  const shown = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assertSucceedsWith(shown, SECRETS);
});

// --- wrong key / corrupt file ----------------------------------------------------------------------

test('show of a file written with another key reports that it could not decrypt', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', SECRETS, OTHER_KEY_BASE);
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assertFailsWith(result, couldNotDecrypt(path));
});

test('edit of a file written with another key fails before the editor starts', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', SECRETS, OTHER_KEY_BASE);
  const before = readFileSync(path);
  const editor = fakeEditor(t, { append: 'extra: 1\n' });
  const result = await runCli([...rootArgs(tree), 'smtp', 'edit'], { env: editor.env });
  assertFailsWith(result, couldNotDecrypt(path));
  assert.equal(editor.seen(), null, 'the editor must not run');
  assert.ok(readFileSync(path).equals(before), 'the file changed');
  assert.deepEqual(tree.listSettings(), ['smtp.yaml.enc']);
});

/** Ways to break a valid body; each must read as "Couldn't decrypt". */
const corruptions: Array<[string, (body: string) => string]> = [
  ['a truncated body', (body) => body.slice(0, body.length - 6)],
  ['a body cut before its separators', (body) => body.slice(0, 20)],
  ['a tampered ciphertext', (body) => (body[0] === 'A' ? 'B' : 'A') + body.slice(1)],
  [
    'a tampered auth tag',
    (body) => {
      const parts = body.split('--');
      parts[2] = (parts[2]![0] === 'A' ? 'B' : 'A') + parts[2]!.slice(1);
      return parts.join('--');
    },
  ],
  ['a zero-byte file', () => ''],
  ['a body that is not base64', () => '%%%%not*base64%%%%--%%%%--%%%%'],
  ['a body with an extra -- part', (body) => `${body}--${Buffer.from('extra').toString('base64')}`],
  [
    'a body whose IV is not 12 bytes',
    (body) => {
      const parts = body.split('--');
      parts[1] = Buffer.alloc(16, 7).toString('base64');
      return parts.join('--');
    },
  ],
  ['a body with two trailing newlines', (body) => `${body}\n\n`],
];

for (const [name, corrupt] of corruptions) {
  test(`show of ${name} reports that it could not decrypt`, async (t) => {
    const tree = newTree(t);
    const path = tree.writeEncrypted('smtp.yaml.enc', SECRETS);
    const body = readFileSync(path, 'latin1');
    const broken = corrupt(body);
    assert.notEqual(broken, body);
    writeFileSync(path, broken, 'latin1');
    const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
    assertFailsWith(result, couldNotDecrypt(path));
  });
}

test('edit of a zero-byte file reports that it could not decrypt and keeps the file', async (t) => {
  const tree = newTree(t);
  const path = tree.file('smtp.yaml.enc');
  writeFileSync(path, '');
  const editor = fakeEditor(t, { append: 'a: 1\n' });
  const result = await runCli([...rootArgs(tree), 'smtp', 'edit'], { env: editor.env });
  assertFailsWith(result, couldNotDecrypt(path));
  assert.equal(editor.seen(), null, 'the editor must not run');
  assert.equal(readFileSync(path).length, 0);
});

test('a payload that authenticates but is not a Marshal string is a clear one-line error', async (t) => {
  const tree = newTree(t);
  const path = tree.file('smtp.yaml.enc');
  writeFileSync(path, rawEncrypt(Buffer.from([0x04, 0x08, 0x69, 0x06]), KEY_BASE)); // Marshal of Integer 1
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assertOneErrorLine(result, [path]);
  assert.equal(result.stdout, '');
});

test('the independent encryptor used by these tests makes files the CLI reads', async (t) => {
  // Guards the test above: without it, a broken rawEncrypt would make that test pass for the wrong reason.
  const tree = newTree(t);
  writeFileSync(tree.file('smtp.yaml.enc'), rawEncrypt(marshalUtf8Short(Buffer.from(SECRETS)), KEY_BASE));
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assertSucceedsWith(result, SECRETS);
});

// --- show of an absent file or blank plaintext -----------------------------------------------------

test('show of an absent smtp file prints the edit hint on stdout and exits 0', async (t) => {
  const tree = newTree(t);
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assertSucceedsWith(result, `${doesNotExistHint(tree.file('smtp.yaml.enc'), 'smtp')}\n`);
});

test('show of an absent service desk file names the service-desk-email edit command', async (t) => {
  const tree = newTree(t);
  const result = await runCli([...rootArgs(tree), 'service-desk-email', 'show']);
  assertSucceedsWith(
    result,
    `${doesNotExistHint(tree.file('service_desk_email.yaml.enc'), 'service-desk-email')}\n`,
  );
});

test('show of an empty plaintext prints the edit hint', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', '');
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assertSucceedsWith(result, `${doesNotExistHint(path, 'smtp')}\n`);
});

test('show of a whitespace-only plaintext prints the edit hint, as Ruby blank? does', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', ' \n\t\n');
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assertSucceedsWith(result, `${doesNotExistHint(path, 'smtp')}\n`);
});

// --- validation warnings ---------------------------------------------------------------------------

test('write of content that is not a mapping warns on stdout and still saves it', async (t) => {
  const tree = newTree(t);
  const content = 'just a string\n';
  const result = await runCli([...rootArgs(tree), 'smtp', 'write'], { input: content });
  assertSucceedsWith(result, `${NOT_A_MAPPING('SMTP')}\n${SAVED}`);
  assert.equal(tree.readPlaintext('smtp.yaml.enc').toString('utf8'), content);
});

test('the not-a-mapping warning names SERVICE_DESK_EMAIL for the service desk file', async (t) => {
  const tree = newTree(t);
  const content = '- a\n- list\n';
  const result = await runCli([...rootArgs(tree), 'service-desk-email', 'write'], { input: content });
  assertSucceedsWith(result, `${NOT_A_MAPPING('SERVICE_DESK_EMAIL')}\n${SAVED}`);
  assert.equal(tree.readPlaintext('service_desk_email.yaml.enc').toString('utf8'), content);
});

test('edit to content that is not a mapping warns on stdout and still saves it', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const editor = fakeEditor(t, { write: '42\n' });
  const result = await runCli([...rootArgs(tree), 'smtp', 'edit'], { env: editor.env });
  assertSucceedsWith(result, `${NOT_A_MAPPING('SMTP')}\n${SAVED}`);
  assert.equal(tree.readPlaintext('smtp.yaml.enc').toString('utf8'), '42\n');
});

function assertInvalidYamlRefused(result: Awaited<ReturnType<typeof runCli>>, displayName: string): void {
  const [firstLine = ''] = result.stdout.split('\n');
  assert.ok(firstLine.startsWith(INVALID_YAML_PREFIX(displayName)), `stdout: ${JSON.stringify(result.stdout)}`);
  assert.ok(firstLine.length > INVALID_YAML_PREFIX(displayName).length, 'the parser message is missing');
  assert.ok(!result.stdout.includes('File encrypted and saved.'), 'claims to have saved');
  assertOneErrorLine(result);
}

test('write of invalid YAML over an existing file warns, fails and leaves the file unchanged', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = readFileSync(path);
  const result = await runCli([...rootArgs(tree), 'smtp', 'write'], { input: 'password: [unclosed\n' });
  assertInvalidYamlRefused(result, 'SMTP');
  assert.ok(readFileSync(path).equals(before), 'the file changed');
  assert.deepEqual(tree.listSettings(), ['smtp.yaml.enc']);
});

test('write of invalid YAML for a new file warns, fails and creates nothing', async (t) => {
  const tree = newTree(t);
  const result = await runCli([...rootArgs(tree), 'service-desk-email', 'write'], {
    input: 'user: "unterminated\n',
  });
  assertInvalidYamlRefused(result, 'SERVICE_DESK_EMAIL');
  assert.deepEqual(tree.listSettings(), []);
});

test('edit to invalid YAML warns, fails and leaves the file unchanged', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = readFileSync(path);
  const editor = fakeEditor(t, { append: 'broken: [\n' });
  const result = await runCli([...rootArgs(tree), 'smtp', 'edit'], { env: editor.env });
  assertInvalidYamlRefused(result, 'SMTP');
  assert.ok(readFileSync(path).equals(before), 'the file changed');
  assert.deepEqual(tree.listSettings(), ['smtp.yaml.enc']);
});

// --- edit without an editor ------------------------------------------------------------------------

test('edit without EDITOR prints GitLab\'s line, then the full command on a hint: line', async (t) => {
  const tree = newTree(t);
  // Run from the root with no options, so the full command is exactly the namespace and verb.
  const result = await runCli(['smtp', 'edit'], { cwd: tree.root });
  assertFailsWith(
    result,
    'No $EDITOR specified to open file. Please provide one when running the command:\n' +
      'hint: gitlab-secrets smtp edit EDITOR=vim',
  );
  assert.deepEqual(tree.listSettings(), []);
});

test('edit of service desk without EDITOR names the service-desk-email command', async (t) => {
  const tree = newTree(t);
  const result = await runCli(['service-desk-email', 'edit'], { cwd: tree.root });
  assertFailsWith(
    result,
    'No $EDITOR specified to open file. Please provide one when running the command:\n' +
      'hint: gitlab-secrets service-desk-email edit EDITOR=vim',
  );
});

test('edit without EDITOR and with options still prints a runnable gitlab-secrets command', async (t) => {
  const tree = newTree(t);
  const result = await runCli([...rootArgs(tree), 'smtp', 'edit']);
  assert.notEqual(result.exitCode, 0);
  assert.equal(result.stdout, '');
  const lines = result.stderr.split('\n');
  assert.equal(lines.length, 3, `two lines expected: ${JSON.stringify(result.stderr)}`);
  assert.equal(lines[0], 'No $EDITOR specified to open file. Please provide one when running the command:');
  assert.match(lines[1]!, /^hint: gitlab-secrets .*smtp edit.* EDITOR=vim$/);
});

// --- edit outcomes ---------------------------------------------------------------------------------

test('edit that leaves an existing file untouched prints unchanged then saved, and exits 0', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = readFileSync(path);
  const editor = fakeEditor(t);
  const result = await runCli([...rootArgs(tree), 'smtp', 'edit'], { env: editor.env });
  assertSucceedsWith(result, `${UNCHANGED}${SAVED}`);
  assert.ok(editor.seen() !== null, 'the editor did not run');
  assert.ok(readFileSync(path).equals(before), 'an unchanged file was rewritten');
});

test('edit that changes the file prints only the saved message', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const editor = fakeEditor(t, { append: 'port: 587\n' });
  const result = await runCli([...rootArgs(tree), 'smtp', 'edit'], { env: editor.env });
  assertSucceedsWith(result, SAVED);
  assert.equal(tree.readPlaintext('smtp.yaml.enc').toString('utf8'), `${SECRETS}port: 587\n`);
});

test('write prints only the saved message', async (t) => {
  const tree = newTree(t);
  const result = await runCli([...rootArgs(tree), 'smtp', 'write'], { input: SECRETS });
  assertSucceedsWith(result, SAVED);
  assert.equal(tree.readPlaintext('smtp.yaml.enc').toString('utf8'), SECRETS);
});

test('an editor that exits non-zero is reported and nothing is saved', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = readFileSync(path);
  const editor = fakeEditor(t, { append: 'password: "changed"\n', exit: 3 });
  const result = await runCli([...rootArgs(tree), 'smtp', 'edit'], { env: editor.env });
  assert.ok(editor.seen() !== null, 'the editor did not run');
  assert.notEqual(result.exitCode, 0);
  assert.equal(result.stdout, '');
  assertOneErrorLine(result);
  assert.ok(
    result.stderr.startsWith(`Unable to run $EDITOR: ${FAKE_EDITOR_COMMAND}`),
    `stderr: ${JSON.stringify(result.stderr)}`,
  );
  assert.ok(readFileSync(path).equals(before), 'the file changed');
  assert.deepEqual(tree.listSettings(), ['smtp.yaml.enc']);
});

test('an editor that exits non-zero on a new file creates nothing', async (t) => {
  const tree = newTree(t);
  const editor = fakeEditor(t, { write: 'password: "x"\n', exit: 1 });
  const result = await runCli([...rootArgs(tree), 'smtp', 'edit'], { env: editor.env });
  assertOneErrorLine(result);
  assert.ok(result.stderr.startsWith(`Unable to run $EDITOR: ${FAKE_EDITOR_COMMAND}`), result.stderr);
  assert.deepEqual(tree.listSettings(), []);
});

for (const command of ['gitlab-secrets-no-such-editor-7f3e', '/nonexistent/dir/editor --wait']) {
  test(`an editor command that does not exist (${command}) is reported and nothing is saved`, async (t) => {
    const tree = newTree(t);
    const result = await runCli([...rootArgs(tree), 'smtp', 'edit'], { env: { EDITOR: command } });
    assert.equal(result.stdout, '');
    assertOneErrorLine(result);
    assert.ok(result.stderr.startsWith(`Unable to run $EDITOR: ${command}`), `stderr: ${JSON.stringify(result.stderr)}`);
    assert.deepEqual(tree.listSettings(), []);
  });
}

// --- interrupted -----------------------------------------------------------------------------------

test('Ctrl-C during the edit aborts, saves nothing and removes the buffer', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = readFileSync(path);
  const editor = fakeEditor(t, { append: 'password: "half-typed"\n', sleepMs: 5000 });
  const result = await runCliAndSignal([...rootArgs(tree), 'smtp', 'edit'], {
    env: editor.env,
    signal: 'SIGINT',
    group: true,
    ready: () => editor.argv() !== null,
  });
  assert.equal(result.stderr, 'Aborted changing file: nothing saved.\n');
  assert.equal(result.stdout, '');
  assert.ok(result.exitCode !== 0, `exit code ${result.exitCode} signal ${result.signal}`);
  assert.ok(readFileSync(path).equals(before), 'the file changed');
  assert.deepEqual(tree.listSettings(), ['smtp.yaml.enc']);
  const buffer = editor.argv()!.at(-1)!;
  assert.equal(existsSync(buffer), false, `the plaintext buffer ${buffer} was left on disk`);
});

test('SIGTERM to the CLI during the edit aborts and saves nothing', async (t) => {
  const tree = newTree(t);
  const editor = fakeEditor(t, { write: 'password: "new"\n', sleepMs: 1500 });
  const result = await runCliAndSignal([...rootArgs(tree), 'smtp', 'edit'], {
    env: editor.env,
    signal: 'SIGTERM',
    group: false,
    ready: () => editor.argv() !== null,
  });
  assert.equal(result.stderr, 'Aborted changing file: nothing saved.\n');
  assert.equal(result.stdout, '');
  assert.ok(result.exitCode !== 0, `exit code ${result.exitCode} signal ${result.signal}`);
  assert.deepEqual(tree.listSettings(), []);
});

// --- check order (SPEC §4) -------------------------------------------------------------------------

test('a missing directory is reported before a missing key', async (t) => {
  const tree = newTree(t, { settingsDir: false, keyBase: null });
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assertFailsWith(result, directoryMissing(tree.settingsDir));
});

test('Base key too small is reported before a missing directory', async (t) => {
  const tree = newTree(t, { settingsDir: false, keyBase: '123456789012345' });
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assertFailsWithHint(result, 'Base key too small', 'a key base needs at least 16 characters');
});

test('a missing directory is reported before a missing EDITOR', async (t) => {
  const tree = newTree(t, { settingsDir: false });
  const result = await runCli([...rootArgs(tree), 'smtp', 'edit']);
  assertFailsWith(result, directoryMissing(tree.settingsDir));
});

test('a missing key is reported before a missing EDITOR', async (t) => {
  const tree = newTree(t, { keyBase: null });
  const result = await runCli([...rootArgs(tree), 'smtp', 'edit']);
  assertFailsWithHint(result, NO_KEY, 'looked in ');
});

test('a missing key is reported before the file is read', async (t) => {
  const tree = newTree(t, { keyBase: null });
  writeFileSync(tree.file('smtp.yaml.enc'), 'not a valid body');
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assertFailsWithHint(result, NO_KEY, 'looked in ');
});

test('write reports a missing directory before reading or validating its input', async (t) => {
  const tree = newTree(t, { settingsDir: false });
  const result = await runCli([...rootArgs(tree), 'smtp', 'write'], { input: 'broken: [\n' });
  assertFailsWith(result, directoryMissing(tree.settingsDir));
});

test('an unknown Redis instance is reported before a missing directory', async (t) => {
  const tree = newTree(t, { settingsDir: false });
  const result = await runCli([...rootArgs(tree), 'redis', 'show', 'no_such_instance']);
  assert.notEqual(result.exitCode, 0);
  assert.equal(result.stdout, '');
  assert.ok(result.stderr.includes('Specified instance name no_such_instance does not exist.'), result.stderr);
  const listed = /The available instances are ([^\n]*)\./.exec(result.stderr);
  assert.ok(listed, `no list of instances: ${result.stderr}`);
  assert.deepEqual(
    listed[1]!.split(', ').sort(),
    [
      'bufferedcounter', 'cache', 'clustersessions', 'dbloadbalancing', 'featureflag', 'queues',
      'queuesmetadata', 'ratelimiting', 'repositorycache', 'sessions', 'sharedstate', 'tracechunks',
      'chat', 'workhorse',
    ].sort(),
  );
  assert.ok(!result.stderr.includes('Directory '), 'the directory check ran first');
});
