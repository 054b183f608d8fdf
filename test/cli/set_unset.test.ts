/**
 * `set` and `unset` (issue 12 §1): one value changes, every other byte of the plaintext stays; values from
 * stdin are strings, --value is YAML; refusals leave the encrypted file byte for byte as it was and never
 * echo the value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { runCli } from '../helpers/run_cli.ts';
import type { CliResult } from '../helpers/run_cli.ts';
import { OTHER_KEY_BASE } from '../helpers/gitlab_tree.ts';
import type { GitlabTree } from '../helpers/gitlab_tree.ts';
import { SAVED, newTree, rootArgs } from './cli_helpers.ts';

const SMTP = [
  '# SMTP relay, managed by hand',
  "user_name: 'smtp-relay@example.com'   # the relay account",
  'password: "old-secret"',
  '',
  'options: {tls: true, ca_file: /etc/ssl/ca.pem}',
  'port: 25',
  '',
].join('\n');

const LDAP = "main:\n    # bind account\n    bind_dn: 'cn=admin'\n    password: 'ldap-old'\n";

function smtpTree(t: Parameters<typeof newTree>[0], plaintext = SMTP): { tree: GitlabTree; path: string } {
  const tree = newTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', plaintext);
  return { tree, path };
}

const plaintextOf = (tree: GitlabTree, name = 'smtp.yaml.enc'): string => tree.readPlaintext(name).toString('utf8');

async function json(tree: GitlabTree, namespace = 'smtp'): Promise<unknown> {
  const result = await runCli([...rootArgs(tree), namespace, 'show', '--json']);
  assert.equal(result.exitCode, 0, result.stderr);
  return JSON.parse(result.stdout);
}

/** A refusal: non-zero exit, the file byte for byte as before, and the secret nowhere in the output. */
function assertRefused(result: CliResult, path: string, before: Buffer, code: number, secret?: string): void {
  assert.equal(result.exitCode, code, result.stderr);
  assert.deepEqual(readFileSync(path), before, 'the encrypted file changed');
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'stack trace');
  if (secret) assert.ok(!`${result.stdout}${result.stderr}`.includes(secret), 'the value was echoed');
}

test('set from a pipe changes only that value; every other byte stays', async (t) => {
  const { tree } = smtpTree(t);
  const result = await runCli([...rootArgs(tree), 'smtp', 'set', 'password'], { input: 'n3w-secret\n' });
  assert.equal(result.stdout, SAVED);
  assert.equal(result.stderr, '');
  assert.equal(result.exitCode, 0);
  assert.equal(plaintextOf(tree), SMTP.replace('"old-secret"', "'n3w-secret'"));
});

test('values from stdin are always strings; one trailing newline is stripped, no more', async (t) => {
  const { tree } = smtpTree(t);
  for (const [key, input, value] of [
    ['mode', '0777\n', '0777'],
    ['enabled', 'yes', 'yes'],
    ['nothing', 'null\r\n', 'null'],
    ['quoted', "it's \"x\"\n", `it's "x"`],
    ['twolines', 'a\nb\n\n', 'a\nb\n'],
  ] as const) {
    const result = await runCli([...rootArgs(tree), 'smtp', 'set', key], { input });
    assert.equal(result.exitCode, 0, result.stderr);
    const get = await runCli([...rootArgs(tree), 'smtp', 'get', key]);
    assert.equal(get.stdout, `${value}\n`, key);
  }
  const settings = (await json(tree)) as Record<string, unknown>;
  assert.equal(settings['mode'], '0777');
  assert.equal(settings['enabled'], 'yes');
  assert.equal(settings['nothing'], 'null');
  assert.ok(plaintextOf(tree).startsWith(SMTP.replace(/\n$/, '')), 'the old text was changed');
});

test('--value is read as a YAML scalar, as Psych reads it', async (t) => {
  const { tree } = smtpTree(t);
  for (const [key, raw] of [['port', '587'], ['tls', 'true'], ['name', "'0777'"], ['empty', 'null']]) {
    const result = await runCli([...rootArgs(tree), 'smtp', 'set', key!, '--value', raw!]);
    assert.equal(result.exitCode, 0, result.stderr);
  }
  const settings = (await json(tree)) as Record<string, unknown>;
  assert.equal(settings['port'], 587);
  assert.equal(settings['tls'], true);
  assert.equal(settings['name'], '0777');
  assert.equal(settings['empty'], null);
  assert.equal(plaintextOf(tree), SMTP.replace('port: 25', 'port: 587').replace(/\n$/, "\ntls: true\nname: '0777'\nempty: null\n"));
});

test('--value refuses what is not one scalar, without echoing it', async (t) => {
  const { tree, path } = smtpTree(t);
  const before = readFileSync(path);
  // An anchor or a tag would make the entry one that set refuses to change in place later.
  for (const raw of ['{a: 1}', '[1, 2]', 'a: b', 'x\ny', "'unterminated", '&a x', '!!str 587', '! x']) {
    const result = await runCli([...rootArgs(tree), 'smtp', 'set', 'password', '--value', raw]);
    assertRefused(result, path, before, 2);
    assert.match(result.stderr, /^--value takes one YAML scalar/);
  }
});

test('a positional value is a usage error with a hint, and is never echoed', async (t) => {
  const { tree, path } = smtpTree(t);
  tree.writeEncrypted('redis.yaml.enc', "password: 'r'\n");
  const before = readFileSync(path);
  const smtp = await runCli([...rootArgs(tree), 'smtp', 'set', 'password', 'hunter2-secret']);
  assertRefused(smtp, path, before, 2, 'hunter2-secret');
  assert.match(smtp.stderr, /^hint: .*smtp set <key>/m);
  const redis = await runCli([...rootArgs(tree), 'redis', 'set', 'password', 'hunter2-secret']);
  assertRefused(redis, path, before, 2, 'hunter2-secret');
  assert.match(redis.stderr, /^gitlab-secrets redis set takes the value from stdin or --value, not as an argument\.\nhint: /);
});

test('dotted paths reach into and create mappings; crossing a scalar is refused', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('ldap.yaml.enc', LDAP);
  assert.equal((await runCli([...rootArgs(tree), 'ldap', 'set', 'main.password'], { input: 'ldap-new' })).exitCode, 0);
  assert.equal(plaintextOf(tree, 'ldap.yaml.enc'), LDAP.replace("'ldap-old'", "'ldap-new'"));
  assert.equal((await runCli([...rootArgs(tree), 'ldap', 'set', 'secondary.password'], { input: 's' })).exitCode, 0);
  assert.equal(plaintextOf(tree, 'ldap.yaml.enc'), `${LDAP.replace("'ldap-old'", "'ldap-new'")}secondary:\n    password: 's'\n`);

  const before = readFileSync(path);
  const crossing = await runCli([...rootArgs(tree), 'ldap', 'set', 'main.password.inner'], { input: 'x' });
  assertRefused(crossing, path, before, 7);
  assert.equal(crossing.stderr, 'Cannot set main.password.inner: main.password holds a value that is not a mapping: nothing saved.\n');
  const whole = await runCli([...rootArgs(tree), 'ldap', 'set', 'main'], { input: 'x' });
  assertRefused(whole, path, before, 7);
  const badPath = await runCli([...rootArgs(tree), 'ldap', 'set', 'main..password'], { input: 'x' });
  assertRefused(badPath, path, before, 2);
});

test('a flow mapping is not changed in place: refused with a pointer to edit', async (t) => {
  const { tree, path } = smtpTree(t);
  const before = readFileSync(path);
  const result = await runCli([...rootArgs(tree), 'smtp', 'set', 'options.tls'], { input: 'no' });
  assertRefused(result, path, before, 7);
  // Not "not a mapping": it is one, in flow style; the hint points to edit.
  assert.match(result.stderr, /flow style/);
  assert.match(result.stderr, /\nhint: change it with gitlab-secrets smtp edit\n$/);
});

test('unset removes one entry; a missing key exits 11 and changes nothing', async (t) => {
  const { tree, path } = smtpTree(t);
  const removed = await runCli([...rootArgs(tree), 'smtp', 'unset', 'options']);
  assert.equal(removed.stdout, SAVED);
  assert.equal(removed.exitCode, 0);
  assert.equal(plaintextOf(tree), SMTP.replace('options: {tls: true, ca_file: /etc/ssl/ca.pem}\n', ''));
  const before = readFileSync(path);
  const missing = await runCli([...rootArgs(tree), 'smtp', 'unset', 'nope']);
  assertRefused(missing, path, before, 11);
  assert.equal(missing.stderr, `Key 'nope' not found in ${path}.\n`);
  assertRefused(await runCli([...rootArgs(tree), 'smtp', 'unset', 'port.deeper']), path, before, 11);
});

test('set creates an absent file (and the directory with --create-dir); unset of an absent file exits 11', async (t) => {
  const tree = newTree(t, { settingsDir: false });
  const noDir = await runCli([...rootArgs(tree), 'smtp', 'set', 'password'], { input: 'p' });
  assert.equal(noDir.exitCode, 4);
  const created = await runCli([...rootArgs(tree), 'smtp', 'set', 'password', '--create-dir'], { input: 'p' });
  assert.equal(created.exitCode, 0, created.stderr);
  assert.equal(plaintextOf(tree), "password: 'p'\n");
  rmSync(tree.file('smtp.yaml.enc'));
  assert.equal((await runCli([...rootArgs(tree), 'smtp', 'unset', 'password'])).exitCode, 11);
  assert.ok(!existsSync(tree.file('smtp.yaml.enc')));
});

test('a file the key cannot read is refused; --force starts from nothing', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', "password: 'other'\n", OTHER_KEY_BASE);
  const before = readFileSync(path);
  assertRefused(await runCli([...rootArgs(tree), 'smtp', 'set', 'password'], { input: 'new' }), path, before, 6);
  assertRefused(await runCli([...rootArgs(tree), 'smtp', 'unset', 'password']), path, before, 6);
  const forced = await runCli([...rootArgs(tree), 'smtp', 'set', 'password', '--force'], { input: 'new' });
  assert.equal(forced.exitCode, 0, forced.stderr);
  assert.equal(plaintextOf(tree), "password: 'new'\n");
});

test('empty or non-UTF-8 input and an invalid current file are refused, the file intact', async (t) => {
  const { tree, path } = smtpTree(t);
  const before = readFileSync(path);
  const empty = await runCli([...rootArgs(tree), 'smtp', 'set', 'password'], { input: '' });
  assertRefused(empty, path, before, 7);
  assert.match(empty.stderr, /--allow-empty/);
  assertRefused(await runCli([...rootArgs(tree), 'smtp', 'set', 'password'], { input: Buffer.from([0xff, 0xfe]) }), path, before, 7);
  const allowed = await runCli([...rootArgs(tree), 'smtp', 'set', 'password', '--allow-empty'], { input: '\n' });
  assert.equal(allowed.exitCode, 0, allowed.stderr);
  assert.equal(plaintextOf(tree), SMTP.replace('"old-secret"', "''"));

  const broken = tree.writeEncrypted('smtp.yaml.enc', 'password: [unclosed\n');
  const invalidBefore = readFileSync(broken);
  const invalid = await runCli([...rootArgs(tree), 'smtp', 'set', 'password'], { input: 'x' });
  assertRefused(invalid, broken, invalidBefore, 7);
  assert.match(invalid.stderr, /^hint: fix it with gitlab-secrets smtp edit$/m);
});

test('set keeps the file\'s owner and mode', async (t) => {
  const { tree, path } = smtpTree(t);
  chmodSync(path, 0o640);
  chownSync(path, 65534, 65534);
  const result = await runCli([...rootArgs(tree), 'smtp', 'set', 'password'], { input: 'x' });
  assert.equal(result.exitCode, 0, result.stderr);
  const stat = statSync(path);
  assert.equal(stat.mode & 0o7777, 0o640);
  assert.equal(stat.uid, 65534);
  assert.equal(stat.gid, 65534);
  assert.equal(dirname(path), tree.settingsDir);
});

test('Redis takes its instance after the key, as get does', async (t) => {
  const tree = newTree(t);
  const result = await runCli([...rootArgs(tree), 'redis', 'set', 'password', 'shared_state'], { input: 'r3dis' });
  assert.equal(result.exitCode, 0, result.stderr);
  const get = await runCli([...rootArgs(tree), 'redis', 'get', 'password', 'shared_state']);
  assert.equal(get.stdout, 'r3dis\n');
  assert.equal((await runCli([...rootArgs(tree), 'redis', 'unset', 'password', 'shared_state'])).exitCode, 0);
});
