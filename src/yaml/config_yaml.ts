import { setFlagsFromString } from 'node:v8';
import { PsychError, lineAndColumn } from './psych_error.ts';
import { psychLoad } from './psych_load.ts';

/**
 * A configuration file that Ruby's Psych would refuse to load: a syntax error, an unknown alias,
 * a disallowed Ruby class, or a document too deep or too costly to load. `line` is 1-based.
 */
export class YamlSyntaxError extends Error {
  readonly reason: string;
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(reason: string, line?: number, column?: number) {
    super(line === undefined ? reason : `${reason} at line ${line} column ${column ?? 1}`);
    this.name = 'YamlSyntaxError';
    this.reason = reason;
    this.line = line;
    this.column = column;
  }
}

// GitLab reads gitlab.yml and secrets.yml through ActiveSupport::ConfigurationFile and
// Rails::Secrets, which call YAML.unsafe_load: dates, times, sets and ordered maps load there,
// where Psych 4's YAML.load(aliases: true) would raise DisallowedClass.
const CONFIG_OPTIONS = {
  aliases: true,
  permittedClasses: ['Symbol', 'Date', 'Time', 'Psych::Set', 'Psych::Omap'],
} as const;

/**
 * Parses a GitLab configuration file (gitlab.yml after ERB, secrets.yml, redis.yml, resque.yml)
 * as Ruby's Psych does: YAML 1.1 scalars, anchors and aliases, merge keys, the last duplicate
 * key winning, only the first document. Returns null for an empty or comments-only file.
 *
 * Values: mappings are plain objects keyed by Ruby's `to_s` of each key (`:sym` keys lose the
 * colon), integers beyond 2^53 are bigints, dates and times are Dates, `!!binary` is a Buffer.
 * Aliases share one object, as in Ruby, so the result may contain cycles.
 *
 * @throws YamlSyntaxError when Psych would raise.
 */
export function loadConfigYaml(text: string): unknown {
  const quiet = text.length <= QUIET_JIT_LIMIT && quietJit(true);
  try {
    return psychLoad(text, CONFIG_OPTIONS);
  } catch (error) {
    throw toYamlSyntaxError(error, text);
  } finally {
    if (quiet) quietJit(false);
  }
}

/**
 * A configuration file is read once, cold, while PBKDF2 runs on another thread: V8's optimizing
 * compiler would spend about twice the parse's own CPU time on background threads (taking a core
 * from PBKDF2 on a 2-core server) and on the main thread for code that is never run again; without it
 * the parse itself is faster too (bench/yaml_cpu.mjs). Larger files, where optimized code pays off,
 * keep the compiler, as does a process whose own flags speak of it.
 */
const QUIET_JIT_LIMIT = 256 * 1024;
const JIT_FLAGS = /--(?:no-)?(?:opt|turbofan)\b/;

function quietJit(quiet: boolean): boolean {
  if (process.execArgv.some((arg) => JIT_FLAGS.test(arg)) || JIT_FLAGS.test(process.env['NODE_OPTIONS'] ?? '')) return false;
  try {
    setFlagsFromString(quiet ? '--no-opt' : '--opt');
    return true;
  } catch {
    return false;
  }
}

function toYamlSyntaxError(error: unknown, text: string): YamlSyntaxError {
  if (error instanceof PsychError) {
    if (error.offset === undefined) return new YamlSyntaxError(error.reason);
    // Psych's own mark is libyaml's context mark (often the start of the enclosing mapping); for a
    // configuration file the line where libyaml found the problem is the useful one.
    const { line, column } = error.problemMark ?? lineAndColumn(text, error.offset);
    return new YamlSyntaxError(error.reason, line, column);
  }
  if (error instanceof RangeError) return new YamlSyntaxError('the document is too complex to load');
  return new YamlSyntaxError(`could not load the YAML: ${error instanceof Error ? error.message : String(error)}`);
}
