import { NotFoundError, TerminalOutputError, UsageError } from '../errors.ts';
import { isMap } from '../config/yaml_file.ts';
import type { Io } from '../io.ts';
import { instanceByName } from '../namespaces.ts';
import type { Namespace } from '../namespaces.ts';
import { editCommand, openTarget } from './context.ts';
import type { CommandContext } from './context.ts';
import { parseSettings } from './parsed.ts';

export const EXPORT_FORMATS = ['kubernetes'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  format: ExportFormat;
  /** metadata.name of the Secret (the prefix of each name when there are several). */
  name?: string | undefined;
  /** metadata.namespace (the Kubernetes namespace); left out by default, so kubectl uses its context's. */
  namespace?: string | undefined;
  /** Print to a terminal anyway. */
  force?: boolean;
}

/** One Kubernetes Secret and the chart values that point at it. */
interface ChartSecret {
  /** metadata.name */
  name: string;
  /** The Helm value holding the Secret's name and key: `<values>.secret`, `<values>.key`. */
  values: string;
  /** What tells several Secrets apart (the LDAP server), for `--name <prefix>`. */
  part?: string;
  value: Buffer;
}

/**
 * The key in each Secret: the chart's default for the SMTP and e-mail passwords (`….password.key: password`);
 * the `--set … .key=` lines name it for every Secret anyway, so no other default matters.
 */
const DATA_KEY = 'password';

/**
 * Where the GitLab Helm chart (gitlab-org/charts/gitlab) reads each namespace's password, and the Secret
 * names its documentation uses:
 * - doc/installation/secrets.md, "SMTP password", "IMAP password for incoming emails", "IMAP password for
 *   Service Desk emails", "LDAP Password": `kubectl create secret generic smtp-password
 *   --from-literal=password=…` then `--set global.smtp.password.secret=smtp-password`; likewise
 *   incoming-email-password (global.appConfig.incomingEmail.password.secret), service-desk-email-password
 *   (global.appConfig.serviceDeskEmail.password.secret) and ldap-main-password
 *   (global.appConfig.ldap.servers.main.password.secret).
 * - doc/installation/command-line-options.md: each `….password.key` defaults to `password`.
 * - doc/advanced/external-redis: `--set global.redis.auth.secret=gitlab-redis --set
 *   global.redis.auth.key=redis-password`; doc/charts/globals.md "Multiple Redis support": a separate
 *   instance takes `global.redis.<instance>.password.secret` / `.key`, the instance camelCased
 *   (sharedState, traceChunks, ...).
 */
const CHART: Record<string, { secret: string; values: string } | undefined> = {
  smtp: { secret: 'smtp-password', values: 'global.smtp.password' },
  'incoming-email': { secret: 'incoming-email-password', values: 'global.appConfig.incomingEmail.password' },
  'service-desk-email': { secret: 'service-desk-email-password', values: 'global.appConfig.serviceDeskEmail.password' },
};

/**
 * Print the namespace's password(s) as a Kubernetes `v1` Secret manifest (a `v1` List when there are
 * several, as for LDAP with several servers), with the `helm upgrade --set` lines that point the GitLab
 * chart at it as a comment on top. Plaintext goes only to stdout, and never to a terminal unless --force.
 */
export async function exportSettings(context: CommandContext, options: ExportOptions): Promise<void> {
  if (options.format !== 'kubernetes') throw new UsageError(`Unknown export format '${String(options.format)}'. Available: kubernetes.`);
  if (options.name !== undefined) checkName(options.name, '--name', 253);
  if (options.namespace !== undefined) checkName(options.namespace, '--namespace', 63);
  const invocation =
    `gitlab-secrets ${context.namespace.name} export${context.instance === undefined ? '' : ` ${context.instance}`} --format kubernetes` +
    (options.name === undefined ? '' : ` --name ${options.name}`) +
    (options.namespace === undefined ? '' : ` --namespace ${options.namespace}`);
  // Before anything is decrypted.
  if (!options.force && (context.io.stdout as { isTTY?: boolean }).isTTY === true) {
    throw new TerminalOutputError('a Kubernetes Secret with the plaintext password', `${invocation} | kubectl apply -f -`);
  }

  const { target, file } = openTarget(context);
  const result = await file.read();
  if (result === null) {
    throw new NotFoundError(`${target.path} does not exist: no password to export. Create it with: ${editCommand(context)}`);
  }
  const settings = parseSettings(target.path, result.plaintext);
  const secrets = chartSecrets(context.namespace, context.instance, settings, target.path, context.io.stderr);
  if (options.name !== undefined) {
    for (const secret of secrets) {
      secret.name = secrets.length === 1 ? options.name : `${options.name}-${secret.part ?? secret.name}`;
      checkName(secret.name, '--name', 253);
    }
  }
  context.io.stdout.write(manifest(secrets, target.path, invocation, options.namespace));
}

function chartSecrets(
  namespace: Namespace,
  instance: string | undefined,
  settings: Record<string, unknown>,
  path: string,
  stderr: Io['stderr'],
): ChartSecret[] {
  const row = CHART[namespace.name];
  if (row) return [{ name: row.secret, values: row.values, value: password(settings, 'password', path, row.values) }];
  if (namespace.name === 'redis') {
    // No instance named: the main Redis (global.redis.auth); a named one has its own values.
    const named = instance === undefined ? undefined : instanceByName(namespace, instance)!;
    const values = named === undefined ? 'global.redis.auth' : `global.redis.${camelCase(named)}.password`;
    const name = named === undefined ? 'gitlab-redis' : `gitlab-redis-${dnsPart(named)}`;
    return [{ name, values, value: password(settings, 'password', path, values) }];
  }
  if (namespace.name === 'ldap') return ldapSecrets(settings, path, stderr);
  throw new UsageError(`export does not know where the GitLab Helm chart expects the ${namespace.displayName} secrets.`);
}

/** GitLab's ldap.yaml.enc: `<server>: {password: …, user_bn: …}` per LDAP server (provider). */
function ldapSecrets(settings: Record<string, unknown>, path: string, stderr: Io['stderr']): ChartSecret[] {
  const secrets: ChartSecret[] = [];
  for (const [server, entry] of Object.entries(settings)) {
    if (!isMap(entry) || !Object.hasOwn(entry, 'password')) {
      stderr.write(`note: ${path} has no ${server}.password: no Secret for LDAP server '${server}'.\n`);
      continue;
    }
    if (!/^[A-Za-z0-9_-]+$/.test(server)) {
      throw new UsageError(`LDAP server name '${server}' cannot be a Helm value name (letters, digits, _ and - only).`);
    }
    const values = `global.appConfig.ldap.servers.${server}.password`;
    secrets.push({ name: `ldap-${dnsPart(server)}-password`, values, part: dnsPart(server), value: password(entry, `${server}.password`, path, values, 'password') });
  }
  if (secrets.length === 0) {
    throw new NotFoundError(
      `${path} has no LDAP password: expected one per server, e.g. main.password (for global.appConfig.ldap.servers.main.password).`,
    );
  }
  return secrets;
}

/** The password as the bytes GitLab would use (`to_s` of a number); never printed in an error. */
function password(settings: Record<string, unknown>, setting: string, path: string, values: string, key = setting): Buffer {
  if (!Object.hasOwn(settings, key)) {
    throw new NotFoundError(`${path} has no '${setting}' key: the GitLab Helm chart expects the password there (for ${values}).`);
  }
  const value = settings[key];
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return Buffer.from(String(value));
  if (value instanceof Uint8Array) return Buffer.from(value);
  throw new NotFoundError(`${path}: '${setting}' is not a single value (found ${value === null ? 'nothing' : 'a mapping or list'}), so it cannot be a password.`);
}

function manifest(secrets: readonly ChartSecret[], path: string, invocation: string, namespace: string | undefined): string {
  const helmNamespace = namespace === undefined ? '' : ` --namespace ${namespace}`;
  const lines = [
    `# Kubernetes Secret${secrets.length > 1 ? 's' : ''} for the GitLab Helm chart, from ${JSON.stringify(path)}.`,
    '# It holds the plaintext password (base64 is not encryption): do not commit it or leave it on disk.',
    '#   ' + `${invocation} | kubectl apply -f -`,
    '# Then point the chart at it (doc/installation/secrets.md of gitlab-org/charts/gitlab):',
    `#   helm upgrade <release> gitlab/gitlab${helmNamespace} --reuse-values \\`,
  ];
  secrets.forEach((secret, index) => {
    lines.push(`#     --set ${secret.values}.secret=${secret.name} \\`);
    lines.push(`#     --set ${secret.values}.key=${DATA_KEY}${index === secrets.length - 1 ? '' : ' \\'}`);
  });
  const body = (secret: ChartSecret, indent: string, first: string): string[] => [
    `${first}apiVersion: v1`,
    `${indent}kind: Secret`,
    `${indent}metadata:`,
    `${indent}  name: ${JSON.stringify(secret.name)}`,
    ...(namespace === undefined ? [] : [`${indent}  namespace: ${JSON.stringify(namespace)}`]),
    `${indent}  labels:`,
    `${indent}    app.kubernetes.io/managed-by: gitlab-secrets`,
    `${indent}type: Opaque`,
    `${indent}data:`,
    // Quoted: a base64 text can read as a number or a boolean in YAML (`1234`, `true`, `null`).
    `${indent}  ${DATA_KEY}: "${secret.value.toString('base64')}"`,
  ];
  if (secrets.length === 1) lines.push(...body(secrets[0]!, '', ''));
  else {
    lines.push('apiVersion: v1', 'kind: List', 'items:');
    for (const secret of secrets) lines.push(...body(secret, '    ', '  - '));
  }
  return `${lines.join('\n')}\n`;
}

/** Kubernetes object names: DNS-1123 (a subdomain for names, a label for namespaces). */
function checkName(name: string, option: string, max: number): void {
  const pattern = max === 63 ? /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/ : /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
  if (name.length > max || !pattern.test(name)) {
    throw new UsageError(
      `${option} '${name}' is not a valid Kubernetes name: lowercase letters, digits and '-'${max === 63 ? '' : " or '.'"}, at most ${max} characters, starting and ending with a letter or digit.`,
    );
  }
}

/** A Redis instance or LDAP server name as part of a Kubernetes name: `shared_state` → `shared-state`. */
function dnsPart(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

/** The chart's instance names: `shared_state` → `sharedState`, `trace_chunks` → `traceChunks`. */
function camelCase(name: string): string {
  return name.toLowerCase().replace(/[-_ ]+([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}
