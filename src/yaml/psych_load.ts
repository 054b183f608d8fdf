import { EVENT_ID, SCALAR_STYLE, getScalarValue } from 'js-yaml';
import type { Event, ScalarEvent } from 'js-yaml';
import { PsychError, disallowedClass, rubyError } from './psych_error.ts';
import { rubyFloatOf, rubyFloatToS, tokenize } from './scalar_scanner.ts';
import type { ClassLoader, RubyScalar } from './scalar_scanner.ts';
import { MAX_NESTING_DEPTH, NESTING_REASON, firstDocumentEvents } from './psych_events.ts';
import { checkLibyamlRules } from './libyaml_rules.ts';

// Loads the first YAML document the way Ruby's Psych 4 does: js-yaml 5 only scans and parses
// (parseEvents); the tree and its conversion to values follow Psych's TreeBuilder and
// Visitors::ToRuby (psych 4.0.4, lib/psych/visitors/to_ruby.rb) so that YAML 1.1 scalars, tags,
// merge keys, duplicate keys and class restrictions behave as in Ruby.

export interface PsychLoadOptions {
  /** YAML.load(aliases: true) when set; otherwise every alias fails as in safe_load. */
  aliases: boolean;
  /** Class names Psych::ClassLoader::Restricted lets through (Symbol, Date, ...). */
  permittedClasses: readonly string[];
}

/** Merges copy keys, so nested `<<: [*a, *a, ...]` could make a small file cost a lot of work. */
export const MAX_MERGED_KEYS = 1_000_000;

/** Psych 5's AliasesNotEnabled text (Psych 4.0.4 still says "Unknown alias: <name>"). */
export const ALIASES_NOT_ENABLED =
  'Alias parsing was not enabled. To enable it, pass `aliases: true` to `Psych::load` or `Psych::safe_load`.';

const CORE_TAG_PREFIX = 'tag:yaml.org,2002:';
const STR_TAG = `${CORE_TAG_PREFIX}str`;

interface ScalarNode {
  kind: 'scalar';
  offset: number;
  anchor: string | undefined;
  tag: string | undefined;
  value: string;
  /** libyaml's quoted_implicit: no tag and not plain (quoted or block); Psych keeps it a string. */
  quoted: boolean;
}

interface CollectionNode {
  kind: 'sequence' | 'mapping';
  offset: number;
  anchor: string | undefined;
  tag: string | undefined;
  children: YamlNode[];
}

interface AliasNode {
  kind: 'alias';
  offset: number;
  anchor: string;
}

type YamlNode = ScalarNode | CollectionNode | AliasNode;

/**
 * Returns what Psych would return for the first document of `text` (null when there is none),
 * or throws PsychError. Mappings become plain objects whose keys are Ruby's `to_s` of the key.
 */
export function psychLoad(text: string, options: PsychLoadOptions): unknown {
  const source = normalizeBreaks(text);
  checkCharacters(source);
  const root = buildFirstDocument(source);
  if (root === undefined) return null;
  return new ToRuby(options).accept(root);
}

// libyaml (YAML 1.1) also breaks lines at NEL, LS and PS; js-yaml (YAML 1.2) does not. libyaml
// skips a byte order mark at the start of any line but still counts its column; js-yaml only
// skips one at the start of the stream. Both replacements keep every offset.
function normalizeBreaks(text: string): string {
  let result = /[\u0085\u2028\u2029]/.test(text) ? text.replace(/[\u0085\u2028\u2029]/g, '\n') : text;
  if (result.includes('\uFEFF', 1)) result = result.replace(/(?<=[\n\r])\uFEFF/g, ' ');
  return result;
}

// libyaml's reader rejects these anywhere in what it has read, before parsing (reader.c).
const NON_PRINTABLE =
  /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkCharacters(text: string): void {
  const match = NON_PRINTABLE.exec(text);
  if (match) throw new PsychError('syntax', 'control characters are not allowed', match.index);
}

function buildFirstDocument(text: string): YamlNode | undefined {
  const { events, end: documentEnd } = firstDocumentEvents(text);
  const start = events.findIndex((event) => event.type === EVENT_ID.DOCUMENT);
  if (start === -1) return undefined;
  const documentEvent = events[start];
  const handles = new Map<string, string>([
    ['!', '!'],
    ['!!', CORE_TAG_PREFIX],
  ]);
  if (documentEvent?.type === EVENT_ID.DOCUMENT) {
    for (const directive of documentEvent.directives) {
      if (directive.kind === 'tag') handles.set(directive.handle, directive.prefix);
    }
  }
  const stack: CollectionNode[] = [];
  let root: YamlNode | undefined;
  let end = events.length;
  let position = 0;
  const attach = (node: YamlNode): void => {
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(node);
    else root = node;
  };
  const atKey = (): boolean => {
    const parent = stack[stack.length - 1];
    return parent?.kind === 'mapping' && parent.children.length % 2 === 0;
  };
  for (let index = start + 1; index < events.length; index++) {
    const event = events[index] as Event;
    switch (event.type) {
      case EVENT_ID.SCALAR: {
        position = firstPosition(position, event.tagStart, event.anchorStart, event.valueStart);
        const tag = resolveTag(text, event.tagStart, event.tagEnd, handles);
        if (event.valueStart >= 0 && atKey()) {
          const quote = event.style === SCALAR_STYLE.SINGLE_QUOTED || event.style === SCALAR_STYLE.DOUBLE_QUOTED ? 1 : 0;
          let keyStart = event.valueStart - quote;
          if (event.tagStart >= 0) keyStart = Math.min(keyStart, event.tagStart);
          if (event.anchorStart >= 0) keyStart = Math.min(keyStart, event.anchorStart - 1);
          checkSimpleKeyLength(text, keyStart, event.valueEnd + quote);
        }
        attach({
          kind: 'scalar',
          offset: position,
          anchor: anchorName(text, event.anchorStart, event.anchorEnd, 'an anchor'),
          tag,
          value: scalarText(text, event),
          quoted: tag === undefined && event.style !== SCALAR_STYLE.PLAIN,
        });
        break;
      }
      case EVENT_ID.SEQUENCE:
      case EVENT_ID.MAPPING: {
        position = firstPosition(position, event.tagStart, event.anchorStart, event.start);
        const node: CollectionNode = {
          kind: event.type === EVENT_ID.SEQUENCE ? 'sequence' : 'mapping',
          offset: position,
          anchor: anchorName(text, event.anchorStart, event.anchorEnd, 'an anchor'),
          tag: resolveTag(text, event.tagStart, event.tagEnd, handles),
          children: [],
        };
        attach(node);
        stack.push(node);
        if (stack.length > MAX_NESTING_DEPTH) throw new PsychError('limit', NESTING_REASON, position);
        break;
      }
      case EVENT_ID.ALIAS:
        position = firstPosition(position, event.anchorStart);
        if (atKey()) checkSimpleKeyLength(text, event.anchorStart - 1, event.anchorEnd);
        attach({ kind: 'alias', offset: position, anchor: anchorName(text, event.anchorStart, event.anchorEnd, 'an alias') ?? '' });
        break;
      case EVENT_ID.POP:
        if (stack.length === 0) end = index;
        else stack.pop();
        break;
      case EVENT_ID.DOCUMENT:
        end = index;
        break;
    }
    if (end !== events.length) break;
  }
  checkLibyamlRules(text, events.slice(start, end + 1), documentEnd);
  return root;
}

function scalarText(text: string, event: ScalarEvent): string {
  const value = getScalarValue(text, event);
  const block = event.style === SCALAR_STYLE.LITERAL_BLOCK || event.style === SCALAR_STYLE.FOLDED_BLOCK;
  if (!block || event.valueEnd <= event.valueStart || !value.endsWith('\n')) return value;
  // libyaml only keeps a final line break that is really there; js-yaml adds one at the end of input.
  const last = text[event.valueEnd - 1];
  return last === '\n' || last === '\r' ? value : value.slice(0, -1);
}

/** libyaml forgets a possible simple key 1024 characters after it starts (scanner.c stale_simple_keys). */
function checkSimpleKeyLength(text: string, start: number, end: number): void {
  let colon = end;
  while (text[colon] === ' ' || text[colon] === '\t') colon++;
  if (text[colon] !== ':' || colon - start <= 1024) return;
  if ([...text.slice(start, colon)].length <= 1024) return;
  throw new PsychError('syntax', 'an implicit key is longer than 1024 characters (the limit of libyaml)', colon);
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
    throw new PsychError(
      'syntax',
      `did not find expected alphabetic or numeric character while scanning ${what}`,
      start,
    );
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

interface Anchored {
  value: unknown;
  key?: KeyInfo;
}

interface KeyInfo {
  /** Ruby's `to_s` of the key: the JavaScript property name. */
  name: string;
  /** Whether Ruby sees a String (only a String '<<' merges, and `!!str` mappings look for 'str'). */
  isString: boolean;
  value: unknown;
}

class ToRuby implements ClassLoader {
  private readonly anchors = new Map<string, Anchored>();
  private readonly permitted: ReadonlySet<string>;
  private readonly aliases: boolean;
  private mergedKeys = 0;

  constructor(options: PsychLoadOptions) {
    this.permitted = new Set(options.permittedClasses);
    this.aliases = options.aliases;
  }

  permits(className: string): boolean {
    return this.permitted.has(className);
  }

  load(className: string): void {
    if (!this.permitted.has(className)) throw disallowedClass(className);
  }

  accept(node: YamlNode): unknown {
    try {
      switch (node.kind) {
        case 'scalar': {
          const scalar = this.deserialize(node);
          if (node.anchor === undefined) return scalarValue(scalar);
          const key = scalarKey(scalar);
          this.anchors.set(node.anchor, { value: key.value, key });
          return key.value;
        }
        case 'alias':
          return this.resolveAlias(node).value;
        case 'sequence':
          return this.visitSequence(node);
        case 'mapping':
          return this.visitMapping(node);
      }
    } catch (error) {
      if (error instanceof PsychError && error.offset === undefined) error.offset = node.offset;
      throw error;
    }
  }

  /** accept for a node in key position: also how the key behaves in a Ruby Hash. */
  acceptKey(node: YamlNode): KeyInfo {
    if (node.kind === 'scalar' && node.anchor === undefined) {
      try {
        return scalarKey(this.deserialize(node));
      } catch (error) {
        if (error instanceof PsychError && error.offset === undefined) error.offset = node.offset;
        throw error;
      }
    }
    if (node.kind === 'alias') {
      const anchored = this.resolveAlias(node);
      return anchored.key ?? objectKey(anchored.value);
    }
    const value = this.accept(node);
    if (node.kind === 'scalar' && node.anchor !== undefined) return this.anchors.get(node.anchor)?.key ?? objectKey(value);
    return objectKey(value);
  }

  private resolveAlias(node: AliasNode): Anchored {
    try {
      if (!this.aliases) throw new PsychError('alias', ALIASES_NOT_ENABLED);
      const anchored = this.anchors.get(node.anchor);
      if (!anchored) throw new PsychError('alias', `Unknown alias: ${node.anchor}`);
      return anchored;
    } catch (error) {
      if (error instanceof PsychError && error.offset === undefined) error.offset = node.offset;
      throw error;
    }
  }

  private register<T>(node: CollectionNode, value: T): T {
    if (node.anchor !== undefined) this.anchors.set(node.anchor, { value });
    return value;
  }

  /** Visitors::ToRuby#deserialize */
  private deserialize(node: ScalarNode): RubyScalar {
    const { value, tag } = node;
    if (node.quoted) return { type: 'str', value };
    if (tag === undefined) return tokenize(value, this);
    if (tag === '!binary' || tag === `${CORE_TAG_PREFIX}binary`) return { type: 'binary', value: unpackBase64(value) };
    const str = /^!(?:str|ruby\/string)(?::(.*))?$/.exec(tag);
    if (str || tag === STR_TAG) {
      this.resolveClass(str?.[1]);
      return { type: 'str', value };
    }
    switch (tag) {
      case '!ruby/object:BigDecimal':
        throw disallowedClass('BigDecimal');
      case '!ruby/object:DateTime':
        throw disallowedClass('DateTime');
      case '!ruby/encoding':
        return { type: 'str', value };
      case '!ruby/object:Complex':
        throw disallowedClass('Complex');
      case '!ruby/object:Rational':
        throw disallowedClass('Rational');
      case '!ruby/class':
      case '!ruby/module':
        this.resolveClass(value);
        return { type: 'nil' };
      case `${CORE_TAG_PREFIX}float`:
      case '!float':
        return { type: 'float', value: rubyFloatOf(tokenize(value, this)) };
      case '!ruby/regexp':
        throw disallowedClass('Regexp');
      case '!ruby/range':
        throw disallowedClass('Range');
    }
    if (/^!ruby\/sym(?:bol)?:?(?:.*)?$/.test(tag)) {
      this.load('Symbol');
      return { type: 'sym', value };
    }
    return tokenize(value, this);
  }

  /** ClassLoader#load: nothing for an empty name, DisallowedClass for anything not permitted. */
  private resolveClass(name: string | undefined): boolean {
    if (name === undefined || name === '') return false;
    this.load(name);
    return true;
  }

  private visitSequence(node: CollectionNode): unknown {
    const tag = node.tag;
    if (tag === '!omap' || tag === `${CORE_TAG_PREFIX}omap`) {
      const map = this.register(node, {});
      for (const item of node.children) {
        if (item.kind === 'scalar' || item.kind === 'alias') throw rubyError("undefined method `first' for nil:NilClass");
        const first = item.children[0];
        const last = item.children[item.children.length - 1];
        if (!first || !last) throw rubyError("undefined method `visit_NilClass'");
        const key = this.acceptKey(first);
        setKey(map, key.name, this.accept(last));
      }
      return map;
    }
    const typed = tag === undefined ? null : /^!(?:seq|ruby\/array):(.*)$/.exec(tag);
    if (typed) this.impossibleClass(typed[1]);
    const list: unknown[] = this.register(node, []);
    for (const child of node.children) list.push(this.accept(child));
    return list;
  }

  /** A Ruby class Psych would allocate and then fail to fill: always an error here. */
  private impossibleClass(name: string | undefined): never {
    if (this.resolveClass(name)) throw rubyError(`cannot load a ${name ?? ''} from YAML`);
    throw rubyError("undefined method `allocate' for nil:NilClass");
  }

  private visitMapping(node: CollectionNode): unknown {
    const tag = node.tag;
    if (tag === undefined) return this.reviveHash(this.register(node, {}), node.children);
    let match: RegExpExecArray | null;
    if ((match = /^!ruby\/struct:?(.*)?$/.exec(tag))) {
      if (match[1]) this.impossibleClass(match[1]);
      throw disallowedClass('Struct');
    }
    if ((match = /^!ruby\/object:?(.*)?$/.exec(tag))) {
      const name = match[1] ?? '';
      if (name === 'Complex' || name === 'Rational') throw disallowedClass(name);
      if (name === 'Hash') return this.reviveHash(this.register(node, {}), node.children);
      if (name === '') throw disallowedClass('Object');
      this.impossibleClass(name);
    }
    if ((match = /^!(?:str|ruby\/string)(?::(.*))?$/.exec(tag)) || tag === STR_TAG) {
      this.resolveClass(match?.[1]);
      return this.stringFromMapping(node);
    }
    if ((match = /^!ruby\/array:(.*)$/.exec(tag))) this.impossibleClass(match[1]);
    if (tag === '!ruby/range') throw disallowedClass('Range');
    if ((match = /^!ruby\/exception:?(.*)?$/.exec(tag))) {
      for (const child of node.children) this.accept(child);
      if (match[1]) this.impossibleClass(match[1]);
      throw disallowedClass('Exception');
    }
    if (tag === '!set' || tag === `${CORE_TAG_PREFIX}set`) {
      this.load('Psych::Set');
      const set = this.register(node, {});
      for (let index = 0; index < node.children.length; index += 2) {
        const key = this.acceptKey(node.children[index] as YamlNode);
        setKey(set, key.name, this.accept(node.children[index + 1] as YamlNode));
      }
      return set;
    }
    if ((match = /^!ruby\/hash-with-ivars(?::(.*))?$/.exec(tag))) {
      if (match[1] !== undefined) this.impossibleClass(match[1]);
      return this.hashWithIvars(node);
    }
    if ((match = /^!map:(.*)$/.exec(tag) ?? /^!ruby\/hash:(.*)$/.exec(tag))) {
      if (match[1] === 'Psych::Set' && this.permits('Psych::Set')) {
        return this.reviveHash(this.register(node, {}), node.children);
      }
      this.impossibleClass(match[1]);
    }
    if (tag === '!omap' || tag === `${CORE_TAG_PREFIX}omap`) {
      this.load('Psych::Omap');
      const map = this.register(node, {});
      for (let index = 0; index < node.children.length; index += 2) {
        const key = this.acceptKey(node.children[index] as YamlNode);
        setKey(map, key.name, this.accept(node.children[index + 1] as YamlNode));
      }
      return map;
    }
    if ((match = /^!ruby\/marshalable:(.*)$/.exec(tag))) this.impossibleClass(match[1]);
    return this.reviveHash(this.register(node, {}), node.children);
  }

  /** `!!str {str: text}`: the string is the 'str' member; other members become instance variables. */
  private stringFromMapping(node: CollectionNode): unknown {
    let result: unknown = null;
    let hasString = false;
    let members = 0;
    for (let index = 0; index < node.children.length; index += 2) {
      const key = this.acceptKey(node.children[index] as YamlNode);
      const value = this.accept(node.children[index + 1] as YamlNode);
      if (key.isString && key.value === 'str') {
        result = value;
        hasString = true;
        if (node.anchor !== undefined) this.anchors.set(node.anchor, { value });
      } else {
        members++;
      }
    }
    const settable = hasString && result !== null && typeof result === 'object';
    if (members > 0 && !(settable || (hasString && typeof result === 'string'))) {
      throw rubyError(`can't modify frozen ${rubyClassName(result)}`);
    }
    return result;
  }

  private hashWithIvars(node: CollectionNode): unknown {
    const hash = this.register(node, {});
    for (let index = 0; index < node.children.length; index += 2) {
      const keyNode = node.children[index] as YamlNode;
      const valueNode = node.children[index + 1] as YamlNode;
      if (keyNode.kind !== 'scalar') throw rubyError("undefined method `value'");
      if (keyNode.value !== 'elements' && keyNode.value !== 'ivars') continue;
      if (valueNode.kind !== 'mapping' && valueNode.kind !== 'sequence') {
        throw rubyError("undefined method `each_slice' for nil:NilClass");
      }
      if (keyNode.value === 'elements') {
        this.reviveHash(hash, valueNode.children);
        continue;
      }
      for (let item = 0; item < valueNode.children.length; item += 2) {
        const name = this.acceptKey(valueNode.children[item] as YamlNode);
        const next = valueNode.children[item + 1];
        if (next === undefined) throw rubyError("undefined method `visit_NilClass'");
        this.accept(next);
        if (!/^@[A-Za-z_][A-Za-z0-9_]*$/.test(name.name)) {
          throw rubyError(`'${name.name}' is not allowed as an instance variable name`);
        }
      }
    }
    return hash;
  }

  /** Visitors::ToRuby#revive_hash, merge keys included. */
  private reviveHash(hash: Record<string, unknown>, children: YamlNode[]): Record<string, unknown> {
    for (let index = 0; index < children.length; index += 2) {
      const keyNode = children[index] as YamlNode;
      const valueNode = children[index + 1];
      if (valueNode === undefined) throw rubyError("undefined method `visit_NilClass'");
      const key = this.acceptKey(keyNode);
      const value = this.accept(valueNode);
      const keyTag = keyNode.kind === 'alias' ? undefined : keyNode.tag;
      if (!(key.isString && key.value === '<<' && keyTag !== STR_TAG)) {
        setKey(hash, key.name, value);
        continue;
      }
      // hash.merge!(value): later keys overwrite earlier ones; a TypeError keeps '<<' as a key.
      if ((valueNode.kind === 'alias' || valueNode.kind === 'mapping') && isHash(value)) {
        this.mergeInto(hash, value, valueNode.offset);
      } else if (valueNode.kind === 'sequence' && Array.isArray(value) && value.every(isHash)) {
        const merged: Record<string, unknown> = {};
        for (let item = value.length - 1; item >= 0; item--) {
          this.mergeInto(merged, value[item] as Record<string, unknown>, valueNode.offset);
        }
        this.mergeInto(hash, merged, valueNode.offset);
      } else if (!(valueNode.kind === 'sequence' && isHash(value) && Object.keys(value).length === 0)) {
        setKey(hash, '<<', value);
      }
    }
    return hash;
  }

  private mergeInto(target: Record<string, unknown>, source: Record<string, unknown>, offset: number): void {
    const keys = Object.keys(source);
    this.mergedKeys += keys.length;
    if (this.mergedKeys > MAX_MERGED_KEYS) {
      throw new PsychError('limit', `merge keys ('<<') copied more than ${MAX_MERGED_KEYS} entries`, offset);
    }
    for (const key of keys) setKey(target, key, source[key]);
  }
}

function isHash(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
  } else {
    target[key] = value;
  }
}

/** The JavaScript value of a Ruby scalar. */
function scalarValue(scalar: RubyScalar): unknown {
  switch (scalar.type) {
    case 'nil':
      return null;
    case 'int': {
      const safe = scalar.value <= BigInt(Number.MAX_SAFE_INTEGER) && scalar.value >= BigInt(Number.MIN_SAFE_INTEGER);
      return safe ? Number(scalar.value) : scalar.value;
    }
    case 'binary':
      return Buffer.from(scalar.value);
    default:
      return scalar.value;
  }
}

/** The JavaScript value of a Ruby scalar, and its `to_s` as a hash key. */
function scalarKey(scalar: RubyScalar): KeyInfo {
  switch (scalar.type) {
    case 'nil':
      return { name: '', isString: false, value: null };
    case 'bool':
      return { name: String(scalar.value), isString: false, value: scalar.value };
    case 'int': {
      const safe = scalar.value <= BigInt(Number.MAX_SAFE_INTEGER) && scalar.value >= BigInt(Number.MIN_SAFE_INTEGER);
      return { name: scalar.value.toString(), isString: false, value: safe ? Number(scalar.value) : scalar.value };
    }
    case 'float':
      return { name: rubyFloatToS(scalar.value), isString: false, value: scalar.value };
    case 'str':
      return { name: scalar.value, isString: true, value: scalar.value };
    case 'sym':
      return { name: scalar.value, isString: false, value: scalar.value };
    case 'binary': {
      const buffer = Buffer.from(scalar.value);
      return { name: buffer.toString('latin1'), isString: false, value: buffer };
    }
    case 'time':
      return { name: scalar.text, isString: false, value: scalar.value };
  }
}

function objectKey(value: unknown): KeyInfo {
  return { name: rubyInspect(value, { left: 1000 }, new Set()), isString: false, value };
}

/** Roughly Ruby's #inspect, the `to_s` of a collection used as a hash key (cut short when long). */
function rubyInspect(value: unknown, budget: { left: number }, seen: Set<unknown>): string {
  budget.left--;
  if (value === null) return 'nil';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : rubyFloatToS(value);
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString('latin1'));
  if (typeof value !== 'object') return String(value);
  const array = Array.isArray(value);
  if (seen.has(value) || budget.left <= 0) return array ? '[...]' : '{...}';
  seen.add(value);
  const parts: string[] = [];
  for (const [k, v] of array ? value.entries() : Object.entries(value)) {
    if (budget.left <= 0) {
      parts.push('...');
      break;
    }
    parts.push(array ? rubyInspect(v, budget, seen) : `${JSON.stringify(k)}=>${rubyInspect(v, budget, seen)}`);
  }
  seen.delete(value);
  return array ? `[${parts.join(', ')}]` : `{${parts.join(', ')}}`;
}

function rubyClassName(value: unknown): string {
  if (value === null) return 'NilClass: nil';
  if (typeof value === 'boolean') return value ? 'TrueClass: true' : 'FalseClass: false';
  if (typeof value === 'number' || typeof value === 'bigint') return `Integer: ${String(value)}`;
  return 'Object';
}

/** String#unpack('m'): lenient base64 that skips characters outside the alphabet and stops at '='. */
function unpackBase64(text: string): Uint8Array {
  const clean = (text.split('=', 1)[0] ?? '').replace(/[^A-Za-z0-9+/]/g, '');
  const usable = clean.length - (clean.length % 4 === 1 ? 1 : 0);
  return new Uint8Array(Buffer.from(clean.slice(0, usable), 'base64'));
}
