/** `<namespace> export --format kubernetes`: a Secret manifest the GitLab Helm chart can use. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { loadConfigYaml } from '../../src/yaml/config_yaml.ts';
import { runCli } from '../helpers/run_cli.ts';
import type { CliResult } from '../helpers/run_cli.ts';
import { newTree, rootArgs } from './cli_helpers.ts';
import { runCliOnTerminal } from './gitops_helpers.ts';

const K8S = ['--format', 'kubernetes'];

interface Secret {
  apiVersion: string;
  kind: string;
  type: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  data: Record<string, string>;
}

/** Parse as YAML 1.1 (what kubectl's sigs.k8s.io/yaml reads); check what every Secret must have. */
function parseManifest(result: CliResult): unknown {
  assert.equal(result.exitCode, 0, result.stderr);
  const document = loadConfigYaml(result.stdout) as { kind: string };
  return document;
}

function checkSecret(value: unknown): Secret {
  const secret = value as Secret;
  assert.equal(secret.apiVersion, 'v1');
  assert.equal(secret.kind, 'Secret');
  assert.equal(secret.type, 'Opaque');
  assert.match(secret.metadata.name, /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
  for (const [key, data] of Object.entries(secret.data)) {
    assert.equal(typeof data, 'string', `data.${key} is not a string`);
    assert.match(data, /^[A-Za-z0-9+/]*={0,2}$/, `data.${key} is not base64`);
  }
  return secret;
}

const decoded = (secret: Secret, key = 'password'): string => Buffer.from(secret.data[key]!, 'base64').toString('utf8');

/** The `--set` lines of the comment on top, as `name=value`. */
function helmSets(stdout: string): string[] {
  return [...stdout.matchAll(/^#\s+--set (\S+)/gm)].map((match) => match[1]!);
}

/** kubectl reads the manifest (offline: `label --local` decodes it without a cluster); null without kubectl. */
function kubectlRead(manifest: string): Array<{ kind: string; metadata: { name: string }; data: Record<string, string> }> | null {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const json = execFileSync('kubectl', ['label', '--local', '-f', '-', '-o', 'json', 'checked=yes'], { input: manifest }).toString();
  // One JSON object per item, one after the other.
  return json
    .trim()
    .split(/(?<=^\})\n(?=\{)/m)
    .map((text) => JSON.parse(text) as { kind: string; metadata: { name: string }; data: Record<string, string> });
}

test('export smtp prints a v1 Secret named and keyed as the chart documents, with the helm --set lines on top', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', "user_name: 'gitlab-mailer'\npassword: 'hunter2 ✓'\n");
  const result = await runCli([...rootArgs(tree), 'smtp', 'export', ...K8S]);
  assert.equal(result.stderr, '');
  const secret = checkSecret(parseManifest(result));
  assert.equal(secret.metadata.name, 'smtp-password');
  assert.equal(secret.metadata.namespace, undefined, 'no namespace unless --namespace');
  assert.deepEqual(Object.keys(secret.data), ['password']);
  assert.equal(decoded(secret), 'hunter2 ✓');
  assert.deepEqual(helmSets(result.stdout), ['global.smtp.password.secret=smtp-password', 'global.smtp.password.key=password']);
  assert.ok(result.stdout.startsWith('# '), 'the manifest starts with the comment');
  assert.ok(!result.stdout.includes('hunter2'), 'the password appears other than base64-encoded');
  assert.ok(!result.stdout.includes('gitlab-mailer'), 'a setting other than the password was exported');

  const read = kubectlRead(result.stdout);
  if (read === null) return t.diagnostic('kubectl not installed: not checked with kubectl');
  assert.equal(read.length, 1);
  assert.equal(read[0]!.kind, 'Secret');
  assert.equal(read[0]!.metadata.name, 'smtp-password');
  // The same data as kubectl's own `create secret generic … --from-literal` (the chart docs' command).
  const reference = JSON.parse(
    execFileSync('kubectl', ['create', 'secret', 'generic', 'smtp-password', '--from-literal=password=hunter2 ✓', '--dry-run=client', '-o', 'json']).toString(),
  ) as { data: Record<string, string> };
  assert.deepEqual(read[0]!.data, reference.data);
});

const EMAIL_CASES: Array<[string, string, string]> = [
  ['incoming-email', 'incoming-email-password', 'global.appConfig.incomingEmail.password'],
  ['service-desk-email', 'service-desk-email-password', 'global.appConfig.serviceDeskEmail.password'],
];
for (const [namespace, name, values] of EMAIL_CASES) {
  test(`export ${namespace} names the Secret ${name} for ${values}`, async (t) => {
    const tree = newTree(t);
    tree.writeEncrypted(`${namespace.replace(/-/g, '_')}.yaml.enc`, "user: 'in@example.com'\npassword: 'imap-pass'\n");
    const result = await runCli([...rootArgs(tree), namespace, 'export', ...K8S]);
    const secret = checkSecret(parseManifest(result));
    assert.equal(secret.metadata.name, name);
    assert.equal(decoded(secret), 'imap-pass');
    assert.deepEqual(helmSets(result.stdout), [`${values}.secret=${name}`, `${values}.key=password`]);
  });
}

test('export ldap with several servers prints a v1 List, one Secret per server with a password', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('ldap.yaml.enc', "main:\n  password: 'main-pass'\n  bind_dn: 'cn=admin'\nsecondary_ad:\n  password: 12345\nthird:\n  bind_dn: 'cn=x'\n");
  const result = await runCli([...rootArgs(tree), 'ldap', 'export', ...K8S, '--namespace', 'gitlab']);
  const list = parseManifest(result) as { apiVersion: string; kind: string; items: unknown[] };
  assert.equal(list.apiVersion, 'v1');
  assert.equal(list.kind, 'List');
  const [main, secondary, ...rest] = list.items.map(checkSecret);
  assert.equal(rest.length, 0);
  assert.equal(main!.metadata.name, 'ldap-main-password');
  assert.equal(decoded(main!), 'main-pass');
  assert.equal(secondary!.metadata.name, 'ldap-secondary-ad-password');
  assert.equal(decoded(secondary!), '12345', 'a number is exported as GitLab reads it (to_s)');
  for (const secret of [main!, secondary!]) assert.equal(secret.metadata.namespace, 'gitlab');
  assert.deepEqual(helmSets(result.stdout), [
    'global.appConfig.ldap.servers.main.password.secret=ldap-main-password',
    'global.appConfig.ldap.servers.main.password.key=password',
    'global.appConfig.ldap.servers.secondary_ad.password.secret=ldap-secondary-ad-password',
    'global.appConfig.ldap.servers.secondary_ad.password.key=password',
  ]);
  assert.match(result.stdout, /^#   helm upgrade <release> gitlab\/gitlab --namespace gitlab --reuse-values \\$/m);
  assert.equal(result.stderr, `note: ${tree.file('ldap.yaml.enc')} has no third.password: no Secret for LDAP server 'third'.\n`);
  assert.ok(!result.stdout.includes('cn=admin'));

  const read = kubectlRead(result.stdout);
  if (read === null) return t.diagnostic('kubectl not installed: not checked with kubectl');
  assert.deepEqual(read.map((item) => item.metadata.name), ['ldap-main-password', 'ldap-secondary-ad-password']);
});

test('export --name names the one Secret, or prefixes each server name for several', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', "password: 'p'\n");
  tree.writeEncrypted('ldap.yaml.enc', "main:\n  password: 'a'\nbackup:\n  password: 'b'\n");
  const one = checkSecret(parseManifest(await runCli([...rootArgs(tree), 'smtp', 'export', ...K8S, '--name', 'mail.creds'])));
  assert.equal(one.metadata.name, 'mail.creds');
  const result = await runCli([...rootArgs(tree), 'ldap', 'export', ...K8S, '--name', 'ldap']);
  const list = parseManifest(result) as { items: unknown[] };
  assert.deepEqual(list.items.map((item) => checkSecret(item).metadata.name), ['ldap-main', 'ldap-backup']);
  assert.ok(helmSets(result.stdout).includes('global.appConfig.ldap.servers.backup.password.secret=ldap-backup'));
});

test('export redis points global.redis.auth, or a named instance at its camelCased values', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('redis.yaml.enc', "password: 'redis-pass'\n");
  const main = await runCli([...rootArgs(tree), 'redis', 'export', ...K8S]);
  assert.equal(checkSecret(parseManifest(main)).metadata.name, 'gitlab-redis');
  assert.deepEqual(helmSets(main.stdout), ['global.redis.auth.secret=gitlab-redis', 'global.redis.auth.key=password']);
  const shared = await runCli([...rootArgs(tree), 'redis', 'export', 'SharedState', ...K8S]);
  const secret = checkSecret(parseManifest(shared));
  assert.equal(secret.metadata.name, 'gitlab-redis-shared-state');
  assert.equal(decoded(secret), 'redis-pass');
  assert.deepEqual(helmSets(shared.stdout), [
    'global.redis.sharedState.password.secret=gitlab-redis-shared-state',
    'global.redis.sharedState.password.key=password',
  ]);
});

test('export quotes base64 data that YAML would read as a number', async (t) => {
  const tree = newTree(t);
  // Bytes whose base64 is "1234": unquoted, YAML reads the integer 1234 and kubectl rejects the Secret.
  tree.writeEncrypted('smtp.yaml.enc', 'password: !!binary 1234\n');
  const secret = checkSecret(parseManifest(await runCli([...rootArgs(tree), 'smtp', 'export', ...K8S])));
  assert.equal(secret.data['password'], '1234');
});

test('export without the password names the key the chart needs (exit 11), printing nothing', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', "user_name: 'gitlab-mailer'\n");
  const result = await runCli([...rootArgs(tree), 'smtp', 'export', ...K8S]);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr, `${path} has no 'password' key: the GitLab Helm chart expects the password there (for global.smtp.password).\n`);
  assert.equal(result.exitCode, 11);

  const ldap = tree.writeEncrypted('ldap.yaml.enc', "main:\n  bind_dn: 'cn=admin'\n");
  const none = await runCli([...rootArgs(tree), 'ldap', 'export', ...K8S]);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, new RegExp(`${ldap.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} has no LDAP password: expected one per server, e\\.g\\. main\\.password`));
  assert.equal(none.exitCode, 11);

  const missing = await runCli([...rootArgs(tree), 'service-desk-email', 'export', ...K8S]);
  assert.match(missing.stderr, /service_desk_email\.yaml\.enc does not exist: no password to export\./);
  assert.equal(missing.exitCode, 11);
});

test('export refuses a password that is a mapping without printing any of it', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', "password:\n  nested: 'do-not-print'\n");
  const result = await runCli([...rootArgs(tree), 'smtp', 'export', ...K8S]);
  assert.equal(result.stdout, '');
  assert.ok(!result.stderr.includes('do-not-print'));
  assert.notEqual(result.exitCode, 0);
});

test('export refuses an invalid --name or --namespace (exit 2) and an unknown or missing --format', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', "password: 'p'\n");
  for (const args of [['--name', 'Bad_Name'], ['--namespace', 'a.b'], ['--name', '-x']]) {
    const result = await runCli([...rootArgs(tree), 'smtp', 'export', ...K8S, ...args]);
    assert.equal(result.exitCode, 2, args.join(' '));
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /is not a valid Kubernetes name/);
  }
  const unknown = await runCli([...rootArgs(tree), 'smtp', 'export', '--format', 'helm']);
  assert.equal(unknown.exitCode, 2);
  assert.equal(unknown.stdout, '');
  const missing = await runCli([...rootArgs(tree), 'smtp', 'export']);
  assert.equal(missing.exitCode, 2);
  assert.equal(missing.stdout, '');
});

test('export refuses a terminal on stdout with one clear line and exit 13, before decrypting', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', "password: 'hunter2'\n");
  const result = await runCliOnTerminal([...rootArgs(tree), 'smtp', 'export', ...K8S]);
  assert.equal(result.exitCode, 13, result.stderr);
  assert.equal(result.stdout, '', 'something was printed on the terminal');
  assert.equal(
    result.stderr,
    'Refusing to print a Kubernetes Secret with the plaintext password to a terminal: anyone who can see the screen (or its scrollback) sees the secrets.\n' +
      'hint: pipe or redirect it instead (gitlab-secrets smtp export --format kubernetes | kubectl apply -f -), or pass --force.\n',
  );

  // Refused before the key is needed: the same happens with no key at all.
  const keyless = newTree(t, { keyBase: null });
  const early = await runCliOnTerminal([...rootArgs(keyless), 'smtp', 'export', ...K8S]);
  assert.equal(early.exitCode, 13, early.stderr);
});

test('export --force prints the manifest on a terminal', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', "password: 'hunter2'\n");
  const result = await runCliOnTerminal([...rootArgs(tree), 'smtp', 'export', ...K8S, '--force']);
  assert.equal(result.exitCode, 0, result.stderr);
  assert.match(result.stdout, /password: "aHVudGVyMg=="\r?\n/);
});
