import type { CollectionNode, ScalarNode, YamlNode } from './psych_tree.ts';
import { NON_PRINTABLE } from './reader_characters.ts';

// The node tree of a document written in a plain subset of YAML's block style, read a line at a time
// with regular expressions: the shape configuration files have (gitlab.yml is ~1,700 lines of it).
// Reading it with our port of libyaml costs about three times as much on a cold start, when V8 has not
// compiled the scanner yet; a configuration file is read once, cold.
//
// The subset: block mappings with plain keys, block sequences (indentless ones too), comments, blank
// lines, anchors, aliases, one-line scalars (plain, single-quoted, double-quoted without escapes) and
// one-line flow collections of such scalars. Anything else — tabs, CR, other line breaks, a BOM, control
// characters, directives, document markers, tags, block scalars, multi-line scalars, complex, quoted or
// over-long keys, and every mistake — is declined (undefined), and the caller reads the text with the
// full port, which says what libyaml would. Where it does not decline, the tree is the one the full port builds (checked
// by test/unit/yaml_block_subset.test.ts against it on real-size files and their mutations), except
// node offsets, which only error messages use: a caller that meets an error starts again with the port.

/**
 * Characters the subset never reads: those YAML gives rules of their own (tab, CR, NEL, LS, PS, BOM), and
 * those libyaml's reader refuses (a NUL ends its input).
 */
const DECLINED_CHARACTERS = new RegExp(`[\\t\\r\\x85\\u2028\\u2029\\uFEFF]|${NON_PRINTABLE.source}`);
/** `key:` or `key: value` after the indentation. */
const KEY_LINE = /^([A-Za-z0-9_][A-Za-z0-9_./-]*|<<):(?: +(.*))?$/;
const ANCHOR = /^&([A-Za-z0-9_-]+)(?: +(.*))?$/;
const ALIAS = /^\*([A-Za-z0-9_-]+) *(?: #.*)?$/;
const SINGLE_QUOTED = /^'((?:[^']|'')*)' *(?: #.*)?$/;
const DOUBLE_QUOTED = /^"([^"\\]*)" *(?: #.*)?$/;
const EMPTY_FLOW = /^([[{]) *([\]}]) *(?: #.*)?$/;
/** What may start a plain scalar here: not an indicator (a `-` only before a digit, `-1`). */
const PLAIN_START = /^(?:[^-?:,[\]{}#&*!|>'"%@`\s]|-[0-9])/;
/** A scalar inside a one-line flow collection: a plain word, or a quoted string as above. */
const FLOW_SCALAR = /([A-Za-z0-9_][A-Za-z0-9_./+-]*)|'((?:[^']|'')*)'|"([^"\\]*)"/y;
const FLOW_SPACES = / */y;
const FLOW_TAIL = / *(?: #.*)?$/y;
/** Below Psych's own limit (MAX_NESTING_DEPTH): deeper documents go to the full port, which reports it. */
const MAX_DEPTH = 400;
/** libyaml gives up on a simple key longer than this (1024 characters), in block and flow mappings alike. */
const MAX_KEY_LENGTH = 1000;

/** Thrown inside the reader when the text leaves the subset; never escapes it. */
const DECLINE = Symbol('decline');

/**
 * The root node of `text` when it is a block mapping or sequence in the subset, else undefined.
 * Offsets in the tree are 0.
 */
export function blockSubsetTree(text: string): YamlNode | undefined {
  if (DECLINED_CHARACTERS.test(text)) return undefined;
  const reader = new SubsetReader(text.split('\n'));
  try {
    return reader.document();
  } catch (error) {
    if (error === DECLINE) return undefined;
    throw error;
  }
}

function decline(): never {
  throw DECLINE;
}

function scalar(value: string, quoted: boolean, anchor?: string): ScalarNode {
  return { kind: 'scalar', offset: 0, anchor, tag: undefined, value, quoted };
}

function collection(kind: 'sequence' | 'mapping', anchor: string | undefined, children: YamlNode[]): CollectionNode {
  return { kind, offset: 0, anchor, tag: undefined, children };
}

/** A value written on the line of its key or `- `: a node, or only an anchor for what the next lines hold. */
type Inline = YamlNode | { anchor: string | undefined };

class SubsetReader {
  private line = 0;
  private depth = 0;

  constructor(private readonly lines: readonly string[]) {}

  document(): YamlNode {
    const indent = this.nextIndent();
    if (indent !== 0) decline(); // no document (the port says null), or an indented root
    const root = this.isEntry(this.lines[this.line]!, 0) ? this.sequence(0) : this.mapping(0, undefined);
    if (this.nextIndent() >= 0) decline(); // something after the root collection
    return root;
  }

  /**
   * The indentation of the next line with content, skipping blank and comment lines, or -1 at the end.
   * A `---` or `...` at the start of a line, or a directive, leaves the subset.
   */
  private nextIndent(): number {
    for (; this.line < this.lines.length; this.line++) {
      const text = this.lines[this.line]!;
      let indent = 0;
      while (text.charCodeAt(indent) === 0x20) indent++;
      if (indent === text.length || text.charCodeAt(indent) === 0x23 /* # */) continue;
      if (indent === 0 && (text.startsWith('---') || text.startsWith('...') || text.startsWith('%'))) decline();
      return indent;
    }
    return -1;
  }

  /** Whether the line holds a block sequence entry (`-` then a space or the end) at column `indent`. */
  private isEntry(text: string, indent: number): boolean {
    return text.charCodeAt(indent) === 0x2d && (indent + 1 === text.length || text.charCodeAt(indent + 1) === 0x20);
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) decline();
  }

  /**
   * A block mapping whose keys are at column `indent`. `first` is the rest of a `- key: value` line, whose
   * key opens the mapping (its line already consumed).
   */
  private mapping(indent: number, first: string | undefined, anchor?: string): CollectionNode {
    this.enter();
    const children: YamlNode[] = [];
    let pending = first;
    for (;;) {
      let entry: string;
      if (pending !== undefined) {
        entry = pending;
        pending = undefined;
      } else {
        const next = this.nextIndent();
        if (next < indent) break;
        if (next > indent) decline();
        entry = this.lines[this.line++]!.slice(indent);
      }
      const match = KEY_LINE.exec(entry);
      if (!match || match[1]!.length > MAX_KEY_LENGTH) decline();
      children.push(scalar(match[1]!, false));
      children.push(this.valueAfter(indent, inlineValue(match[2] ?? ''), true));
    }
    this.depth--;
    return collection('mapping', anchor, children);
  }

  /** A block sequence whose `-` are at column `indent` (its first entry not yet consumed). */
  private sequence(indent: number, anchor?: string): CollectionNode {
    this.enter();
    const children: YamlNode[] = [];
    for (;;) {
      const next = this.nextIndent();
      if (next !== indent || !this.isEntry(this.lines[this.line]!, indent)) {
        if (next > indent) decline();
        break; // a shallower line, or the next key of the mapping around an indentless sequence
      }
      const text = this.lines[this.line++]!;
      let column = indent + 1;
      while (text.charCodeAt(column) === 0x20) column++;
      const content = text.slice(column);
      if (content.startsWith('-') && this.isEntry(content, 0)) decline(); // `- - x`
      if (KEY_LINE.test(content)) {
        children.push(this.mapping(column, content)); // `- key: value`: a mapping at the key's column
        continue;
      }
      children.push(this.valueAfter(indent, inlineValue(content), false));
    }
    this.depth--;
    return collection('sequence', anchor, children);
  }

  /**
   * The value of a key or entry at column `indent`: the node on its line, else what the following lines
   * hold (a deeper mapping or sequence, a sequence at the key's own column, or nothing: null).
   */
  private valueAfter(indent: number, inline: Inline, isKey: boolean): YamlNode {
    if ('kind' in inline) {
      if (this.nextIndent() > indent) decline(); // a scalar going on over the next lines, or a mistake
      return inline;
    }
    const next = this.nextIndent();
    if (next > indent) {
      const text = this.lines[this.line]!;
      return this.isEntry(text, next) ? this.sequence(next, inline.anchor) : this.mapping(next, undefined, inline.anchor);
    }
    if (isKey && next === indent && this.isEntry(this.lines[this.line]!, indent)) return this.sequence(indent, inline.anchor);
    return scalar('', false, inline.anchor); // `key:` with nothing under it
  }
}

/** The value written after `key: ` or `- `, without its line break. */
function inlineValue(text: string): Inline {
  let anchor: string | undefined;
  if (text.charCodeAt(0) === 0x26 /* & */) {
    const match = ANCHOR.exec(text) ?? decline();
    anchor = match[1]!;
    text = match[2] ?? '';
  }
  if (text === '' || text.charCodeAt(0) === 0x23 /* # */) return { anchor };
  switch (text.charCodeAt(0)) {
    case 0x2a /* * */: {
      if (anchor !== undefined) decline();
      const match = ALIAS.exec(text) ?? decline();
      return { kind: 'alias', offset: 0, anchor: match[1]! };
    }
    case 0x27 /* ' */: {
      const match = SINGLE_QUOTED.exec(text) ?? decline();
      return scalar(match[1]!.replaceAll("''", "'"), true, anchor);
    }
    case 0x22 /* " */: {
      const match = DOUBLE_QUOTED.exec(text) ?? decline();
      return scalar(match[1]!, true, anchor);
    }
    case 0x5b /* [ */:
    case 0x7b /* { */: {
      const empty = EMPTY_FLOW.exec(text);
      if (empty) {
        if ((empty[1] === '[') !== (empty[2] === ']')) decline();
        return collection(empty[1] === '[' ? 'sequence' : 'mapping', anchor, []);
      }
      return flowCollection(text, anchor);
    }
  }
  if (!PLAIN_START.test(text)) decline();
  const comment = text.indexOf(' #');
  let end = comment < 0 ? text.length : comment;
  while (end > 0 && text.charCodeAt(end - 1) === 0x20) end--;
  const value = text.slice(0, end);
  // `a: b` or a trailing `:` would be a mapping value where none may be: a mistake the port reports.
  if (value.includes(': ') || value.endsWith(':')) decline();
  return scalar(value, false, anchor);
}

/** `[a, 'b', "c"]` or `{ k: v, k2: 'w' }` on one line, entries separated by `, `, no nesting. */
function flowCollection(text: string, anchor: string | undefined): CollectionNode {
  const isMapping = text.charCodeAt(0) === 0x7b;
  const close = isMapping ? 0x7d : 0x5d;
  const children: YamlNode[] = [];
  let at = skipSpaces(text, 1);
  for (;;) {
    if (isMapping) {
      const key = flowScalar(text, at) ?? decline();
      if (key.node.quoted || key.node.value.length > MAX_KEY_LENGTH) decline();
      if (text.charCodeAt(key.end) !== 0x3a /* : */ || text.charCodeAt(key.end + 1) !== 0x20) decline();
      children.push(key.node);
      at = skipSpaces(text, key.end + 1);
    }
    const value = flowScalar(text, at) ?? decline();
    children.push(value.node);
    at = skipSpaces(text, value.end);
    const c = text.charCodeAt(at);
    if (c === close) break;
    if (c !== 0x2c /* , */ || text.charCodeAt(at + 1) !== 0x20) decline();
    at = skipSpaces(text, at + 1);
  }
  FLOW_TAIL.lastIndex = at + 1;
  if (!FLOW_TAIL.test(text)) decline();
  return collection(isMapping ? 'mapping' : 'sequence', anchor, children);
}

function flowScalar(text: string, at: number): { node: ScalarNode; end: number } | undefined {
  FLOW_SCALAR.lastIndex = at;
  const match = FLOW_SCALAR.exec(text);
  if (!match) return undefined;
  const end = FLOW_SCALAR.lastIndex;
  if (match[1] !== undefined) {
    // A plain word ends at a space, `,`, `]` or `}`, or the `: ` of a key; anything else glued to it
    // (`a[b`, `a:b`) reads differently in YAML.
    const c = text.charCodeAt(end);
    if (c !== 0x20 && c !== 0x2c && c !== 0x5d && c !== 0x7d && !(c === 0x3a && text.charCodeAt(end + 1) === 0x20)) return undefined;
    return { node: scalar(match[1], false), end };
  }
  return { node: scalar(match[2] !== undefined ? match[2].replaceAll("''", "'") : match[3]!, true), end };
}

function skipSpaces(text: string, at: number): number {
  FLOW_SPACES.lastIndex = at;
  FLOW_SPACES.test(text);
  return FLOW_SPACES.lastIndex;
}
