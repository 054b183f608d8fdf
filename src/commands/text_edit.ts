/**
 * `set` and `unset` as a targeted edit of the YAML text: only the lines of the one entry change, every
 * other byte (comments, order, blank lines, quoting, indentation, line endings) stays as it was.
 *
 * Why not a YAML library's document model (eemeli/yaml): re-stringifying a document normalizes what it
 * does not keep (spacing after `:`, flow maps, indentation of sequences), so "byte for byte" would be a
 * hope; it would also add ~100 KB to load. The edit here only understands block mappings, which is what
 * GitLab's files are (`password: '123'`, `main:\n  password: …`); anything else is refused with a pointer
 * to `edit`. Whatever it produces is checked by the caller by loading it with the Psych-exact loader and
 * comparing with the expected settings, so a wrong edit is refused, never saved.
 */

/** Why the text could not be changed in place; the caller turns it into a message. */
export class TextEditRefused extends Error {}

/**
 * The inline value of the entry at `path[depth]` opens a flow collection or carries an anchor or a tag: it
 * may hold the keys below it, in a layout set and unset do not change in place.
 */
function refuseFlowOrTagged(inline: string, path: readonly string[], depth: number): void {
  if (/^[{&!]/.test(inline)) throw new TextEditRefused(`${path.slice(0, depth + 1).join('.')} is written in flow style or has an anchor or a tag`);
}

interface Line {
  /** Offset of the first character. */
  start: number;
  /** Offset after the line's content (before \r\n or \n). */
  end: number;
  /** Offset after the line break (== end at the end of the text). */
  next: number;
  text: string;
  indent: number;
  /** Blank or only a comment. */
  empty: boolean;
}

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start < text.length) {
    const newline = text.indexOf('\n', start);
    const next = newline < 0 ? text.length : newline + 1;
    let end = newline < 0 ? text.length : newline;
    if (end > start && text[end - 1] === '\r') end--;
    const content = text.slice(start, end);
    const indent = content.length - content.replace(/^ */, '').length;
    const rest = content.slice(indent);
    lines.push({ start, end, next, text: content, indent, empty: rest === '' || rest.startsWith('#') });
    start = next;
  }
  return lines;
}

/** A key at the start of a line: plain, 'single' or "double" quoted, or a :symbol. */
const KEY = /^(?:'((?:[^']|'')*)'|"((?:[^"\\]|\\.)*)"|([^\s#'"{}[\],&*!|>%@`?:-][^#:]*?|[?:-][^\s#{}[\],:][^#:]*?))[ \t]*:(?=[ \t]|$)/;

interface Entry {
  line: number;
  key: string;
  /** Offset in the line text where the value (or comment) begins after `key:`. */
  afterColon: number;
  /** Index after the last line of the entry (its key line plus more-indented or blank lines). */
  endLine: number;
}

function keyOf(match: RegExpExecArray): string {
  if (match[1] !== undefined) return match[1].replace(/''/g, "'");
  if (match[2] !== undefined) {
    try {
      return JSON.parse(`"${match[2]}"`) as string;
    } catch {
      return `\0${match[2]}`; // an escape JSON does not know: never equal to a path part
    }
  }
  const plain = match[3]!.trimEnd();
  return plain.startsWith(':') && plain.length > 1 ? plain.slice(1) : plain;
}

/** The entries of the block mapping whose keys are at `indent`, in lines [from, to). */
function entriesAt(lines: readonly Line[], from: number, to: number, indent: number): Entry[] {
  const entries: Entry[] = [];
  for (let i = from; i < to; i++) {
    const line = lines[i]!;
    if (line.empty) continue;
    if (line.indent < indent) break;
    if (line.indent > indent) continue;
    const rest = line.text.slice(indent);
    if (rest === '---' || rest.startsWith('--- ') || rest.startsWith('%')) continue;
    if (rest === '...' || rest.startsWith('... ')) throw new TextEditRefused('the text has a document end marker');
    const match = KEY.exec(rest);
    if (!match) throw new TextEditRefused(`line ${i + 1} is not a simple "key: value" entry`);
    let end = i + 1;
    while (end < to && (lines[end]!.empty || lines[end]!.indent > indent)) end++;
    // Blank and comment lines after the entry belong to what follows, not to the entry.
    while (end > i + 1 && lines[end - 1]!.empty) end--;
    entries.push({ line: i, key: keyOf(match), afterColon: indent + match[0].length, endLine: end });
  }
  return entries;
}

/** The value part of a key line: [start, end) in the line text, before any comment. */
function inlineValue(line: Line, afterColon: number): { start: number; end: number } {
  const text = line.text;
  let start = afterColon;
  while (text[start] === ' ' || text[start] === '\t') start++;
  if (start >= text.length || text[start] === '#') return { start, end: start };
  let end: number;
  if (text[start] === "'") {
    end = start + 1;
    for (;;) {
      const quote = text.indexOf("'", end);
      if (quote < 0) return { start, end: text.length }; // continues on the next line
      if (text[quote + 1] === "'") end = quote + 2;
      else {
        end = quote + 1;
        break;
      }
    }
  } else if (text[start] === '"') {
    end = start + 1;
    while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
    end = Math.min(end + 1, text.length);
  } else {
    const comment = text.slice(start).search(/[ \t]#/);
    end = comment < 0 ? text.length : start + comment;
    while (end > start && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--;
  }
  return { start, end };
}

export interface TextEdit {
  /** The new text. */
  text: string;
}

/** How the text breaks lines: CRLF if its first line break is one. */
function lineBreakOf(text: string): string {
  const newline = text.indexOf('\n');
  return newline > 0 && text[newline - 1] === '\r' ? '\r\n' : '\n';
}

/** The indentation step the file uses for nested mappings (2 if it has none). */
function indentStepOf(lines: readonly Line[]): number {
  for (let i = 0; i + 1 < lines.length; i++) {
    if (lines[i]!.empty) continue;
    const next = lines.slice(i + 1).find((line) => !line.empty);
    if (next && next.indent > lines[i]!.indent && /:[ \t]*(#.*)?$/.test(lines[i]!.text)) return next.indent - lines[i]!.indent;
  }
  return 2;
}

/**
 * Set `path` to `scalar` (YAML text of one line, already quoted as needed), creating missing mappings.
 * Throws TextEditRefused when the file's layout is not one this edit understands, and PathConflict when
 * the path crosses a value that is not a mapping.
 */
export function setInText(text: string, path: readonly string[], scalar: string): TextEdit {
  const lines = splitLines(text);
  const br = lineBreakOf(text);
  const step = indentStepOf(lines);
  const topIndent = lines.find((line) => !line.empty && !/^(---|%)/.test(line.text))?.indent ?? 0;
  let from = 0;
  let to = lines.length;
  let indent = topIndent;
  let parent: Entry | undefined;
  for (let depth = 0; depth < path.length; depth++) {
    const part = path[depth]!;
    const entries = entriesAt(lines, from, to, indent);
    const found = entries.filter((entry) => entry.key === part);
    if (found.length > 1) throw new TextEditRefused(`the key ${path.slice(0, depth + 1).join('.')} appears twice`);
    const entry = found[0];
    const last = depth === path.length - 1;
    if (!entry) {
      // Add the rest of the path after the last entry of this mapping.
      const insertAfter = entries.length > 0 ? entries.at(-1)!.endLine : parent ? parent.endLine : lines.length;
      const childIndent = entries.length > 0 ? indent : parent ? lines[parent.line]!.indent + step : topIndent;
      if (parent && entries.length === 0) {
        const value = inlineValue(lines[parent.line]!, parent.afterColon);
        if (value.end > value.start) throw new PathConflict(path.slice(0, depth).join('.'));
      }
      const added = path.slice(depth).map((key, i) => {
        const pad = ' '.repeat(childIndent + i * step);
        return depth + i === path.length - 1 ? `${pad}${yamlKey(key)}: ${scalar}` : `${pad}${yamlKey(key)}:`;
      });
      return { text: insertLines(text, lines, insertAfter, added, br) };
    }
    const line = lines[entry.line]!;
    const value = inlineValue(line, entry.afterColon);
    const inline = line.text.slice(value.start, value.end);
    if (last) {
      if (value.end === value.start && entry.endLine > entry.line + 1 && !isBlockScalarOnly(lines, entry)) {
        throw new PathConflict(path.join('.'), true);
      }
      if (/^[&!]/.test(inline)) throw new TextEditRefused(`${path.join('.')} has an anchor or a tag`);
      if (/^[{[]/.test(inline)) throw new PathConflict(path.join('.'), true);
      // Replace the value and any continuation lines of it; keep a comment on the key line.
      const lineStart = line.start;
      const head = text.slice(0, lineStart + value.start);
      const continued = entry.endLine > entry.line + 1;
      const spacer = value.start === entry.afterColon ? ' ' : '';
      if (!continued) {
        const beforeComment = value.end === value.start && value.start < line.text.length ? ' ' : '';
        return { text: `${head}${spacer}${scalar}${beforeComment}${text.slice(lineStart + value.end)}` };
      }
      const comment = value.end < line.text.length ? line.text.slice(value.end) : '';
      const tail = text.slice(lines[entry.endLine - 1]!.end);
      return { text: `${head}${spacer}${scalar}${/^[|>]/.test(inline) ? '' : comment}${tail}` };
    }
    if (value.end > value.start) {
      // A mapping written in flow style (`a: {b: 1}`) is a mapping, just not one this edit changes in place.
      refuseFlowOrTagged(inline, path, depth);
      throw new PathConflict(path.slice(0, depth + 1).join('.'));
    }
    const children = lines.slice(entry.line + 1, entry.endLine).find((child) => !child.empty);
    parent = entry;
    from = entry.line + 1;
    to = entry.endLine;
    indent = children ? children.indent : line.indent + step;
    if (children && children.indent <= line.indent) throw new PathConflict(path.slice(0, depth + 1).join('.'));
  }
  throw new TextEditRefused('empty path');
}

/** The entry's value is a block scalar (`key: |` on the key line): its continuation lines are its text. */
function isBlockScalarOnly(lines: readonly Line[], entry: Entry): boolean {
  const line = lines[entry.line]!;
  return /^[|>]/.test(line.text.slice(inlineValue(line, entry.afterColon).start));
}

/**
 * Remove `path`; resolves with null when it is not there. A mapping left empty becomes `{}` on its key
 * line, so that it stays a mapping.
 */
export function unsetInText(text: string, path: readonly string[]): TextEdit | null {
  const lines = splitLines(text);
  const topIndent = lines.find((line) => !line.empty && !/^(---|%)/.test(line.text))?.indent ?? 0;
  let from = 0;
  let to = lines.length;
  let indent = topIndent;
  let parent: Entry | undefined;
  for (let depth = 0; depth < path.length; depth++) {
    const entries = entriesAt(lines, from, to, indent);
    const found = entries.filter((entry) => entry.key === path[depth]);
    if (found.length > 1) throw new TextEditRefused(`the key ${path.slice(0, depth + 1).join('.')} appears twice`);
    const entry = found[0];
    if (!entry) return null;
    const line = lines[entry.line]!;
    if (depth === path.length - 1) {
      const removeFrom = line.start;
      const removeTo = lines[entry.endLine - 1]!.next;
      let result = text.slice(0, removeFrom) + text.slice(removeTo);
      if (parent && entries.length === 1) {
        // The parent mapping is now empty: `main:` would load as null.
        const parentLine = lines[parent.line]!;
        const at = parentLine.start + parent.afterColon;
        result = `${result.slice(0, at)} {}${result.slice(at)}`;
      }
      return { text: result };
    }
    const value = inlineValue(line, entry.afterColon);
    if (value.end > value.start) {
      // `a: {c: 2}` holds a.c, in a layout this edit does not change: never "not found".
      refuseFlowOrTagged(line.text.slice(value.start, value.end), path, depth);
      return null;
    }
    const children = lines.slice(entry.line + 1, entry.endLine).find((child) => !child.empty);
    if (!children || children.indent <= line.indent) return null;
    parent = entry;
    from = entry.line + 1;
    to = entry.endLine;
    indent = children.indent;
  }
  return null;
}

/** The path `a.b` crosses `a`, which holds a value that is not a mapping (or, with `isMapping`, is one). */
export class PathConflict extends Error {
  constructor(
    readonly at: string,
    readonly isMapping = false,
  ) {
    super(at);
  }
}

function insertLines(text: string, lines: readonly Line[], after: number, added: readonly string[], br: string): string {
  const at = after === 0 ? 0 : lines[after - 1]!.next;
  const before = text.slice(0, at);
  const needsBreak = before.length > 0 && !before.endsWith('\n');
  return `${before}${needsBreak ? br : ''}${added.map((line) => `${line}${br}`).join('')}${text.slice(at)}`;
}

/** A key as YAML text: plain when that reads back as the same string, else single-quoted. */
export function yamlKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) && !RESERVED.has(key.toLowerCase()) ? key : yamlString(key);
}

/** Plain scalars YAML 1.1 reads as something other than the string. */
const RESERVED = new Set(['y', 'n', 'yes', 'no', 'true', 'false', 'on', 'off', 'null', '~']);

/**
 * A string as a YAML scalar that Psych loads back as exactly that string: single-quoted, or
 * double-quoted with escapes when it holds line breaks or other characters that single quotes cannot.
 */
export function yamlString(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/.test(value)) return `'${value.replace(/'/g, "''")}'`;
  let out = '"';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (char === '"' || char === '\\') out += `\\${char}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\t') out += '\\t';
    else if (char === '\r') out += '\\r';
    else if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029 || code === 0xfeff) {
      out += `\\u${code.toString(16).padStart(4, '0')}`;
    } else out += char;
  }
  return `${out}"`;
}
