import { environmentOf, secretsPathOf } from './config/locate.ts';
import type { LookupOptions } from './config/locate.ts';
import { readKeyBases } from './config/secrets.ts';
import { rewriteRakeArguments } from './argv.ts';
import { deriveKeyAsync } from './format/key_generator.ts';
import { NAMESPACES } from './namespaces.ts';

/** Commands that need the primary key. */
const KEYED_VERBS = new Set(['show', 'edit', 'write', 'get', 'rotate']);
const NAMES = new Set(NAMESPACES.flatMap((ns) => [ns.name, ns.rakeName, ...ns.aliases]));

/**
 * Start deriving the primary key on the thread pool before the CLI itself is loaded: PBKDF2 is most of
 * a `show`, and this way loading the CLI, parsing the command line and gitlab.yml happen while it runs.
 * Only a guess from a quick look at the arguments: the command resolves its key as always and shares
 * the derivation when the key base is the same. Any problem is left for the command to report.
 */
export function prefetchKey(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): void {
  try {
    const vars = { ...env };
    const args = rewriteRakeArguments(argv, vars);
    if (!args.some((arg) => NAMES.has(arg)) || !args.some((arg) => KEYED_VERBS.has(arg))) return;
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
    const { keyBase } = readKeyBases(secretsPathOf(lookup), environmentOf(lookup));
    if (keyBase !== null) deriveKeyAsync(keyBase).catch(() => undefined);
  } catch {
    // the command reports it
  }
}
