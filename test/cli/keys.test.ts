/**
 * The key from the environment (issue 12 §4), no key or secret value in any message (issue 10 §10), the
 * key messages' hints (issue 10 §15) and what doctor says about keys and formats (issue 10 §16, issue 11 §3).
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { deriveKey } from '../../src/format/key_generator.ts';
import { encryptBody } from '../../src/format/message_encryptor.ts';
import { prefetchKey } from '../../src/prefetch.ts';
import { safeYamlReason } from '../../src/config/redact.ts';
import { KEY_BASE, OTHER_KEY_BASE } from '../helpers/gitlab_tree.ts';
import { runCli } from '../helpers/run_cli.ts';
import { assertFailsWith, couldNotDecrypt, newTree, rootArgs } from './cli_helpers.ts';
import { assertFailsWithHint } from './key_helpers.ts';
import { NEEDS_PERMISSIONS_ENFORCED, setup, TEST_TIMEOUT_MS } from '../safety/safety_helpers.ts';

const ENV_KEY = 'GITLAB_ENCRYPTED_SETTINGS_KEY_BASE';
const ENV_ROTATED = 'GITLAB_ENCRYPTED_SETTINGS_KEY_BASE_ROTATED';
const SECRETS = 'user_name: "smtp-user"\npassword: "hunter2"\n';
const NO_KEY = 'Missing encryption key encrypted_settings_key_base.';
const ENV_BASE = 'e'.repeat(8) + '0123456789abcdef'.repeat(4);
const OLD_ENV_BASE = 'o'.repeat(8) + 'fedcba9876543210'.repeat(4);

function scratch(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'gitlab-secrets-keys-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Nothing the test put in a key file shows up in any output. */
function assertNoSecret(text: string, ...secrets: string[]): void {
  for (const secret of secrets) assert.ok(!text.includes(secret), `output shows a secret: ${JSON.stringify(text)}`);
}

// --- the key from the environment ------------------------------------------------------------------

test('GITLAB_ENCRYPTED_SETTINGS_KEY_BASE wins over secrets.yml', async (t) => {
  const tree = newTree(t); // secrets.yml holds KEY_BASE
  tree.writeEncrypted('smtp.yaml.enc', SECRETS, ENV_BASE);
  const result = await runCli([...rootArgs(tree), 'smtp', 'show'], { env: { [ENV_KEY]: ENV_BASE } });
  assert.equal(result.stdout, SECRETS);
  assert.equal(result.exitCode, 0, result.stderr);
  // and it writes with it
  const written = await runCli([...rootArgs(tree), 'smtp', 'write'], { env: { [ENV_KEY]: ENV_BASE }, input: 'a: 1\n' });
  assert.equal(written.exitCode, 0, written.stderr);
  assert.equal(tree.readPlaintext('smtp.yaml.enc', ENV_BASE).toString(), 'a: 1\n');
  assertFailsWith(await runCli([...rootArgs(tree), 'smtp', 'show']), couldNotDecrypt(tree.file('smtp.yaml.enc')));
});

test('with the key in the environment no secrets.yml and no GitLab root are needed (a CI job)', async (t) => {
  const dir = scratch(t);
  const file = join(dir, 'smtp.yaml.enc');
  writeFileSync(file, encryptBody(Buffer.from(SECRETS), deriveKey(ENV_BASE)));
  const env = { [ENV_KEY]: ENV_BASE };
  const result = await runCli(['--file', file, 'smtp', 'show'], { env, cwd: dir });
  assert.equal(result.stdout, SECRETS);
  assert.equal(result.exitCode, 0, result.stderr);
  // an unreadable key file is not even opened
  const broken = join(dir, 'secrets.yml');
  writeFileSync(broken, 'production: [unclosed\n');
  const withBroken = await runCli(['--file', file, '--secrets', broken, 'smtp', 'show'], { env, cwd: dir });
  assert.equal(withBroken.stdout, SECRETS, withBroken.stderr);
});

test('an empty GITLAB_ENCRYPTED_SETTINGS_KEY_BASE counts as unset: secrets.yml decides', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const result = await runCli([...rootArgs(tree), 'smtp', 'show'], { env: { [ENV_KEY]: '' } });
  assert.equal(result.stdout, SECRETS);
  assert.equal(result.exitCode, 0, result.stderr);
});

test('GITLAB_ENCRYPTED_SETTINGS_KEY_BASE_ROTATED is a comma list of old keys: rotate reads with one', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', SECRETS, OLD_ENV_BASE);
  const env = { [ENV_KEY]: ENV_BASE, [ENV_ROTATED]: `${OTHER_KEY_BASE}, ${OLD_ENV_BASE},` };
  const result = await runCli([...rootArgs(tree), 'smtp', 'rotate'], { env });
  assert.equal(result.exitCode, 0, result.stderr);
  assert.match(result.stdout, /readable with rotated key 2/);
  assert.equal(tree.readPlaintext('smtp.yaml.enc', ENV_BASE).toString(), SECRETS);
  assertNoSecret(result.stdout + result.stderr, ENV_BASE, OLD_ENV_BASE, OTHER_KEY_BASE);
});

test('the rotated list without the primary key is refused, not mixed with secrets.yml', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const result = await runCli([...rootArgs(tree), 'smtp', 'show'], { env: { [ENV_ROTATED]: OLD_ENV_BASE } });
  assertFailsWith(result, `${ENV_ROTATED} is set but ${ENV_KEY} is not: set both, or neither to use secrets.yml.`);
  assert.equal(result.exitCode, 3);
});

test('a short key in the environment: Base key too small, and a hint naming the variable', async (t) => {
  const tree = newTree(t);
  const short = 'fifteen-chars!!';
  const result = await runCli([...rootArgs(tree), 'smtp', 'show'], { env: { [ENV_KEY]: short } });
  assertFailsWithHint(result, 'Base key too small', `$${ENV_KEY} is too short: a key base needs at least 16 characters`);
  assertNoSecret(result.stderr, short);
  const rotated = await runCli([...rootArgs(tree), 'smtp', 'show'], { env: { [ENV_KEY]: ENV_BASE, [ENV_ROTATED]: `${OLD_ENV_BASE},${short}` } });
  assertFailsWithHint(rotated, 'Base key too small', `key base 2 of $${ENV_ROTATED} is too short`);
  assertNoSecret(rotated.stderr, short, ENV_BASE, OLD_ENV_BASE);
});

test('the prefetch derives the key from the environment too, without a secrets.yml', () => {
  const env = { [ENV_KEY]: ENV_BASE };
  const prefetched = prefetchKey(['--file', '/nonexistent/smtp.yaml.enc', 'smtp', 'show'], env, '/');
  assert.equal(prefetched?.keyBase, ENV_BASE);
  prefetched?.key.catch(() => undefined);
  assert.equal(prefetchKey(['smtp', 'show', '--secrets', '/nonexistent'], { [ENV_KEY]: '' }, '/'), undefined);
  // rake-style variables count, as for the command
  assert.equal(prefetchKey(['gitlab:smtp:secret:show', `${ENV_KEY}=${ENV_BASE}`, '--secrets', '/nonexistent'], {}, '/')?.keyBase, ENV_BASE);
});

test('doctor says the key comes from the environment and never prints it', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', SECRETS, ENV_BASE);
  const result = await runCli([...rootArgs(tree), 'doctor'], { env: { [ENV_KEY]: ENV_BASE, [ENV_ROTATED]: OLD_ENV_BASE } });
  assert.match(result.stdout, /^Key: +environment \(\$GITLAB_ENCRYPTED_SETTINGS_KEY_BASE\), 1 rotated key \(\$GITLAB_ENCRYPTED_SETTINGS_KEY_BASE_ROTATED\)$/m);
  assert.doesNotMatch(result.stdout, /Key file:/);
  assert.match(result.stdout, /ok: decrypts with the primary key, 2 settings \(Marshal, PBKDF2-SHA1\)/);
  assertNoSecret(result.stdout + result.stderr, ENV_BASE, OLD_ENV_BASE, KEY_BASE);
});

// --- the key messages' hints (issue 10 §15) ----------------------------------------------------------

test('Missing encryption key keeps GitLab line and hints at the file and sections searched', async (t) => {
  const tree = newTree(t, { keyBase: null });
  const secrets = join(tree.root, 'config', 'secrets.yml');
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assertFailsWithHint(result, NO_KEY, `looked in the production and shared sections of ${secrets}; pass --secrets <file>`);
  assert.match(result.stderr, new RegExp(`or set ${ENV_KEY}\\.\\n$`));
  assert.equal(result.exitCode, 5);
  const staging = await runCli([...rootArgs(tree), '-e', 'staging', 'smtp', 'show']);
  assertFailsWithHint(staging, NO_KEY, `the staging and shared sections of ${secrets}`);
  rmSync(secrets);
  assertFailsWithHint(await runCli([...rootArgs(tree), 'smtp', 'show']), NO_KEY, `looked in ${secrets}, which does not exist`);
});

test('Missing encryption key in gitlab-secrets.json names gitlab_rails', async (t) => {
  const tree = newTree(t);
  const json = join(scratch(t), 'gitlab-secrets.json');
  writeFileSync(json, JSON.stringify({ gitlab_rails: { secret_key_base: KEY_BASE } }));
  assertFailsWithHint(await runCli([...rootArgs(tree), '--secrets', json, 'smtp', 'show']), NO_KEY, `looked in gitlab_rails in ${json}`);
});

test('Base key too small keeps GitLab line and names the key, its section and the 16-character minimum', async (t) => {
  const short = '123456789012345';
  const tree = newTree(t, { keyBase: short });
  const secrets = join(tree.root, 'config', 'secrets.yml');
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assertFailsWithHint(result, 'Base key too small', `encrypted_settings_key_base in the production section of ${secrets} is too short: a key base needs at least 16 characters.`);
  assertNoSecret(result.stderr, short);
  assert.equal(result.exitCode, 3);

  const blank = newTree(t, { keyBase: ' '.repeat(16) });
  assertFailsWithHint(await runCli([...rootArgs(blank), 'smtp', 'show']), 'Base key too small', 'is blank: a key base needs at least 16 characters');

  const rotated = newTree(t, { rotatedKeyBases: [OTHER_KEY_BASE, 'short-rotated'] });
  const rotatedResult = await runCli([...rootArgs(rotated), 'smtp', 'show']);
  assertFailsWithHint(rotatedResult, 'Base key too small', `rotated_encrypted_settings_key_base entry 2 in the production section of ${join(rotated.root, 'config', 'secrets.yml')}`);
  assertNoSecret(rotatedResult.stderr, 'short-rotated', OTHER_KEY_BASE);

  const shared = newTree(t, { secretsYml: `shared:\n  encrypted_settings_key_base: "${short}"\nproduction:\n  other: 1\n` });
  assertFailsWithHint(await runCli([...rootArgs(shared), 'smtp', 'show']), 'Base key too small', 'in the shared section of');
});

// --- no key or secret in a message (issue 10 §10) ----------------------------------------------------

/**
 * Every kind of error that quotes its input (Psych's, not libyaml's), with a key base in the quoted spot.
 * The secrets.yml lines go under `production:`.
 */
const QUOTING_INPUT: [string, string][] = [
  ['an alias for the key (a typo for a quoted key)', `  encrypted_settings_key_base: *${KEY_BASE}\n`],
  ['an unknown alias in a flow', `  encrypted_settings_key_base: [*${KEY_BASE}]\n`],
  ['a Ruby class tag', `  encrypted_settings_key_base: !ruby/object:${KEY_BASE} {}\n`],
  ['a !ruby/struct tag', `  encrypted_settings_key_base: !ruby/struct:K${KEY_BASE} {}\n`],
  ['an !!int tag on the key', `  encrypted_settings_key_base: !!int ${KEY_BASE}\n`],
  ['a !!float tag on the key', `  encrypted_settings_key_base: !!float ${KEY_BASE}\n`],
  ['a !ruby/encoding tag', `  encrypted_settings_key_base: !ruby/encoding ${KEY_BASE}\n`],
  ['an ivar named after the key', `  encrypted_settings_key_base: !ruby/string:String {str: x, "@${KEY_BASE}": 1}\n`],
  ['an !!omap with the key', `  encrypted_settings_key_base: !!omap [${KEY_BASE}]\n`],
  ['an unterminated quote', `  encrypted_settings_key_base: "${KEY_BASE}\n`],
  ['a tab in the key', `  encrypted_settings_key_base: ${KEY_BASE}\t:\n`],
];

for (const [name, line] of QUOTING_INPUT) {
  for (const file of ['secrets.yml', 'gitlab-secrets.json'] as const) {
    test(`${file} with ${name}: an error that does not quote the key`, async (t) => {
      const tree = newTree(t);
      const path = join(scratch(t), file);
      const text = file === 'secrets.yml' ? `production:\n${line}  other: x\n` : `{"gitlab_rails":\n  {${line.trim().replace(/^encrypted_settings_key_base:/, '"encrypted_settings_key_base":')}\n  }}\n`;
      writeFileSync(path, text);
      const result = await runCli([...rootArgs(tree), '--secrets', path, 'smtp', 'show']);
      assertNoSecret(result.stderr + result.stdout, KEY_BASE, KEY_BASE.slice(0, 16), KEY_BASE.slice(-16));
      if (result.exitCode === 0) return; // Psych loads some of these for the JSON form: no message at all
      assert.equal(result.exitCode, 3, result.stderr);
      assert.ok(result.stderr.startsWith(`${path}`), result.stderr);
      assert.equal(result.stderr.split('\n').length, 2, `one line: ${result.stderr}`);
      assert.doesNotMatch(result.stderr, /\n\s+at /);
    });
  }
}

test('libyaml syntax errors keep their reason; reasons that quote input do not', () => {
  const kept = [
    'did not find expected key while parsing a block mapping',
    "did not find expected ',' or '}' while parsing a flow mapping",
    "found unexpected ':' while scanning a plain scalar",
    'found character that cannot start any token while scanning for the next token',
    'found a tab character that violates indentation while scanning a plain scalar',
    'found unknown escape character while parsing a quoted scalar',
    'found unexpected end of stream while scanning a quoted scalar',
    'mapping values are not allowed in this context',
    'did not find expected node content while parsing a flow node',
    'control characters are not allowed',
    "could not find expected ':' while scanning a simple key",
    'did not find expected <document start>',
    "merge keys ('<<') copied more than 10000 entries",
    'the document nests collections more than 1000 deep',
    'an implicit key is longer than 1024 characters (the limit of libyaml)',
  ];
  for (const reason of kept) assert.equal(safeYamlReason(reason), reason, reason);
  const quoting = [
    'Unknown alias: mapping',
    `Unknown alias: ${KEY_BASE}`,
    'Tried to load unspecified class: Key',
    'invalid value for Integer(): "the key"',
    'invalid value for Float(): "block"',
    "can't convert block into Float",
    'unknown encoding name - block',
    'cannot load a block from YAML',
    "'@block' is not allowed as an instance variable name",
    "can't modify frozen String",
    'could not load the YAML: found',
  ];
  for (const reason of quoting) assert.equal(safeYamlReason(reason), undefined, reason);
});

// --- doctor: formats and permissions (issue 11 §3, issue 10 §16) ---------------------------------------

test('doctor reports the serializer and digest of each file', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  writeFileSync(tree.file('service_desk_email.yaml.enc'), encryptBody(Buffer.from(SECRETS), deriveKey(KEY_BASE, 'sha256'), 'json'));
  const result = await runCli([...rootArgs(tree), 'doctor']);
  assert.match(result.stdout, /ok: decrypts with the primary key, 2 settings \(Marshal, PBKDF2-SHA1\)/);
  assert.match(result.stdout, /ok: decrypts with the primary key, 2 settings \(JSON, PBKDF2-SHA256\)/);
  assertNoSecret(result.stdout, KEY_BASE, 'hunter2');
});

test(
  'doctor says "permission denied" for a file it may not read, not "cannot decrypt"',
  { timeout: TEST_TIMEOUT_MS, skip: NEEDS_PERMISSIONS_ENFORCED },
  async (t) => {
    const s = setup(t);
    s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
    s.shareWithNobody();
    chmodSync(s.tree.file('smtp.yaml.enc'), 0o600);
    if (process.getuid?.() !== 0) chmodSync(s.tree.file('smtp.yaml.enc'), 0o000);
    const result = await s.run([...s.root, 'doctor'], { unprivileged: true });
    assert.equal(result.exitCode, 12, result.stderr);
    assert.match(result.stdout, /cannot read it: permission denied/);
    assert.doesNotMatch(result.stdout, /cannot decrypt/);
    assert.match(result.stdout, new RegExp(`Cannot read ${s.tree.file('smtp.yaml.enc').replace(/[.]/g, '\\.')}: permission denied`));
  },
);
