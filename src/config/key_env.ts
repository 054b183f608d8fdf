/**
 * The key bases from the environment, for CI jobs and containers that have no secrets.yml (issue 12 §4).
 * Small on purpose: the prefetch bundle (src/prefetch.ts) reads them too.
 *
 * - GITLAB_ENCRYPTED_SETTINGS_KEY_BASE, when set and not empty, is encrypted_settings_key_base, taken
 *   exactly as written; secrets.yml / gitlab-secrets.json is then not read at all. Empty is unset, as a
 *   CI variable left blank usually means "not configured".
 * - GITLAB_ENCRYPTED_SETTINGS_KEY_BASE_ROTATED is rotated_encrypted_settings_key_base: a comma-separated
 *   list, spaces around the commas ignored, empty items skipped. It only counts together with the primary.
 */
export const KEY_BASE_VARIABLE = 'GITLAB_ENCRYPTED_SETTINGS_KEY_BASE';
export const ROTATED_KEY_BASES_VARIABLE = 'GITLAB_ENCRYPTED_SETTINGS_KEY_BASE_ROTATED';

/** The primary key base from the environment; undefined when the variable is unset or empty. */
export function environmentKeyBase(env: NodeJS.ProcessEnv): string | undefined {
  const value = env[KEY_BASE_VARIABLE];
  return value ? value : undefined;
}

/** The rotated key bases from the environment, in order (none when unset or empty). */
export function environmentRotatedKeyBases(env: NodeJS.ProcessEnv): string[] {
  const value = env[ROTATED_KEY_BASES_VARIABLE];
  if (!value) return [];
  return value
    .split(',')
    .map((item) => item.replace(/^[ \t]+|[ \t]+$/g, ''))
    .filter((item) => item !== '');
}
