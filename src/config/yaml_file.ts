import { ConfigError, GitlabSecretsError } from '../errors.ts';
import { describeIoError } from '../format/encrypted_file.ts';
import { loadConfigYaml, YamlSyntaxError } from '../yaml/config_yaml.ts';
import { renderErb } from './erb.ts';
import { safeYamlReason } from './redact.ts';
import { CONFIG_FILE_LIMIT, readRegularFile } from '../fs/safe_read.ts';

export type YamlMap = Record<string, unknown>;

/**
 * Read a YAML config file as Ruby's Psych reads it, after ERB when `erb` is set. Returns undefined when
 * the file does not exist and null when it is empty; any other problem is one ConfigError naming the file.
 * A named pipe, a device or a file over 16 MiB is refused without blocking (src/fs/safe_read.ts).
 */
export function readYamlFile(path: string, options: { erb?: boolean; env?: NodeJS.ProcessEnv; redact?: boolean } = {}): unknown {
  let bytes: Buffer | null;
  try {
    bytes = readRegularFile(path, { limit: CONFIG_FILE_LIMIT, role: 'config' });
  } catch (error) {
    if (error instanceof GitlabSecretsError) throw error;
    throw new ConfigError(`Cannot read ${path}: ${describeIoError(error)}`);
  }
  if (bytes === null) return undefined;
  let text = bytes.toString('utf8');
  if (options.erb) text = renderErb(text, path, options.env ?? process.env);
  try {
    return loadConfigYaml(text);
  } catch (error) {
    if (error instanceof YamlSyntaxError) {
      const where = error.line === undefined ? path : `${path}:${error.line}`;
      // redact: the key file's errors never quote it (src/config/redact.ts).
      const reason = options.redact ? (safeYamlReason(error.reason) ?? 'the reason would quote the file, which holds keys') : error.reason;
      throw new ConfigError(`${where}: invalid YAML: ${reason}`);
    }
    throw error;
  }
}

export function isMap(value: unknown): value is YamlMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array) && !(value instanceof Date);
}

/** `value[key]` when value is a mapping, else undefined. */
export function dig(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (!isMap(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}
