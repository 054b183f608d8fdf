/**
 * Near matches for a command line commander refused (issue 10 §17): `edit smtp`, `SMTP show`,
 * `service-desk show`, `gitlab:smtp:secrets:show`, `smtp edit editor=vim`. Names come from the namespace
 * and command tables; the wording from errors.ts.
 */
import { NAMESPACE_COMMANDS, TOP_LEVEL_COMMANDS } from './commands/table.ts';
import { didYouMean, needsNamespace, variablesAreUpperCase } from './errors.ts';
import { NAMESPACES } from './namespaces.ts';

/** The variables `NAME=value` arguments may set (argv.ts), which users type in lower case by mistake. */
const VARIABLES = ['EDITOR', 'VISUAL', 'RAILS_ENV', 'GITLAB_ROOT', 'GITLAB_CONFIG'];
/** Options that take a value: their value is not a command word. */
const VALUE_OPTIONS = new Set(['--gitlab-root', '-e', '--environment', '--config', '--secrets', '--file', '--value']);

/** The `hint:` texts for a command line commander refused with `code`; empty when there is no good guess. */
export function suggestionsFor(args: readonly string[], code: string, message: string): string[] {
  const hints: string[] = [];
  for (const arg of args) {
    const variable = /^([a-z][a-z0-9_]*)=(.*)$/s.exec(arg);
    if (variable && VARIABLES.includes(variable[1]!.toUpperCase())) {
      hints.push(variablesAreUpperCase(`${variable[1]!.toUpperCase()}=${variable[2]}`));
    }
  }
  const unknown = code === 'commander.unknownCommand' ? /unknown command '([^']*)'/.exec(message)?.[1] : undefined;
  if (unknown === undefined) return hints;
  const words = commandWords(args);
  const at = words.indexOf(unknown);
  /** The words after a corrected `<namespace> <verb>`: only as many as it takes, so a value typed by mistake is never echoed. */
  const argsOf = (namespace: string, verb: string, from: number): string[] => {
    const row = NAMESPACE_COMMANDS.find((command) => command.name === verb)!;
    const takesInstance = NAMESPACES.some((ns) => ns.name === namespace && ns.instances);
    return words.slice(from, from + row.args.length + (takesInstance ? 1 : 0));
  };
  const line = (...parts: string[]): string => ['gitlab-secrets', ...parts].join(' ');

  if (at === 0) {
    const rake = /^gitlab:([^:]+):secrets?:([^:[\]]+)(?:\[([^\]]*)\])?$/i.exec(unknown);
    const namespace = nearNamespace(rake ? rake[1]! : unknown);
    const verb = nearVerb(rake ? rake[2]! : unknown);
    if (rake && namespace && verb) hints.push(didYouMean(line(namespace, verb, ...(rake[3] ? [rake[3]] : argsOf(namespace, verb, 1)))));
    else if (!rake && verb && words[1] !== undefined && nearNamespace(words[1])) {
      const namespace = nearNamespace(words[1])!;
      hints.push(didYouMean(line(namespace, verb, ...argsOf(namespace, verb, 2))));
    } else if (!rake && namespace) {
      const next = words[1] === undefined ? undefined : nearVerb(words[1]);
      hints.push(didYouMean(next ? line(namespace, next, ...argsOf(namespace, next, 2)) : line(namespace)));
    } else if (!rake && verb) {
      hints.push(needsNamespace(verb, NAMESPACES.map((ns) => ns.name)));
    } else {
      const top = near(unknown, TOP_LEVEL_COMMANDS.map((row) => [row.name, row.name] as const));
      const row = TOP_LEVEL_COMMANDS.find((command) => command.name === top);
      if (top) hints.push(didYouMean(line(top, ...words.slice(1, 1 + (row?.args.length ?? 0)))));
    }
  } else if (at === 1) {
    const namespace = nearNamespace(words[0]!);
    const verb = nearVerb(unknown);
    if (namespace && verb) hints.push(didYouMean(line(namespace, verb, ...argsOf(namespace, verb, 2))));
  }
  return hints;
}

/** The arguments that are not options, option values or NAME=value. */
function commandWords(args: readonly string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (VALUE_OPTIONS.has(arg)) i++;
    else if (!arg.startsWith('-') && !/^[A-Za-z][A-Za-z0-9_]*=/.test(arg)) words.push(arg);
  }
  return words;
}

function nearNamespace(word: string): string | undefined {
  return near(word, NAMESPACES.flatMap((ns) => [ns.name, ns.rakeName, ...ns.aliases].map((name) => [name, ns.name] as const)));
}

function nearVerb(word: string): string | undefined {
  return near(word, NAMESPACE_COMMANDS.map((row) => [row.name, row.name] as const));
}

/**
 * The one candidate `word` is close to: the same but for case and `-`/`_`, the start of it (`service-desk`),
 * or one or two typos away (`stmp`). Undefined when none, or when two different ones are equally close.
 */
function near(word: string, candidates: ReadonlyArray<readonly [string, string]>): string | undefined {
  const squash = (text: string): string => text.toLowerCase().replace(/_/g, '-');
  const typed = squash(word);
  const pick = (matches: ReadonlyArray<readonly [string, string]>): string | undefined => {
    const targets = [...new Set(matches.map(([, target]) => target))];
    return targets.length === 1 ? targets[0] : undefined;
  };
  const same = candidates.filter(([name]) => squash(name) === typed);
  if (same.length > 0) return pick(same);
  if (typed.length >= 3) {
    const prefix = candidates.filter(([name]) => squash(name).startsWith(typed));
    if (prefix.length > 0) return pick(prefix);
  }
  if (typed.length < 3) return undefined;
  let best = 3;
  let matches: Array<readonly [string, string]> = [];
  for (const candidate of candidates) {
    const distance = editDistance(typed, squash(candidate[0]));
    if (distance < best) {
      best = distance;
      matches = [candidate];
    } else if (distance === best) matches.push(candidate);
  }
  return best <= 2 ? pick(matches) : undefined;
}

/** Levenshtein distance, with a swap of two neighbours counting as one (`stmp` → `smtp`). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, d[i - 2]![j - 2]! + 1);
      d[i]![j] = value;
    }
  }
  return d[a.length]![b.length]!;
}
