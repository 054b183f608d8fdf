import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.ts';
import { describeIoError } from '../format/encrypted_file.ts';
import { loadConfigYaml, YamlSyntaxError } from '../yaml/config_yaml.ts';
import { renderErb } from './erb.ts';
import { safeYamlReason } from './redact.ts';

export type YamlMap = Record<string, unknown>;

/**
 * Read a YAML config file as Ruby's Psych reads it, after ERB when `erb` is set. Returns undefined when
 * the file does not exist and null when it is empty; any other problem is one ConfigError naming the file.
 */
export function readYamlFile(path: string, options: { erb?: boolean; env?: NodeJS.ProcessEnv; redact?: boolean } = {}): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`Cannot read ${path}: ${describeIoError(error)}`);
  }
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
