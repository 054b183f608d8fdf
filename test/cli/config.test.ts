/**
 * SPEC §1 and §3: finding the Rails root, the environment, gitlab.yml (paths, anchors, ERB), secrets.yml
 * (shared section, rotated keys, Omnibus JSON), symlinks, option placement, usage errors and --help.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encrypt, decrypt } from '../../src/index.ts';
import { runCli } from '../helpers/run_cli.ts';
import { KEY_BASE, OTHER_KEY_BASE } from '../helpers/gitlab_tree.ts';
import type { GitlabTree } from '../helpers/gitlab_tree.ts';
import {
  SAVED,
  assertFailsWith,
  assertOneErrorLine,
  assertSucceedsWith,
  couldNotDecrypt,
  doesNotExistHint,
  newTree,
  rootArgs,
  tempDir,
} from './cli_helpers.ts';
import { assertFailsWithHint } from './key_helpers.ts';

const SECRETS = 'user_name: "smtp-user"\npassword: "hunter2"\n';
const directoryMissing = (dir: string): string => `Directory ${dir} does not exist. Create the directory and try again.`;
const NO_KEY = 'Missing encryption key encrypted_settings_key_base.';

function writeGitlabYml(tree: GitlabTree, text: string): string {
  const path = join(tree.root, 'config', 'gitlab.yml');
  writeFileSync(path, text);
  return path;
}

function encryptTo(path: string, plaintext: string, keyBase = KEY_BASE): void {
  writeFileSync(path, encrypt(Buffer.from(plaintext), keyBase));
}


// --- the Rails root --------------------------------------------------------------------------------

test('--gitlab-root selects the tree', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const result = await runCli(['--gitlab-root', tree.root, 'smtp', 'show'], { cwd: tempDir(t) });
  assertSucceedsWith(result, SECRETS);
});

test('GITLAB_ROOT selects the tree when --gitlab-root is not given', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const result = await runCli(['smtp', 'show'], { cwd: tempDir(t), env: { GITLAB_ROOT: tree.root } });
  assertSucceedsWith(result, SECRETS);
});

test('--gitlab-root wins over GITLAB_ROOT', async (t) => {
  const chosen = newTree(t);
  const other = newTree(t);
  chosen.writeEncrypted('smtp.yaml.enc', 'user_name: "chosen"\n');
  other.writeEncrypted('smtp.yaml.enc', 'user_name: "other"\n');
  const result = await runCli(['--gitlab-root', chosen.root, 'smtp', 'show'], { env: { GITLAB_ROOT: other.root } });
  assertSucceedsWith(result, 'user_name: "chosen"\n');
});

test('the current directory is the root when it holds config/gitlab.yml', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const result = await runCli(['smtp', 'show'], { cwd: tree.root });
  assertSucceedsWith(result, SECRETS);
});

test('GITLAB_ROOT wins over the current directory', async (t) => {
  const chosen = newTree(t);
  const cwdTree = newTree(t);
  chosen.writeEncrypted('smtp.yaml.enc', 'user_name: "chosen"\n');
  cwdTree.writeEncrypted('smtp.yaml.enc', 'user_name: "cwd"\n');
  const result = await runCli(['smtp', 'show'], { cwd: cwdTree.root, env: { GITLAB_ROOT: chosen.root } });
  assertSucceedsWith(result, 'user_name: "chosen"\n');
});

test('without any root the CLI asks for --gitlab-root in one line', async (t) => {
  const defaults = ['/opt/gitlab/embedded/service/gitlab-rails', '/srv/gitlab', '/home/git/gitlab'];
  if (defaults.some((dir) => existsSync(dir))) {
    t.skip('a default GitLab root exists on this machine');
    return;
  }
  const result = await runCli(['smtp', 'show'], { cwd: tempDir(t) });
  assert.equal(result.stdout, '');
  assertOneErrorLine(result, ['--gitlab-root']);
});

// --- --file ----------------------------------------------------------------------------------------

test('--file reads that file, with the key from the root', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', 'user_name: "default location"\n');
  const path = join(tempDir(t), 'elsewhere.enc');
  encryptTo(path, SECRETS);
  const result = await runCli([...rootArgs(tree), '--file', path, 'smtp', 'show']);
  assertSucceedsWith(result, SECRETS);
});

test('--file wins over a path set in gitlab.yml', async (t) => {
  const tree = newTree(t);
  const configured = join(tempDir(t), 'configured.enc');
  encryptTo(configured, 'user_name: "configured"\n');
  writeGitlabYml(tree, `production:\n  gitlab:\n    email_smtp_secret_file: ${JSON.stringify(configured)}\n`);
  const path = join(tempDir(t), 'given.enc');
  encryptTo(path, SECRETS);
  const result = await runCli([...rootArgs(tree), '--file', path, 'smtp', 'show']);
  assertSucceedsWith(result, SECRETS);
});

test('--file names an absent file in the show hint', async (t) => {
  const tree = newTree(t);
  const path = join(tempDir(t), 'absent.enc');
  const result = await runCli([...rootArgs(tree), 'smtp', 'show', '--file', path]);
  assertSucceedsWith(result, `${doesNotExistHint(path, 'smtp')}\n`);
});

test('write with --file writes that file and leaves the settings directory alone', async (t) => {
  const tree = newTree(t);
  const path = join(tempDir(t), 'written.enc');
  const result = await runCli([...rootArgs(tree), '--file', path, 'smtp', 'write'], { input: SECRETS });
  assertSucceedsWith(result, SAVED);
  assert.equal(decrypt(readFileSync(path), KEY_BASE).toString('utf8'), SECRETS);
  assert.deepEqual(tree.listSettings(), []);
});

test('--file in a missing directory reports that directory', async (t) => {
  const tree = newTree(t);
  const dir = join(tempDir(t), 'not', 'there');
  const result = await runCli([...rootArgs(tree), '--file', join(dir, 'smtp.enc'), 'smtp', 'show']);
  assertFailsWith(result, directoryMissing(dir));
});

test('--file works even when gitlab.yml has ERB that is not supported', async (t) => {
  const tree = newTree(t);
  writeGitlabYml(tree, "production:\n  shared:\n    path: <%= Rails.root.join('shared') %>\n");
  const path = join(tempDir(t), 'given.enc');
  encryptTo(path, SECRETS);
  const result = await runCli([...rootArgs(tree), '--file', path, 'smtp', 'show']);
  assertSucceedsWith(result, SECRETS);
});

// --- the environment -------------------------------------------------------------------------------

const TWO_ENVIRONMENTS = `production:\n  encrypted_settings_key_base: "${KEY_BASE}"\nstaging:\n  encrypted_settings_key_base: "${OTHER_KEY_BASE}"\n`;

for (const [name, args, env] of [
  ['-e staging', ['-e', 'staging'], {}],
  ['--environment staging', ['--environment', 'staging'], {}],
  ['RAILS_ENV=staging in the environment', [], { RAILS_ENV: 'staging' }],
  ['a rake-style RAILS_ENV=staging argument', ['RAILS_ENV=staging'], {}],
  ['--environment staging over RAILS_ENV=production', ['--environment', 'staging'], { RAILS_ENV: 'production' }],
] as const) {
  test(`${name} selects the staging key in secrets.yml`, async (t) => {
    const tree = newTree(t, { secretsYml: TWO_ENVIRONMENTS });
    tree.writeEncrypted('smtp.yaml.enc', SECRETS, OTHER_KEY_BASE);
    const result = await runCli([...rootArgs(tree), 'smtp', 'show', ...args], { env });
    assertSucceedsWith(result, SECRETS);
  });
}

test('the default environment is production', async (t) => {
  const tree = newTree(t, {
    secretsYml: `development:\n  encrypted_settings_key_base: "${OTHER_KEY_BASE}"\n${TWO_ENVIRONMENTS}`,
  });
  const path = tree.writeEncrypted('smtp.yaml.enc', SECRETS, OTHER_KEY_BASE);
  const production = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assertFailsWith(production, couldNotDecrypt(path));
  tree.writeEncrypted('smtp.yaml.enc', SECRETS, KEY_BASE);
  assertSucceedsWith(await runCli([...rootArgs(tree), 'smtp', 'show']), SECRETS);
});

test('the environment selects the gitlab.yml section too', async (t) => {
  const tree = newTree(t, { secretsYml: TWO_ENVIRONMENTS });
  writeGitlabYml(tree, 'production:\n  shared:\n    path: prod_shared\nstaging:\n  shared:\n    path: staging_shared\n');
  const staging = await runCli([...rootArgs(tree), '-e', 'staging', 'smtp', 'show']);
  assertFailsWith(staging, directoryMissing(join(tree.root, 'staging_shared', 'encrypted_settings')));
  const production = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assertFailsWith(production, directoryMissing(join(tree.root, 'prod_shared', 'encrypted_settings')));
});

// --- secrets.yml -----------------------------------------------------------------------------------

test('a key in the shared section of secrets.yml is used', async (t) => {
  const tree = newTree(t, {
    secretsYml: `shared:\n  encrypted_settings_key_base: "${KEY_BASE}"\nproduction:\n  secret_key_base: "abc"\n`,
  });
  tree.writeEncrypted('smtp.yaml.enc', SECRETS, KEY_BASE);
  assertSucceedsWith(await runCli([...rootArgs(tree), 'smtp', 'show']), SECRETS);
});

test('the environment section of secrets.yml wins over the shared section', async (t) => {
  const tree = newTree(t, {
    secretsYml: `shared:\n  encrypted_settings_key_base: "${OTHER_KEY_BASE}"\nproduction:\n  encrypted_settings_key_base: "${KEY_BASE}"\n`,
  });
  tree.writeEncrypted('smtp.yaml.enc', SECRETS, KEY_BASE);
  assertSucceedsWith(await runCli([...rootArgs(tree), 'smtp', 'show']), SECRETS);
});

test('rotated keys from the shared section are merged with the environment key', async (t) => {
  const tree = newTree(t, {
    secretsYml:
      `shared:\n  rotated_encrypted_settings_key_base:\n    - "${OTHER_KEY_BASE}"\n` +
      `production:\n  encrypted_settings_key_base: "${KEY_BASE}"\n`,
  });
  tree.writeEncrypted('smtp.yaml.enc', SECRETS, OTHER_KEY_BASE);
  assertSucceedsWith(await runCli([...rootArgs(tree), 'smtp', 'show']), SECRETS);
});

test('secrets.yml may use an anchor and a merge key', async (t) => {
  const tree = newTree(t, {
    secretsYml: `defaults: &defaults\n  encrypted_settings_key_base: "${KEY_BASE}"\nproduction:\n  <<: *defaults\n  secret_key_base: "abc"\n`,
  });
  tree.writeEncrypted('smtp.yaml.enc', SECRETS, KEY_BASE);
  assertSucceedsWith(await runCli([...rootArgs(tree), 'smtp', 'show']), SECRETS);
});

test('an empty secrets.yml is the missing key message', async (t) => {
  const tree = newTree(t, { secretsYml: '' });
  assertFailsWithHint(await runCli([...rootArgs(tree), 'smtp', 'show']), NO_KEY, 'looked in ');
});

test('a comments-only secrets.yml is the missing key message', async (t) => {
  const tree = newTree(t, { secretsYml: '# nothing here\n' });
  assertFailsWithHint(await runCli([...rootArgs(tree), 'smtp', 'show']), NO_KEY, 'looked in ');
});

test('--secrets reads the key from an Omnibus gitlab-secrets.json', async (t) => {
  const tree = newTree(t, { keyBase: null });
  tree.writeEncrypted('smtp.yaml.enc', SECRETS, KEY_BASE);
  const json = join(tempDir(t), 'gitlab-secrets.json');
  writeFileSync(
    json,
    JSON.stringify({ gitlab_workhorse: { secret_token: 'x' }, gitlab_rails: { secret_key_base: 'abc', encrypted_settings_key_base: KEY_BASE } }, null, 2),
  );
  assertSucceedsWith(await runCli([...rootArgs(tree), '--secrets', json, 'smtp', 'show']), SECRETS);
});

test('--secrets naming a gitlab-secrets.json without the key is the missing key message', async (t) => {
  const tree = newTree(t);
  const json = join(tempDir(t), 'gitlab-secrets.json');
  writeFileSync(json, JSON.stringify({ gitlab_rails: { secret_key_base: 'abc' } }));
  assertFailsWithHint(await runCli([...rootArgs(tree), '--secrets', json, 'smtp', 'show']), NO_KEY, 'looked in ');
});

test('--secrets naming another secrets.yml replaces the one in the root', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', SECRETS, OTHER_KEY_BASE);
  const other = join(tempDir(t), 'secrets.yml');
  writeFileSync(other, `production:\n  encrypted_settings_key_base: "${OTHER_KEY_BASE}"\n`);
  assertSucceedsWith(await runCli([...rootArgs(tree), '--secrets', other, 'smtp', 'show']), SECRETS);
});

// --- gitlab.yml paths ------------------------------------------------------------------------------

// Issue 10: a root the admin named without config/gitlab.yml is an error (exit 3), not silent defaults.
// A standard root without gitlab.yml still means the default paths (test/safety/explicit_paths.test.ts).
test('a --gitlab-root without gitlab.yml is one line naming the missing file, exit 3', async (t) => {
  const tree = newTree(t, { gitlabYml: null });
  tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assertFailsWith(result, `${join(tree.root, 'config', 'gitlab.yml')} does not exist. Check --gitlab-root.`);
  assert.equal(result.exitCode, 3);
});

for (const [name, text] of [
  ['an empty gitlab.yml', ''],
  ['a comments-only gitlab.yml', '# production:\n#   shared:\n#     path: /nowhere\n'],
  ['a gitlab.yml without the environment section', 'development:\n  shared:\n    path: /nowhere\n'],
] as const) {
  test(`${name} means the default paths`, async (t) => {
    const tree = newTree(t, { gitlabYml: text });
    tree.writeEncrypted('smtp.yaml.enc', SECRETS);
    assertSucceedsWith(await runCli([...rootArgs(tree), 'smtp', 'show']), SECRETS);
  });
}

/** [gitlab.yml production section (indented 2), namespace, expected file path relative to root or absolute] */
type PathCase = [string, (root: string, home: string) => string, string, (root: string, home: string) => string];

const pathCases: PathCase[] = [
  ['relative shared.path', () => 'shared:\n    path: data/shared', 'smtp', (root) => join(root, 'data/shared/encrypted_settings/smtp.yaml.enc')],
  ['absolute shared.path', (_r, home) => `shared:\n    path: ${join(home, 'abs_shared')}`, 'smtp', (_r, home) => join(home, 'abs_shared/encrypted_settings/smtp.yaml.enc')],
  ['~ in shared.path', () => 'shared:\n    path: ~/home_shared', 'smtp', (_r, home) => join(home, 'home_shared/encrypted_settings/smtp.yaml.enc')],
  ['relative encrypted_settings.path', () => 'encrypted_settings:\n    path: secret_stuff', 'smtp', (root) => join(root, 'secret_stuff/smtp.yaml.enc')],
  ['absolute encrypted_settings.path', (_r, home) => `encrypted_settings:\n    path: ${join(home, 'enc')}`, 'service-desk-email', (_r, home) => join(home, 'enc/service_desk_email.yaml.enc')],
  ['encrypted_settings.path over shared.path', () => 'shared:\n    path: s\n  encrypted_settings:\n    path: e', 'smtp', (root) => join(root, 'e/smtp.yaml.enc')],
  ['encrypted_settings.path with ~', () => 'encrypted_settings:\n    path: ~/enc_home', 'smtp', (_r, home) => join(home, 'enc_home/smtp.yaml.enc')],
  ['relative gitlab.email_smtp_secret_file', () => 'gitlab:\n    email_smtp_secret_file: custom/mail.enc', 'smtp', (root) => join(root, 'custom/mail.enc')],
  ['absolute gitlab.email_smtp_secret_file', (_r, home) => `gitlab:\n    email_smtp_secret_file: ${join(home, 'smtp-abs.enc')}`, 'smtp', (_r, home) => join(home, 'smtp-abs.enc')],
  ['~ in gitlab.email_smtp_secret_file', () => 'gitlab:\n    email_smtp_secret_file: ~/smtp-home.enc', 'smtp', (_r, home) => join(home, 'smtp-home.enc')],
  ['relative service_desk_email.encrypted_secret_file', () => 'service_desk_email:\n    encrypted_secret_file: custom/desk.enc', 'service-desk-email', (root) => join(root, 'custom/desk.enc')],
  ['~ in service_desk_email.encrypted_secret_file', () => 'service_desk_email:\n    encrypted_secret_file: ~/desk.enc', 'service-desk-email', (_r, home) => join(home, 'desk.enc')],
  ['service_desk_email.encrypted_secret_file (smtp unaffected)', () => 'service_desk_email:\n    encrypted_secret_file: custom/desk.enc', 'smtp', (root) => join(root, 'shared/encrypted_settings/smtp.yaml.enc')],
  ['gitlab.email_smtp_secret_file (service desk unaffected)', () => 'gitlab:\n    email_smtp_secret_file: custom/mail.enc', 'service-desk-email', (root) => join(root, 'shared/encrypted_settings/service_desk_email.yaml.enc')],
];

for (const [name, section, namespace, expected] of pathCases) {
  test(`gitlab.yml ${name} decides where the ${namespace} file is`, async (t) => {
    const tree = newTree(t);
    const home = tempDir(t, 'gitlab-secrets-home-');
    writeGitlabYml(tree, `production:\n  ${section(tree.root, home)}\n`);
    const path = expected(tree.root, home);
    mkdirSync(join(path, '..'), { recursive: true });
    const env = { HOME: home };
    // `~` is $HOME of the environment the CLI was given, so in-process runs get it too. One write runs as a
    // real process: there the environment is the process's own, and its HOME must decide `~` as well.
    const spawnWrite = name === '~ in shared.path';

    const absent = await runCli([...rootArgs(tree), namespace, 'show'], { env });
    assertSucceedsWith(absent, `${doesNotExistHint(path, namespace)}\n`);

    const written = await runCli([...rootArgs(tree), namespace, 'write'], { env, input: SECRETS, spawn: spawnWrite });
    assertSucceedsWith(written, SAVED);
    assert.equal(decrypt(readFileSync(path), KEY_BASE).toString('utf8'), SECRETS);
    assertSucceedsWith(await runCli([...rootArgs(tree), namespace, 'show'], { env }), SECRETS);
  });
}

test('relative paths resolve against the root, not the directory of --config', async (t) => {
  const tree = newTree(t);
  const configDir = tempDir(t);
  const config = join(configDir, 'gitlab.yml');
  writeFileSync(config, 'production:\n  shared:\n    path: from_config\n');
  const result = await runCli([...rootArgs(tree), '--config', config, 'smtp', 'show']);
  assertFailsWith(result, directoryMissing(join(tree.root, 'from_config', 'encrypted_settings')));
});

test('GITLAB_CONFIG names gitlab.yml when --config is not given', async (t) => {
  const tree = newTree(t);
  const config = join(tempDir(t), 'gitlab.yml');
  writeFileSync(config, 'production:\n  shared:\n    path: via_env\n');
  const result = await runCli([...rootArgs(tree), 'smtp', 'show'], { env: { GITLAB_CONFIG: config } });
  assertFailsWith(result, directoryMissing(join(tree.root, 'via_env', 'encrypted_settings')));
});

// --- YAML features in gitlab.yml -------------------------------------------------------------------

test('gitlab.yml merge keys bring in settings from an anchor', async (t) => {
  const tree = newTree(t, { secretsYml: `development:\n  encrypted_settings_key_base: "${KEY_BASE}"\n` });
  writeGitlabYml(
    tree,
    'production: &base\n  gitlab:\n    host: example.com\n  shared:\n    path: anchored\n\ndevelopment:\n  <<: *base\n',
  );
  const result = await runCli([...rootArgs(tree), '-e', 'development', 'smtp', 'show']);
  assertFailsWith(result, directoryMissing(join(tree.root, 'anchored', 'encrypted_settings')));
});

test('keys after a merge key override the merged ones', async (t) => {
  const tree = newTree(t);
  writeGitlabYml(
    tree,
    'base: &base\n  shared:\n    path: from_base\n  encrypted_settings:\n    path: from_base_enc\n' +
      'production:\n  <<: *base\n  encrypted_settings:\n    path: own_enc\n',
  );
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assertFailsWith(result, directoryMissing(join(tree.root, 'own_enc')));
});

test('a duplicated key in gitlab.yml is allowed and the last one wins', async (t) => {
  const tree = newTree(t);
  writeGitlabYml(tree, 'production:\n  shared:\n    path: first\n  shared:\n    path: last\n');
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assertFailsWith(result, directoryMissing(join(tree.root, 'last', 'encrypted_settings')));
});

// --- ERB in gitlab.yml -----------------------------------------------------------------------------

for (const [name, value, env, expectedDir] of [
  ["<%= ENV['X'] %> with X set", "<%= ENV['GS_TEST_DIR'] %>", { GS_TEST_DIR: 'from_env' }, 'from_env'],
  ["<%= ENV.fetch('X', 'default') %> with X unset", "<%= ENV.fetch('GS_TEST_DIR', 'fetched_default') %>", {}, 'fetched_default'],
  ["<%= ENV.fetch('X', 'default') %> with X set", "<%= ENV.fetch('GS_TEST_DIR', 'fetched_default') %>", { GS_TEST_DIR: 'fetched_env' }, 'fetched_env'],
  ["<%= ENV['X'] || 'd' %> with X unset", "<%= ENV['GS_TEST_DIR'] || 'or_default' %>", {}, 'or_default'],
  ["<%= ENV['X'] || 'd' %> with X set", "<%= ENV['GS_TEST_DIR'] || 'or_default' %>", { GS_TEST_DIR: 'or_env' }, 'or_env'],
  ["<%= ENV['X'] %> with X unset (empty, so the default)", "<%= ENV['GS_TEST_DIR'] %>", {}, 'shared/encrypted_settings'],
] as const) {
  test(`gitlab.yml ERB ${name}`, async (t) => {
    const tree = newTree(t, { settingsDir: false });
    const key = expectedDir === 'shared/encrypted_settings' ? 'shared' : 'encrypted_settings';
    // For the empty case the value sits in shared.path, whose default gives shared/encrypted_settings.
    writeGitlabYml(tree, `production:\n  gitlab:\n    host: example.com\n  ${key}:\n    path: ${value}\n`);
    const result = await runCli([...rootArgs(tree), 'smtp', 'show'], { env: { GS_TEST_DIR: undefined, ...(env as Record<string, string>) } });
    assertFailsWith(result, directoryMissing(join(tree.root, expectedDir)));
  });
}

test('unsupported ERB in gitlab.yml is one line naming the file and line and suggesting --file', async (t) => {
  const tree = newTree(t);
  const path = writeGitlabYml(
    tree,
    [
      'production: &base',
      '  gitlab:',
      '    host: example.com',
      '  shared:',
      '',
      "    path: <%= Rails.root.join('shared') %>",
      '',
    ].join('\n'),
  );
  tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assert.equal(result.stdout, '');
  assertOneErrorLine(result, [path, '--file']);
  assert.match(result.stderr.replace(path, ''), /\b6\b/, `line 6 is not named: ${result.stderr}`);
});

test('an ERB control block in gitlab.yml is refused the same way', async (t) => {
  const tree = newTree(t);
  const path = writeGitlabYml(tree, "production:\n<% if ENV['X'] %>\n  shared:\n    path: x\n<% end %>\n");
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assert.equal(result.stdout, '');
  assertOneErrorLine(result, [path, '--file']);
  assert.match(result.stderr.replace(path, ''), /\b2\b/, `line 2 is not named: ${result.stderr}`);
});

// --- malformed config files ------------------------------------------------------------------------

test('a malformed gitlab.yml is one line naming it, without a stack trace', async (t) => {
  const tree = newTree(t);
  const path = writeGitlabYml(tree, 'production:\n  gitlab: [unclosed\n  shared:\n    path: x\n');
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assert.equal(result.stdout, '');
  assertOneErrorLine(result, [path]);
});

test('a malformed secrets.yml is one line naming it, without a stack trace', async (t) => {
  const tree = newTree(t, { secretsYml: 'production:\n  encrypted_settings_key_base: "unterminated\n  other: [\n' });
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assert.equal(result.stdout, '');
  assertOneErrorLine(result, [join(tree.root, 'config', 'secrets.yml')]);
});

for (const [name, text] of [
  ['an unterminated quote', `production:\n  encrypted_settings_key_base: "${KEY_BASE}\n  other: [\n`],
  ['a bad mapping', `production:\n  encrypted_settings_key_base: ${KEY_BASE}: oops\n`],
  ['an unclosed list', `production:\n  encrypted_settings_key_base: [${KEY_BASE}\n`],
] as const) {
  test(`a secrets.yml error on the key's own line (${name}) never prints the key`, async (t) => {
    const tree = newTree(t, { secretsYml: text });
    const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
    assertOneErrorLine(result, [join(tree.root, 'config', 'secrets.yml')]);
    assert.ok(!result.stderr.includes(KEY_BASE.slice(0, 16)), `the key leaked: ${result.stderr}`);
    assert.ok(!result.stdout.includes(KEY_BASE.slice(0, 16)), `the key leaked: ${result.stdout}`);
  });
}

test('a malformed gitlab-secrets.json is one line naming it, without a stack trace', async (t) => {
  const tree = newTree(t);
  const json = join(tempDir(t), 'gitlab-secrets.json');
  writeFileSync(json, '{"gitlab_rails": {"encrypted_settings_key_base": ');
  const result = await runCli([...rootArgs(tree), '--secrets', json, 'smtp', 'show']);
  assert.equal(result.stdout, '');
  assertOneErrorLine(result, [json]);
});

test('a gitlab.yml that is a directory is one line naming it', async (t) => {
  const tree = newTree(t);
  const path = join(tree.root, 'config', 'gitlab.yml');
  rmSync(path);
  mkdirSync(path);
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assert.equal(result.stdout, '');
  assertOneErrorLine(result, [path]);
});

// --- symlinks --------------------------------------------------------------------------------------

test('a symlinked encrypted file is read through the link and messages show the resolved path', async (t) => {
  const tree = newTree(t);
  const real = join(tempDir(t), 'real-smtp.enc');
  encryptTo(real, SECRETS, OTHER_KEY_BASE);
  symlinkSync(real, tree.file('smtp.yaml.enc'));
  const wrongKey = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assertFailsWith(wrongKey, couldNotDecrypt(real));
  encryptTo(real, SECRETS, KEY_BASE);
  assertSucceedsWith(await runCli([...rootArgs(tree), 'smtp', 'show']), SECRETS);
});

test('write through a symlinked encrypted file updates the target and keeps the link', async (t) => {
  const tree = newTree(t);
  const real = join(tempDir(t), 'real-smtp.enc');
  encryptTo(real, 'user_name: "old"\n');
  const link = tree.file('smtp.yaml.enc');
  symlinkSync(real, link);
  const result = await runCli([...rootArgs(tree), 'smtp', 'write'], { input: SECRETS });
  assertSucceedsWith(result, SAVED);
  assert.ok(lstatSync(link).isSymbolicLink(), 'the symlink was replaced by a file');
  assert.equal(decrypt(readFileSync(real), KEY_BASE).toString('utf8'), SECRETS);
});

// --- option placement ------------------------------------------------------------------------------

test('options given after the namespace and command work', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  assertSucceedsWith(await runCli(['smtp', 'show', '--gitlab-root', tree.root]), SECRETS);
});

test('options after a rake task name work', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  assertSucceedsWith(await runCli(['gitlab:smtp:secret:show', '--gitlab-root', tree.root]), SECRETS);
});

test('write takes its options after the command too', async (t) => {
  const tree = newTree(t, { secretsYml: TWO_ENVIRONMENTS });
  const result = await runCli(['smtp', 'write', '--gitlab-root', tree.root, '-e', 'staging'], { input: SECRETS });
  assertSucceedsWith(result, SAVED);
  assert.equal(tree.readPlaintext('smtp.yaml.enc', OTHER_KEY_BASE).toString('utf8'), SECRETS);
});

// --- usage -----------------------------------------------------------------------------------------

for (const [name, args, mentions] of [
  ['an unknown namespace', ['nosuchthing', 'show'], 'nosuchthing'],
  ['an unknown command', ['smtp', 'frobnicate'], 'frobnicate'],
  ['an unknown rake task', ['gitlab:nosuchthing:secret:show'], 'nosuchthing'],
  ['an unknown option', ['--no-such-option', 'smtp', 'show'], '--no-such-option'],
] as const) {
  test(`${name} is a usage error naming it`, async (t) => {
    const tree = newTree(t);
    tree.writeEncrypted('smtp.yaml.enc', SECRETS);
    const result = await runCli([...rootArgs(tree), ...args]);
    assert.notEqual(result.exitCode, 0);
    assert.ok(!result.stdout.includes(SECRETS), 'printed the secrets anyway');
    assert.ok(result.stderr.includes(mentions), `stderr does not mention ${mentions}: ${result.stderr}`);
    assert.doesNotMatch(result.stderr, /^\s+at /m, 'stack trace on stderr');
  });
}

test('a namespace without a command is a usage error', async (t) => {
  const tree = newTree(t);
  const result = await runCli([...rootArgs(tree), 'smtp']);
  assert.notEqual(result.exitCode, 0);
  assert.notEqual(result.stderr, '');
});

test('--help lists the namespaces, the commands and the exit codes', async () => {
  const result = await runCli(['--help']);
  assert.equal(result.exitCode, 0, result.stderr);
  for (const word of ['smtp', 'service-desk-email', 'incoming-email', 'ldap', 'redis', 'show', 'edit', 'write']) {
    assert.ok(result.stdout.includes(word), `--help does not mention ${word}`);
  }
  assert.match(result.stdout, /exit/i, '--help does not document exit codes');
  assert.match(result.stdout, /\b0\b/, '--help does not document exit code 0');
  for (const option of ['--gitlab-root', '--environment', '--config', '--secrets', '--file']) {
    assert.ok(result.stdout.includes(option), `--help does not mention ${option}`);
  }
});
