/**
 * The commands beyond GitLab's rake tasks: `get`, `show --json`, `rotate` (one file and `--all`), `doctor`,
 * `--create-dir`, and the Redis instance lookup (README "Commands", SPEC §1, §3, §5).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decrypt, encrypt } from '../../src/index.ts';
import { KEY_BASE, OTHER_KEY_BASE } from '../helpers/gitlab_tree.ts';
import type { GitlabTree } from '../helpers/gitlab_tree.ts';
import { runCli } from '../helpers/run_cli.ts';
import type { CliResult } from '../helpers/run_cli.ts';
import {
  SAVED,
  assertFailsWith,
  assertOneErrorLine,
  assertSucceedsWith,
  couldNotDecrypt,
  newTree,
  rootArgs,
  tempDir,
} from './cli_helpers.ts';
import { assertFailsWithHint } from './key_helpers.ts';

/** After a rotation: the new primary key, and the old one listed under rotated_encrypted_settings_key_base. */
const NEW_KEY = OTHER_KEY_BASE;
const OLD_KEY = KEY_BASE;
/** A key base no tree lists: files encrypted with it are unreadable. */
const STRANGER_KEY = 'ffeeddccbbaa99887766554433221100'.repeat(4);
const ALL_KEYS = [KEY_BASE, OTHER_KEY_BASE, STRANGER_KEY];

/** Plaintext whose bytes a decode/re-encode would change: invalid UTF-8, CRLF, no final newline. */
const TRICKY_PLAINTEXT = Buffer.concat([
  Buffer.from('user_name: "smtp-user"\r\npassword: "'),
  Buffer.from([0xff, 0xfe, 0xc3, 0x28]),
  Buffer.from('"\r\n# trailing comment without newline'),
]);

/** SPEC §4: never print a key, on any stream. */
function assertNoKeyLeak(result: CliResult, keys: readonly string[] = ALL_KEYS): void {
  for (const key of keys) {
    assert.ok(!result.stdout.includes(key), 'a key base appears on stdout');
    assert.ok(!result.stderr.includes(key), 'a key base appears on stderr');
    // A 16-character slice of it is already too much.
    assert.ok(!result.stdout.includes(key.slice(0, 16)), 'part of a key base appears on stdout');
    assert.ok(!result.stderr.includes(key.slice(0, 16)), 'part of a key base appears on stderr');
  }
}

function rotatedTree(t: Parameters<typeof newTree>[0]): GitlabTree {
  return newTree(t, { keyBase: NEW_KEY, rotatedKeyBases: [OLD_KEY] });
}

/** Decrypting with `key` alone fails. */
function assertNotReadableWith(path: string, key: string, label: string): void {
  assert.throws(() => decrypt(readFileSync(path, 'latin1'), key), `${label}: still readable with the old key`);
}

function rotatedMessage(path: string, readBy: string): string {
  return `Re-encrypted ${path} with the primary key (it was readable with ${readBy}).`;
}

// --- get -----------------------------------------------------------------------------------------------

const SMTP_SETTINGS =
  'user_name: "smtp-user"\n' +
  'password: "hunter2"\n' +
  'port: 587\n' +
  'enabled: true\n' +
  'tls: yes\n' +
  'big: 12345678901234567890\n' +
  'servers:\n  - alpha.example.com\n  - beta.example.com\n' +
  'options:\n  timeout: 30\n  verify: false\n';

const LDAP_SETTINGS = 'main:\n  password: "ldap-secret"\n  bind_dn: "cn=admin,dc=example,dc=com"\n';

test('smtp get password prints the raw value and a newline and exits 0', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', SMTP_SETTINGS);
  const result = await runCli([...rootArgs(tree), 'smtp', 'get', 'password']);
  assertSucceedsWith(result, 'hunter2\n');
  assertNoKeyLeak(result);
});

test('ldap get main.password reaches into a nested mapping', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('ldap.yaml.enc', LDAP_SETTINGS);
  const result = await runCli([...rootArgs(tree), 'ldap', 'get', 'main.password']);
  assertSucceedsWith(result, 'ldap-secret\n');
  assertNoKeyLeak(result);
});

test('get with a list index (servers.0, servers.1) prints that element', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', SMTP_SETTINGS);
  assertSucceedsWith(await runCli([...rootArgs(tree), 'smtp', 'get', 'servers.0']), 'alpha.example.com\n');
  assertSucceedsWith(await runCli([...rootArgs(tree), 'smtp', 'get', 'servers.1']), 'beta.example.com\n');
});

test('get prints numbers and booleans as their text', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', SMTP_SETTINGS);
  assertSucceedsWith(await runCli([...rootArgs(tree), 'smtp', 'get', 'port']), '587\n');
  assertSucceedsWith(await runCli([...rootArgs(tree), 'smtp', 'get', 'enabled']), 'true\n');
  assertSucceedsWith(await runCli([...rootArgs(tree), 'smtp', 'get', 'options.verify']), 'false\n');
  // Psych's YAML 1.1: `yes` is the boolean true.
  assertSucceedsWith(await runCli([...rootArgs(tree), 'smtp', 'get', 'tls']), 'true\n');
  // An integer beyond 2^53 keeps every digit.
  assertSucceedsWith(await runCli([...rootArgs(tree), 'smtp', 'get', 'big']), '12345678901234567890\n');
});

test('get prints a mapping and a list as JSON', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', SMTP_SETTINGS);
  tree.writeEncrypted('ldap.yaml.enc', LDAP_SETTINGS);

  const mapping = await runCli([...rootArgs(tree), 'ldap', 'get', 'main']);
  assert.equal(mapping.exitCode, 0, mapping.stderr);
  assert.equal(mapping.stderr, '');
  assert.ok(mapping.stdout.endsWith('\n'), 'no final newline');
  assert.deepEqual(JSON.parse(mapping.stdout), { password: 'ldap-secret', bind_dn: 'cn=admin,dc=example,dc=com' });

  const nested = await runCli([...rootArgs(tree), 'smtp', 'get', 'options']);
  assert.equal(nested.exitCode, 0, nested.stderr);
  assert.deepEqual(JSON.parse(nested.stdout), { timeout: 30, verify: false });

  const list = await runCli([...rootArgs(tree), 'smtp', 'get', 'servers']);
  assert.equal(list.exitCode, 0, list.stderr);
  assert.ok(list.stdout.endsWith('\n'), 'no final newline');
  assert.deepEqual(JSON.parse(list.stdout), ['alpha.example.com', 'beta.example.com']);
});

for (const [namespace, fileName, content, key] of [
  ['smtp', 'smtp.yaml.enc', SMTP_SETTINGS, 'no_such_key'],
  ['ldap', 'ldap.yaml.enc', LDAP_SETTINGS, 'main.no_such_key'],
  ['ldap', 'ldap.yaml.enc', LDAP_SETTINGS, 'main.password.deeper'],
  ['smtp', 'smtp.yaml.enc', SMTP_SETTINGS, 'servers.2'],
  ['smtp', 'smtp.yaml.enc', SMTP_SETTINGS, 'servers.first'],
] as const) {
  test(`${namespace} get ${key} of a key that is not there exits 11 with one line naming the key and file`, async (t) => {
    const tree = newTree(t);
    const path = tree.writeEncrypted(fileName, content);
    const result = await runCli([...rootArgs(tree), namespace, 'get', key]);
    assertFailsWith(result, `Key '${key}' not found in ${path}.`);
    assert.equal(result.exitCode, 11);
    assertNoKeyLeak(result);
  });
}

test('redis get password shared_state reads the shared_state instance file, not the default one', async (t) => {
  const tree = newTree(t);
  const instanceFile = join(tree.root, 'shared', 'redis_shared_state.yaml.enc');
  writeFileSync(instanceFile, encrypt(Buffer.from('password: "shared-state-pass"\n'), KEY_BASE));
  tree.writeEncrypted('redis.yaml.enc', 'password: "default-redis-pass"\n');
  writeFileSync(
    join(tree.root, 'config', 'redis.yml'),
    `production:\n  shared_state:\n    url: redis://localhost:6380\n    secret_file: ${instanceFile}\n`,
  );
  const result = await runCli([...rootArgs(tree), 'redis', 'get', 'password', 'shared_state']);
  assertSucceedsWith(result, 'shared-state-pass\n');
  // Without an instance: cache, which has no secret_file, so the default redis.yaml.enc.
  assertSucceedsWith(await runCli([...rootArgs(tree), 'redis', 'get', 'password']), 'default-redis-pass\n');
});

test('get on a file that does not exist exits 11 with one line', async (t) => {
  const tree = newTree(t);
  const result = await runCli([...rootArgs(tree), 'smtp', 'get', 'password']);
  assert.equal(result.exitCode, 11, result.stderr);
  assertOneErrorLine(result, ['password', tree.file('smtp.yaml.enc')]);
  assert.equal(result.stdout, '');
  assert.ok(!existsSync(tree.file('smtp.yaml.enc')), 'get created the file');
});

test('get on a file holding invalid YAML fails with one line naming the file', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', 'password: [unclosed\nuser_name: "x"\n');
  const result = await runCli([...rootArgs(tree), 'smtp', 'get', 'password']);
  assertOneErrorLine(result, [path]);
  assert.equal(result.stdout, '');
  assertNoKeyLeak(result);
});

// --- show --json ---------------------------------------------------------------------------------------

test('show --json prints the parsed settings as pretty JSON', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted(
    'smtp.yaml.enc',
    '# a comment\nuser_name: "smtp-user"\npassword: \'hunter2\'\nport: 587\nenabled: on\n' +
      'nested:\n  list: [1, "two", null]\n  empty: {}\n',
  );
  const expected = {
    user_name: 'smtp-user',
    password: 'hunter2',
    port: 587,
    enabled: true,
    nested: { list: [1, 'two', null], empty: {} },
  };
  const result = await runCli([...rootArgs(tree), 'smtp', 'show', '--json']);
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(result.stderr, '');
  assert.deepEqual(JSON.parse(result.stdout), expected);
  assert.equal(result.stdout, `${JSON.stringify(expected, null, 2)}\n`, 'not pretty-printed JSON');
  assertNoKeyLeak(result);
});

test('show --json prints a !!binary value as base64', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', 'cert: !!binary aGVsbG8gd29ybGQ=\nraw: !!binary /w==\n');
  const result = await runCli([...rootArgs(tree), 'smtp', 'show', '--json']);
  assert.equal(result.exitCode, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), { cert: 'aGVsbG8gd29ybGQ=', raw: '/w==' });
});

test('show --json of a comments-only file prints {}', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', "# password: '123'\n# user_name: 'gitlab-inst'\n");
  assertSucceedsWith(await runCli([...rootArgs(tree), 'smtp', 'show', '--json']), '{}\n');
});

test('show --json of an absent file prints {} and exits 0', async (t) => {
  const tree = newTree(t);
  assertSucceedsWith(await runCli([...rootArgs(tree), 'smtp', 'show', '--json']), '{}\n');
  assert.ok(!existsSync(tree.file('smtp.yaml.enc')), 'show --json created the file');
});

// --- rotate --------------------------------------------------------------------------------------------

test('rotate re-encrypts a file from the rotated key with the primary key, byte for byte', async (t) => {
  const tree = rotatedTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', TRICKY_PLAINTEXT, OLD_KEY);
  const before = readFileSync(path, 'latin1');
  assertNotReadableWith(path, NEW_KEY, 'before rotate');

  const result = await runCli([...rootArgs(tree), 'smtp', 'rotate']);
  assertSucceedsWith(result, `${rotatedMessage(path, 'rotated key 1')}\n`);
  assertNoKeyLeak(result);

  const after = readFileSync(path, 'latin1');
  assert.notEqual(after, before, 'the file was not rewritten');
  const plaintext = decrypt(after, NEW_KEY); // the primary key alone, no rotated keys
  assert.ok(plaintext.equals(TRICKY_PLAINTEXT), `plaintext changed: ${plaintext.toString('hex')}`);
  assertNotReadableWith(path, OLD_KEY, 'after rotate');
});

test('rotate names the rotated key that could read the file by its position', async (t) => {
  const tree = newTree(t, { keyBase: NEW_KEY, rotatedKeyBases: [STRANGER_KEY, OLD_KEY] });
  const path = tree.writeEncrypted('ldap.yaml.enc', LDAP_SETTINGS, OLD_KEY);
  const result = await runCli([...rootArgs(tree), 'ldap', 'rotate']);
  assertSucceedsWith(result, `${rotatedMessage(path, 'rotated key 2')}\n`);
  assert.equal(decrypt(readFileSync(path, 'latin1'), NEW_KEY).toString(), LDAP_SETTINGS);
});

test('rotate of a file already on the primary key says so and keeps the plaintext', async (t) => {
  const tree = rotatedTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', TRICKY_PLAINTEXT, NEW_KEY);
  const result = await runCli([...rootArgs(tree), 'smtp', 'rotate']);
  assertSucceedsWith(result, `${rotatedMessage(path, 'the primary key')}\n`);
  assert.ok(decrypt(readFileSync(path, 'latin1'), NEW_KEY).equals(TRICKY_PLAINTEXT));
});

test('rotate rewrites a body with a trailing newline without it', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', SMTP_SETTINGS);
  writeFileSync(path, `${readFileSync(path, 'latin1')}\n`, 'latin1');
  const result = await runCli([...rootArgs(tree), 'smtp', 'rotate']);
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(result.stdout, `${rotatedMessage(path, 'the primary key')}\n`);
  const body = readFileSync(path, 'latin1');
  assert.ok(!body.endsWith('\n'), 'the body still ends with a newline');
  assert.match(body, /^[A-Za-z0-9+/]+=*--[A-Za-z0-9+/]+=*--[A-Za-z0-9+/]+=*$/, 'not a strict body');
  assert.equal(decrypt(body, KEY_BASE).toString(), SMTP_SETTINGS);
});

test('rotate of a file that does not exist exits 11 and creates nothing', async (t) => {
  const tree = rotatedTree(t);
  const result = await runCli([...rootArgs(tree), 'smtp', 'rotate']);
  assert.equal(result.exitCode, 11, result.stderr);
  assertOneErrorLine(result, [tree.file('smtp.yaml.enc')]);
  assert.equal(result.stdout, '');
  assert.deepEqual(tree.listSettings(), []);
});

test('rotate of a file no key can read exits 6 with GitLab\'s message and leaves the file unchanged', async (t) => {
  const tree = rotatedTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', SMTP_SETTINGS, STRANGER_KEY);
  const before = readFileSync(path);
  const result = await runCli([...rootArgs(tree), 'smtp', 'rotate']);
  assertFailsWith(result, couldNotDecrypt(path));
  assert.equal(result.exitCode, 6);
  assert.ok(readFileSync(path).equals(before), 'the undecryptable file was changed');
  assert.deepEqual(tree.listSettings(), ['smtp.yaml.enc'], 'something was left beside the file');
});

/** smtp, ldap and the shared_state Redis instance's own file, all on the old key; nothing else. */
function rotateAllTree(t: Parameters<typeof newTree>[0]): { tree: GitlabTree; files: Map<string, [string, Buffer]> } {
  const tree = rotatedTree(t);
  const redisFile = join(tree.root, 'shared', 'redis_shared_state.yaml.enc');
  writeFileSync(
    join(tree.root, 'config', 'redis.yml'),
    `production:\n  shared_state:\n    url: redis://localhost:6380\n    secret_file: ${redisFile}\n`,
  );
  const files = new Map<string, [string, Buffer]>();
  const smtp = Buffer.concat([TRICKY_PLAINTEXT, Buffer.from(' smtp')]);
  const ldap = Buffer.from(LDAP_SETTINGS.replaceAll('\n', '\r\n'));
  const redis = Buffer.from('password: "shared-state-pass"\n');
  files.set('smtp', [tree.writeEncrypted('smtp.yaml.enc', smtp, OLD_KEY), smtp]);
  files.set('ldap', [tree.writeEncrypted('ldap.yaml.enc', ldap, OLD_KEY), ldap]);
  writeFileSync(redisFile, encrypt(redis, OLD_KEY));
  files.set('redis', [redisFile, redis]);
  return { tree, files };
}

test('rotate --all re-encrypts every existing file, skips absent ones, and counts them', async (t) => {
  const { tree, files } = rotateAllTree(t);
  const result = await runCli([...rootArgs(tree), 'rotate', '--all']);
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(result.stderr, '');
  assertNoKeyLeak(result);
  const lines = result.stdout.split('\n');
  assert.equal(lines.pop(), '', 'stdout does not end with a newline');
  assert.equal(lines.pop(), `Re-encrypted ${files.size} files.`);
  assert.deepEqual(
    [...lines].sort(),
    [...files.values()].map(([path]) => rotatedMessage(path, 'rotated key 1')).sort(),
    'one line per re-encrypted file',
  );
  for (const [name, [path, plaintext]] of files) {
    assert.ok(decrypt(readFileSync(path, 'latin1'), NEW_KEY).equals(plaintext), `${name}: plaintext changed`);
    assertNotReadableWith(path, OLD_KEY, name);
  }
  // The absent namespaces were skipped, not created.
  assert.deepEqual(tree.listSettings(), ['ldap.yaml.enc', 'smtp.yaml.enc']);
  assert.ok(!existsSync(tree.file('service_desk_email.yaml.enc')));
  assert.ok(!existsSync(tree.file('redis.yaml.enc')));
});

test('rotate --all still re-encrypts the other files when one cannot be decrypted, and exits 6', async (t) => {
  const { tree, files } = rotateAllTree(t);
  const [ldapPath] = files.get('ldap')!;
  writeFileSync(ldapPath, encrypt(Buffer.from(LDAP_SETTINGS), STRANGER_KEY));
  const ldapBefore = readFileSync(ldapPath);
  files.delete('ldap');

  const result = await runCli([...rootArgs(tree), 'rotate', '--all']);
  assert.equal(result.exitCode, 6, result.stderr);
  assert.ok(result.stderr.includes(couldNotDecrypt(ldapPath)), `stderr: ${result.stderr}`);
  assert.ok(result.stdout.endsWith(`Re-encrypted ${files.size} files.\n`), `stdout: ${result.stdout}`);
  assertNoKeyLeak(result);
  for (const [name, [path, plaintext]] of files) {
    assert.ok(result.stdout.includes(rotatedMessage(path, 'rotated key 1')), `${name} not reported: ${result.stdout}`);
    assert.ok(decrypt(readFileSync(path, 'latin1'), NEW_KEY).equals(plaintext), `${name}: not re-encrypted`);
  }
  assert.ok(readFileSync(ldapPath).equals(ldapBefore), 'the undecryptable file was changed');
});

// --- doctor --------------------------------------------------------------------------------------------

const NAMESPACE_FILES: Array<[string, string]> = [
  ['smtp', 'smtp.yaml.enc'],
  ['service-desk-email', 'service_desk_email.yaml.enc'],
  ['incoming-email', 'incoming_email.yaml.enc'],
  ['ldap', 'ldap.yaml.enc'],
  ['redis', 'redis.yaml.enc'],
];

/** The lines under "Problems:". */
function problemLines(stdout: string): string[] {
  const at = stdout.indexOf('\nProblems:\n');
  if (at < 0) return [];
  return stdout
    .slice(at + '\nProblems:\n'.length)
    .split('\n')
    .filter((line) => line.trim() !== '');
}

test('doctor on a healthy tree exits 0 and says No problems found.', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', SMTP_SETTINGS);
  tree.writeEncrypted('ldap.yaml.enc', LDAP_SETTINGS);
  const result = await runCli([...rootArgs(tree), 'doctor']);
  assert.equal(result.exitCode, 0, result.stdout + result.stderr);
  assert.equal(result.stderr, '');
  assert.ok(result.stdout.endsWith('No problems found.\n'), result.stdout);
  assert.deepEqual(problemLines(result.stdout), []);
  assertNoKeyLeak(result);
});

test('doctor lists every namespace with the path of its file', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', SMTP_SETTINGS);
  const result = await runCli([...rootArgs(tree), 'doctor']);
  assert.equal(result.exitCode, 0, result.stdout + result.stderr);
  const lines = result.stdout.split('\n');
  for (const [name, fileName] of NAMESPACE_FILES) {
    const path = tree.file(fileName);
    assert.ok(
      lines.some((line) => line.split(/\s+/)[0] === name && line.includes(path)),
      `no line for ${name} with ${path}:\n${result.stdout}`,
    );
  }
});

test('doctor never prints the key base, nor a rotated one', async (t) => {
  const tree = rotatedTree(t);
  tree.writeEncrypted('smtp.yaml.enc', SMTP_SETTINGS, NEW_KEY);
  tree.writeEncrypted('ldap.yaml.enc', LDAP_SETTINGS, OLD_KEY);
  tree.writeEncrypted('incoming_email.yaml.enc', SMTP_SETTINGS, STRANGER_KEY);
  const result = await runCli([...rootArgs(tree), 'doctor']);
  assert.notEqual(result.stdout, '');
  assertNoKeyLeak(result);
});

test('doctor with the settings directory missing exits 12 with the mkdir -p to run', async (t) => {
  const tree = newTree(t, { settingsDir: false });
  const result = await runCli([...rootArgs(tree), 'doctor']);
  assert.equal(result.exitCode, 12, result.stdout + result.stderr);
  const problems = problemLines(result.stdout);
  assert.ok(
    problems.some((line) => line.includes(`mkdir -p ${tree.settingsDir}`)),
    `no problem line with mkdir -p ${tree.settingsDir}:\n${result.stdout}`,
  );
  assert.ok(!existsSync(tree.settingsDir), 'doctor created the directory');
  assertNoKeyLeak(result);
});

test('doctor reports a file on a rotated key with the gitlab-secrets smtp rotate fix', async (t) => {
  const tree = rotatedTree(t);
  tree.writeEncrypted('smtp.yaml.enc', SMTP_SETTINGS, OLD_KEY);
  const before = readFileSync(tree.file('smtp.yaml.enc'));
  const result = await runCli([...rootArgs(tree), 'doctor']);
  assert.equal(result.exitCode, 12, result.stdout + result.stderr);
  const problems = problemLines(result.stdout);
  assert.ok(
    problems.some((line) => line.includes('gitlab-secrets smtp rotate')),
    `no problem line naming gitlab-secrets smtp rotate:\n${result.stdout}`,
  );
  assert.ok(readFileSync(tree.file('smtp.yaml.enc')).equals(before), 'doctor rewrote the file');
  assertNoKeyLeak(result);
});

test('doctor without a key reports encrypted_settings_key_base as a problem', async (t) => {
  const tree = newTree(t, { keyBase: null });
  tree.writeEncrypted('smtp.yaml.enc', SMTP_SETTINGS, KEY_BASE);
  const result = await runCli([...rootArgs(tree), 'doctor']);
  assert.equal(result.exitCode, 12, result.stdout + result.stderr);
  const problems = problemLines(result.stdout);
  assert.ok(
    problems.some((line) => line.includes('encrypted_settings_key_base')),
    `no problem line mentioning encrypted_settings_key_base:\n${result.stdout}`,
  );
  assertNoKeyLeak(result);
});

// --- --create-dir --------------------------------------------------------------------------------------

test('smtp write --create-dir creates the missing settings directory (0700) and the file', async (t) => {
  const tree = newTree(t, { settingsDir: false });
  const input = 'user_name: "smtp-user"\npassword: "hunter2"\n';
  const result = await runCli([...rootArgs(tree), 'smtp', 'write', '--create-dir'], { input });
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(result.stdout, SAVED);
  assert.ok(
    result.stderr.split('\n').some((line) => line.startsWith(`note: created ${tree.settingsDir}`)),
    `no note: created line on stderr: ${result.stderr}`,
  );
  assert.ok(statSync(tree.settingsDir).isDirectory(), 'the directory was not created');
  assert.equal((statSync(tree.settingsDir).mode & 0o777).toString(8), '700');
  assert.equal((statSync(tree.file('smtp.yaml.enc')).mode & 0o777).toString(8), '600');
  assert.equal(tree.readPlaintext('smtp.yaml.enc').toString(), input);
  assert.deepEqual(tree.listSettings(), ['smtp.yaml.enc']);
});

test('smtp write without --create-dir in a tree without the settings directory is the directory-missing error', async (t) => {
  const tree = newTree(t, { settingsDir: false });
  const result = await runCli([...rootArgs(tree), 'smtp', 'write'], { input: 'password: "x"\n' });
  assertFailsWith(result, `Directory ${tree.settingsDir} does not exist. Create the directory and try again.`);
  assert.equal(result.exitCode, 4);
  assert.ok(!existsSync(tree.settingsDir), 'the directory was created without --create-dir');
});

test('smtp write --create-dir without a key is the missing-key error and creates no directory', async (t) => {
  const tree = newTree(t, { settingsDir: false, keyBase: null });
  const result = await runCli([...rootArgs(tree), 'smtp', 'write', '--create-dir'], { input: 'password: "x"\n' });
  assertFailsWithHint(result, 'Missing encryption key encrypted_settings_key_base.', 'looked in ');
  assert.equal(result.exitCode, 5);
  assert.ok(!existsSync(tree.settingsDir), 'the settings directory was created');
  assert.ok(!existsSync(join(tree.root, 'shared')), 'a parent of the settings directory was created');
});

// --- Redis instance lookup -----------------------------------------------------------------------------

interface RedisFiles {
  cache: string;
  sharedState: string;
  fallback: string;
}

/** config/redis.yml naming a file for cache and for shared_state; the default redis.yaml.enc as a decoy. */
function redisTree(t: Parameters<typeof newTree>[0]): { tree: GitlabTree; files: RedisFiles } {
  const tree = newTree(t);
  const dir = join(tree.root, 'redis-secrets');
  mkdirSync(dir);
  const files: RedisFiles = {
    cache: join(dir, 'cache.yaml.enc'),
    sharedState: join(dir, 'shared_state.yaml.enc'),
    fallback: tree.file('redis.yaml.enc'),
  };
  writeFileSync(files.cache, encrypt(Buffer.from('password: "cache-pass"\n'), KEY_BASE));
  writeFileSync(files.sharedState, encrypt(Buffer.from('password: "shared-state-pass"\n'), KEY_BASE));
  writeFileSync(files.fallback, encrypt(Buffer.from('password: "default-pass"\n'), KEY_BASE));
  writeFileSync(
    join(tree.root, 'config', 'redis.yml'),
    'production:\n' +
      `  cache:\n    url: redis://localhost:6380\n    secret_file: ${files.cache}\n` +
      `  shared_state:\n    url: redis://localhost:6381\n    secret_file: ${files.sharedState}\n`,
  );
  return { tree, files };
}

test('redis show without an instance uses the cache instance', async (t) => {
  const { tree } = redisTree(t);
  assertSucceedsWith(await runCli([...rootArgs(tree), 'redis', 'show']), 'password: "cache-pass"\n');
});

for (const spelling of ['shared_state', 'SharedState', 'shared-state', 'SHARED_STATE']) {
  test(`redis show ${spelling} reads the shared_state instance's file`, async (t) => {
    const { tree } = redisTree(t);
    assertSucceedsWith(await runCli([...rootArgs(tree), 'redis', 'show', spelling]), 'password: "shared-state-pass"\n');
  });
}

test('redis show uses config/redis.shared_state.yml when redis.yml has no entry for the instance', async (t) => {
  const { tree } = redisTree(t);
  writeFileSync(
    join(tree.root, 'config', 'redis.yml'),
    'production:\n  cache:\n    url: redis://localhost:6380\n',
  );
  const ownFile = join(tree.root, 'redis-secrets', 'own.yaml.enc');
  writeFileSync(ownFile, encrypt(Buffer.from('password: "own-file-pass"\n'), KEY_BASE));
  writeFileSync(
    join(tree.root, 'config', 'redis.shared_state.yml'),
    `production:\n  url: redis://localhost:6381\n  secret_file: ${ownFile}\n`,
  );
  // resque.yml names another file: redis.shared_state.yml must win over it.
  writeFileSync(
    join(tree.root, 'config', 'resque.yml'),
    `production:\n  url: redis://localhost:6379\n  secret_file: ${join(tree.root, 'redis-secrets', 'cache.yaml.enc')}\n`,
  );
  assertSucceedsWith(await runCli([...rootArgs(tree), 'redis', 'show', 'shared_state']), 'password: "own-file-pass"\n');
});

test('redis show falls back to config/resque.yml when neither redis.yml nor redis.<instance>.yml names the file', async (t) => {
  const { tree } = redisTree(t);
  writeFileSync(join(tree.root, 'config', 'redis.yml'), 'production:\n  cache:\n    url: redis://localhost:6380\n');
  const resqueFile = join(tree.root, 'redis-secrets', 'resque.yaml.enc');
  writeFileSync(resqueFile, encrypt(Buffer.from('password: "resque-pass"\n'), KEY_BASE));
  writeFileSync(
    join(tree.root, 'config', 'resque.yml'),
    `production:\n  url: redis://localhost:6379\n  secret_file: ${resqueFile}\n`,
  );
  assertSucceedsWith(await runCli([...rootArgs(tree), 'redis', 'show', 'shared_state']), 'password: "resque-pass"\n');
});

test('a relative secret_file resolves against the Rails root, not the current directory', async (t) => {
  const { tree } = redisTree(t);
  const relative = 'redis-secrets/relative.yaml.enc';
  writeFileSync(join(tree.root, relative), encrypt(Buffer.from('password: "root-relative-pass"\n'), KEY_BASE));
  writeFileSync(
    join(tree.root, 'config', 'redis.yml'),
    `production:\n  shared_state:\n    url: redis://localhost:6381\n    secret_file: ${relative}\n`,
  );
  // A decoy at the same relative path under the current directory.
  const cwd = tempDir(t);
  mkdirSync(join(cwd, 'redis-secrets'));
  writeFileSync(join(cwd, relative), encrypt(Buffer.from('password: "cwd-decoy"\n'), KEY_BASE));
  const result = await runCli([...rootArgs(tree), 'redis', 'show', 'shared_state'], { cwd });
  assertSucceedsWith(result, 'password: "root-relative-pass"\n');
});

test('the rake form gitlab:redis:secret:show[shared_state] reads the shared_state instance file', async (t) => {
  const { tree } = redisTree(t);
  assertSucceedsWith(
    await runCli([...rootArgs(tree), 'gitlab:redis:secret:show[shared_state]']),
    'password: "shared-state-pass"\n',
  );
});

test('rotate --all without a key says so once, not once per namespace', async (t) => {
  const tree = newTree(t, { keyBase: null });
  const result = await runCli(['--gitlab-root', tree.root, 'rotate', '--all']);
  assert.equal(result.exitCode, 5);
  assertFailsWithHint(result, 'Missing encryption key encrypted_settings_key_base.', 'looked in ');
});

test('help at every level shows examples and the exit codes', async () => {
  for (const args of [['--help'], ['smtp', '--help'], ['redis', '--help'], ['smtp', 'write', '--help'], ['doctor', '--help']]) {
    const result = await runCli(args);
    assert.equal(result.exitCode, 0, args.join(' '));
    assert.match(result.stdout, /Examples?:/, args.join(' '));
    assert.match(result.stdout, /Exit codes:[\s\S]*\b12\b/, args.join(' '));
  }
  const namespace = await runCli(['smtp', '--help']);
  assert.match(namespace.stdout, /gcloud kms decrypt .*\| gitlab-secrets smtp write/);
  assert.match(namespace.stdout, /EDITOR=vim gitlab-secrets smtp edit/);
});
