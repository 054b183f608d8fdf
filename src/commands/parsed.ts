import { InvalidContentError } from '../errors.ts';
import { RubyFloat } from '../yaml/scalar_scanner.ts';
import { checkSecretYaml } from '../yaml/secret_yaml.ts';

/**
 * The settings in a plaintext, as GitLab loads them: a mapping, or `{}` when the text holds no
 * key-value pairs (GitLab warns and uses none). Invalid YAML is an error naming the file.
 */
export function parseSettings(path: string, plaintext: Buffer | null, options: { rubyFloats?: boolean } = {}): Record<string, unknown> {
  if (plaintext === null) return {};
  const check = checkSecretYaml(plaintext, options);
  if (check.kind === 'invalid') throw new InvalidContentError(`${path} does not hold valid YAML: ${check.reason}`);
  return check.kind === 'mapping' ? check.value : {};
}

// A RubyFloat goes into the JSON text as this marked string, then becomes a bare number.
const FLOAT_MARK = /"\\u0000float:([^"\\]+)\\u0000"/g;

/**
 * JSON for a loaded YAML value: `!!binary` as base64, integers beyond 2^53 as their digits, a
 * RubyFloat as Ruby's to_json writes it (1.0, 1000.0, 1.0e+20). Ruby's JSON refuses NaN and
 * Infinity; here they become the strings "NaN", "Infinity" and "-Infinity", so the output stays JSON.
 */
export function toJson(value: unknown, indent?: number): string {
  let floats = false;
  const text = JSON.stringify(
    value,
    function replacer(this: unknown, key: string, item: unknown) {
      const raw = (this as Record<string, unknown>)[key];
      if (raw instanceof Uint8Array) return Buffer.from(raw).toString('base64');
      if (typeof item === 'bigint') return item.toString();
      if (raw instanceof RubyFloat) {
        if (!Number.isFinite(raw.value)) return raw.toString();
        floats = true;
        return `\u0000float:${raw.toString()}\u0000`;
      }
      return item;
    },
    indent,
  );
  return floats ? text.replace(FLOAT_MARK, '$1') : text;
}
