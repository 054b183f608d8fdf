import { ConfigError } from '../errors.ts';
import { dig, isMap, readYamlFile } from './yaml_file.ts';

export interface KeyBases {
  /** encrypted_settings_key_base, or null when absent (GitLab: "Missing encryption key"). */
  keyBase: string | null;
  /** rotated_encrypted_settings_key_base, for decryption only. */
  rotated: string[];
}

/**
 * The key bases from config/secrets.yml (the `shared` section merged under `<environment>`, as Rails'
 * secrets loader does) or from Omnibus's /etc/gitlab/gitlab-secrets.json (`gitlab_rails`). A missing file
 * gives no key. The values are never printed.
 */
export function readKeyBases(path: string, environment: string): KeyBases {
  const data = readYamlFile(path);
  if (data === null || data === undefined) return { keyBase: null, rotated: [] };
  if (!isMap(data)) throw new ConfigError(`${path}: expected a mapping of environments, found ${describe(data)}`);

  let section: Record<string, unknown>;
  if (isMap(data['gitlab_rails'])) {
    section = data['gitlab_rails'];
  } else {
    const shared = dig(data, 'shared');
    const current = dig(data, environment);
    section = { ...(isMap(shared) ? shared : {}), ...(isMap(current) ? current : {}) };
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
  return { keyBase: keyBase ?? null, rotated };
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (isMap(value)) return 'a mapping';
  return `a ${typeof value}`;
}
