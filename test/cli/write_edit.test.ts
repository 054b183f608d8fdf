/** `write` and `edit`: exact bytes stored, templates, what is refused, where the plaintext buffer lives. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { dirname, join, relative, isAbsolute } from 'node:path';
import { runCli } from '../helpers/run_cli.ts';
import type { CliResult } from '../helpers/run_cli.ts';
import { KEY_BASE, OTHER_KEY_BASE } from '../helpers/gitlab_tree.ts';
import type { GitlabTree } from '../helpers/gitlab_tree.ts';
import {
  FAKE_EDITOR,
  FAKE_EDITOR_COMMAND,
  INVALID_YAML_PREFIX,
  NOT_A_MAPPING,
  SAVED,
  SERVICE_DESK_TEMPLATE,
  SMTP_TEMPLATE,
  UNCHANGED,
  assertOneErrorLine,
  assertSucceedsWith,
  fakeEditor,
  newTree,
  rootArgs,
  tempDir,
} from './cli_helpers.ts';

const SECRETS = 'user_name: "smtp-user"\npassword: "hunter2"\n';

function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

function assertRefused(result: CliResult): void {
  assert.ok(!result.stdout.includes('File encrypted and saved.'), `claims to have saved: ${result.stdout}`);
  assertOneErrorLine(result);
}

// --- write: exact bytes ----------------------------------------------------------------------------

const writeCases: Array<[string, Buffer]> = [
  ['CRLF line ends', Buffer.from('user_name: "a"\r\npassword: "b"\r\n')],
  ['no final newline', Buffer.from('user_name: "a"\npassword: "b"')],
  ['multi-byte UTF-8', Buffer.from('user_name: "Zoë ✓ 日本 🎉"\npassword: "pässwörd"\n')],
  ['a byte order mark', Buffer.from('\uFEFFuser_name: "a"\n')],
  ['trailing blank lines', Buffer.from('user_name: "a"\n\n\n')],
];

for (const [name, input] of writeCases) {
  test(`write stores stdin with ${name} byte for byte`, async (t) => {
    const tree = newTree(t);
    const result = await runCli([...rootArgs(tree), 'smtp', 'write'], { input });
    assertSucceedsWith(result, SAVED);
    assert.deepEqual([...tree.readPlaintext('smtp.yaml.enc')], [...input]);
  });
}

test('write creates a new file with exactly its input, not the template', async (t) => {
  const tree = newTree(t);
  assert.deepEqual(tree.listSettings(), []);
  // The real bin, its stdin a real pipe.
  const result = await runCli([...rootArgs(tree), 'smtp', 'write'], { input: SECRETS, spawn: true });
  assertSucceedsWith(result, SAVED);
  assert.deepEqual(tree.listSettings(), ['smtp.yaml.enc']);
  assert.equal(tree.readPlaintext('smtp.yaml.enc').toString('utf8'), SECRETS);
});

test('write of a service desk file creates service_desk_email.yaml.enc', async (t) => {
  const tree = newTree(t);
  const input = 'user: "desk@example.com"\npassword: "x"\n';
  const result = await runCli([...rootArgs(tree), 'service-desk-email', 'write'], { input });
  assertSucceedsWith(result, SAVED);
  assert.deepEqual(tree.listSettings(), ['service_desk_email.yaml.enc']);
  assert.equal(tree.readPlaintext('service_desk_email.yaml.enc').toString('utf8'), input);
});

test('write through the rake task name stores its input', async (t) => {
  const tree = newTree(t);
  const result = await runCli([...rootArgs(tree), 'gitlab:smtp:secret:write'], { input: SECRETS });
  assertSucceedsWith(result, SAVED);
  assert.equal(tree.readPlaintext('smtp.yaml.enc').toString('utf8'), SECRETS);
});

test('write replaces an existing file and the result is encrypted with the primary key', async (t) => {
  const tree = newTree(t, { rotatedKeyBases: [OTHER_KEY_BASE] });
  tree.writeEncrypted('smtp.yaml.enc', 'user_name: "old"\n', OTHER_KEY_BASE);
  const result = await runCli([...rootArgs(tree), 'smtp', 'write'], { input: SECRETS });
  assertSucceedsWith(result, SAVED);
  assert.equal(tree.readPlaintext('smtp.yaml.enc', KEY_BASE).toString('utf8'), SECRETS);
  assert.deepEqual(tree.listSettings(), ['smtp.yaml.enc']);
});

// Issue 10: unlike GitLab, a file that no configured key decrypts is replaced only with --force
// (test/safety/replace_guard.test.ts checks the refusal without it).
test('write --force does not need the old file key: a file encrypted with another key is overwritten', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', 'user_name: "old"\n', OTHER_KEY_BASE);
  const result = await runCli([...rootArgs(tree), 'smtp', 'write', '--force'], { input: SECRETS });
  assertSucceedsWith(result, SAVED);
  assert.equal(tree.readPlaintext('smtp.yaml.enc', KEY_BASE).toString('utf8'), SECRETS);
});

test('write --force overwrites a corrupt file', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', 'x');
  copyFileSync(FAKE_EDITOR, path); // any bytes that are not a body
  const result = await runCli([...rootArgs(tree), 'smtp', 'write', '--force'], { input: SECRETS });
  assertSucceedsWith(result, SAVED);
  assert.equal(tree.readPlaintext('smtp.yaml.enc').toString('utf8'), SECRETS);
});

// --- write: refusals -------------------------------------------------------------------------------

const NOT_UTF8 = Buffer.from([0x70, 0x61, 0x73, 0x73, 0x3a, 0x20, 0x22, 0xff, 0xfe, 0x22, 0x0a]);

test('write refuses stdin that is not UTF-8 and creates nothing', async (t) => {
  const tree = newTree(t);
  const result = await runCli([...rootArgs(tree), 'smtp', 'write'], { input: NOT_UTF8 });
  assertRefused(result);
  assert.deepEqual(tree.listSettings(), []);
});

test('write refuses stdin that is not UTF-8 and leaves the existing file unchanged', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = readFileSync(path);
  const result = await runCli([...rootArgs(tree), 'smtp', 'write'], { input: NOT_UTF8 });
  assertRefused(result);
  assert.ok(readFileSync(path).equals(before), 'the file changed');
});

for (const [name, input] of [
  ['empty stdin', ''],
  // Spaces only: a tab at the start of a line is a syntax error for Psych (checked against Ruby).
  ['whitespace-only stdin', ' \n  \r\n'],
] as const) {
  test(`write refuses ${name} over a file that holds secrets`, async (t) => {
    const tree = newTree(t);
    const path = tree.writeEncrypted('smtp.yaml.enc', SECRETS);
    const before = readFileSync(path);
    const result = await runCli([...rootArgs(tree), 'smtp', 'write'], { input });
    assertRefused(result);
    assert.ok(readFileSync(path).equals(before), 'the secrets were wiped');
    assert.deepEqual(tree.listSettings(), ['smtp.yaml.enc']);
  });

  test(`write --allow-empty stores ${name} over a file that holds secrets`, async (t) => {
    const tree = newTree(t);
    tree.writeEncrypted('smtp.yaml.enc', SECRETS);
    const result = await runCli([...rootArgs(tree), 'smtp', 'write', '--allow-empty'], { input });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.ok(result.stdout.endsWith(SAVED), result.stdout);
    assert.equal(tree.readPlaintext('smtp.yaml.enc').toString('utf8'), input);
  });
}

test('write of empty stdin for a new file writes it, with the not-a-mapping warning', async (t) => {
  const tree = newTree(t);
  const result = await runCli([...rootArgs(tree), 'smtp', 'write'], { input: '' });
  assertSucceedsWith(result, `${NOT_A_MAPPING('SMTP')}\n${SAVED}`);
  assert.deepEqual(tree.listSettings(), ['smtp.yaml.enc']);
  assert.equal(tree.readPlaintext('smtp.yaml.enc').length, 0);
});

test('write of empty stdin over a file whose plaintext is already blank is allowed', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', '\n');
  const result = await runCli([...rootArgs(tree), 'smtp', 'write'], { input: '' });
  assert.equal(result.exitCode, 0, result.stderr);
  assert.ok(result.stdout.endsWith(SAVED), result.stdout);
  assert.equal(tree.readPlaintext('smtp.yaml.enc').length, 0);
});

test('write of a comments-only document warns that it is not a mapping and saves it', async (t) => {
  const tree = newTree(t);
  const result = await runCli([...rootArgs(tree), 'smtp', 'write'], { input: SMTP_TEMPLATE });
  assertSucceedsWith(result, `${NOT_A_MAPPING('SMTP')}\n${SAVED}`);
  assert.equal(tree.readPlaintext('smtp.yaml.enc').toString('utf8'), SMTP_TEMPLATE);
});

// YAML.safe_load(permitted_classes: [Symbol]) rules (SPEC §4).
const rejectedYaml: Array<[string, string]> = [
  ['an alias', 'password: &p "x"\nuser_name: *p\n'],
  ['a date', 'since: 2024-01-31\n'],
  ['a time', 'at: 2024-01-31 10:20:30\n'],
  ['a !!set', 'names: !!set {a, b}\n'],
  ['a Ruby object tag', 'x: !ruby/object:Object {}\n'],
];
for (const [name, input] of rejectedYaml) {
  test(`write refuses YAML with ${name}, as YAML.safe_load does, and saves nothing`, async (t) => {
    const tree = newTree(t);
    const result = await runCli([...rootArgs(tree), 'smtp', 'write'], { input });
    assert.ok(result.stdout.startsWith(INVALID_YAML_PREFIX('SMTP')), `stdout: ${result.stdout}`);
    assertRefused(result);
    assert.deepEqual(tree.listSettings(), []);
  });
}

const acceptedYaml: Array<[string, string]> = [
  ['a symbol', 'authentication: :login\n'],
  ['!!binary', 'password: !!binary aHVudGVyMg==\n'],
  ['a duplicate key', 'password: "a"\npassword: "b"\n'],
  ['several documents', 'password: "a"\n---\nuser_name: "b"\n'],
  ['yes/no booleans', 'enable_starttls_auto: yes\ntls: off\n'],
];
for (const [name, input] of acceptedYaml) {
  test(`write accepts YAML with ${name}, as YAML.safe_load does`, async (t) => {
    const tree = newTree(t);
    const result = await runCli([...rootArgs(tree), 'smtp', 'write'], { input });
    assertSucceedsWith(result, SAVED);
    assert.equal(tree.readPlaintext('smtp.yaml.enc').toString('utf8'), input);
  });
}

test('write leaves nothing but the encrypted file in the settings directory', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', 'user_name: "old"\n');
  const result = await runCli([...rootArgs(tree), 'smtp', 'write'], { input: SECRETS });
  assert.equal(result.exitCode, 0);
  assert.deepEqual(tree.listSettings(), ['smtp.yaml.enc']);
});

// --- edit: what the editor sees --------------------------------------------------------------------

for (const [namespace, fileName, template] of [
  ['smtp', 'smtp.yaml.enc', SMTP_TEMPLATE],
  ['service-desk-email', 'service_desk_email.yaml.enc', SERVICE_DESK_TEMPLATE],
] as const) {
  test(`edit of a new ${namespace} file shows the template and saves it untouched`, async (t) => {
    const tree = newTree(t);
    const editor = fakeEditor(t);
    const result = await runCli([...rootArgs(tree), namespace, 'edit'], { env: editor.env });
    assert.equal(editor.seen()?.toString('latin1'), template);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.ok(result.stdout.endsWith(SAVED), `stdout: ${result.stdout}`);
    // The template is all comments: not a mapping, so GitLab's warning is expected too.
    const displayName = namespace === 'smtp' ? 'SMTP' : 'SERVICE_DESK_EMAIL';
    assert.ok(result.stdout.includes(NOT_A_MAPPING(displayName)), `stdout: ${result.stdout}`);
    assert.deepEqual(tree.listSettings(), [fileName]);
    assert.equal(tree.readPlaintext(fileName).toString('latin1'), template);
  });
}

test('edit of a new file saves what the editor wrote instead of the template', async (t) => {
  const tree = newTree(t);
  const editor = fakeEditor(t, { write: SECRETS });
  // The real bin starting a real editor process, which inherits its stdio.
  const result = await runCli([...rootArgs(tree), 'smtp', 'edit'], { env: editor.env, spawn: true });
  assertSucceedsWith(result, SAVED);
  assert.equal(tree.readPlaintext('smtp.yaml.enc').toString('utf8'), SECRETS);
});

test('edit of an existing file shows its current plaintext byte for byte', async (t) => {
  const tree = newTree(t);
  const current = Buffer.from('user_name: "Zoë"\r\npassword: "p"');
  tree.writeEncrypted('smtp.yaml.enc', current);
  const editor = fakeEditor(t);
  const result = await runCli([...rootArgs(tree), 'smtp', 'edit'], { env: editor.env });
  assert.equal(result.exitCode, 0, result.stderr);
  assert.ok(editor.seen()?.equals(current), `the editor saw ${editor.seen()?.toString('hex')}`);
});

test('edit of an existing file with an empty plaintext gives an empty buffer, not the template', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', '');
  const editor = fakeEditor(t, { write: SECRETS });
  const result = await runCli([...rootArgs(tree), 'smtp', 'edit'], { env: editor.env });
  assert.equal(editor.seen()?.length, 0);
  assertSucceedsWith(result, SAVED);
  assert.equal(tree.readPlaintext('smtp.yaml.enc').toString('utf8'), SECRETS);
});

test('edit of a file written with a rotated key shows it and saves it with the primary key', async (t) => {
  const tree = newTree(t, { rotatedKeyBases: [OTHER_KEY_BASE] });
  tree.writeEncrypted('smtp.yaml.enc', SECRETS, OTHER_KEY_BASE);
  const editor = fakeEditor(t, { append: 'port: 587\n' });
  const result = await runCli([...rootArgs(tree), 'smtp', 'edit'], { env: editor.env });
  assert.equal(editor.seen()?.toString('utf8'), SECRETS);
  assertSucceedsWith(result, SAVED);
  assert.equal(tree.readPlaintext('smtp.yaml.enc', KEY_BASE).toString('utf8'), `${SECRETS}port: 587\n`);
});

test('edit runs EDITOR split into words with the buffer path as the one extra argument', async (t) => {
  const tree = newTree(t);
  const editor = fakeEditor(t);
  await runCli([...rootArgs(tree), 'smtp', 'edit'], { env: editor.env });
  const argv = editor.argv();
  assert.ok(argv, 'the editor did not run');
  assert.equal(argv.length, 2, JSON.stringify(argv));
  assert.equal(argv[0], FAKE_EDITOR);
});

test('edit through the rake task name runs the editor and saves', async (t) => {
  const tree = newTree(t);
  const editor = fakeEditor(t, { write: SECRETS });
  const result = await runCli([...rootArgs(tree), 'gitlab:smtp:secret:edit'], { env: editor.env });
  assertSucceedsWith(result, SAVED);
  assert.equal(tree.readPlaintext('smtp.yaml.enc').toString('utf8'), SECRETS);
});

// --- edit: unchanged -------------------------------------------------------------------------------

test('edit that leaves an existing file unchanged does not rewrite it', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const old = new Date('2001-02-03T04:05:06Z');
  utimesSync(path, old, old);
  const before = readFileSync(path);
  const inode = statSync(path).ino;
  const editor = fakeEditor(t);
  const result = await runCli([...rootArgs(tree), 'smtp', 'edit'], { env: editor.env });
  assertSucceedsWith(result, `${UNCHANGED}${SAVED}`);
  assert.ok(readFileSync(path).equals(before), 'the bytes changed');
  assert.equal(statSync(path).mtimeMs, old.getTime(), 'the file was touched');
  assert.equal(statSync(path).ino, inode, 'the file was replaced');
  assert.deepEqual(tree.listSettings(), ['smtp.yaml.enc']);
});

test('edit that rewrites the same bytes over the buffer counts as unchanged', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = readFileSync(path);
  const editor = fakeEditor(t, { write: SECRETS });
  const result = await runCli([...rootArgs(tree), 'smtp', 'edit'], { env: editor.env });
  assertSucceedsWith(result, `${UNCHANGED}${SAVED}`);
  assert.ok(readFileSync(path).equals(before), 'an unchanged file was rewritten');
});

// --- edit: EDITOR forms ----------------------------------------------------------------------------

test('EDITOR given as a rake-style argument after the command is used', async (t) => {
  const tree = newTree(t);
  const editor = fakeEditor(t, { write: SECRETS });
  const { EDITOR: command, ...env } = editor.env;
  const result = await runCli([...rootArgs(tree), 'smtp', 'edit', `EDITOR=${command}`], { env });
  assert.ok(editor.seen() !== null, 'the editor did not run');
  assertSucceedsWith(result, SAVED);
  assert.equal(tree.readPlaintext('smtp.yaml.enc').toString('utf8'), SECRETS);
});

test('a rake-style EDITOR argument wins over the EDITOR environment variable', async (t) => {
  const tree = newTree(t);
  const editor = fakeEditor(t, { write: SECRETS });
  const env = { ...editor.env, EDITOR: 'gitlab-secrets-no-such-editor-7f3e' };
  const result = await runCli([...rootArgs(tree), 'smtp', 'edit', `EDITOR=${FAKE_EDITOR_COMMAND}`], { env });
  assertSucceedsWith(result, SAVED);
  assert.equal(tree.readPlaintext('smtp.yaml.enc').toString('utf8'), SECRETS);
});

for (const quote of ['"', "'"]) {
  test(`EDITOR with a ${quote}-quoted path containing spaces runs that path`, async (t) => {
    const tree = newTree(t);
    const dir = join(tempDir(t), 'my editors');
    mkdirSync(dir);
    const script = join(dir, 'fake editor.sh');
    copyFileSync(FAKE_EDITOR, script);
    const editor = fakeEditor(t, { write: SECRETS, command: `sh ${quote}${script}${quote}` });
    const result = await runCli([...rootArgs(tree), 'smtp', 'edit'], { env: editor.env });
    assertSucceedsWith(result, SAVED);
    assert.equal(editor.argv()?.[0], script);
    assert.equal(tree.readPlaintext('smtp.yaml.enc').toString('utf8'), SECRETS);
  });
}

test('EDITOR is not run through a shell: $VARIABLES are passed literally', async (t) => {
  const tree = newTree(t);
  const editor = fakeEditor(t, { command: `${FAKE_EDITOR_COMMAND} $HOME` });
  const result = await runCli([...rootArgs(tree), 'smtp', 'edit'], { env: editor.env });
  assert.equal(result.exitCode, 0, result.stderr);
  assert.deepEqual(editor.argv()?.slice(0, 2), [FAKE_EDITOR, '$HOME']);
});

// --- edit: refusals --------------------------------------------------------------------------------

test('edit refuses a buffer that is no longer UTF-8 and saves nothing', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = readFileSync(path);
  const editor = fakeEditor(t, { write: NOT_UTF8 });
  const result = await runCli([...rootArgs(tree), 'smtp', 'edit'], { env: editor.env });
  assertRefused(result);
  assert.ok(readFileSync(path).equals(before), 'the file changed');
});

// --- edit: where the plaintext lives ---------------------------------------------------------------

function assertBufferOutsideAndGone(tree: GitlabTree, argv: string[] | null): void {
  assert.ok(argv, 'the editor did not run');
  const buffer = argv.at(-1)!;
  assert.ok(!isInside(tree.settingsDir, buffer), `the buffer ${buffer} is in the settings directory`);
  assert.ok(!isInside(tree.root, buffer), `the buffer ${buffer} is in the GitLab tree`);
  assert.equal(existsSync(buffer), false, `the plaintext buffer ${buffer} was left on disk`);
}

test('the edit buffer is outside the settings directory and removed after a save', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const editor = fakeEditor(t, { append: 'port: 587\n' });
  const result = await runCli([...rootArgs(tree), 'smtp', 'edit'], { env: editor.env });
  assert.equal(result.exitCode, 0, result.stderr);
  assertBufferOutsideAndGone(tree, editor.argv());
  assert.deepEqual(tree.listSettings(), ['smtp.yaml.enc']);
});

test('the edit buffer is removed and the settings directory is clean after the editor fails', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const editor = fakeEditor(t, { append: 'port: 587\n', exit: 2 });
  const result = await runCli([...rootArgs(tree), 'smtp', 'edit'], { env: editor.env });
  assert.notEqual(result.exitCode, 0);
  assertBufferOutsideAndGone(tree, editor.argv());
  assert.deepEqual(tree.listSettings(), ['smtp.yaml.enc']);
});

test('the settings directory is clean after an edit refused for invalid YAML', async (t) => {
  const tree = newTree(t);
  const editor = fakeEditor(t, { write: 'password: [unclosed\n' });
  const result = await runCli([...rootArgs(tree), 'smtp', 'edit'], { env: editor.env });
  assert.notEqual(result.exitCode, 0);
  const buffer = editor.argv()?.at(-1);
  assert.ok(buffer !== undefined && !isInside(tree.settingsDir, buffer), `buffer ${buffer}`);
  assert.deepEqual(tree.listSettings(), []);
  assert.ok(existsSync(dirname(tree.settingsDir)));
});
