import { CONFIG_FILE_LIMIT, readRegularFile } from './fs/safe_read.ts';
import { rewriteRakeArguments } from './argv.ts';
import { environmentKeyBase } from './config/key_env.ts';
import { environmentOf, secretsPathOf } from './config/paths.ts';
import type { LookupOptions } from './config/paths.ts';
import { deriveKeyAsync } from './format/key_generator.ts';
import { keyedCommandNames } from './commands/table.ts';
import { NAMESPACES } from './namespaces.ts';

/** Commands that need the primary key, from the command table. */
const KEYED_VERBS = keyedCommandNames();
const NAMES = new Set(NAMESPACES.flatMap((ns) => [ns.name, ns.rakeName, ...ns.aliases]));

/** A key derivation started before the CLI was loaded, handed to `main()`. */
export interface PrefetchedKey {
  keyBase: string;
  key: Promise<Buffer>;
}

/**
 * Start deriving the primary key on the thread pool before the CLI itself is loaded: PBKDF2 is most of
 * a `show`, and this way loading the CLI and reading gitlab.yml happen while it runs. Only a guess from a
 * quick look at the arguments and at secrets.yml (no YAML parser is loaded for it): the command resolves
 * its key as always and uses the prefetched one only when the key base is the same; a wrong guess costs
 * one derivation on another thread. Any problem is left for the command to report. Built as a bundle of
 * its own (dist/prefetch.cjs), small to load.
 */
export function prefetchKey(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): PrefetchedKey | undefined {
  try {
    const vars = { ...env };
    const args = rewriteRakeArguments(argv, vars);
    if (!args.some((arg) => NAMES.has(arg)) || !args.some((arg) => KEYED_VERBS.has(arg))) return undefined;
    const option = (...names: string[]): string | undefined => {
      for (let i = 0; i < args.length; i++) {
        const arg = args[i]!;
        if (names.includes(arg)) return args[i + 1];
        const long = names.find((name) => name.startsWith('--') && arg.startsWith(`${name}=`));
        if (long) return arg.slice(long.length + 1);
      }
      return undefined;
    };
    const lookup: LookupOptions = {
      gitlabRoot: option('--gitlab-root'),
      environment: option('--environment', '-e'),
      secrets: option('--secrets'),
      env: vars,
      cwd,
    };
    // The key from the environment wins, as it does for the command (src/config/secrets.ts).
    const keyBase =
      environmentKeyBase(vars) ??
      sniffKeyBase(readRegularFile(secretsPathOf(lookup), { limit: CONFIG_FILE_LIMIT, role: 'config' })?.toString('utf8') ?? '', environmentOf(lookup));
    if (keyBase === undefined) return undefined;
    const key = deriveKeyAsync(keyBase);
    key.catch(() => undefined); // a refused key base is reported by the command
    return { keyBase, key };
  } catch {
    return undefined; // the command reports it
  }
}

const SECTION = /^([\w-]+):\s*(?:&[\w-]+\s*)?(?:#.*)?$/;
// A plain scalar may not start with a YAML indicator (block scalar, anchor, alias, tag, flow...).
const KEY_LINE = /^\s+encrypted_settings_key_base:\s*(?:"([^"\\]*)"|'([^']*)'|([^\s#'"|>&*!%@`{}[\],?:-][^\s#]*))\s*(?:#.*)?$/;

/**
 * encrypted_settings_key_base as a generated secrets.yml or gitlab-secrets.json holds it: a plain line in
 * the environment's (else the shared) section. Undefined when the file looks any different.
 */
export function sniffKeyBase(text: string, environment: string): string | undefined {
  if (text.trimStart().startsWith('{')) {
    const value: unknown = JSON.parse(text)?.gitlab_rails?.encrypted_settings_key_base;
    return typeof value === 'string' ? value : undefined;
  }
  const found: Record<string, string> = {};
  let section: string | undefined;
  for (const line of text.split('\n')) {
    const top = SECTION.exec(line);
    if (top) section = top[1];
    const key = section && KEY_LINE.exec(line);
    if (key) found[section!] = (key[1] ?? key[2] ?? key[3])!;
  }
  return found[environment] ?? found['shared'];
}
