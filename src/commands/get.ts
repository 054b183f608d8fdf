import { NotFoundError } from '../errors.ts';
import { isMap } from '../config/yaml_file.ts';
import { openTarget } from './context.ts';
import type { CommandContext } from './context.ts';
import { RubyFloat } from '../yaml/scalar_scanner.ts';
import { parseSettings, toJson } from './parsed.ts';

/**
 * Print one value, for scripts: `PASS=$(gitlab-secrets smtp get password)`. A dotted path reaches into
 * nested mappings (`ldap get main.password`) and lists (`servers.0`). Scalars print raw, with a newline;
 * a mapping or list prints as JSON.
 */
export async function get(context: CommandContext, key: string): Promise<void> {
  const { target, file } = openTarget(context);
  const result = await file.read();
  let value: unknown = parseSettings(target.path, result?.plaintext ?? null, { rubyFloats: true });
  for (const part of key.split('.')) {
    if (isMap(value) && Object.hasOwn(value, part)) value = value[part];
    else if (Array.isArray(value) && /^\d+$/.test(part) && Number(part) < value.length) value = value[Number(part)];
    else throw new NotFoundError(`Key '${key}' not found in ${target.path}.`);
  }
  const scalar = value === null || typeof value !== 'object' || value instanceof Uint8Array || value instanceof RubyFloat;
  const text = value === null ? '' : scalar ? String(value) : toJson(value);
  context.io.stdout.write(value instanceof Uint8Array ? Buffer.from(value) : `${text}`);
  context.io.stdout.write('\n');
}
