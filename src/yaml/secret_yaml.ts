import { PsychError, lineAndColumn } from './psych_error.ts';
import { psychLoad } from './psych_load.ts';

/** What GitLab makes of the plaintext of an encrypted settings file. */
export type SecretYamlCheck =
  | { kind: 'mapping'; value: Record<string, unknown>; hint?: string }
  | { kind: 'not-mapping' }
  | { kind: 'invalid'; reason: string; hint?: string };

// Gitlab::EncryptedConfiguration loads the plaintext with
// YAML.safe_load(contents, permitted_classes: [Symbol]): no aliases, no Date/Time/Set/objects.
const SECRET_OPTIONS = { aliases: false, permittedClasses: ['Symbol'] } as const;

/**
 * Decides what GitLab does with these plaintext bytes: a `mapping` it can use, YAML that is
 * `not-mapping` (empty, comments only, a scalar or a list), or `invalid` (GitLab raises; `reason`
 * is a one-line message in Psych's style, with the line number).
 *
 * In `value`, keys are Ruby's `to_s` of the key: `:password` becomes "password" (GitLab
 * symbolizes keys anyway), `1` becomes "1". `!!binary` values are Buffers and integers beyond
 * 2^53 are bigints; with `rubyFloats`, floats are RubyFloat objects. Never throws.
 */
export function checkSecretYaml(bytes: Uint8Array, options: { rubyFloats?: boolean } = {}): SecretYamlCheck {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const badByte = findInvalidUtf8(bytes) ?? { offset: 0, reason: 'invalid UTF-8' };
    // A reader error leaves libyaml's context mark unset: Psych prints line 1 column 1.
    const where = byteLocation(bytes, badByte.offset);
    return {
      kind: 'invalid',
      reason: syntaxReason(badByte.reason, { line: 1, column: 1 }),
      hint: `libyaml stopped at line ${where.line} column ${where.column}`,
    };
  }
  let value: unknown;
  try {
    value = psychLoad(text, options.rubyFloats ? { ...SECRET_OPTIONS, rubyFloats: true } : SECRET_OPTIONS);
  } catch (error) {
    const hint = whereHint(error, text);
    return hint === undefined ? { kind: 'invalid', reason: describe(error, text) } : { kind: 'invalid', reason: describe(error, text), hint };
  }
  if (isMapping(value)) {
    const hint = bomHint(text, value);
    return hint === undefined ? { kind: 'mapping', value } : { kind: 'mapping', value, hint };
  }
  return { kind: 'not-mapping' };
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/**
 * libyaml skips a byte order mark but counts its column, so the first key sits in column 1 and the
 * next line (column 0) ends the document: GitLab sees only the first key of "\uFEFFa: 1\nb: 2".
 */
function bomHint(text: string, value: Record<string, unknown>): string | undefined {
  if (!text.startsWith('\uFEFF')) return undefined;
  let without: unknown;
  try {
    without = psychLoad(text.slice(1), SECRET_OPTIONS);
  } catch {
    without = undefined;
  }
  const seen = Object.keys(value).length;
  const written = isMapping(without) ? Object.keys(without).length : seen;
  if (written <= seen) return undefined;
  return `the file starts with a byte order mark (BOM): GitLab reads only ${seen === 1 ? 'the first key' : `the first ${seen} keys`} of ${written}; save the file without the BOM`;
}

// A key the caret line may show: a plain word, never a value (secrets are the product).
const SHOWABLE_KEY = /^([ \t]*(?:- )?)([A-Za-z0-9_.-]{1,64})[ \t]*:(?=[ \t]|$)/;

/**
 * Where libyaml found the problem, for a `hint:` line of our own. Psych's message gives the context
 * mark, often the start of the enclosing mapping; this gives the problem's line and column, with the
 * line's key when it is a plain word, and never any value.
 */
function whereHint(error: unknown, text: string): string | undefined {
  // Psych's other messages (a disallowed class, an alias) name what to look for: the reason is enough.
  if (!(error instanceof PsychError) || error.offset === undefined || error.kind !== 'syntax') return undefined;
  const where = error.problemMark ?? lineAndColumn(text, error.offset);
  const lines = text.split(/\r\n|\r|\n|\u0085|\u2028|\u2029/);
  const key = SHOWABLE_KEY.exec(lines[where.line - 1] ?? '');
  const shown = key ? ` (key ${JSON.stringify(key[2])})` : '';
  return `libyaml stopped at line ${where.line} column ${where.column}${shown}`;
}

function syntaxReason(reason: string, where: { line: number; column: number }): string {
  return `(<unknown>): ${reason} at line ${where.line} column ${where.column}`;
}

function describe(error: unknown, text: string): string {
  if (error instanceof PsychError) {
    // Psych's DisallowedClass, BadAlias and Ruby's own errors carry no position: nothing is added.
    if (error.kind !== 'syntax' || error.offset === undefined) return error.reason;
    return syntaxReason(error.reason, error.mark ?? lineAndColumn(text, error.offset));
  }
  if (error instanceof RangeError) return 'the document is too complex to load';
  return `could not load the YAML: ${error instanceof Error ? error.message : String(error)}`;
}

function byteLocation(bytes: Uint8Array, offset: number): { line: number; column: number } {
  const before = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes.subarray(0, offset));
  return lineAndColumn(before, before.length);
}

/** The first byte libyaml's reader (reader.c) refuses, with its message. */
function findInvalidUtf8(bytes: Uint8Array): { offset: number; reason: string } | undefined {
  let index = 0;
  while (index < bytes.length) {
    const octet = bytes[index] as number;
    if (octet < 0x80) {
      index++;
      continue;
    }
    const width = (octet & 0xe0) === 0xc0 ? 2 : (octet & 0xf0) === 0xe0 ? 3 : (octet & 0xf8) === 0xf0 ? 4 : 0;
    if (width === 0) return { offset: index, reason: 'invalid leading UTF-8 octet' };
    if (index + width > bytes.length) return { offset: index, reason: 'incomplete UTF-8 octet sequence' };
    let value = width === 2 ? octet & 0x1f : width === 3 ? octet & 0x0f : octet & 0x07;
    for (let k = 1; k < width; k++) {
      const trailing = bytes[index + k] as number;
      if ((trailing & 0xc0) !== 0x80) return { offset: index, reason: 'invalid trailing UTF-8 octet' };
      value = (value << 6) | (trailing & 0x3f);
    }
    if ((width === 2 && value < 0x80) || (width === 3 && value < 0x800) || (width === 4 && value < 0x10000)) {
      return { offset: index, reason: 'invalid length of a UTF-8 sequence' };
    }
    if ((value >= 0xd800 && value <= 0xdfff) || value > 0x10ffff) {
      return { offset: index, reason: 'invalid Unicode character' };
    }
    index += width;
  }
  return undefined;
}
