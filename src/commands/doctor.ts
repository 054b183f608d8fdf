import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { locateTarget } from '../config/locate.ts';
import type { LookupOptions, Target } from '../config/locate.ts';
import { checkKeyBases, KEY_BASE_VARIABLE, missingKeyHint, ROTATED_KEY_BASES_VARIABLE } from '../config/secrets.ts';
import { EXIT, FileAccessError, GitlabSecretsError } from '../errors.ts';
import { EncryptedFile } from '../format/encrypted_file.ts';
import { accountName } from '../fs/accounts.ts';
import { nearestExisting } from '../fs/directory.ts';
import type { Io } from '../io.ts';
import { NAMESPACES } from '../namespaces.ts';
import type { Namespace } from '../namespaces.ts';
import { checkSecretYaml } from '../yaml/secret_yaml.ts';

interface Finding {
  namespace: Namespace;
  target?: Target;
  status: string;
  problem?: string;
}

/**
 * Say, for every namespace, where gitlab-secrets looks and what it finds there, and how to fix each
 * problem. Never prints a key. Exits 0 when nothing is wrong, else EXIT.PROBLEMS.
 */
export async function doctor(lookup: LookupOptions, io: Io): Promise<number> {
  const findings: Finding[] = [];
  for (const namespace of NAMESPACES) findings.push(await examine(namespace, lookup));

  const first = findings.find((finding) => finding.target)?.target;
  const out = (line: string): boolean => io.stdout.write(`${line}\n`);
  if (first) {
    out(`GitLab root:  ${first.sources.root ?? '(not needed: --file and --secrets given)'}${rootSource(lookup)}`);
    out(`Environment:  ${first.environment}${environmentSource(lookup)}`);
    const config = first.sources.gitlabConfig;
    out(`gitlab.yml:   ${config ? `${config.path}${config.found ? '' : ' (absent: defaults apply)'}` : '(not read: --file given)'}`);
    const keys = first.keyBase === null ? 'no encrypted_settings_key_base' : `encrypted_settings_key_base present, ${plural(first.rotated.length, 'rotated key')}`;
    if (first.keySource === 'environment') {
      out(`Key:          environment ($${KEY_BASE_VARIABLE}), ${plural(first.rotated.length, 'rotated key')}${first.rotated.length ? ` ($${ROTATED_KEY_BASES_VARIABLE})` : ''}`);
    } else {
      out(`Key file:     ${first.sources.secrets}${existsSync(first.sources.secrets) ? `: ${keys}` : ' (absent)'}`);
    }
  }
  out('');
  const width = Math.max(...findings.map((finding) => finding.namespace.name.length));
  for (const finding of findings) {
    out(`${finding.namespace.name.padEnd(width)}  ${finding.target?.path ?? ''}`);
    out(`${' '.repeat(width)}  ${finding.status}`);
  }
  const problems = findings.filter((finding) => finding.problem).map((finding) => finding.problem!);
  const unique = [...new Set(problems)];
  if (unique.length === 0) {
    out('\nNo problems found.');
    return EXIT.OK;
  }
  out('\nProblems:');
  for (const problem of unique) out(`  - ${problem}`);
  return EXIT.PROBLEMS;
}

async function examine(namespace: Namespace, lookup: LookupOptions): Promise<Finding> {
  let target: Target;
  try {
    target = locateTarget(namespace, lookup, namespace.instances?.default);
  } catch (error) {
    if (!(error instanceof GitlabSecretsError)) throw error;
    return { namespace, status: 'cannot look it up', problem: oneLine(error.message) };
  }
  const dir = dirname(target.path);
  if (!isDirectory(dir)) {
    return {
      namespace,
      target,
      status: 'settings directory missing',
      problem: `Directory ${dir} does not exist (it can vanish in an upgrade). Fix: ${mkdirCommand(dir)}, or pass --create-dir to edit or write.`,
    };
  }
  if (target.keyBase === null) {
    return {
      namespace,
      target,
      status: 'no key to read it with',
      problem: `Missing encryption key encrypted_settings_key_base: ${missingKeyHint(target)} On Omnibus, gitlab-ctl reconfigure writes it.`,
    };
  }
  let file: EncryptedFile;
  try {
    checkKeyBases(target);
    file = new EncryptedFile({ contentPath: target.path, keyBase: target.keyBase, rotatedKeyBases: target.rotated });
  } catch (error) {
    if (!(error instanceof GitlabSecretsError)) throw error;
    return { namespace, target, status: firstLine(error.message), problem: oneLine(error.message) };
  }
  try {
    const result = await file.read();
    if (!result) return { namespace, target, status: `not created yet (gitlab-secrets ${namespace.name} edit creates it)` };
    const check = checkSecretYaml(result.plaintext);
    const format = `${result.serializer === 'json' ? 'JSON' : 'Marshal'}, PBKDF2-${result.digest.toUpperCase()}`;
    const content = check.kind === 'mapping' ? `${plural(Object.keys(check.value).length, 'setting')}` : check.kind === 'not-mapping' ? 'no settings' : 'invalid YAML';
    if (result.keyIndex > 0) {
      return {
        namespace,
        target,
        status: `decrypts with rotated key ${result.keyIndex}, ${content} (${format})`,
        problem: `${target.path} is encrypted with an old key. Fix: gitlab-secrets ${namespace.name} rotate (or gitlab-secrets rotate --all).`,
      };
    }
    if (result.trailingNewline) {
      return {
        namespace,
        target,
        status: `decrypts, ${content} (${format}), but ends with a newline`,
        problem: `${target.path} ends with a newline, which GitLab on Rails up to 7.2.1 cannot read. Fix: gitlab-secrets ${namespace.name} rotate.`,
      };
    }
    if (check.kind === 'invalid') {
      return { namespace, target, status: `decrypts (${format}), but ${check.reason}`, problem: `${target.path} is not valid YAML. Fix: gitlab-secrets ${namespace.name} edit.` };
    }
    return { namespace, target, status: `ok: decrypts with the primary key, ${content} (${format})` };
  } catch (error) {
    if (!(error instanceof GitlabSecretsError)) throw error;
    // A file we may not read is not a file we cannot decrypt: say which (issue 10 §16).
    const status = error instanceof FileAccessError ? `cannot read it: ${describeAccess(error, target.path)}` : 'cannot decrypt';
    return { namespace, target, status, problem: oneLine(error.message) };
  }
}

/** "Cannot read <path>: permission denied" → "permission denied". */
function describeAccess(error: FileAccessError, path: string): string {
  const prefix = `Cannot read ${path}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}

function firstLine(message: string): string {
  return message.split('\n')[0]!;
}

/** A message and its `hint:` line as one line of the problem list. */
function oneLine(message: string): string {
  return message.replace(/\nhint: /g, ' Hint: ');
}

function mkdirCommand(dir: string): string {
  const { uid, gid } = statSync(nearestExisting(dirname(dir)));
  const chown = uid === 0 ? '' : ` && chown ${accountName('/etc/passwd', uid)}:${accountName('/etc/group', gid)} ${dir}`;
  return `mkdir -p ${dir} && chmod 700 ${dir}${chown}`;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function rootSource(lookup: LookupOptions): string {
  if (lookup.file && lookup.secrets) return '';
  if (lookup.gitlabRoot) return ' (--gitlab-root)';
  if (lookup.env['GITLAB_ROOT']) return ' (GITLAB_ROOT)';
  return existsSync(`${lookup.cwd}/config/gitlab.yml`) ? ' (the current directory)' : ' (standard location)';
}

function environmentSource(lookup: LookupOptions): string {
  if (lookup.environment) return ' (--environment)';
  return lookup.env['RAILS_ENV'] ? ' (RAILS_ENV)' : ' (default)';
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
