import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { locateTarget } from '../../src/config/locate.ts';
import type { LookupOptions } from '../../src/config/locate.ts';
import { findGitlabRoot } from '../../src/config/gitlab_root.ts';
import { expandHome } from '../../src/config/paths.ts';
import { readKeyBases } from '../../src/config/secrets.ts';
import { namespaceByName, NAMESPACES, UnknownNamespaceError } from '../../src/namespaces.ts';
import { ConfigError, ExplicitPathMissingError, GitlabRootNotFoundError } from '../../src/errors.ts';

function tree(t: { after(fn: () => void): void }, files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'gitlab-secrets-config-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  return root;
}

const smtp = namespaceByName('smtp');
const lookup = (root: string, extra: Partial<LookupOptions> = {}): LookupOptions => ({ gitlabRoot: root, env: {}, cwd: '/', ...extra });

test('without gitlab.yml every default applies (a root found on its own)', (t) => {
  const root = tree(t, { 'config/secrets.yml': 'production:\n  encrypted_settings_key_base: abc\n' });
  const target = locateTarget(smtp, { env: {}, cwd: '/', standardRoots: [root] });
  assert.equal(target.path, join(root, 'shared/encrypted_settings/smtp.yaml.enc'));
  assert.equal(target.keyBase, 'abc');
  assert.equal(target.environment, 'production');
  // Issue 10: a root the admin named must hold config/gitlab.yml.
  assert.throws(() => locateTarget(smtp, lookup(root)), ExplicitPathMissingError);
});

test('shared.path, encrypted_settings.path and the namespace override apply in that order', (t) => {
  const root = tree(t, { 'config/gitlab.yml': 'production:\n  shared:\n    path: /data/shared\n' });
  assert.equal(locateTarget(smtp, lookup(root)).path, '/data/shared/encrypted_settings/smtp.yaml.enc');
  const root2 = tree(t, {
    'config/gitlab.yml': 'production:\n  shared: { path: /data/shared }\n  encrypted_settings: { path: enc }\n',
  });
  assert.equal(locateTarget(smtp, lookup(root2)).path, join(root2, 'enc/smtp.yaml.enc'));
  const root3 = tree(t, {
    'config/gitlab.yml':
      'production:\n  gitlab:\n    email_smtp_secret_file: ~/smtp.enc\n  service_desk_email:\n    encrypted_secret_file: sd.enc\n',
  });
  assert.equal(locateTarget(smtp, lookup(root3)).path, join(homedir(), 'smtp.enc'));
  assert.equal(locateTarget(namespaceByName('service_desk_email'), lookup(root3)).path, join(root3, 'sd.enc'));
});

test('the environment comes from --environment, then RAILS_ENV, then production, for both files', (t) => {
  const root = tree(t, {
    'config/gitlab.yml': 'production:\n  shared: { path: /p }\nstaging:\n  shared: { path: /s }\n',
    'config/secrets.yml': 'shared:\n  encrypted_settings_key_base: from-shared\nstaging:\n  encrypted_settings_key_base: from-staging\n',
  });
  assert.equal(locateTarget(smtp, lookup(root)).path, '/p/encrypted_settings/smtp.yaml.enc');
  assert.equal(locateTarget(smtp, lookup(root)).keyBase, 'from-shared');
  const staged = locateTarget(smtp, lookup(root, { env: { RAILS_ENV: 'staging' } }));
  assert.equal(staged.path, '/s/encrypted_settings/smtp.yaml.enc');
  assert.equal(staged.keyBase, 'from-staging');
  assert.equal(locateTarget(smtp, lookup(root, { environment: 'production', env: { RAILS_ENV: 'staging' } })).path, '/p/encrypted_settings/smtp.yaml.enc');
});

test('a gitlab.yml without the environment section means every default', (t) => {
  const root = tree(t, { 'config/gitlab.yml': 'development:\n  shared: { path: /dev }\n' });
  assert.equal(locateTarget(smtp, lookup(root)).path, join(root, 'shared/encrypted_settings/smtp.yaml.enc'));
});

test('a gitlab.yml that is not a mapping is a clear error naming it', (t) => {
  const root = tree(t, { 'config/gitlab.yml': '- a\n- b\n' });
  assert.throws(() => locateTarget(smtp, lookup(root)), (e: unknown) => e instanceof ConfigError && e.message.includes('gitlab.yml'));
});

test('merge keys and ERB in gitlab.yml are honoured', (t) => {
  const root = tree(t, {
    'config/gitlab.yml':
      "base: &base\n  shared:\n    path: <%= ENV.fetch('SHARED', '/default') %>\nproduction:\n  <<: *base\n",
  });
  assert.equal(locateTarget(smtp, lookup(root)).path, '/default/encrypted_settings/smtp.yaml.enc');
  assert.equal(locateTarget(smtp, lookup(root, { env: { SHARED: '/env' } })).path, '/env/encrypted_settings/smtp.yaml.enc');
});

test('--file and --secrets skip the lookup, and --config and GITLAB_CONFIG name gitlab.yml', (t) => {
  const root = tree(t, { 'elsewhere.yml': 'production:\n  shared: { path: /cfg }\n', 's.yml': 'production:\n  encrypted_settings_key_base: k\n' });
  const direct = locateTarget(smtp, { file: 'x.enc', secrets: 's.yml', env: {}, cwd: root, standardRoots: [] });
  assert.equal(direct.path, join(root, 'x.enc'));
  assert.equal(direct.keyBase, 'k');
  assert.equal(locateTarget(smtp, lookup(root, { config: join(root, 'elsewhere.yml') })).path, '/cfg/encrypted_settings/smtp.yaml.enc');
  assert.equal(locateTarget(smtp, lookup(root, { env: { GITLAB_CONFIG: join(root, 'elsewhere.yml') } })).path, '/cfg/encrypted_settings/smtp.yaml.enc');
});

test('`~` is $HOME of the environment the CLI was given, else the home directory os.homedir() names', (t) => {
  const home = tree(t, { 'keys/s.yml': 'production:\n  encrypted_settings_key_base: from-home\n' });
  const root = tree(t, {
    'config/gitlab.yml': 'production:\n  shared: { path: ~/shared }\n  gitlab:\n    email_smtp_secret_file: "~"\n',
    'other.yml': 'production:\n  encrypted_settings: { path: ~/enc }\n',
  });
  const env = { HOME: home };
  // shared.path, a setting that is `~` alone (quoted: a plain ~ is YAML's null), --secrets, --file and --config all expand with the given HOME.
  assert.equal(locateTarget(namespaceByName('service_desk_email'), lookup(root, { env })).path, join(home, 'shared/encrypted_settings/service_desk_email.yaml.enc'));
  assert.equal(locateTarget(smtp, lookup(root, { env })).path, home);
  const direct = locateTarget(smtp, { file: '~/x.enc', secrets: '~/keys/s.yml', env, cwd: '/', standardRoots: [] });
  assert.equal(direct.path, join(home, 'x.enc'));
  assert.equal(direct.keyBase, 'from-home');
  assert.equal(locateTarget(smtp, lookup(root, { config: '~/../' + basename(root) + '/other.yml', env })).path, join(home, 'enc/smtp.yaml.enc'));
  assert.equal(locateTarget(smtp, lookup(root, { env: { ...env, GITLAB_CONFIG: join(root, 'other.yml') } })).path, join(home, 'enc/smtp.yaml.enc'));
  // HOME unset or empty: the account's home, as os.homedir() (and so a real process) finds it.
  for (const without of [{}, { HOME: '' }]) {
    assert.equal(expandHome('~/a', without), join(homedir(), 'a'));
    assert.equal(locateTarget(smtp, { file: '~/x.enc', secrets: join(home, 'keys/s.yml'), env: without, cwd: '/', standardRoots: [] }).path, join(homedir(), 'x.enc'));
  }
  // Only a leading `~` alone or `~/` is a home: `~user`, `a/~` and `~x` stay as they are.
  assert.equal(expandHome('~', env), home);
  assert.equal(expandHome('~/', env), home); // Ruby's File.expand_path('~/') too
  for (const path of ['~git/x', 'a/~/b', '~x', './~']) assert.equal(expandHome(path, env), path);
});

test('a symlinked encrypted file resolves to its real path', (t) => {
  const root = tree(t, { 'real/smtp.enc': 'x', 'config/gitlab.yml': 'production: {}\n' });
  mkdirSync(join(root, 'shared/encrypted_settings'), { recursive: true });
  symlinkSync(join(root, 'real/smtp.enc'), join(root, 'shared/encrypted_settings/smtp.yaml.enc'));
  assert.equal(locateTarget(smtp, lookup(root)).path, join(root, 'real/smtp.enc'));
});

test('the root is --gitlab-root, else the current directory with config/gitlab.yml, else a standard root', (t) => {
  const root = tree(t, { 'config/gitlab.yml': 'production: {}\n' });
  const other = tree(t, {});
  assert.equal(findGitlabRoot({ explicit: root, cwd: '/' }), root);
  assert.equal(findGitlabRoot({ cwd: root, standardRoots: [other] }), root);
  assert.equal(findGitlabRoot({ cwd: other, standardRoots: ['/nonexistent', other] }), other);
  assert.throws(() => findGitlabRoot({ cwd: other, standardRoots: ['/nonexistent'] }), GitlabRootNotFoundError);
  assert.throws(() => findGitlabRoot({ explicit: '/nonexistent', cwd: '/' }), ConfigError);
});

test('secrets come from secrets.yml sections or from Omnibus gitlab-secrets.json', (t) => {
  const root = tree(t, {
    'secrets.yml': 'shared:\n  rotated_encrypted_settings_key_base: [old1, old2]\nproduction:\n  encrypted_settings_key_base: new\n',
    'gitlab-secrets.json': JSON.stringify({ gitlab_rails: { encrypted_settings_key_base: 'omnibus' } }),
    'bad.yml': 'production:\n  encrypted_settings_key_base: [1]\n',
    'broken.yml': 'production:\n  a: [\n',
  });
  const file = (keyWhere: string, rotatedWhere = keyWhere) => ({ keySource: 'file', keyWhere, rotatedWhere });
  const at = (name: string): string => join(root, name);
  assert.deepEqual(readKeyBases(at('secrets.yml'), 'production'), {
    keyBase: 'new',
    rotated: ['old1', 'old2'],
    ...file(`the production section of ${at('secrets.yml')}`, `the shared section of ${at('secrets.yml')}`),
  });
  assert.deepEqual(readKeyBases(at('gitlab-secrets.json'), 'production'), {
    keyBase: 'omnibus',
    rotated: [],
    ...file(`gitlab_rails in ${at('gitlab-secrets.json')}`),
  });
  assert.deepEqual(readKeyBases(at('missing.yml'), 'production'), {
    keyBase: null,
    rotated: [],
    ...file(`${at('missing.yml')}, which does not exist`, at('missing.yml')),
  });
  assert.throws(() => readKeyBases(join(root, 'bad.yml'), 'production'), (e: unknown) => e instanceof ConfigError && e.message.includes('bad.yml'));
  assert.throws(() => readKeyBases(join(root, 'broken.yml'), 'production'), (e: unknown) => e instanceof ConfigError && e.message.includes('broken.yml'));
});

test('namespaces are found by name, alias or rake name, and an unknown one is a usage error', () => {
  assert.equal(namespaceByName('service_desk_email').name, 'service-desk-email');
  assert.equal(namespaceByName('incoming-email').fileName, 'incoming_email.yaml.enc');
  assert.throws(() => namespaceByName('smtps'), UnknownNamespaceError);
  for (const ns of NAMESPACES) assert.ok(ns.template.endsWith('\n') && ns.template.startsWith('# '), ns.name);
});
