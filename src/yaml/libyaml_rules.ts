import { COLLECTION_STYLE, EVENT_ID, SCALAR_STYLE } from 'js-yaml';
import type { Event } from 'js-yaml';
import { PsychError } from './psych_error.ts';

// Rules of libyaml's scanner and parser (scanner.c, parser.c) that js-yaml does not share, checked
// on the original text with the help of js-yaml's events. Without them we would accept files
// that GitLab cannot load:
// - in block context a tab may not start a line, nor follow a '-', '?' or ':' indicator, unless
//   it sits inside a quoted scalar or a flow collection, or continues a plain scalar at or beyond
//   that scalar's indentation; block scalars refuse a tab where indentation spaces belong;
// - a line may start with a ':' value indicator only under a '?' key in the same column;
// - the only directives are %YAML 1.1 / 1.2 and %TAG.

const CANNOT_START_TOKEN = 'found character that cannot start any token while scanning for the next token';
const PLAIN_TAB = 'found a tab character that violates indentation while scanning a plain scalar';
const BLOCK_TAB = 'found a tab character where an indentation space is expected while scanning a block scalar';
const EXPECTED_KEY = 'did not find expected key while parsing a block mapping';
const MAYBE_LINE_RULES = /\t|^[ \t]*(?:[-?:][ \t]+)*:(?:[ \t]|$)/m;

interface Region {
  kind: 'plain' | 'quoted' | 'block' | 'flow';
  start: number;
  end: number;
  /** plain: libyaml's scalar indentation (enclosing block column + 1); block: content indentation. */
  indent: number;
  /** block: whether the header gives the indentation ("|2"), and where the first content line starts. */
  explicitIndent?: boolean;
  firstContent?: number;
}

type Zone = { kind: 'plain' | 'block'; indent: number } | undefined;

interface Frame {
  flow: boolean;
  bracketed: boolean;
  start: number;
  lastEnd: number;
}

/**
 * Throws the PsychError libyaml would raise for the first document of `text`, given its events
 * and the offset where libyaml stops reading (the next document marker, or the first character
 * of a line less indented than the root collection).
 */
export function checkLibyamlRules(text: string, events: readonly Event[], end: number): void {
  checkDirectives(text);
  if (!MAYBE_LINE_RULES.test(text)) return;
  const regions = findRegions(text, events);
  const explicitKeys = new Set<number>();
  let zone: Zone;
  let next = 0;
  let lineStart = 0;
  while (lineStart < end) {
    let lineEnd = lineStart;
    while (lineEnd < text.length && text[lineEnd] !== '\n' && text[lineEnd] !== '\r') lineEnd++;
    // The line libyaml stops in: only the blanks before `end` were read as such.
    if (lineEnd > end) lineEnd = end;
    while (next < regions.length && (regions[next] as Region).end <= lineStart) {
      zone = zoneAfter(text, regions[next] as Region);
      next++;
    }
    const inside = regions[next];
    if (inside && (inside.start < lineStart || (inside.kind === 'block' && inside.start === lineStart))) {
      checkInside(text, inside, lineStart, lineEnd);
    } else {
      const content = checkLeading(text, lineStart, lineEnd, zone);
      if (content < lineEnd && text[content] !== '#') {
        zone = undefined;
        checkIndicators(text, content, lineStart, lineEnd, explicitKeys);
      } else if (content < lineEnd) {
        zone = undefined;
      }
    }
    lineStart = lineEnd + (text[lineEnd] === '\r' && text[lineEnd + 1] === '\n' ? 2 : 1);
  }
}

/** libyaml reads the directives before the first document itself (scanner.c scan_directive). */
function checkDirectives(text: string): void {
  const line = /^(?:[ \t]*(?:#[^\r\n]*)?(?:\r\n|\r|\n))*%([^ \t\r\n]*)[ \t]*([^ \t\r\n]*)/y;
  let from = 0;
  for (;;) {
    line.lastIndex = from;
    const match = line.exec(text);
    if (!match) return;
    const directiveAt = match.index + match[0].indexOf('%');
    const [, name, argument] = match;
    if (name === 'YAML' && argument !== '1.1' && argument !== '1.2' && /^\d+\.\d+$/.test(argument ?? '')) {
      throw new PsychError('syntax', 'found incompatible YAML document', directiveAt);
    }
    if (name !== 'YAML' && name !== 'TAG') {
      throw new PsychError('syntax', 'found unknown directive name while scanning a directive', directiveAt);
    }
    from = match.index + match[0].length;
  }
}

function column(text: string, offset: number): number {
  let start = offset;
  while (start > 0 && text[start - 1] !== '\n' && text[start - 1] !== '\r') start--;
  return offset - start;
}

function findRegions(text: string, events: readonly Event[]): Region[] {
  const regions: Region[] = [];
  const frames: Frame[] = [];
  let flowFrames = 0;
  const blockColumns: number[] = [];
  const touch = (end: number): void => {
    const top = frames[frames.length - 1];
    if (top?.flow) top.lastEnd = Math.max(top.lastEnd, end);
  };
  for (const event of events) {
    switch (event.type) {
      case EVENT_ID.SCALAR: {
        if (event.valueStart < 0) break;
        const quoted = event.style === SCALAR_STYLE.SINGLE_QUOTED || event.style === SCALAR_STYLE.DOUBLE_QUOTED;
        const start = quoted ? event.valueStart - 1 : event.valueStart;
        const end = quoted ? event.valueEnd + 1 : event.valueEnd;
        if (flowFrames > 0) touch(end);
        else if (event.style === SCALAR_STYLE.PLAIN) {
          regions.push({ kind: 'plain', start, end, indent: (blockColumns[blockColumns.length - 1] ?? -1) + 1 });
        } else if (quoted) regions.push({ kind: 'quoted', start, end, indent: 0 });
        else {
          const header = text.slice(Math.max(0, text.lastIndexOf('\n', start - 2) + 1), start);
          const firstContent = /^[ \t]*[^ \t\r\n]/m.exec(text.slice(start, end));
          regions.push({
            kind: 'block',
            start,
            end,
            indent: event.indent,
            explicitIndent: /[|>][-+]?[1-9]/.test(header),
            firstContent: firstContent ? start + firstContent.index : end,
          });
        }
        break;
      }
      case EVENT_ID.ALIAS:
        touch(event.anchorEnd);
        break;
      case EVENT_ID.SEQUENCE:
      case EVENT_ID.MAPPING: {
        const flow = event.style === COLLECTION_STYLE.FLOW;
        // js-yaml opens an unbracketed flow mapping for a pair inside a flow sequence ([a: 1]).
        const bracketed = text[event.start] === '[' || text[event.start] === '{';
        frames.push({ flow, bracketed, start: event.start, lastEnd: event.start + 1 });
        if (flow) flowFrames++;
        else blockColumns.push(column(text, event.start));
        break;
      }
      case EVENT_ID.POP: {
        const frame = frames.pop();
        if (!frame) break;
        if (!frame.flow) {
          blockColumns.pop();
          break;
        }
        flowFrames--;
        const end = frame.bracketed ? closingBracket(text, frame.lastEnd) : frame.lastEnd;
        if (flowFrames > 0) touch(end);
        else regions.push({ kind: 'flow', start: frame.start, end, indent: 0 });
        break;
      }
    }
  }
  return regions;
}

/** The offset just past the ']' or '}' closing a flow collection whose last entry ends at `from`. */
function closingBracket(text: string, from: number): number {
  let index = from;
  while (index < text.length) {
    const ch = text[index];
    if (ch === ']' || ch === '}') return index + 1;
    if (ch === '#') {
      while (index < text.length && text[index] !== '\n' && text[index] !== '\r') index++;
      continue;
    }
    index++;
  }
  return text.length;
}

function zoneAfter(text: string, region: Region): Zone {
  if (region.kind === 'block') return { kind: 'block', indent: region.indent };
  if (region.kind !== 'plain') return undefined;
  // A plain scalar keeps scanning into the next lines only when nothing else follows it.
  let index = region.end;
  while (text[index] === ' ' || text[index] === '\t') index++;
  const ch = text[index];
  return ch === undefined || ch === '\n' || ch === '\r' ? { kind: 'plain', indent: region.indent } : undefined;
}

function checkInside(text: string, region: Region, lineStart: number, lineEnd: number): void {
  if (region.kind === 'plain') {
    for (let index = lineStart; index < lineEnd && (text[index] === ' ' || text[index] === '\t'); index++) {
      if (text[index] === '\t' && index - lineStart < region.indent) throw new PsychError('syntax', PLAIN_TAB, index);
    }
  } else if (region.kind === 'block') {
    // Until the first content line fixes the indentation, any tab among the leading blanks fails.
    const detecting = region.indent >= 0 && !region.explicitIndent && lineStart <= (region.firstContent ?? region.end);
    checkBlockIndentation(text, lineStart, lineEnd, detecting ? -1 : region.indent);
  }
}

function checkBlockIndentation(text: string, lineStart: number, lineEnd: number, indent: number): void {
  let index = lineStart;
  while (index < lineEnd && text[index] === ' ') index++;
  if (text[index] === '\t' && (indent < 0 || index - lineStart < indent)) throw new PsychError('syntax', BLOCK_TAB, index);
}

/** Checks a line's leading blanks and returns the offset of its first other character. */
function checkLeading(text: string, lineStart: number, lineEnd: number, zone: Zone): number {
  if (zone?.kind === 'block') checkBlockIndentation(text, lineStart, lineEnd, zone.indent);
  let index = lineStart;
  for (; index < lineEnd && (text[index] === ' ' || text[index] === '\t'); index++) {
    if (text[index] !== '\t') continue;
    if (zone === undefined) throw new PsychError('syntax', CANNOT_START_TOKEN, index);
    if (zone.kind === 'plain' && index - lineStart < zone.indent) throw new PsychError('syntax', PLAIN_TAB, index);
  }
  return index;
}

/**
 * After a block '-', '?' or ':' indicator libyaml allows a new simple key, and then no tab. A ':'
 * starting the line's content must answer a '?' key in the same column.
 */
function checkIndicators(text: string, from: number, lineStart: number, lineEnd: number, explicitKeys: Set<number>): void {
  let index = from;
  for (const column of explicitKeys) if (column >= index - lineStart && text[index] !== ':') explicitKeys.delete(column);
  while (index < lineEnd) {
    const ch = text[index];
    const following = text[index + 1];
    const blankAfter = index + 1 >= lineEnd || following === ' ' || following === '\t';
    if (!(ch === '-' || ch === '?' || ch === ':') || !blankAfter) return;
    const column = index - lineStart;
    if (ch === '?') explicitKeys.add(column);
    if (ch === ':') {
      if (!explicitKeys.has(column)) throw new PsychError('syntax', EXPECTED_KEY, index);
      explicitKeys.delete(column);
    }
    index++;
    for (; index < lineEnd && (text[index] === ' ' || text[index] === '\t'); index++) {
      if (text[index] === '\t') throw new PsychError('syntax', CANNOT_START_TOKEN, index);
    }
  }
}
