import { rubyError } from './psych_error.ts';

// A port of Psych::ScalarScanner#tokenize (psych 4.0.4, lib/psych/scalar_scanner.rb): how Ruby
// turns an untagged plain scalar into an object. The regular expressions keep Ruby's order and
// quirks on purpose (`y` stays a string, `1:30` is 5400, `1e3` is a string, `0x_` raises).

/** A scalar as Ruby sees it, before it becomes a JavaScript value. */
export type RubyScalar =
  | { type: 'nil' }
  | { type: 'bool'; value: boolean }
  | { type: 'int'; value: bigint }
  | { type: 'float'; value: number }
  | { type: 'str'; value: string }
  | { type: 'sym'; value: string }
  | { type: 'binary'; value: Uint8Array }
  | { type: 'time'; value: Date; text: string };

/** Psych::ClassLoader::Restricted: throws DisallowedClass unless the class is permitted. */
export interface ClassLoader {
  load(className: string): void;
  permits(className: string): boolean;
}

const NIL: RubyScalar = { type: 'nil' };
const TRUE: RubyScalar = { type: 'bool', value: true };
const FALSE: RubyScalar = { type: 'bool', value: false };

// A shortcut: nothing before INTEGER_LEGACY matches a plain decimal.
const PLAIN_DECIMAL = /^(?:0|[1-9][0-9]{0,15})$/;
// Ruby's \s is ASCII-only and its [[:alpha:]] is Unicode Alphabetic.
const STRING_START = /^[^0-9.:-]?[\p{Alphabetic}_ \t\n\v\f\r!@#$%^&*(){}<>|/\\~;=]+/u;
const STARTS_NOT_YTONF = /^[^ytonf~]/iu;
const NULL_WORD = /^null$/iu;
const TRUE_WORD = /^(?:yes|true|on)$/iu;
const FALSE_WORD = /^(?:no|false|off)$/iu;
const TIME =
  /^-?\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|[ \t\r\f\v]+)\d{1,2}:\d\d:\d\d(?:\.\d*)?(?:[ \t\r\f\v]*(?:Z|[-+]\d{1,2}:?(?:\d\d)?))?$/;
const DATE = /^\d{4}-(?:1[012]|0\d|\d)-(?:[12]\d|3[01]|0\d|\d)$/;
const POSITIVE_INF = /^\+?\.inf$/i;
const NEGATIVE_INF = /^-\.inf$/i;
const NAN = /^\.nan$/i;
const SYMBOL = /^:./;
const QUOTED_SYMBOL = /^:(["'])(.*)\1/;
const SEXAGESIMAL_INT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9]){1,2}$/;
const SEXAGESIMAL_FLOAT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9]){1,2}\.[0-9_]*$/;
const FLOAT = /^[-+]?(?:[0-9][0-9_,]*)?\.[0-9]*(?:[eE][-+][0-9]+)?$/;
const LONE_DOT = /^[-+]?\.$/;
const INTEGER_LEGACY =
  /^(?:[-+]?0b[0-1_,]+|[-+]?0[0-7_,]+|[-+]?(?:0|[1-9](?:[0-9]|,[0-9]|_[0-9])*)|[-+]?0x[0-9a-fA-F_,]+)$/;

/** Psych::ScalarScanner#tokenize for an untagged plain scalar (or a tagged one Psych does not know). */
export function tokenize(text: string, loader: ClassLoader): RubyScalar {
  if (text === '') return NIL;
  // A shortcut: two ASCII letters or underscores begin a STRING_START match, and a string of more
  // than ten UTF-16 units has more than five characters, so it stays a string.
  if (text.length > 10 && isWordCode(text.charCodeAt(0)) && isWordCode(text.charCodeAt(1))) return { type: 'str', value: text };
  if (PLAIN_DECIMAL.test(text)) return { type: 'int', value: BigInt(text) };
  const str: RubyScalar = { type: 'str', value: text };
  if (text.includes('\n') || STRING_START.test(text)) {
    if (longerThanFiveCharacters(text)) return str;
    if (!text.includes('\n')) {
      // One line: what the loops below do for ['text'], without the array and closures.
      if (STARTS_NOT_YTONF.test(text)) return str;
      if (text === '~' || NULL_WORD.test(text)) return NIL;
      if (TRUE_WORD.test(text)) return TRUE;
      if (FALSE_WORD.test(text)) return FALSE;
      return str;
    }
    // Ruby's ^ and $ match at every line, so "on\n\nno" (folded to "on\nno") is true.
    const lines = text.split('\n');
    if (lines.some((line) => STARTS_NOT_YTONF.test(line))) return str;
    if (text === '~' || lines.some((line) => NULL_WORD.test(line))) return NIL;
    if (lines.some((line) => TRUE_WORD.test(line))) return TRUE;
    if (lines.some((line) => FALSE_WORD.test(line))) return FALSE;
    return str;
  }
  if (TIME.test(text)) {
    loader.load('Time');
    return parseTime(text) ?? str;
  }
  if (DATE.test(text)) {
    loader.load('Date');
    return parseDate(text) ?? str;
  }
  if (POSITIVE_INF.test(text)) return { type: 'float', value: Number.POSITIVE_INFINITY };
  if (NEGATIVE_INF.test(text)) return { type: 'float', value: Number.NEGATIVE_INFINITY };
  if (NAN.test(text)) return { type: 'float', value: Number.NaN };
  if (SYMBOL.test(text)) {
    loader.load('Symbol');
    const quoted = QUOTED_SYMBOL.exec(text);
    const name = quoted ? (quoted[2] ?? '').replace(/^:/, '') : text.replace(/^:/, '');
    return { type: 'sym', value: name };
  }
  if (SEXAGESIMAL_INT.test(text)) {
    // Psych multiplies by 60 ** |index - 2| whatever the number of parts: "1:30" is 5400.
    let total = 0n;
    text.split(':').forEach((part, index) => {
      total += rubyToI(part) * 60n ** BigInt(Math.abs(index - 2));
    });
    return { type: 'int', value: total };
  }
  if (SEXAGESIMAL_FLOAT.test(text)) {
    let total = 0;
    text.split(':').forEach((part, index) => {
      total += rubyToF(part) * 60 ** Math.abs(index - 2);
    });
    return { type: 'float', value: total };
  }
  if (FLOAT.test(text)) {
    if (LONE_DOT.test(text)) return str;
    return { type: 'float', value: rubyFloat(text.replace(/[,_]/g, '').replace(/\.([Ee]|$)/, '$1')) };
  }
  if (INTEGER_LEGACY.test(text)) return { type: 'int', value: rubyInteger(text.replace(/[,_]/g, '')) };
  return str;
}

/** An ASCII letter or '_'. */
function isWordCode(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

/** Kernel#Float applied to what tokenize returned, as Psych does for `!!float` and `!float`. */
export function rubyFloatOf(scalar: RubyScalar): number {
  switch (scalar.type) {
    case 'int':
      return Number(scalar.value);
    case 'float':
      return scalar.value;
    case 'str':
      return rubyFloat(scalar.value);
    case 'nil':
      throw rubyError("can't convert nil into Float");
    case 'bool':
      throw rubyError(`can't convert ${String(scalar.value)} into Float`);
    case 'sym':
      throw rubyError("can't convert Symbol into Float");
    case 'binary':
      return rubyFloat(Buffer.from(scalar.value).toString('latin1'));
    case 'time':
      return scalar.value.getTime() / 1000;
  }
}

/** Ruby's String#length counts characters, not UTF-16 units. */
function longerThanFiveCharacters(text: string): boolean {
  if (text.length <= 5) return false;
  if (text.length > 10) return true;
  // Code points, as [...text] counts them: a surrogate pair is one, a lone surrogate one too.
  let count = text.length;
  for (let i = 0; i + 1 < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count > 5;
}

/** String#to_i: an optional sign and digits with single underscores; anything after is ignored. */
function rubyToI(text: string): bigint {
  const match = /^([-+]?)(\d+(?:_\d+)*)/.exec(text);
  if (!match) return 0n;
  const value = BigInt((match[2] ?? '0').replace(/_/g, ''));
  return match[1] === '-' ? -value : value;
}

/** String#to_f, for the digits Psych's sexagesimal patterns allow. */
function rubyToF(text: string): number {
  const match = /^[-+]?\d+(?:_\d+)*(?:\.\d+(?:_\d+)*)?(?:[eE][-+]?\d+)?/.exec(text);
  return match ? Number.parseFloat(match[0].replace(/_/g, '')) : 0;
}

const RUBY_FLOAT_DECIMAL =
  /^[ \t\n\v\f\r]*[-+]?(?:\d+(?:_\d+)*(?:\.\d+(?:_\d+)*)?|\.\d+(?:_\d+)*)(?:[eE][-+]?\d+(?:_\d+)*)?[ \t\n\v\f\r]*$/;
const RUBY_FLOAT_HEX = /^[ \t\n\v\f\r]*([-+]?)0[xX]([0-9a-fA-F]+(?:_[0-9a-fA-F]+)*)[ \t\n\v\f\r]*$/;

/** Kernel#Float(String): strict, raises ArgumentError on anything it cannot read. */
function rubyFloat(text: string): number {
  if (RUBY_FLOAT_DECIMAL.test(text)) return Number.parseFloat(text.trim().replace(/_/g, ''));
  const hex = RUBY_FLOAT_HEX.exec(text);
  if (hex) {
    const value = Number(BigInt(`0x${(hex[2] ?? '').replace(/_/g, '')}`));
    return hex[1] === '-' ? -value : value;
  }
  throw rubyError(`invalid value for Float(): ${JSON.stringify(text)}`);
}

/** Kernel#Integer(String) for the forms INTEGER_LEGACY lets through (commas and underscores removed). */
function rubyInteger(text: string): bigint {
  const negative = text.startsWith('-');
  const body = /^[-+]/.test(text) ? text.slice(1) : text;
  let value: bigint | undefined;
  if (/^0b[01]+$/.test(body)) value = BigInt(body);
  else if (/^0x[0-9a-fA-F]+$/.test(body)) value = BigInt(body);
  else if (/^0[0-7]+$/.test(body)) value = BigInt(`0o${body.slice(1)}`);
  else if (/^\d+$/.test(body)) value = BigInt(body);
  if (value === undefined) throw rubyError(`invalid value for Integer(): ${JSON.stringify(text)}`);
  return negative ? -value : value;
}

function utcDate(year: number, month: number, day: number): Date {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return date;
}

/**
 * Date.strptime(text, '%Y-%m-%d') validity: Ruby's Date uses the Julian calendar before
 * 1582-10-15 (Date::ITALY), so 1500-02-29 exists and 1582-10-10 does not.
 */
function parseDate(text: string): RubyScalar | undefined {
  const [year, month, day] = text.split('-').map((part) => Number.parseInt(part, 10)) as [number, number, number];
  if (month < 1 || month > 12 || day < 1) return undefined;
  const julian = year < 1582 || (year === 1582 && (month < 10 || (month === 10 && day < 15)));
  if (year === 1582 && month === 10 && day > 4 && day < 15) return undefined;
  const leap = julian ? year % 4 === 0 : (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  if (day > days) return undefined;
  return { type: 'time', value: utcDate(year, month, day), text };
}

/**
 * Psych::ScalarScanner#parse_time, which builds Time.utc(...) or Time.new(..., offset); Ruby
 * raises ArgumentError (and Psych keeps the string) when a field is out of range.
 */
function parseTime(text: string): RubyScalar | undefined {
  const separator = text.search(/[ tT]/);
  if (separator === -1) throw rubyError("undefined method `match' for nil:NilClass");
  const datePart = text.slice(0, separator);
  const timePart = text.slice(separator + 1);
  const dateMatch = /^(-?\d{4})-(\d{1,2})-(\d{1,2})/.exec(datePart);
  const timeMatch = /(\d+:\d+:\d+)(?:\.(\d*))?\s*(Z|[-+]\d+(:\d\d)?)?/.exec(timePart);
  if (!dateMatch || !timeMatch) throw rubyError("undefined method `captures' for nil:NilClass");
  const [year, month, day] = [dateMatch[1], dateMatch[2], dateMatch[3]].map((part) => Number.parseInt(part ?? '0', 10)) as [
    number,
    number,
    number,
  ];
  const [hour, minute, second] = (timeMatch[1] ?? '').split(':').map((part) => Number.parseInt(part, 10)) as [
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 || minute > 59 || second > 60) return undefined;
  if (hour === 24 && (minute > 0 || second > 0)) return undefined;
  const millis = Number.parseInt(`${timeMatch[2] ?? ''}000`.slice(0, 3), 10);
  const date = utcDate(year, month, day);
  date.setUTCHours(hour, minute, second, millis);
  const zone = timeMatch[3];
  if (zone !== undefined && zone !== 'Z') {
    const tz = /^([+-]?\d{1,2}):?(\d{1,2})?$/.exec(zone);
    if (!tz) throw rubyError("undefined method `[]' for nil:NilClass");
    const hours = Number.parseInt(tz[1] ?? '0', 10);
    const minutes = tz[2] === undefined ? 0 : Number.parseInt(tz[2], 10);
    let offset = hours * 3600;
    offset += offset < 0 ? -minutes * 60 : minutes * 60;
    if (offset <= -86400 || offset >= 86400) return undefined;
    date.setTime(date.getTime() - offset * 1000);
  }
  return { type: 'time', value: date, text };
}

/**
 * A Ruby Float kept apart from integers, for output that prints values as Ruby would (`1.0` stays
 * `1.0`, `1e3` as a !!float is `1000.0`). Only when asked for (PsychLoadOptions.rubyFloats).
 */
export class RubyFloat {
  constructor(readonly value: number) {}

  /** Ruby's Float#to_s: 1.0, 1000.0, 1.0e+20, Infinity, NaN. */
  toString(): string {
    return rubyFloatToS(this.value);
  }
}

/** Ruby's Float#to_s, used when a float becomes a mapping key. */
export function rubyFloatToS(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const [mantissa = '0', exponentText = '0'] = Math.abs(value).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exponent = Number.parseInt(exponentText, 10);
  const sign = value < 0 ? '-' : '';
  if (exponent < -4 || exponent >= 16) {
    const fraction = digits.length > 1 ? digits.slice(1) : '0';
    const magnitude = String(Math.abs(exponent)).padStart(2, '0');
    return `${sign}${digits[0]}.${fraction}e${exponent < 0 ? '-' : '+'}${magnitude}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fraction = digits.slice(exponent + 1) || '0';
  return `${sign}${whole}.${fraction}`;
}

