import { CHOMPING_MODE, COLLECTION_STYLE, EVENT_ID, SCALAR_STYLE, getScalarValue } from 'js-yaml';
import type { Event, ScalarEvent } from 'js-yaml';
import { PsychError } from './psych_error.ts';
import { MAX_NESTING_DEPTH, NESTING_REASON, checkNextToken, firstDocumentEvents } from './psych_events.ts';
import { checkLibyamlRules } from './libyaml_rules.ts';

// The node tree Psych's TreeBuilder would build for the first document, from js-yaml's events,
// with the token rules of libyaml's scanner (scanner.c) that js-yaml does not share.

export const CORE_TAG_PREFIX = 'tag:yaml.org,2002:';

export interface ScalarNode {
  kind: 'scalar';
  offset: number;
  anchor: string | undefined;
  tag: string | undefined;
  value: string;
  /** libyaml's quoted_implicit: no tag and not plain (quoted or block); Psych keeps it a string. */
  quoted: boolean;
}

export interface CollectionNode {
  kind: 'sequence' | 'mapping';
  offset: number;
  anchor: string | undefined;
  tag: string | undefined;
  children: YamlNode[];
}

export interface AliasNode {
  kind: 'alias';
  offset: number;
  anchor: string;
}

export type YamlNode = ScalarNode | CollectionNode | AliasNode;

const NODE_CONTENT = 'did not find expected node content while parsing a flow node';

interface Frame {
  node: CollectionNode;
  flow: boolean;
}

/** The root node of the first document of `text`, or undefined when there is no document. */
export function buildFirstDocument(text: string): YamlNode | undefined {
  const { events, end } = firstDocumentEvents(text);
  let documentEnd = end;
  const start = events.findIndex((event) => event.type === EVENT_ID.DOCUMENT);
  if (start === -1) return undefined;
  const handles = new Map<string, string>([
    ['!', '!'],
    ['!!', CORE_TAG_PREFIX],
  ]);
  const documentEvent = events[start];
  if (documentEvent?.type === EVENT_ID.DOCUMENT) {
    for (const directive of documentEvent.directives) {
      if (directive.kind === 'tag') handles.set(directive.handle, directive.prefix);
    }
  }
  const stack: Frame[] = [];
  let flowDepth = 0;
  let root: YamlNode | undefined;
  let last = events.length;
  let position = 0;
  const attach = (node: YamlNode): void => {
    const parent = stack[stack.length - 1];
    if (parent) parent.node.children.push(node);
    else root = node;
  };
  const atKey = (): boolean => {
    const parent = stack[stack.length - 1]?.node;
    return parent?.kind === 'mapping' && parent.children.length % 2 === 0;
  };
  // Where the last token read so far ends: an empty flow key's ':' comes after it.
  let cursor = 0;
  for (let index = start + 1; index < events.length && last === events.length; index++) {
    const event = events[index] as Event;
    switch (event.type) {
      case EVENT_ID.SCALAR: {
        position = firstPosition(position, event.tagStart, event.anchorStart, event.valueStart);
        checkProperties(text, event.tagStart, event.tagEnd, event.anchorEnd, flowDepth > 0);
        const tag = resolveTag(text, event.tagStart, event.tagEnd, handles);
        const quote = event.style === SCALAR_STYLE.SINGLE_QUOTED || event.style === SCALAR_STYLE.DOUBLE_QUOTED ? 1 : 0;
        if (event.valueStart >= 0 && atKey()) {
          let keyStart = event.valueStart - quote;
          if (event.tagStart >= 0) keyStart = Math.min(keyStart, event.tagStart);
          if (event.anchorStart >= 0) keyStart = Math.min(keyStart, event.anchorStart - 1);
          checkSimpleKey(text, keyStart, event.valueEnd + quote, flowDepth > 0);
        } else if (flowDepth > 0 && atKey() && event.tagStart < 0 && event.anchorStart < 0) {
          checkEmptyFlowKey(text, cursor);
        }
        cursor = Math.max(cursor, event.valueEnd + quote, event.tagEnd, event.anchorEnd);
        const node: ScalarNode = {
          kind: 'scalar',
          offset: position,
          anchor: anchorName(text, event.anchorStart, event.anchorEnd, 'an anchor'),
          tag,
          value: scalarText(text, event),
          quoted: tag === undefined && event.style !== SCALAR_STYLE.PLAIN,
        };
        const unindented = stack.length === 0 ? unindentedBlockContent(text, event) : undefined;
        if (unindented) {
          node.value = unindented.value;
          documentEnd = Math.min(documentEnd, unindented.end);
          checkNextToken(text, unindented.end);
        }
        if (flowDepth > 0 && event.style === SCALAR_STYLE.PLAIN && event.valueStart >= 0) {
          attach(flowPlainScalar(text, event, node, stack[stack.length - 1]?.node));
        } else {
          attach(node);
        }
        break;
      }
      case EVENT_ID.SEQUENCE:
      case EVENT_ID.MAPPING: {
        position = firstPosition(position, event.tagStart, event.anchorStart, event.start);
        const flow = event.style === COLLECTION_STYLE.FLOW;
        checkProperties(text, event.tagStart, event.tagEnd, event.anchorEnd, flow || flowDepth > 0);
        const node: CollectionNode = {
          kind: event.type === EVENT_ID.SEQUENCE ? 'sequence' : 'mapping',
          offset: position,
          anchor: anchorName(text, event.anchorStart, event.anchorEnd, 'an anchor'),
          tag: resolveTag(text, event.tagStart, event.tagEnd, handles),
          children: [],
        };
        const bracket = text[event.start] === '[' || text[event.start] === '{' ? 1 : 0;
        cursor = Math.max(cursor, event.start + bracket, event.tagEnd, event.anchorEnd);
        attach(node);
        stack.push({ node, flow });
        if (flow) flowDepth++;
        if (stack.length > MAX_NESTING_DEPTH) throw new PsychError('limit', NESTING_REASON, position);
        break;
      }
      case EVENT_ID.ALIAS:
        position = firstPosition(position, event.anchorStart);
        checkProperties(text, -1, -1, event.anchorEnd, flowDepth > 0);
        if (atKey()) checkSimpleKey(text, event.anchorStart - 1, event.anchorEnd, flowDepth > 0);
        cursor = Math.max(cursor, event.anchorEnd);
        attach({ kind: 'alias', offset: position, anchor: anchorName(text, event.anchorStart, event.anchorEnd, 'an alias') ?? '' });
        break;
      case EVENT_ID.POP: {
        const frame = stack.pop();
        if (!frame) last = index;
        else if (frame.flow) flowDepth--;
        break;
      }
      case EVENT_ID.DOCUMENT:
        last = index;
        break;
    }
  }
  checkLibyamlRules(text, events.slice(start, last + 1), documentEnd);
  return root;
}

/**
 * In a flow collection libyaml reads '?' and ':' as indicators even before a non-blank ("[?k]" is
 * [{k: nil}], "[:x]" is an error) and refuses "x:" followed by one of ",?[]{}" in a plain scalar.
 * js-yaml reads all of these as plain scalars.
 */
function flowPlainScalar(text: string, event: ScalarEvent, node: ScalarNode, parent: CollectionNode | undefined): YamlNode {
  const following = text.slice(event.valueStart, event.valueEnd + 2);
  const colon = /:[,?[\]{}]/.exec(following);
  if (colon && colon.index < event.valueEnd - event.valueStart + 1) {
    throw new PsychError('syntax', "found unexpected ':' while scanning a plain scalar", event.valueStart + colon.index);
  }
  const first = text[event.valueStart];
  if (first === ':' || (first === '?' && event.tagStart < 0 && event.anchorStart < 0)) {
    const rest = node.value.slice(1);
    const position = parent?.kind === 'mapping' ? parent.children.length % 2 : 2;
    if (first === ':' || position === 1 || !/^[^\s\-?:,[\]{}#&*!|>'"%@`]/.test(rest)) {
      throw new PsychError('syntax', NODE_CONTENT, event.valueStart);
    }
    const key: ScalarNode = { ...node, offset: event.valueStart + 1, value: rest };
    if (position === 0) return key;
    const empty: ScalarNode = { ...key, value: '', quoted: false };
    return { kind: 'mapping', offset: event.valueStart, anchor: undefined, tag: undefined, children: [key, empty] };
  }
  return node;
}

// libyaml's URI characters (scanner.c scan_tag_uri): '#', '^', '"', '<', ... end a tag.
const TAG_URI = /^!(?:<[0-9A-Za-z\-_;/?:@&=+$,.!~*'()[\]%]*>|[0-9A-Za-z\-_;/?:@&=+$,.!~*'()[\]%]*)$/;

/**
 * libyaml wants a blank after a tag (or a ',' in a flow collection), and after an anchor or
 * alias a blank or one of "?:,]}%@`" (scanner.c scan_tag, scan_anchor).
 */
function checkProperties(text: string, tagStart: number, tagEnd: number, anchorEnd: number, inFlow: boolean): void {
  if (tagStart >= 0 && /^!(?:[0-9A-Za-z-]*!)$/.test(text.slice(tagStart, tagEnd))) {
    throw new PsychError('syntax', 'did not find expected tag URI while parsing a tag', tagStart);
  }
  if (tagStart >= 0 && !TAG_URI.test(text.slice(tagStart, tagEnd))) {
    const raw = text.slice(tagStart, tagEnd);
    const bad = [...raw].findIndex((ch, index) => index > 0 && !/[0-9A-Za-z\-_;/?:@&=+$,.!~*'()[\]%<>]/.test(ch));
    throw new PsychError('syntax', 'did not find expected whitespace or line break while scanning a tag', tagStart + Math.max(bad, 0));
  }
  if (tagEnd >= 0) {
    const next = text[tagEnd];
    if (!(next === undefined || next === ' ' || next === '\t' || next === '\n' || next === '\r' || (inFlow && next === ','))) {
      throw new PsychError('syntax', 'did not find expected whitespace or line break while scanning a tag', tagEnd);
    }
  }
  if (anchorEnd >= 0) {
    const next = text[anchorEnd];
    if (!(next === undefined || ' \t\n\r?:,]}%@`'.includes(next))) {
      throw new PsychError('syntax', 'did not find expected alphabetic or numeric character while scanning an anchor', anchorEnd);
    }
  }
}

/**
 * A block scalar at the root needs its content indented at least one column in libyaml: "--- |"
 * followed by "foo" at column 0 is an empty scalar, and the document ends at "foo".
 */
function unindentedBlockContent(text: string, event: ScalarEvent): { value: string; end: number } | undefined {
  const block = event.style === SCALAR_STYLE.LITERAL_BLOCK || event.style === SCALAR_STYLE.FOLDED_BLOCK;
  if (!block || event.indent !== 0 || event.valueStart < 0) return undefined;
  const content = /^(?=[ \t]*[^ \t\r\n])/m.exec(text.slice(event.valueStart, event.valueEnd));
  if (!content) return undefined;
  const breaks = (text.slice(event.valueStart, event.valueStart + content.index).match(/\r\n|\r|\n/g) ?? []).length;
  return { value: event.chomping === CHOMPING_MODE.KEEP ? '\n'.repeat(breaks) : '', end: event.valueStart + content.index };
}

function scalarText(text: string, event: ScalarEvent): string {
  const value = getScalarValue(text, event);
  const block = event.style === SCALAR_STYLE.LITERAL_BLOCK || event.style === SCALAR_STYLE.FOLDED_BLOCK;
  if (!block || event.valueEnd <= event.valueStart || !value.endsWith('\n')) return value;
  // libyaml only keeps a final line break that is really there; js-yaml adds one at the end of input.
  const last = text[event.valueEnd - 1];
  return last === '\n' || last === '\r' ? value : value.slice(0, -1);
}

/**
 * libyaml forgets a possible simple key 1024 characters after it starts, or when the line ends
 * before its ':' (scanner.c stale_simple_keys); js-yaml allows both in flow collections.
 */
function checkSimpleKey(text: string, start: number, end: number, inFlow: boolean): void {
  let colon = end;
  for (;;) {
    const ch = text[colon];
    if (ch === ' ' || ch === '\t' || (inFlow && (ch === '\n' || ch === '\r'))) colon++;
    else if (inFlow && ch === '#' && colon > end) {
      while (colon < text.length && text[colon] !== '\n' && text[colon] !== '\r') colon++;
    } else break;
  }
  if (text[colon] !== ':' || explicitKey(text, start)) return;
  if (inFlow && /[\r\n]/.test(text.slice(start, colon))) {
    throw new PsychError('syntax', "did not find expected ',' or '}' while parsing a flow mapping", start);
  }
  if (colon - start <= 1024 || [...text.slice(start, colon)].length <= 1024) return;
  throw new PsychError('syntax', 'an implicit key is longer than 1024 characters (the limit of libyaml)', colon);
}

/** Whether the key starting at `start` follows a '?' indicator. */
function explicitKey(text: string, start: number): boolean {
  let index = start - 1;
  while (index >= 0 && /\s/.test(text[index] ?? '')) index--;
  return text[index] === '?';
}

/** In a flow collection libyaml wants a node before ':' unless a '?' came first ("{: v}" fails). */
function checkEmptyFlowKey(text: string, from: number): void {
  let index = from;
  while (index < text.length && /[\s,\]}]/.test(text[index] ?? '')) index++;
  if (text[index] === ':' && !explicitKey(text, index)) throw new PsychError('syntax', NODE_CONTENT, index);
}

function firstPosition(fallback: number, ...candidates: number[]): number {
  for (const candidate of candidates) if (candidate >= 0) return candidate;
  return fallback;
}

// libyaml's anchors and aliases are ASCII letters, digits, '-' and '_' only (scanner.c scan_anchor).
function anchorName(text: string, start: number, end: number, what: string): string | undefined {
  if (start < 0) return undefined;
  const name = text.slice(start, end);
  if (!/^[0-9A-Za-z_-]+$/.test(name)) {
    throw new PsychError('syntax', `did not find expected alphabetic or numeric character while scanning ${what}`, start);
  }
  return name;
}

function resolveTag(text: string, start: number, end: number, handles: Map<string, string>): string | undefined {
  if (start < 0) return undefined;
  const raw = text.slice(start, end);
  if (raw.startsWith('!<') && raw.endsWith('>')) return decodeTag(raw.slice(2, -1));
  const handleEnd = raw.indexOf('!', 1);
  const handle = handleEnd === -1 ? '!' : raw.slice(0, handleEnd + 1);
  const prefix = handles.get(handle) ?? handle;
  return prefix + decodeTag(raw.slice(handle.length));
}

function decodeTag(text: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
