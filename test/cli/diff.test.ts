/** `<namespace> diff`: keys added, removed and changed against a proposal, values masked, exit as diff(1). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/run_cli.ts';
import { OTHER_KEY_BASE } from '../helpers/gitlab_tree.ts';
import { INVALID_YAML_PREFIX, NOT_A_MAPPING, newTree, rootArgs } from './cli_helpers.ts';
import { runCliFromTerminal } from './gitops_helpers.ts';

const CURRENT =
  "# SMTP\npassword: 'hunter2'\nuser_name: 'gitlab-mailer'\nport: 587\nold_setting: 'goodbye-value'\n" +
  'tls:\n  verify: true\n  ca: /etc/ssl/ca.pem\n';
const PROPOSED =
  "password: 'correct horse'\nuser_name: 'gitlab-mailer'\nport: '587'\n" +
  'tls:\n  verify: true\n  ca: /etc/ssl/ca.pem\n  ciphers: [HIGH, MEDIUM]\nmain:\n  password: brand-new-secret\n';
/** Every value that is a secret in CURRENT or PROPOSED: none may be printed without --show-values. */
const VALUES = ['hunter2', 'correct horse', 'gitlab-mailer', 'goodbye-value', 'brand-new-secret', 'HIGH', 'MEDIUM', 'ca.pem'];

function assertNoValues(text: string): void {
  for (const value of VALUES) assert.ok(!text.includes(value), `printed the value ${JSON.stringify(value)}: ${text}`);
}

test('diff lists added, removed and changed keys as dotted paths, masked, and exits 1', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', CURRENT);
  const result = await runCli([...rootArgs(tree), 'smtp', 'diff'], { input: PROPOSED });
  assert.equal(result.stderr, '');
  assert.equal(
    result.stdout,
    '~ password\n~ port\n- old_setting\n+ tls.ciphers.0\n+ tls.ciphers.1\n+ main.password\n',
  );
  assert.equal(result.exitCode, 1);
  assertNoValues(result.stdout + result.stderr);
});

test('diff --show-values prints each value as JSON, so a string "587" differs visibly from 587', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', CURRENT);
  const result = await runCli([...rootArgs(tree), 'smtp', 'diff', '--show-values'], { input: PROPOSED });
  assert.equal(result.stderr, '');
  assert.equal(
    result.stdout,
    '~ password: "hunter2" → "correct horse"\n~ port: 587 → "587"\n- old_setting: "goodbye-value"\n' +
      '+ tls.ciphers.0: "HIGH"\n+ tls.ciphers.1: "MEDIUM"\n+ main.password: "brand-new-secret"\n',
  );
  assert.equal(result.exitCode, 1);
});

test('diff of the same settings written differently (comments, quoting, order, :symbol keys) prints nothing and exits 0', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', CURRENT);
  const same = 'tls: {ca: "/etc/ssl/ca.pem", verify: yes}\nold_setting: goodbye-value\nport: 0x24B\n:user_name: gitlab-mailer\npassword: "hunter2"\n';
  const result = await runCli([...rootArgs(tree), 'smtp', 'diff'], { input: same });
  assert.equal(result.stdout, '');
  assert.equal(result.stderr, '');
  assert.equal(result.exitCode, 0);
});

test('diff tells a value changed from a mapping to a scalar as removed and added paths', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('ldap.yaml.enc', 'main:\n  password: one\n  bind_dn: cn=a\n');
  const result = await runCli([...rootArgs(tree), 'ldap', 'diff'], { input: 'main: disabled\nempty: {}\n' });
  assert.equal(result.stdout, '- main.password\n- main.bind_dn\n+ main\n+ empty\n');
  assert.equal(result.exitCode, 1);
});

test('diff quotes a key that holds a dot, so its path cannot be mistaken for nesting', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', 'a:\n  b: 1\n');
  const result = await runCli([...rootArgs(tree), 'smtp', 'diff'], { input: "a:\n  b: 1\n'a.b': 2\n" });
  assert.equal(result.stdout, '+ "a.b"\n');
  assert.equal(result.exitCode, 1);
});

test('diff refuses invalid YAML with GitLab WARNING line, exit 7, and no value in any message', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', CURRENT);
  const result = await runCli([...rootArgs(tree), 'smtp', 'diff'], { input: "password: 'correct horse\nmain: brand-new-secret\n" });
  assert.equal(result.exitCode, 7);
  const lines = result.stdout.split('\n');
  assert.ok(lines[0]!.startsWith(INVALID_YAML_PREFIX('SMTP')), result.stdout);
  assert.equal(lines.length, 2, 'one WARNING line and nothing else on stdout');
  assert.equal(result.stderr, 'The content is not valid YAML, so GitLab could not load it: nothing compared.\n');
  assertNoValues(result.stdout + result.stderr);
});

test('diff against a proposal without key-value pairs warns as GitLab does and lists every key as removed', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', "password: 'hunter2'\n");
  const result = await runCli([...rootArgs(tree), 'smtp', 'diff'], { input: '# nothing here\n' });
  assert.equal(result.stdout, `${NOT_A_MAPPING('SMTP')}\n- password\n`);
  assert.equal(result.exitCode, 1);
});

test('diff --against compares with another encrypted file decrypted with the same keys', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', CURRENT);
  const backup = tree.writeEncrypted('smtp.yaml.enc.bak', CURRENT.replace('hunter2', 'hunter1'));
  const result = await runCli([...rootArgs(tree), 'smtp', 'diff', '--against', backup]);
  assert.equal(result.stdout, '~ password\n');
  assert.equal(result.stderr, '');
  assert.equal(result.exitCode, 1);

  const same = await runCli([...rootArgs(tree), 'smtp', 'diff', '--against', tree.file('smtp.yaml.enc')]);
  assert.equal(same.stdout, '');
  assert.equal(same.exitCode, 0);
});

test('diff --against a file under another key fails with GitLab decrypt message (exit 6)', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', CURRENT);
  const other = tree.writeEncrypted('other.yaml.enc', CURRENT, OTHER_KEY_BASE);
  const result = await runCli([...rootArgs(tree), 'smtp', 'diff', '--against', other]);
  assert.equal(result.stderr, `Couldn't decrypt ${other}. Perhaps you passed the wrong key?\n`);
  assert.equal(result.stdout, '');
  assert.equal(result.exitCode, 6);
});

test('diff --against a missing file fails naming it (exit 11)', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', CURRENT);
  const missing = tree.file('nope.yaml.enc');
  const result = await runCli([...rootArgs(tree), 'smtp', 'diff', '--against', missing]);
  assert.equal(result.stderr, `${missing} does not exist: nothing to compare with.\n`);
  assert.equal(result.exitCode, 11);
});

test('diff when the namespace has no file yet lists every proposed key as added', async (t) => {
  const tree = newTree(t);
  const result = await runCli([...rootArgs(tree), 'smtp', 'diff'], { input: "password: 'x'\n" });
  assert.equal(result.stdout, '+ password\n');
  assert.equal(result.exitCode, 1);
  assert.deepEqual(tree.listSettings(), [], 'diff created a file');
});

test('diff with a terminal on stdin fails at once with a hint instead of waiting (exit 2)', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', CURRENT);
  const result = await runCliFromTerminal([...rootArgs(tree), 'smtp', 'diff']);
  assert.equal(result.exitCode, 2, result.stderr);
  assert.match(result.stderr, /^diff compares with a proposed document on stdin, and stdin is a terminal\.\nhint: /);
  assert.equal(result.stdout, '');
});

test('diff takes the Redis instance like the other commands', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('redis.yaml.enc', "password: 'r1'\n");
  const result = await runCli([...rootArgs(tree), 'redis', 'diff', 'shared_state'], { input: "password: 'r2'\n" });
  assert.equal(result.stdout, '~ password\n');
  assert.equal(result.exitCode, 1);
});
