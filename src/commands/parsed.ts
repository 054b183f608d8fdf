import { InvalidContentError } from '../errors.ts';
import { checkSecretYaml } from '../yaml/secret_yaml.ts';

/**
 * The settings in a plaintext, as GitLab loads them: a mapping, or `{}` when the text holds no
 * key-value pairs (GitLab warns and uses none). Invalid YAML is an error naming the file.
 */
export function parseSettings(path: string, plaintext: Buffer | null): Record<string, unknown> {
  if (plaintext === null) return {};
  const check = checkSecretYaml(plaintext);
  if (check.kind === 'invalid') throw new InvalidContentError(`${path} does not hold valid YAML: ${check.reason}`);
  return check.kind === 'mapping' ? check.value : {};
}

/** JSON for a loaded YAML value: `!!binary` as base64, integers beyond 2^53 as their digits. */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    function replacer(this: unknown, key: string, item: unknown) {
      const raw = (this as Record<string, unknown>)[key];
      if (raw instanceof Uint8Array) return Buffer.from(raw).toString('base64');
      if (typeof item === 'bigint') return item.toString();
      return item;
    },
    indent,
  );
}
