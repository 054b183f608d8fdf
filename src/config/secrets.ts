import { BaseKeyTooSmallError, ConfigError, EnvironmentKeyError } from '../errors.ts';
import { isBlank } from '../text.ts';
import { environmentKeyBase, environmentRotatedKeyBases, KEY_BASE_VARIABLE, ROTATED_KEY_BASES_VARIABLE } from './key_env.ts';
import { dig, isMap, readYamlFile } from './yaml_file.ts';

export { KEY_BASE_VARIABLE, ROTATED_KEY_BASES_VARIABLE } from './key_env.ts';

export interface KeyBases {
  /** encrypted_settings_key_base, or null when absent (GitLab: "Missing encryption key"). */
  keyBase: string | null;
  /** rotated_encrypted_settings_key_base, for decryption only. */
  rotated: string[];
  /** Where the key bases come from: the GITLAB_ENCRYPTED_SETTINGS_KEY_BASE variables, or the key file. */
  keySource: 'environment' | 'file';
  /**
   * Where the primary key base was found, or was looked for, in words for a `hint:` line: "the
   * production section of /…/secrets.yml", "gitlab_rails in /etc/gitlab/gitlab-secrets.json", "$VAR".
   */
  keyWhere: string;
  /** Where the rotated key bases were found, in the same words. */
  rotatedWhere: string;
}

/**
 * The key bases from the environment when GITLAB_ENCRYPTED_SETTINGS_KEY_BASE is set (not empty), else
 * null: the key file decides. The rotated list alone is an error, not a silent mix of two sources.
 */
export function keyBasesFromEnvironment(env: NodeJS.ProcessEnv): KeyBases | null {
  const keyBase = environmentKeyBase(env);
  const rotated = environmentRotatedKeyBases(env);
  if (keyBase === undefined) {
    if (rotated.length > 0) {
      throw new EnvironmentKeyError(
        `${ROTATED_KEY_BASES_VARIABLE} is set but ${KEY_BASE_VARIABLE} is not: set both, or neither to use secrets.yml.`,
      );
    }
    return null;
  }
  return { keyBase, rotated, keySource: 'environment', keyWhere: `$${KEY_BASE_VARIABLE}`, rotatedWhere: `$${ROTATED_KEY_BASES_VARIABLE}` };
}

/**
 * The key bases from config/secrets.yml (the `shared` section merged under `<environment>`, as Rails'
 * secrets loader does) or from Omnibus's /etc/gitlab/gitlab-secrets.json (`gitlab_rails`). A missing file
 * gives no key. The values are never printed, nor any part of the file in an error.
 */
export function readKeyBases(path: string, environment: string): KeyBases {
  const data = readYamlFile(path, { redact: true });
  const searched = `the ${environment} and shared sections of ${path}`;
  if (data === undefined) return { keyBase: null, rotated: [], keySource: 'file', keyWhere: `${path}, which does not exist`, rotatedWhere: path };
  if (data === null) return { keyBase: null, rotated: [], keySource: 'file', keyWhere: `${path}, which is empty`, rotatedWhere: path };
  if (!isMap(data)) throw new ConfigError(`${path}: expected a mapping of environments, found ${describe(data)}`);

  let section: Record<string, unknown>;
  let where: string;
  let rotatedWhere: string;
  if (isMap(data['gitlab_rails'])) {
    section = data['gitlab_rails'];
    where = `gitlab_rails in ${path}`;
    rotatedWhere = where;
  } else {
    const shared = dig(data, 'shared');
    const current = dig(data, environment);
    section = { ...(isMap(shared) ? shared : {}), ...(isMap(current) ? current : {}) };
    const sectionOf = (key: string): string | undefined => {
      if (isMap(current) && Object.hasOwn(current, key)) return `the ${environment} section of ${path}`;
      if (isMap(shared) && Object.hasOwn(shared, key)) return `the shared section of ${path}`;
      return undefined;
    };
    where = sectionOf('encrypted_settings_key_base') ?? searched;
    rotatedWhere = sectionOf('rotated_encrypted_settings_key_base') ?? path;
  }

  const keyBase = section['encrypted_settings_key_base'];
  if (keyBase !== undefined && keyBase !== null && typeof keyBase !== 'string') {
    throw new ConfigError(`${path}: encrypted_settings_key_base must be a string, found ${describe(keyBase)}`);
  }
  const rotatedValue = section['rotated_encrypted_settings_key_base'] ?? [];
  const rotated = Array.isArray(rotatedValue) ? rotatedValue : [rotatedValue];
  if (!rotated.every((value): value is string => typeof value === 'string')) {
    throw new ConfigError(`${path}: rotated_encrypted_settings_key_base must be a list of strings`);
  }
  return { keyBase: keyBase ?? null, rotated, keySource: 'file', keyWhere: where, rotatedWhere };
}

/** The `hint:` line under GitLab's "Missing encryption key encrypted_settings_key_base.": where we looked. */
export function missingKeyHint(keys: KeyBases): string {
  return `looked in ${keys.keyWhere}; pass --secrets <file> (Omnibus: /etc/gitlab/gitlab-secrets.json) or set ${KEY_BASE_VARIABLE}.`;
}

/**
 * GitLab's generate_key refuses a blank key base or one under 16 characters (Ruby's String#length counts
 * characters) and checks every key base when it builds the encryptor; commands call this at that point
 * (before the directory check) so that the error names the key base that is too small, never showing it.
 * The same rule as src/format/key_generator.ts, which knows nothing of where a key base came from.
 */
export function checkKeyBases(keys: KeyBases): void {
  if (keys.keyBase === null) return; // "Missing encryption key" comes first, as in GitLab
  const name = (i: number): string => {
    if (i === 0) return keys.keySource === 'environment' ? keys.keyWhere : `encrypted_settings_key_base in ${keys.keyWhere}`;
    return keys.keySource === 'environment'
      ? `key base ${i} of ${keys.rotatedWhere}`
      : `rotated_encrypted_settings_key_base entry ${i} in ${keys.rotatedWhere}`;
  };
  [keys.keyBase, ...keys.rotated].forEach((base, i) => {
    if (isBlank(base) || [...base].length < 16) {
      throw new BaseKeyTooSmallError(`${name(i)} is ${isBlank(base) ? 'blank' : 'too short'}: a key base needs at least 16 characters.`);
    }
  });
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (isMap(value)) return 'a mapping';
  return `a ${typeof value}`;
}
