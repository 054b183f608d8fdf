import { resolve } from 'node:path';
import { EXIT, InvalidContentError, NotFoundError, UsageError, hintLine } from '../errors.ts';
import type { ExitCode } from '../errors.ts';
import { expandHome } from '../config/paths.ts';
import { isMap } from '../config/yaml_file.ts';
import { EncryptedFile } from '../format/encrypted_file.ts';
import { readInput } from '../io.ts';
import { openTarget } from './context.ts';
import type { CommandContext } from './context.ts';
import { parseSettings, toJson } from './parsed.ts';
import { checkContent } from './validate.ts';

export interface DiffOptions {
  /** Compare with this encrypted file (decrypted with the same keys) instead of stdin. */
  against?: string | undefined;
  /** Print the values, not just the paths. */
  showValues?: boolean;
}

/** One difference: `+` added, `-` removed, `~` changed; `path` is dotted as `get` takes it. */
export interface Change {
  sign: '+' | '-' | '~';
  path: string;
  before?: unknown;
  after?: unknown;
}

/**
 * Compare the current settings with a proposal (stdin, or `--against` another encrypted file) key by
 * key, as Rails' `credentials:diff` and sops' textconv diffs do, but with the values masked unless
 * --show-values: the list is meant for review logs and CI output. Resolves with the exit code, as
 * diff(1): 0 when nothing differs, 1 when something does.
 */
export async function diff(context: CommandContext, options: DiffOptions = {}): Promise<ExitCode> {
  const { target, file } = openTarget(context);
  const { io } = context;
  if (options.against === undefined && io.stdin.isTTY) {
    throw new UsageError(
      'diff compares with a proposed document on stdin, and stdin is a terminal.\n' +
        hintLine(`gitlab-secrets ${context.namespace.name} diff < proposed.yml, or --against other.yaml.enc`),
    );
  }
  const current = parseSettings(target.path, (await file.read())?.plaintext ?? null);
  const proposed = options.against === undefined ? await readProposal(context) : await readAgainst(context, options.against, target);

  const changes = compareSettings(current, proposed);
  for (const change of changes) io.stdout.write(`${formatChange(change, options.showValues === true)}\n`);
  return changes.length === 0 ? EXIT.OK : EXIT.DIFFERENT;
}

/** The proposal on stdin, checked as `write` checks it (GitLab's WARNING lines); invalid YAML is refused. */
async function readProposal(context: CommandContext): Promise<Record<string, unknown>> {
  const bytes = await readInput(context.io.stdin);
  const verdict = checkContent(context.namespace, bytes, context.io);
  if (!verdict.ok) throw new InvalidContentError(`${verdict.problem}: nothing compared.`);
  return parseSettings('the proposed document', bytes);
}

async function readAgainst(
  context: CommandContext,
  path: string,
  keys: { keyBase: string | null; rotated: readonly string[] },
): Promise<Record<string, unknown>> {
  const absolute = resolve(context.lookup.cwd, expandHome(path, context.lookup.env));
  // openTarget has checked that the key base exists.
  const other = new EncryptedFile({ contentPath: absolute, keyBase: keys.keyBase!, rotatedKeyBases: keys.rotated });
  const result = await other.read();
  if (result === null) throw new NotFoundError(`${absolute} does not exist: nothing to compare with.`);
  return parseSettings(absolute, result.plaintext);
}

/**
 * Every difference between two loaded documents, as dotted paths to their leaves (scalars, empty
 * mappings and empty lists). Removed and changed paths come in the current document's order, then the
 * added ones in the proposal's.
 */
export function compareSettings(before: Record<string, unknown>, after: Record<string, unknown>): Change[] {
  const old = flatten(before);
  const now = flatten(after);
  const changes: Change[] = [];
  for (const [path, value] of old) {
    if (!now.has(path)) changes.push({ sign: '-', path, before: value });
    else if (!sameValue(value, now.get(path))) changes.push({ sign: '~', path, before: value, after: now.get(path) });
  }
  for (const [path, value] of now) {
    if (!old.has(path)) changes.push({ sign: '+', path, after: value });
  }
  return changes;
}

function flatten(value: unknown, prefix = '', into = new Map<string, unknown>()): Map<string, unknown> {
  const entries: Array<[string, unknown]> = isMap(value)
    ? Object.entries(value)
    : Array.isArray(value)
      ? value.map((item, index) => [String(index), item])
      : [];
  for (const [key, item] of entries) {
    const part = pathPart(key);
    const path = prefix === '' ? part : `${prefix}.${part}`;
    if ((isMap(item) || Array.isArray(item)) && !isEmptyContainer(item)) flatten(item, path, into);
    else into.set(path, item);
  }
  return into;
}

function isEmptyContainer(value: unknown): boolean {
  return Array.isArray(value) ? value.length === 0 : isMap(value) && Object.keys(value).length === 0;
}

/** A key as `get` takes it, or JSON-quoted when it would not read back as one part (`"a.b"`, `""`). */
function pathPart(key: string): string {
  return /^[^.\s"]+$/.test(key) ? key : JSON.stringify(key);
}

/** Equal as GitLab would see them: same type and value (`'587'` is not `587`), bytes compared as bytes. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && Buffer.from(a).equals(Buffer.from(b));
  }
  if (typeof a !== typeof b) return false;
  if (typeof a === 'object' && a !== null) return toJson(a) === toJson(b);
  return Object.is(a, b);
}

function formatChange(change: Change, showValues: boolean): string {
  const line = `${change.sign} ${change.path}`;
  if (!showValues) return line;
  if (change.sign === '+') return `${line}: ${formatValue(change.after)}`;
  if (change.sign === '-') return `${line}: ${formatValue(change.before)}`;
  return `${line}: ${formatValue(change.before)} → ${formatValue(change.after)}`;
}

/** One line per value: JSON, so `'587'` and `587` and a trailing space all show. */
function formatValue(value: unknown): string {
  if (value instanceof Uint8Array) return `!!binary ${Buffer.from(value).toString('base64')}`;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (value === undefined) return 'null';
  return toJson(value);
}
