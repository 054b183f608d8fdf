import { PsychError } from './psych_error.ts';

// A scanner that follows libyaml 0.2.5's scanner.c token by token: the same simple-key
// bookkeeping, indentation stack (BLOCK-END tokens), flow levels, tab rules and scalar folding,
// and the same error messages with their problem and context marks. Written from the YAML 1.1
// spec and libyaml's observable behaviour (checked against Ruby's Psych in the tests).
//
// Marks count lines and columns as libyaml does: a column is one per Unicode character (not per
// UTF-16 unit), line breaks are \n, \r\n, \r, NEL, LS and PS. `index` is the UTF-16 offset in the
// text and `chars` the number of characters before it (libyaml's mark.index).

export interface Mark {
  index: number;
  chars: number;
  line: number;
  column: number;
}

/**
 * A Mark as the scanner makes them, one per token: built by a constructor rather than a literal, which
 * V8 allocates without an allocation memento (a fifth of a mark's size on the young heap).
 */
class ScannerMark implements Mark {
  declare index: number;
  declare chars: number;
  declare line: number;
  declare column: number;
  constructor(index: number, chars: number, line: number, column: number) {
    this.index = index;
    this.chars = chars;
    this.line = line;
    this.column = column;
  }
}

export const enum T {
  StreamStart,
  StreamEnd,
  VersionDirective,
  TagDirective,
  DocumentStart,
  DocumentEnd,
  BlockSequenceStart,
  BlockMappingStart,
  BlockEnd,
  FlowSequenceStart,
  FlowSequenceEnd,
  FlowMappingStart,
  FlowMappingEnd,
  BlockEntry,
  FlowEntry,
  Key,
  Value,
  Alias,
  Anchor,
  Tag,
  Scalar,
}

export const enum Style {
  Plain = 1,
  Single = 2,
  Double = 3,
  Literal = 4,
  Folded = 5,
}

export interface Token {
  type: T;
  start: Mark;
  /** Only where it is not one character past `start` (a key found after the fact is empty); see endOf. */
  end?: Mark;
  /** Scalar text, anchor or alias name, tag suffix, %TAG prefix. */
  value?: string;
  /** Tag handle, %TAG handle. */
  handle?: string;
  style?: Style;
  major?: number;
  minor?: number;
}

interface SimpleKey {
  possible: boolean;
  required: boolean;
  tokenNumber: number;
  mark: Mark;
}

/** A libyaml error as Psych reports it: `<problem> <context> at line L column C` (context mark). */
/** Where a token ends: one character past its start unless the scanner said otherwise. */
export function endOf(token: Token): Mark {
  if (token.end !== undefined) return token.end;
  const start = token.start;
  return new ScannerMark(start.index + 1, start.chars + 1, start.line, start.column + 1);
}

export function syntaxError(context: string | undefined, contextMark: Mark | undefined, problem: string, problemMark: Mark): PsychError {
  const reason = context === undefined ? problem : `${problem} ${context}`;
  const error = new PsychError('syntax', reason, problemMark.index);
  // A parser error without context leaves libyaml's context mark unset: Psych prints line 1 column 1.
  error.mark = contextMark === undefined ? { line: 1, column: 1 } : { line: contextMark.line + 1, column: contextMark.column + 1 };
  error.problemMark = { line: problemMark.line + 1, column: problemMark.column + 1 };
  return error;
}

function isBreakCode(c: number): boolean {
  return c === 10 || c === 13 || c === 0x85 || c === 0x2028 || c === 0x2029;
}
function isAlphaCode(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45;
}
function isHexCode(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}
function hexValue(c: number): number {
  return c >= 97 ? c - 87 : c >= 65 ? c - 55 : c - 48;
}

// Runs of characters read the same way, matched natively (sticky): a short-lived CLI runs this code
// cold, where a regular expression is much faster than a loop over characters.
const COMMENT_RUN = /[^\r\n\u0085\u2028\u2029\0]+/y;
const SPACE_RUN = / +/y;
const PLAIN_RUN_BLOCK = /(?:[^ \t\r\n\u0085\u2028\u2029:\0]|:(?![ \t\r\n\u0085\u2028\u2029\0]))+/y;
const PLAIN_RUN_FLOW = /(?:[^ \t\r\n\u0085\u2028\u2029:\0,[\]{}]|:(?![ \t\r\n\u0085\u2028\u2029\0,?[\]{}]))+/y;
const SINGLE_RUN = /[^' \t\r\n\u0085\u2028\u2029\0]+/y;
const DOUBLE_RUN = /[^"\\ \t\r\n\u0085\u2028\u2029\0]+/y;
const SURROGATE = /[\uD800-\uDBFF]/;
// The part of a block plain scalar on its first line, as scanPlainScalar's loop would read it: its
// first character (already known to start a plain scalar), then runs of characters separated by
// blanks, a run never starting with '#' (a comment) or ': ' (a value). Trailing blanks are not part of it.
// Written as runs of characters other than ':' with a ':' (not before a blank) between them, which
// V8 matches without backtracking state for each character.
const NOT_PLAIN = ' \\t\\r\\n\\u0085\\u2028\\u2029\\0';
const PLAIN_TAIL = `[^${NOT_PLAIN}:]*(?::(?![${NOT_PLAIN}])[^${NOT_PLAIN}:]*)*`;
const PLAIN_LINE_BLOCK = new RegExp(`[^]${PLAIN_TAIL}(?:[ \\t]+(?:[^${NOT_PLAIN}:#]|:(?![${NOT_PLAIN}]))${PLAIN_TAIL})*`, 'y');

/** Characters (code points) in a run of UTF-16 text. */
function charCount(run: string): number {
  if (!SURROGATE.test(run)) return run.length;
  let count = 0;
  for (const _ of run) count++;
  return count;
}

const INDICATORS = new Uint8Array(128);
for (const ch of '-?:,[]{}#&*!|>\'"%@`') INDICATORS[ch.charCodeAt(0)] = 1;

const PLAIN_START = new Uint8Array(128);
for (const ch of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_/') PLAIN_START[ch.charCodeAt(0)] = 1;

// URI characters of scan_tag_uri.
const URI_CHARS = new Set([...";/?:@&=+$,.!~*'()[]%"].map((ch) => ch.charCodeAt(0)));

export class Scanner {
  private readonly text: string;
  private readonly length: number;
  /** Whether any character takes two UTF-16 units (then a column is not a unit). */
  private readonly astral: boolean;
  private pos = 0;
  private chars = 0;
  private line = 0;
  private column = 0;

  private readonly tokens: Token[] = [];
  private head = 0;
  /** Whether the token at `head` is known to be final (see peek). */
  private ready = false;
  tokensParsed = 0;
  private streamStartProduced = false;
  private streamEndProduced = false;
  private indent = -1;
  private readonly indents: number[] = [];
  private simpleKeyAllowed = false;
  private readonly simpleKeys: SimpleKey[] = [];
  private flowLevel = 0;

  /** `text` must hold no NUL (the reader refuses control characters first): a NUL marks the end, as in libyaml. */
  constructor(text: string) {
    this.text = `${text}\0`;
    this.length = text.length;
    this.astral = SURROGATE.test(text);
  }

  // ---- reading -------------------------------------------------------------------------------

  /** The UTF-16 code k units ahead; 0 at the end (NaN further on, which matches nothing). */
  private code(k = 0): number {
    return this.text.charCodeAt(this.pos + k);
  }
  private isZ(k = 0): boolean {
    return this.pos + k >= this.length;
  }
  private isBlank(k = 0): boolean {
    const c = this.code(k);
    return c === 32 || c === 9;
  }
  private isBreak(k = 0): boolean {
    return isBreakCode(this.code(k));
  }
  private isBlankZ(k = 0): boolean {
    const c = this.code(k);
    return this.pos + k >= this.length || c === 32 || c === 9 || c === 10 || c === 13 || c === 0x85 || c === 0x2028 || c === 0x2029;
  }
  mark(): Mark {
    return new ScannerMark(this.pos, this.chars, this.line, this.column);
  }

  private skip(): void {
    const c = this.text.charCodeAt(this.pos);
    this.pos += c >= 0xd800 && c <= 0xdbff && this.pos + 1 < this.length ? 2 : 1;
    this.chars++;
    this.column++;
  }

  /** Skips to the next line break or the end (a comment's text). */
  private skipToBreak(): void {
    this.skipRun(COMMENT_RUN);
  }

  /** Skips the run `pattern` matches here; returns its start, or -1 when nothing matched. */
  private skipRun(pattern: RegExp): number {
    const start = this.pos;
    pattern.lastIndex = start;
    if (!pattern.test(this.text)) return -1;
    const end = pattern.lastIndex;
    const count = this.astral ? charCount(this.text.slice(start, end)) : end - start;
    this.pos = end;
    this.chars += count;
    this.column += count;
    return start;
  }

  private skipN(n: number): void {
    for (let i = 0; i < n; i++) this.skip();
  }
  private skipLine(): void {
    const c = this.code();
    if (c === 13 && this.code(1) === 10) {
      this.pos += 2;
      this.chars += 2;
      this.column = 0;
      this.line++;
    } else if (isBreakCode(c)) {
      this.pos++;
      this.chars++;
      this.column = 0;
      this.line++;
    }
  }
  /** Reads the current character into the result. */
  private read(): string {
    const start = this.pos;
    this.skip();
    return this.text.slice(start, this.pos);
  }
  /** READ_LINE: a line break as libyaml copies it (\r\n, \r, \n, NEL become \n). */
  private readLine(): string {
    const c = this.code();
    if (c === 13 && this.code(1) === 10) {
      this.skipLine();
      return '\n';
    }
    if (c === 13 || c === 10 || c === 0x85) {
      this.skipLine();
      return '\n';
    }
    if (c === 0x2028 || c === 0x2029) {
      this.skipLine();
      return String.fromCharCode(c);
    }
    return '';
  }

  // ---- the token queue -----------------------------------------------------------------------

  peek(): Token {
    // needMoreTokens depends only on the scanner's state, which nothing but fetching and skipToken change:
    // once it said no, it says no again until the next skipToken.
    if (!this.ready) {
      if (this.head >= this.tokens.length || this.needMoreTokens()) this.fetchMoreTokens();
      this.ready = true;
    }
    return this.tokens[this.head] as Token;
  }

  skipToken(): void {
    this.tokensParsed++;
    this.head++;
    this.ready = false;
    // Emptied now and then rather than at every token: emptying frees the array's storage.
    if (this.head === this.tokens.length && this.head >= 64) {
      this.tokens.length = 0;
      this.head = 0;
    }
  }

  private queued(): number {
    return this.tokens.length - this.head;
  }

  private enqueue(token: Token): void {
    this.tokens.push(token);
  }

  private insertToken(number: number, token: Token): void {
    this.tokens.splice(this.head + number - this.tokensParsed, 0, token);
  }

  private needMoreTokens(): boolean {
    if (this.head === this.tokens.length) return true;
    this.staleSimpleKeys();
    const keys = this.simpleKeys;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as SimpleKey;
      if (key.possible && key.tokenNumber === this.tokensParsed) return true;
    }
    return false;
  }

  /** Called only where needMoreTokens() has just said yes (asking again would repeat staleSimpleKeys for nothing). */
  private fetchMoreTokens(): void {
    do {
      if (this.streamEndProduced) return;
      this.fetchNextToken();
    } while (this.needMoreTokens());
  }

  private staleSimpleKeys(): void {
    const keys = this.simpleKeys;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as SimpleKey;
      if (key.possible && (key.mark.line < this.line || key.mark.chars + 1024 < this.chars)) {
        if (key.required) throw syntaxError('while scanning a simple key', key.mark, "could not find expected ':'", this.mark());
        key.possible = false;
      }
    }
  }

  /** `here`, when given, is this.mark() (marks are never changed, so one can serve twice). */
  private saveSimpleKey(here?: Mark): void {
    const required = this.flowLevel === 0 && this.indent === this.column;
    if (this.simpleKeyAllowed) {
      this.removeSimpleKey();
      const top = this.simpleKeys[this.simpleKeys.length - 1] as SimpleKey;
      top.possible = true;
      top.required = required;
      top.tokenNumber = this.tokensParsed + this.queued();
      top.mark = here ?? this.mark();
    }
  }

  private removeSimpleKey(): void {
    const key = this.simpleKeys[this.simpleKeys.length - 1] as SimpleKey;
    if (key.possible && key.required) throw syntaxError('while scanning a simple key', key.mark, "could not find expected ':'", this.mark());
    key.possible = false;
  }

  private increaseFlowLevel(): void {
    this.simpleKeys.push({ possible: false, required: false, tokenNumber: 0, mark: this.mark() });
    this.flowLevel++;
  }

  private decreaseFlowLevel(): void {
    if (this.flowLevel > 0) {
      this.flowLevel--;
      this.simpleKeys.pop();
    }
  }

  private rollIndent(column: number, number: number, type: T, mark: Mark): void {
    if (this.flowLevel > 0) return;
    if (this.indent < column) {
      this.indents.push(this.indent);
      this.indent = column;
      const token: Token = { type, start: mark };
      if (number === -1) this.enqueue(token);
      else this.insertToken(number, token);
    }
  }

  private unrollIndent(column: number): void {
    if (this.flowLevel > 0) return;
    while (this.indent > column) {
      const mark = this.mark();
      this.enqueue({ type: T.BlockEnd, start: mark });
      this.indent = this.indents.pop() as number;
    }
  }

  private fetchNextToken(): void {
    if (!this.streamStartProduced) {
      this.indent = -1;
      this.simpleKeys.push({ possible: false, required: false, tokenNumber: 0, mark: this.mark() });
      this.simpleKeyAllowed = true;
      this.streamStartProduced = true;
      const mark = this.mark();
      this.enqueue({ type: T.StreamStart, start: mark });
      return;
    }
    this.scanToNextToken();
    this.staleSimpleKeys();
    this.unrollIndent(this.column);
    if (this.isZ()) return this.fetchStreamEnd();
    const c = this.code();
    // Most tokens are plain scalars starting with a letter, digit, '_' or '/': none of the tests below
    // would take them (the indicators, '%', '-', '.', blanks and breaks are none of these).
    if (c < 128 && PLAIN_START[c] === 1) return this.fetchPlainScalar();
    if (this.column === 0) {
      if (c === 37) return this.fetchDirective();
      if (c === 45 && this.code(1) === 45 && this.code(2) === 45 && this.isBlankZ(3)) return this.fetchDocumentIndicator(T.DocumentStart);
      if (c === 46 && this.code(1) === 46 && this.code(2) === 46 && this.isBlankZ(3)) return this.fetchDocumentIndicator(T.DocumentEnd);
    }
    switch (c) {
      case 91:
        return this.fetchFlowCollectionStart(T.FlowSequenceStart);
      case 123:
        return this.fetchFlowCollectionStart(T.FlowMappingStart);
      case 93:
        return this.fetchFlowCollectionEnd(T.FlowSequenceEnd);
      case 125:
        return this.fetchFlowCollectionEnd(T.FlowMappingEnd);
      case 44:
        return this.fetchFlowEntry();
    }
    if (c === 45 && this.isBlankZ(1)) return this.fetchBlockEntry();
    if (c === 63 && (this.flowLevel > 0 || this.isBlankZ(1))) return this.fetchKey();
    if (c === 58 && (this.flowLevel > 0 || this.isBlankZ(1))) return this.fetchValue();
    if (c === 42) return this.fetchAnchor(T.Alias);
    if (c === 38) return this.fetchAnchor(T.Anchor);
    if (c === 33) return this.fetchTag();
    if (c === 124 && this.flowLevel === 0) return this.fetchBlockScalar(true);
    if (c === 62 && this.flowLevel === 0) return this.fetchBlockScalar(false);
    if (c === 39) return this.fetchFlowScalar(true);
    if (c === 34) return this.fetchFlowScalar(false);
    const indicator = c < 128 && INDICATORS[c] === 1;
    if (
      !(this.isBlankZ() || indicator) ||
      (c === 45 && !this.isBlank(1)) ||
      (this.flowLevel === 0 && (c === 63 || c === 58) && !this.isBlankZ(1))
    ) {
      return this.fetchPlainScalar();
    }
    throw syntaxError('while scanning for the next token', this.mark(), 'found character that cannot start any token', this.mark());
  }

  private scanToNextToken(): void {
    const text = this.text;
    for (;;) {
      if (this.column === 0 && text.charCodeAt(this.pos) === 0xfeff) this.skip();
      for (;;) {
        const c = text.charCodeAt(this.pos);
        if (c === 32) this.skipRun(SPACE_RUN);
        else if (c === 9 && (this.flowLevel > 0 || !this.simpleKeyAllowed)) this.skip();
        else break;
      }
      let c = text.charCodeAt(this.pos);
      if (c === 35) {
        this.skipToBreak();
        c = text.charCodeAt(this.pos);
      }
      if (c === 10) {
        this.pos++;
        this.chars++;
        this.column = 0;
        this.line++;
        if (this.flowLevel === 0) this.simpleKeyAllowed = true;
      } else if (this.pos < this.length && isBreakCode(c)) {
        this.skipLine();
        if (this.flowLevel === 0) this.simpleKeyAllowed = true;
      } else break;
    }
  }

  private fetchStreamEnd(): void {
    if (this.column !== 0) {
      this.column = 0;
      this.line++;
    }
    this.unrollIndent(-1);
    this.removeSimpleKey();
    this.simpleKeyAllowed = false;
    const mark = this.mark();
    this.enqueue({ type: T.StreamEnd, start: mark });
    this.streamEndProduced = true;
  }

  private fetchDirective(): void {
    this.unrollIndent(-1);
    this.removeSimpleKey();
    this.simpleKeyAllowed = false;
    this.enqueue(this.scanDirective());
  }

  private fetchDocumentIndicator(type: T): void {
    this.unrollIndent(-1);
    this.removeSimpleKey();
    this.simpleKeyAllowed = false;
    const start = this.mark();
    this.skipN(3);
    this.enqueue({ type, start });
  }

  private fetchFlowCollectionStart(type: T): void {
    this.saveSimpleKey();
    this.increaseFlowLevel();
    this.simpleKeyAllowed = true;
    const start = this.mark();
    this.skip();
    this.enqueue({ type, start });
  }

  private fetchFlowCollectionEnd(type: T): void {
    this.removeSimpleKey();
    this.decreaseFlowLevel();
    this.simpleKeyAllowed = false;
    const start = this.mark();
    this.skip();
    this.enqueue({ type, start });
  }

  private fetchFlowEntry(): void {
    this.removeSimpleKey();
    this.simpleKeyAllowed = true;
    const start = this.mark();
    this.skip();
    this.enqueue({ type: T.FlowEntry, start });
  }

  private fetchBlockEntry(): void {
    if (this.flowLevel === 0) {
      if (!this.simpleKeyAllowed) throw syntaxError(undefined, this.mark(), 'block sequence entries are not allowed in this context', this.mark());
      this.rollIndent(this.column, -1, T.BlockSequenceStart, this.mark());
    }
    this.removeSimpleKey();
    this.simpleKeyAllowed = true;
    const start = this.mark();
    this.skip();
    this.enqueue({ type: T.BlockEntry, start });
  }

  private fetchKey(): void {
    if (this.flowLevel === 0) {
      if (!this.simpleKeyAllowed) throw syntaxError(undefined, this.mark(), 'mapping keys are not allowed in this context', this.mark());
      this.rollIndent(this.column, -1, T.BlockMappingStart, this.mark());
    }
    this.removeSimpleKey();
    this.simpleKeyAllowed = this.flowLevel === 0;
    const start = this.mark();
    this.skip();
    this.enqueue({ type: T.Key, start });
  }

  private fetchValue(): void {
    const key = this.simpleKeys[this.simpleKeys.length - 1] as SimpleKey;
    if (key.possible) {
      this.insertToken(key.tokenNumber, { type: T.Key, start: key.mark, end: key.mark });
      this.rollIndent(key.mark.column, key.tokenNumber, T.BlockMappingStart, key.mark);
      key.possible = false;
      this.simpleKeyAllowed = false;
    } else {
      if (this.flowLevel === 0) {
        if (!this.simpleKeyAllowed) throw syntaxError(undefined, this.mark(), 'mapping values are not allowed in this context', this.mark());
        this.rollIndent(this.column, -1, T.BlockMappingStart, this.mark());
      }
      this.simpleKeyAllowed = this.flowLevel === 0;
    }
    const start = this.mark();
    this.skip();
    this.enqueue({ type: T.Value, start });
  }

  private fetchAnchor(type: T): void {
    this.saveSimpleKey();
    this.simpleKeyAllowed = false;
    this.enqueue(this.scanAnchor(type));
  }

  private fetchTag(): void {
    this.saveSimpleKey();
    this.simpleKeyAllowed = false;
    this.enqueue(this.scanTag());
  }

  private fetchBlockScalar(literal: boolean): void {
    this.removeSimpleKey();
    this.simpleKeyAllowed = true;
    this.enqueue(this.scanBlockScalar(literal));
  }

  private fetchFlowScalar(single: boolean): void {
    const start = this.mark();
    this.saveSimpleKey(start);
    this.simpleKeyAllowed = false;
    this.enqueue(this.scanFlowScalar(single, start));
  }

  private fetchPlainScalar(): void {
    const start = this.mark();
    this.saveSimpleKey(start);
    this.simpleKeyAllowed = false;
    this.enqueue(this.scanPlainScalar(start));
  }

  // ---- directives ----------------------------------------------------------------------------

  private scanDirective(): Token {
    const start = this.mark();
    this.skip();
    const name = this.scanDirectiveName(start);
    let token: Token;
    if (name === 'YAML') {
      while (this.isBlank()) this.skip();
      const major = this.scanVersionNumber(start);
      if (this.code() !== 46) throw syntaxError('while scanning a %YAML directive', start, "did not find expected digit or '.' character", this.mark());
      this.skip();
      const minor = this.scanVersionNumber(start);
      token = { type: T.VersionDirective, start, major, minor };
    } else if (name === 'TAG') {
      while (this.isBlank()) this.skip();
      const handle = this.scanTagHandle(true, start);
      if (!this.isBlank()) throw syntaxError('while scanning a %TAG directive', start, 'did not find expected whitespace', this.mark());
      while (this.isBlank()) this.skip();
      const prefix = this.scanTagUri(true, true, undefined, start);
      if (!this.isBlankZ()) throw syntaxError('while scanning a %TAG directive', start, 'did not find expected whitespace or line break', this.mark());
      token = { type: T.TagDirective, start, handle, value: prefix };
    } else {
      throw syntaxError('while scanning a directive', start, 'found unknown directive name', this.mark());
    }
    while (this.isBlank()) this.skip();
    if (this.code() === 35) this.skipToBreak();
    if (!this.isZ() && !this.isBreak()) throw syntaxError('while scanning a directive', start, 'did not find expected comment or line break', this.mark());
    this.skipLine();
    return token;
  }

  private scanDirectiveName(start: Mark): string {
    let name = '';
    while (!this.isZ() && isAlphaCode(this.code())) name += this.read();
    if (name === '') throw syntaxError('while scanning a directive', start, 'could not find expected directive name', this.mark());
    if (!this.isBlankZ()) throw syntaxError('while scanning a directive', start, 'found unexpected non-alphabetical character', this.mark());
    return name;
  }

  private scanVersionNumber(start: Mark): number {
    let value = 0;
    let length = 0;
    while (this.code() >= 48 && this.code() <= 57 && !this.isZ()) {
      if (++length > 9) throw syntaxError('while scanning a %YAML directive', start, 'found extremely long version number', this.mark());
      value = value * 10 + (this.code() - 48);
      this.skip();
    }
    if (length === 0) throw syntaxError('while scanning a %YAML directive', start, 'did not find expected version number', this.mark());
    return value;
  }

  // ---- anchors and tags ----------------------------------------------------------------------

  private scanAnchor(type: T): Token {
    const start = this.mark();
    this.skip();
    let name = '';
    while (!this.isZ() && isAlphaCode(this.code())) name += this.read();
    const c = this.code();
    if (name === '' || !(this.isBlankZ() || c === 63 || c === 58 || c === 44 || c === 93 || c === 125 || c === 37 || c === 64 || c === 96)) {
      throw syntaxError(
        type === T.Anchor ? 'while scanning an anchor' : 'while scanning an alias',
        start,
        'did not find expected alphabetic or numeric character',
        this.mark(),
      );
    }
    return { type, start, value: name };
  }

  private scanTag(): Token {
    const start = this.mark();
    let handle: string;
    let suffix: string;
    if (this.code(1) === 60) {
      handle = '';
      this.skipN(2);
      suffix = this.scanTagUri(true, false, undefined, start);
      if (this.code() !== 62) throw syntaxError('while scanning a tag', start, "did not find the expected '>'", this.mark());
      this.skip();
    } else {
      handle = this.scanTagHandle(false, start);
      if (handle.length > 1 && handle.startsWith('!') && handle.endsWith('!')) {
        suffix = this.scanTagUri(false, false, undefined, start);
      } else {
        suffix = this.scanTagUri(false, false, handle, start);
        handle = '!';
        if (suffix === '') {
          handle = '';
          suffix = '!';
        }
      }
    }
    if (!this.isBlankZ()) {
      if (this.flowLevel === 0 || this.code() !== 44) {
        throw syntaxError('while scanning a tag', start, 'did not find expected whitespace or line break', this.mark());
      }
    }
    return { type: T.Tag, start, handle, value: suffix };
  }

  private scanTagHandle(directive: boolean, start: Mark): string {
    if (this.code() !== 33) {
      throw syntaxError(directive ? 'while scanning a tag directive' : 'while scanning a tag', start, "did not find expected '!'", this.mark());
    }
    let handle = this.read();
    while (!this.isZ() && isAlphaCode(this.code())) handle += this.read();
    if (this.code() === 33 && !this.isZ()) handle += this.read();
    else if (directive && handle !== '!') {
      throw syntaxError('while parsing a tag directive', start, "did not find expected '!'", this.mark());
    }
    return handle;
  }

  private scanTagUri(uriChar: boolean, directive: boolean, head: string | undefined, start: Mark): string {
    let length = head === undefined ? 0 : head.length;
    const bytes: number[] = [];
    let result = head === undefined ? '' : head.slice(1);
    for (;;) {
      if (this.isZ()) break;
      const c = this.code();
      const ok = isAlphaCode(c) || (URI_CHARS.has(c) && (uriChar || (c !== 44 && c !== 91 && c !== 93)));
      if (!ok) break;
      if (c === 37) {
        bytes.length = 0;
        this.scanUriEscapes(directive, start, bytes);
        result += new TextDecoder().decode(Uint8Array.from(bytes));
      } else {
        result += this.read();
      }
      length++;
    }
    if (length === 0) {
      throw syntaxError(directive ? 'while parsing a %TAG directive' : 'while parsing a tag', start, 'did not find expected tag URI', this.mark());
    }
    return result;
  }

  private scanUriEscapes(directive: boolean, start: Mark, bytes: number[]): void {
    const context = directive ? 'while parsing a %TAG directive' : 'while parsing a tag';
    let width = 0;
    do {
      if (!(this.code() === 37 && isHexCode(this.code(1)) && isHexCode(this.code(2)))) {
        throw syntaxError(context, start, 'did not find URI escaped octet', this.mark());
      }
      const octet = (hexValue(this.code(1)) << 4) + hexValue(this.code(2));
      if (width === 0) {
        width = (octet & 0x80) === 0 ? 1 : (octet & 0xe0) === 0xc0 ? 2 : (octet & 0xf0) === 0xe0 ? 3 : (octet & 0xf8) === 0xf0 ? 4 : 0;
        if (width === 0) throw syntaxError(context, start, 'found an incorrect leading UTF-8 octet', this.mark());
      } else if ((octet & 0xc0) !== 0x80) {
        throw syntaxError(context, start, 'found an incorrect trailing UTF-8 octet', this.mark());
      }
      bytes.push(octet);
      this.skipN(3);
    } while (--width > 0);
  }

  // ---- scalars -------------------------------------------------------------------------------

  private scanBlockScalar(literal: boolean): Token {
    const start = this.mark();
    this.skip();
    let chomping = 0;
    let increment = 0;
    const context = 'while scanning a block scalar';
    let c = this.code();
    if (c === 43 || c === 45) {
      chomping = c === 43 ? 1 : -1;
      this.skip();
      c = this.code();
      if (c >= 48 && c <= 57) {
        if (c === 48) throw syntaxError(context, start, 'found an indentation indicator equal to 0', this.mark());
        increment = c - 48;
        this.skip();
      }
    } else if (c >= 48 && c <= 57) {
      if (c === 48) throw syntaxError(context, start, 'found an indentation indicator equal to 0', this.mark());
      increment = c - 48;
      this.skip();
      c = this.code();
      if (c === 43 || c === 45) {
        chomping = c === 43 ? 1 : -1;
        this.skip();
      }
    }
    while (this.isBlank()) this.skip();
    if (this.code() === 35) this.skipToBreak();
    if (!this.isZ() && !this.isBreak()) throw syntaxError(context, start, 'did not find expected comment or line break', this.mark());
    if (this.isBreak()) this.skipLine();
    let indent = 0;
    if (increment) indent = this.indent >= 0 ? this.indent + increment : increment;
    let value = '';
    let leadingBreak = '';
    let trailingBreaks = '';
    let leadingBlank = false;
    let trailingBlank = false;
    const breaks = (): void => {
      let maxIndent = 0;
      for (;;) {
        while ((indent === 0 || this.column < indent) && this.code() === 32 && !this.isZ()) this.skip();
        if (this.column > maxIndent) maxIndent = this.column;
        if ((indent === 0 || this.column < indent) && this.code() === 9 && !this.isZ()) {
          throw syntaxError(context, start, 'found a tab character where an indentation space is expected', this.mark());
        }
        if (this.isZ() || !this.isBreak()) break;
        trailingBreaks += this.readLine();
      }
      if (indent === 0) {
        indent = maxIndent;
        if (indent < this.indent + 1) indent = this.indent + 1;
        if (indent < 1) indent = 1;
      }
    };
    breaks();
    while (this.column === indent && !this.isZ()) {
      trailingBlank = this.isBlank();
      if (!literal && leadingBreak.startsWith('\n') && !leadingBlank && !trailingBlank) {
        if (trailingBreaks === '') value += ' ';
        leadingBreak = '';
      } else {
        value += leadingBreak;
        leadingBreak = '';
      }
      value += trailingBreaks;
      trailingBreaks = '';
      leadingBlank = this.isBlank();
      const from = this.pos;
      while (!this.isZ() && !this.isBreak()) this.skip();
      value += this.text.slice(from, this.pos);
      if (this.isZ()) {
        // libyaml's buffer ends in NUL: nothing more to read.
      }
      leadingBreak = this.readLine();
      breaks();
    }
    if (chomping !== -1) value += leadingBreak;
    if (chomping === 1) value += trailingBreaks;
    return { type: T.Scalar, start, value, style: literal ? Style.Literal : Style.Folded };
  }

  /** `start` is this.mark(). */
  private scanFlowScalar(single: boolean, start: Mark): Token {
    this.skip();
    let value = '';
    let leadingBreak = '';
    let trailingBreaks = '';
    let whitespaces = '';
    const quote = single ? 39 : 34;
    for (;;) {
      if (this.column === 0) {
        const c = this.code();
        if (
          ((c === 45 && this.code(1) === 45 && this.code(2) === 45) || (c === 46 && this.code(1) === 46 && this.code(2) === 46)) &&
          this.isBlankZ(3)
        ) {
          throw syntaxError('while scanning a quoted scalar', start, 'found unexpected document indicator', this.mark());
        }
      }
      if (this.isZ()) throw syntaxError('while scanning a quoted scalar', start, 'found unexpected end of stream', this.mark());
      let leadingBlanks = false;
      while (!this.isBlankZ()) {
        const c = this.code();
        if (single && c === 39 && this.code(1) === 39) {
          value += "'";
          this.skipN(2);
        } else if (c === quote) {
          break;
        } else if (!single && c === 92 && this.isBreak(1)) {
          this.skip();
          this.skipLine();
          leadingBlanks = true;
          break;
        } else if (!single && c === 92) {
          let codeLength = 0;
          const e = this.code(1);
          switch (e) {
            case 48: value += '\0'; break;
            case 97: value += '\x07'; break;
            case 98: value += '\b'; break;
            case 116: case 9: value += '\t'; break;
            case 110: value += '\n'; break;
            case 118: value += '\v'; break;
            case 102: value += '\f'; break;
            case 114: value += '\r'; break;
            case 101: value += '\x1b'; break;
            case 32: value += ' '; break;
            case 34: value += '"'; break;
            case 47: value += '/'; break;
            case 39: value += "'"; break;
            case 92: value += '\\'; break;
            case 78: value += '\x85'; break;
            case 95: value += '\xa0'; break;
            case 76: value += '\u2028'; break;
            case 80: value += '\u2029'; break;
            case 120: codeLength = 2; break;
            case 117: codeLength = 4; break;
            case 85: codeLength = 8; break;
            default:
              throw syntaxError('while parsing a quoted scalar', start, 'found unknown escape character', this.mark());
          }
          this.skipN(2);
          if (codeLength) {
            let code = 0;
            for (let k = 0; k < codeLength; k++) {
              if (this.pos + k >= this.length || !isHexCode(this.code(k))) {
                throw syntaxError('while parsing a quoted scalar', start, 'did not find expected hexdecimal number', this.mark());
              }
              code = code * 16 + hexValue(this.code(k));
            }
            if ((code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) {
              throw syntaxError('while parsing a quoted scalar', start, 'found invalid Unicode character escape code', this.mark());
            }
            value += String.fromCodePoint(code);
            this.skipN(codeLength);
          }
        } else {
          const from = this.skipRun(single ? SINGLE_RUN : DOUBLE_RUN);
          if (from === -1) value += this.read();
          else value += this.text.slice(from, this.pos);
        }
      }
      if (!this.isZ() && this.code() === quote) break;
      while (!this.isZ() && (this.isBlank() || this.isBreak())) {
        if (this.isBlank()) {
          if (!leadingBlanks) whitespaces += this.read();
          else this.skip();
        } else if (!leadingBlanks) {
          whitespaces = '';
          leadingBreak = this.readLine();
          leadingBlanks = true;
        } else {
          trailingBreaks += this.readLine();
        }
      }
      if (leadingBlanks) {
        if (leadingBreak.startsWith('\n')) {
          value += trailingBreaks === '' ? ' ' : trailingBreaks;
        } else {
          value += leadingBreak + trailingBreaks;
        }
        leadingBreak = '';
        trailingBreaks = '';
      } else {
        value += whitespaces;
        whitespaces = '';
      }
    }
    this.skip();
    return { type: T.Scalar, start, value, style: single ? Style.Single : Style.Double };
  }

  /** `start` is this.mark(). */
  private scanPlainScalar(start: Mark): Token {
    let value = '';
    let leadingBreak = '';
    let trailingBreaks = '';
    let whitespaces = '';
    let leadingBlanks = false;
    const indent = this.indent + 1;
    const flow = this.flowLevel > 0;
    let runStart = -1;
    // The runs of the first line in one match where that reads the same (block context, a column per
    // UTF-16 unit): the loop then starts after them, as if its inner loop had just read them.
    let firstLineRead = false;
    if (!flow && !this.astral) {
      PLAIN_LINE_BLOCK.lastIndex = this.pos;
      if (PLAIN_LINE_BLOCK.test(this.text)) {
        const end = PLAIN_LINE_BLOCK.lastIndex;
        value = this.text.slice(this.pos, end);
        this.chars += end - this.pos;
        this.column += end - this.pos;
        this.pos = end;
        firstLineRead = true;
      }
    }
    for (;;) {
      if (firstLineRead) {
        firstLineRead = false;
      } else {
        if (this.column === 0) {
          const c = this.code();
          if (
            ((c === 45 && this.code(1) === 45 && this.code(2) === 45) || (c === 46 && this.code(1) === 46 && this.code(2) === 46)) &&
            this.isBlankZ(3)
          ) {
            break;
          }
        }
        if (this.code() === 35 && !this.isZ()) break;
        const text = this.text;
        for (;;) {
          if (runStart >= 0) this.skipRun(flow ? PLAIN_RUN_FLOW : PLAIN_RUN_BLOCK);
          const c = text.charCodeAt(this.pos);
          if (this.pos >= this.length || c === 32 || c === 9 || c === 10 || c === 13 || c === 0x85 || c === 0x2028 || c === 0x2029) break;
          if (c === 58) {
            const n = text.charCodeAt(this.pos + 1);
            if (flow && (n === 44 || n === 63 || n === 91 || n === 93 || n === 123 || n === 125)) {
              throw syntaxError('while scanning a plain scalar', start, "found unexpected ':'", this.mark());
            }
            if (this.isBlankZ(1)) break;
          } else if (flow && (c === 44 || c === 91 || c === 93 || c === 123 || c === 125)) break;
          if (runStart >= 0) {
            if (c >= 0xd800 && c <= 0xdbff) this.skip();
            else {
              this.pos++;
              this.chars++;
              this.column++;
            }
            continue;
          }
          if (leadingBlanks || whitespaces !== '') {
            if (leadingBlanks) {
              if (leadingBreak.startsWith('\n')) {
                value += trailingBreaks === '' ? ' ' : trailingBreaks;
              } else {
                value += leadingBreak + trailingBreaks;
              }
              leadingBreak = '';
              trailingBreaks = '';
              leadingBlanks = false;
            } else {
              value += whitespaces;
              whitespaces = '';
            }
          }
          runStart = this.pos;
          this.skip();
        }
        if (runStart >= 0) {
          value += this.text.slice(runStart, this.pos);
          runStart = -1;
        }
      }
      if (!(this.isBlank() || this.isBreak()) || this.isZ()) break;
      while (!this.isZ() && (this.isBlank() || this.isBreak())) {
        if (this.text.charCodeAt(this.pos) === 32) {
          // A run of spaces at once: what the branch below does for each of them.
          const from = this.skipRun(SPACE_RUN);
          if (!leadingBlanks) whitespaces += this.text.slice(from, this.pos);
        } else if (this.isBlank()) {
          if (leadingBlanks && this.column < indent && this.code() === 9) {
            throw syntaxError('while scanning a plain scalar', start, 'found a tab character that violates indentation', this.mark());
          }
          if (!leadingBlanks) whitespaces += this.read();
          else this.skip();
        } else if (!leadingBlanks) {
          whitespaces = '';
          leadingBreak = this.readLine();
          leadingBlanks = true;
        } else {
          trailingBreaks += this.readLine();
        }
      }
      if (!flow && this.column < indent) break;
    }
    if (leadingBlanks) this.simpleKeyAllowed = true;
    return { type: T.Scalar, start, value, style: Style.Plain };
  }
}
