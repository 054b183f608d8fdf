import { COLLECTION_STYLE, EVENT_ID, SCALAR_STYLE, YAMLException, parseEvents } from 'js-yaml';
import type { Event } from 'js-yaml';
import { PsychError } from './psych_error.ts';

// js-yaml's parser differs from libyaml's in ways real files hit. js-yaml parses a copy of the
// text adjusted so that its events match what libyaml reads; the copy keeps every offset, or
// records where spaces were inserted so that events come back with offsets into the original,
// from which every scalar value is read. The adjustments:
// - tabs become spaces (js-yaml rejects "key:\t[a]" and "[a,\tb]"); libyaml's own tab rules are
//   enforced on the original by libyaml_rules.ts;
// - a continuation line of a flow collection or quoted scalar that js-yaml finds deficiently
//   indented ("hosts: [\n  a,\n]"), or a line continuing a plain root scalar, gets spaces in front;
// - a space goes between an anchor or alias and its colon ("*base: x") and before a '#' that
//   follows a token ("'a'# c"), where libyaml ends the name and starts a comment;
// - an indented "---" before the first document is no marker for libyaml.
// Past the first document nothing counts, as Psych.parse returns there.

/** Ruby's Psych runs out of stack (SystemStackError) a little under 1000 nested collections. */
export const MAX_NESTING_DEPTH = 500;
export const NESTING_REASON = `the document nests collections more than ${MAX_NESTING_DEPTH} deep`;
/** js-yaml recurses per node and overflows the default stack near 1500 levels; psych_tree.ts applies MAX_NESTING_DEPTH. */
const PARSER_MAX_DEPTH = MAX_NESTING_DEPTH * 2;
/** Each padded line costs a whole new parse: allow fewer for big documents. */
function maxPaddedLines(length: number): number {
  return Math.max(4, Math.min(64, Math.floor(20_000_000 / Math.max(length, 1))));
}
const DOCUMENT_MARKER = /^(?:---|\.\.\.)(?=[ \t\r\n]|$)/gm;
const DOCUMENT_MARKER_AT = /^(?:---|\.\.\.)(?=[ \t\r\n]|$)/;

/**
 * Events of the first document, and where libyaml stops reading: Psych.parse returns at the end of
 * the first document, so a broken second document must not matter. Throws PsychError with
 * offsets into `text`.
 */
export function firstDocumentEvents(text: string): { events: Event[]; end: number } {
  try {
    return { events: parseLikeLibyaml(text), end: firstDocumentEnd(text) ?? text.length };
  } catch (error) {
    const offset = error instanceof PsychError ? error.offset : undefined;
    if (offset === undefined) throw error;
    const end = firstDocumentEnd(text);
    if (end !== undefined && offset >= end) return { events: parseLikeLibyaml(text.slice(0, end)), end };
    const rooted = afterRoot(text, offset, (error as PsychError).reason);
    if (rooted) return { events: rooted, end: offset };
    throw error;
  }
}

/**
 * libyaml ends the first document as soon as its root node is complete, so Psych ignores what
 * follows ("'x' y" is "x", " a: 1\nb: 2" is {a: 1}) where js-yaml reports an error. Only the first
 * token after the root is scanned. A block collection only ends at a less indented line.
 */
function afterRoot(text: string, offset: number, reason: string): Event[] | undefined {
  if (reason !== 'end of the stream or a document separator is expected') return undefined;
  let events: Event[];
  try {
    events = parseLikeLibyaml(text.slice(0, offset));
  } catch {
    return undefined;
  }
  const root = events[events.findIndex((event) => event.type === EVENT_ID.DOCUMENT) + 1];
  if (root === undefined) return undefined;
  if (root.type === EVENT_ID.SCALAR && root.valueStart < 0 && root.tagStart < 0 && root.anchorStart < 0) {
    throw new PsychError('syntax', 'did not find expected node content while parsing a block node', offset);
  }
  if ((root.type === EVENT_ID.MAPPING || root.type === EVENT_ID.SEQUENCE) && root.style === COLLECTION_STYLE.BLOCK) {
    const lineStart = startOfLine(text, offset);
    if (text.slice(lineStart, offset).trim() !== '') return undefined;
    if (offset - lineStart >= root.start - startOfLine(text, root.start)) return undefined;
  }
  // On the root's own line a later ':' makes the root a simple key after all ("'x' y: z" fails).
  const lineStart = startOfLine(text, offset);
  const rootStart = eventStart(root);
  if (text.slice(lineStart, offset).trim() !== '' && rootStart >= lineStart && /:(?:[ \t]|$)/m.test(restOfLine(text, offset))) {
    throw new PsychError('syntax', 'did not find expected key while parsing a block mapping', rootStart);
  }
  checkNextToken(text, offset);
  return events;
}

/** Where a node's first token starts (its properties included). */
function eventStart(event: Event): number {
  switch (event.type) {
    case EVENT_ID.SCALAR: {
      const quote = event.style === SCALAR_STYLE.SINGLE_QUOTED || event.style === SCALAR_STYLE.DOUBLE_QUOTED ? 1 : 0;
      const starts = [event.tagStart, event.anchorStart - 1, event.valueStart < 0 ? -1 : event.valueStart - quote];
      return Math.min(...starts.filter((offset) => offset >= 0), Number.MAX_SAFE_INTEGER);
    }
    case EVENT_ID.SEQUENCE:
    case EVENT_ID.MAPPING:
      return Math.min(...[event.tagStart, event.anchorStart - 1, event.start].filter((offset) => offset >= 0));
    case EVENT_ID.ALIAS:
      return event.anchorStart - 1;
    default:
      return 0;
  }
}

function restOfLine(text: string, offset: number): string {
  const end = text.slice(offset).search(/[\r\n]/);
  return end === -1 ? text.slice(offset) : text.slice(offset, offset + end);
}

const CANNOT_START_TOKEN = 'found character that cannot start any token while scanning for the next token';

/** The scanner errors libyaml would raise on the token at `offset` (scanner.c). */
export function checkNextToken(text: string, offset: number): void {
  const first = text[offset];
  const fail = (reason: string): never => {
    throw new PsychError('syntax', reason, offset);
  };
  if (first === '`' || first === '@') fail(CANNOT_START_TOKEN);
  // Block indicators need a new line after the root (scanner.c simple_key_allowed).
  const following = text[offset + 1];
  if ((first === '-' || first === '?' || first === ':') && (following === undefined || /\s/.test(following))) {
    if (text.slice(startOfLine(text, offset), offset).trim() !== '') {
      const what = first === '-' ? 'block sequence entries' : first === '?' ? 'mapping keys' : 'mapping values';
      fail(`${what} are not allowed in this context`);
    }
  }
  if ((first === '"' || first === "'") && !closesQuote(text, offset)) {
    fail('found unexpected end of stream while scanning a quoted scalar');
  }
  if (first === '|' || first === '>') {
    if (!/^[|>][-+0-9]*[ \t]*(?:#.*)?(?:[\r\n]|$)/.test(text.slice(offset, offset + 200))) {
      fail('did not find expected comment or line break while scanning a block scalar');
    }
  }
  if (first === '&' || first === '*') {
    if (!/^[&*][0-9A-Za-z_-]+(?:[ \t\r\n?:,\]}%@`]|$)/.test(text.slice(offset, offset + 1100))) {
      fail('did not find expected alphabetic or numeric character while scanning an anchor');
    }
  }
  if (first === '%' && startOfLine(text, offset) === offset) {
    const directive = /^%([0-9A-Za-z_-]*)/.exec(text.slice(offset, offset + 100));
    const name = directive?.[1] ?? '';
    if (name === '') fail('found unexpected non-alphabetical character while scanning a directive');
    if (name !== 'YAML' && name !== 'TAG') fail('found unknown directive name while scanning a directive');
  }
}

function closesQuote(text: string, start: number): boolean {
  const quote = text[start];
  for (let index = start + 1; index < text.length; index++) {
    const ch = text[index];
    if (quote === '"' && ch === '\\') index++;
    else if (ch === quote && quote === "'" && text[index + 1] === "'") index++;
    else if (ch === quote) return true;
  }
  return false;
}

const CONTENT_LINE = /^(?!%)[ \t]*[^ \t\r\n#]/m;

/** Where the document marker ending the first document starts, if there is one. */
function firstDocumentEnd(text: string): number | undefined {
  let started = false;
  let from = 0;
  for (const marker of text.matchAll(DOCUMENT_MARKER)) {
    if (started || CONTENT_LINE.test(text.slice(from, marker.index))) return marker.index;
    if (marker[0] === '---') started = true;
    from = marker.index + marker[0].length;
  }
  return undefined;
}

// js-yaml takes an indented "---" before the first document for a document marker; libyaml only
// knows markers in column 0 (a file starting with a byte order mark and "---" is a plain "---").
const INDENTED_FIRST_MARKER = /^(?:[ \t]*(?:#[^\r\n]*)?(?:\r\n|\r|\n))*[ \t]+(?=(?:---|\.\.\.)(?:[ \t\r\n]|$))/;

function parseLikeLibyaml(source: string): Event[] {
  const marker = INDENTED_FIRST_MARKER.exec(source);
  const text = marker ? `${source.slice(0, marker[0].length)}x${source.slice(marker[0].length + 1)}` : source;
  if (!text.includes('\t')) return parsePadded(text);
  const events = parsePadded(text.replace(/\t/g, ' '));
  // Inside block scalars a tab is content and counts for indentation: parse those as written.
  const blocks = events.filter(
    (event) =>
      event.type === EVENT_ID.SCALAR &&
      (event.style === SCALAR_STYLE.LITERAL_BLOCK || event.style === SCALAR_STYLE.FOLDED_BLOCK) &&
      event.valueStart >= 0 &&
      text.slice(event.valueStart, event.valueEnd).includes('\t'),
  );
  if (blocks.length === 0) return events;
  let partial = '';
  let from = 0;
  for (const block of blocks) {
    if (block.type !== EVENT_ID.SCALAR) continue;
    partial += text.slice(from, block.valueStart).replace(/\t/g, ' ') + text.slice(block.valueStart, block.valueEnd);
    from = block.valueEnd;
  }
  partial += text.slice(from).replace(/\t/g, ' ');
  return parsePadded(partial);
}

interface Insertion {
  /** Where the spaces start in the padded text. */
  at: number;
  count: number;
}

// libyaml ends anchor and alias names at any character outside [0-9A-Za-z_-], so "*base: x" has
// the key *base (and in a flow collection "{*base:x}" too); js-yaml would read "base:". Only
// where a key may start: after "a: " libyaml refuses it.
const ALIAS_BEFORE_COLON = /(^[ \t]*(?:[-?:][ \t]+)*|[[{,][ \t]*)([&*][0-9A-Za-z_-]+)(?=:)/gm;

function parsePadded(text: string): Event[] {
  const insertions: Insertion[] = [];
  let current = text;
  if (text.includes('*') || text.includes('&')) {
    current = '';
    let from = 0;
    for (const match of text.matchAll(ALIAS_BEFORE_COLON)) {
      const at = match.index + (match[1] ?? '').length + (match[2] ?? '').length;
      current += `${text.slice(from, at)} `;
      insertions.push({ at: current.length - 1, count: 1 });
      from = at;
    }
    current += text.slice(from);
  }
  for (;;) {
    try {
      const events = parseEvents(current, { maxDepth: PARSER_MAX_DEPTH });
      return insertions.length === 0 ? events : events.map((event) => mapEvent(event, insertions));
    } catch (error) {
      if (!(error instanceof YAMLException)) throw error;
      const position = error.mark?.position;
      const original = position === undefined ? undefined : toOriginal(position, insertions);
      if (/^nesting exceeded maxDepth/.test(error.reason)) throw new PsychError('limit', NESTING_REASON, original);
      // A plain root scalar continues on any later line in libyaml (its indentation is 0); js-yaml
      // wants the continuation indented like the scalar's first line.
      const continuation = position === undefined ? 0 : plainRootContinuation(current, position, error.reason);
      if (continuation > 0 && insertions.length < maxPaddedLines(current.length)) {
        current = insert(current, startOfLine(current, position ?? 0), continuation, insertions);
        continue;
      }
      // libyaml starts a comment at '#' after any token ("'a'# c", "|# c"); js-yaml wants a blank first.
      if (position !== undefined && position > 0 && current[position] === '#' && !/\s/.test(current[position - 1] ?? ' ')) {
        if (insertions.length < maxPaddedLines(current.length)) {
          current = insert(current, position, 1, insertions);
          continue;
        }
      }
      const lineStart = startOfLine(current, position ?? 0);
      const paddable =
        error.reason === 'deficient indentation' &&
        position !== undefined &&
        insertions.length < maxPaddedLines(current.length) &&
        !DOCUMENT_MARKER_AT.test(current.slice(lineStart, lineStart + 4));
      if (!paddable) throw new PsychError('syntax', error.reason, original);
      const wanted = indentationOfPreviousLine(current, lineStart) + 1 - leadingSpaces(current, lineStart);
      const count = Math.max(1, wanted, leadingSpaces(current, lineStart));
      current = insert(current, lineStart, count, insertions);
    }
  }
}

/** How many spaces make the line at `offset` continue a plain root scalar that js-yaml ended. */
function plainRootContinuation(text: string, offset: number, reason: string): number {
  if (reason !== 'end of the stream or a document separator is expected') return 0;
  const lineStart = startOfLine(text, offset);
  if (text.slice(lineStart, offset).trim() !== '' || text[offset] === '#') return 0;
  let events: Event[];
  try {
    events = parseEvents(text.slice(0, offset), { maxDepth: PARSER_MAX_DEPTH });
  } catch {
    return 0;
  }
  const root = events[events.findIndex((event) => event.type === EVENT_ID.DOCUMENT) + 1];
  if (root?.type !== EVENT_ID.SCALAR || root.style !== SCALAR_STYLE.PLAIN || root.valueStart < 0) return 0;
  if (events.filter((event) => event.type === EVENT_ID.DOCUMENT).length > 1) return 0;
  return Math.max(0, root.valueStart - startOfLine(text, root.valueStart) - (offset - lineStart));
}

function insert(text: string, at: number, count: number, insertions: Insertion[]): string {
  for (const insertion of insertions) if (insertion.at >= at) insertion.at += count;
  insertions.push({ at, count });
  return text.slice(0, at) + ' '.repeat(count) + text.slice(at);
}

function startOfLine(text: string, position: number): number {
  let start = Math.min(position, text.length);
  while (start > 0 && text[start - 1] !== '\n' && text[start - 1] !== '\r') start--;
  return start;
}

function leadingSpaces(text: string, lineStart: number): number {
  let index = lineStart;
  while (text[index] === ' ') index++;
  return index - lineStart;
}

function indentationOfPreviousLine(text: string, lineStart: number): number {
  let end = lineStart - 1;
  while (end > 0) {
    if (text[end - 1] === '\r' && text[end] === '\n') end--;
    const start = startOfLine(text, end);
    const spaces = leadingSpaces(text, start);
    if (start + spaces < end) return spaces;
    end = start - 1;
  }
  return 0;
}

function toOriginal(offset: number, insertions: readonly Insertion[]): number {
  let shift = 0;
  for (const insertion of insertions) {
    if (offset >= insertion.at + insertion.count) shift += insertion.count;
    else if (offset >= insertion.at) shift += offset - insertion.at;
  }
  return offset - shift;
}

function mapEvent(event: Event, insertions: readonly Insertion[]): Event {
  const map = (offset: number): number => (offset < 0 ? offset : toOriginal(offset, insertions));
  switch (event.type) {
    case EVENT_ID.SCALAR:
      return {
        ...event,
        valueStart: map(event.valueStart),
        valueEnd: map(event.valueEnd),
        anchorStart: map(event.anchorStart),
        anchorEnd: map(event.anchorEnd),
        tagStart: map(event.tagStart),
        tagEnd: map(event.tagEnd),
      };
    case EVENT_ID.SEQUENCE:
    case EVENT_ID.MAPPING:
      return {
        ...event,
        start: map(event.start),
        anchorStart: map(event.anchorStart),
        anchorEnd: map(event.anchorEnd),
        tagStart: map(event.tagStart),
        tagEnd: map(event.tagEnd),
      };
    case EVENT_ID.ALIAS:
      return { ...event, anchorStart: map(event.anchorStart), anchorEnd: map(event.anchorEnd) };
    default:
      return event;
  }
}
