import { existsSync, lstatSync, realpathSync, readlinkSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError, ExplicitPathMissingError } from '../errors.ts';
import type { Namespace } from '../namespaces.ts';

export type { LookupOptions } from './paths.ts';
import { keyBasesFromEnvironment, readKeyBases } from './secrets.ts';
import { redisSecretFile } from './redis.ts';
import type { KeyBases } from './secrets.ts';
import { environmentOf, expandHome, rootOf, secretsPathOf } from './paths.ts';
import type { LookupOptions } from './paths.ts';
import { dig, isMap, readYamlFile } from './yaml_file.ts';
import { isTrustedLink, setPathChooser } from '../fs/trusted_path.ts';

export interface Target extends KeyBases {
  /**
   * The encrypted file, absolute, symlink of its last component resolved (unless, running as root, the
   * link belongs to another user and leads somewhere that user could not write: then the link itself).
   */
  path: string;
  environment: string;
  /** Where each piece came from, for `doctor`. */
  sources: {
    /** The Rails root, when the lookup needed one. */
    root?: string;
    /** The gitlab.yml consulted (undefined with --file) and whether it exists. */
    gitlabConfig?: { path: string; found: boolean };
    /** The key file read; '' when the key came from the environment. */
    secrets: string;
  };
}

/**
 * Find the encrypted file of a namespace (and Redis instance, underscored) and the key bases that
 * open it.
 */
export function locateTarget(namespace: Namespace, options: LookupOptions, instance?: string): Target {
  const environment = environmentOf(options);
  let root: string | undefined;
  const rootDir = (): string => (root ??= rootOf(options));

  const sources: Target['sources'] = { secrets: '' };
  let path: string;
  setPathChooser(undefined);
  if (options.file) {
    path = resolve(options.cwd, expandHome(options.file, options.env));
  } else {
    const explicit = options.config || options.env['GITLAB_CONFIG'];
    const configPath = explicit ? resolve(options.cwd, expandHome(explicit, options.env)) : join(rootDir(), 'config', 'gitlab.yml');
    const gitlab = readGitlabSection(configPath, environment, options.env);
    // A gitlab.yml the admin named (or whose root they named) that is not there is a mistake, not defaults.
    const source = explicitSource(options, explicit !== undefined && explicit !== '');
    if (gitlab === null && source) throw new ExplicitPathMissingError(configPath, source);
    // A gitlab.yml that another user owns (git, on a source install) chose the path: root writes only
    // where that user could (src/fs/trusted_path.ts).
    const owner = gitlab === null ? undefined : statSync(configPath, { throwIfNoEntry: false })?.uid;
    if (owner !== undefined && owner !== 0) setPathChooser({ uid: owner, source: configPath });
    sources.gitlabConfig = { path: configPath, found: gitlab !== null };
    path = settingsFilePath(namespace, gitlab ?? {}, rootDir(), options.env, () =>
      instance === undefined ? undefined : redisSecretFile(rootDir(), environment, instance, options.env),
    );
  }
  // GITLAB_ENCRYPTED_SETTINGS_KEY_BASE wins over the key file, which is then neither needed nor read.
  const fromEnvironment = keyBasesFromEnvironment(options.env);
  if (!fromEnvironment) sources.secrets = secretsPathOf(options, rootDir);
  if (!fromEnvironment && options.secrets && !existsSync(sources.secrets)) throw new ExplicitPathMissingError(sources.secrets, '--secrets');
  if (root !== undefined) sources.root = root;
  const keys = fromEnvironment ?? readKeyBases(sources.secrets, environment);
  return { path: resolveLastLink(path), environment, sources, ...keys };
}

/** Which option or variable named the gitlab.yml to read, if one did. */
function explicitSource(options: LookupOptions, explicitConfig: boolean): string | undefined {
  if (explicitConfig) return options.config ? '--config' : 'GITLAB_CONFIG';
  if (options.gitlabRoot) return '--gitlab-root';
  if (options.env['GITLAB_ROOT']) return 'GITLAB_ROOT';
  return undefined;
}

/** The environment's section of gitlab.yml; null when the file does not exist. */
function readGitlabSection(path: string, environment: string, env: NodeJS.ProcessEnv): Record<string, unknown> | null {
  const data = readYamlFile(path, { erb: true, env });
  if (data === undefined) return null;
  if (data !== null && !isMap(data)) throw new ConfigError(`${path}: expected a mapping of environments`);
  // No gitlab.yml, or no section for this environment: nothing is configured, every default applies.
  const section = dig(data, environment);
  return isMap(section) ? section : {};
}

/** GitLab's config/initializers/1_settings.rb, for the settings this tool needs. */
function settingsFilePath(
  namespace: Namespace,
  gitlab: Record<string, unknown>,
  root: string,
  env: NodeJS.ProcessEnv,
  instanceSetting: () => string | undefined,
): string {
  const absolute = (value: unknown): string => resolve(root, expandHome(String(value), env));
  const sharedDir = absolute(stringSetting(dig(gitlab, 'shared', 'path')) ?? 'shared');
  const settingsDir = absolute(stringSetting(dig(gitlab, 'encrypted_settings', 'path')) ?? join(sharedDir, 'encrypted_settings'));
  const override = namespace.settingPath ? stringSetting(dig(gitlab, ...namespace.settingPath)) : instanceSetting();
  return absolute(override ?? join(settingsDir, namespace.fileName));
}

function stringSetting(value: unknown): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (typeof value === 'object') return undefined;
  return String(value);
}

/**
 * GitLab's EncryptedConfiguration uses `path.realpath` when the path is a symlink; a dangling link
 * resolves to the file it names, which `edit` and `write` then create.
 */
function resolveLastLink(path: string): string {
  try {
    if (!lstatSync(path).isSymbolicLink()) return path;
  } catch {
    return path;
  }
  // Running as root, a link another user planted is kept as the link: reads follow it, but a write
  // through it is refused naming it (src/fs/trusted_path.ts), instead of silently writing its target.
  if (!isTrustedLink(path)) return path;
  try {
    return realpathSync(path);
  } catch {
    try {
      return resolve(dirname(path), readlinkSync(path));
    } catch {
      return path; // no longer a link (swapped as we looked): the path as named, checked again when written
    }
  }
}
