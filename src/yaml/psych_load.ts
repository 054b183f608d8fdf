import { PsychError, disallowedClass, lineAndColumn, rubyError } from './psych_error.ts';
import { blockSubsetTree } from './block_subset.ts';
import { NON_PRINTABLE } from './reader_characters.ts';
import { CORE_TAG_PREFIX, buildFirstDocument } from './psych_tree.ts';
import type { AliasNode, CollectionNode, ScalarNode, YamlNode } from './psych_tree.ts';
import { isRubyEncodingName } from './ruby_encodings.ts';
import { RubyFloat, rubyFloatOf, rubyFloatToS, tokenize } from './scalar_scanner.ts';
import type { ClassLoader, RubyScalar } from './scalar_scanner.ts';

// Loads the first YAML document the way Ruby's Psych 4 does: our port of libyaml scans and parses
// (libyaml_scanner.ts, libyaml_parser.ts); the tree and its conversion to values follow Psych's TreeBuilder and
// Visitors::ToRuby (psych 4.0.4, lib/psych/visitors/to_ruby.rb) so that YAML 1.1 scalars, tags,
// merge keys, duplicate keys and class restrictions behave as in Ruby.

export interface PsychLoadOptions {
  /** YAML.load(aliases: true) when set; otherwise every alias fails as in safe_load. */
  aliases: boolean;
  /** Class names Psych::ClassLoader::Restricted lets through (Symbol, Date, ...). */
  permittedClasses: readonly string[];
  /** Floats as RubyFloat objects rather than numbers, for printing them as Ruby does. */
  rubyFloats?: boolean;
}

/** Merges copy keys, so nested `<<: [*a, *a, ...]` could make a small file cost a lot of work. */
export const MAX_MERGED_KEYS = 1_000_000;

/** Psych 5's AliasesNotEnabled text (Psych 4.0.4 still says "Unknown alias: <name>"). */
export const ALIASES_NOT_ENABLED =
  'Alias parsing was not enabled. To enable it, pass `aliases: true` to `Psych::load` or `Psych::safe_load`.';

const STR_TAG = `${CORE_TAG_PREFIX}str`;

/**
 * Returns what Psych would return for the first document of `text` (null when there is none),
 * or throws PsychError. Mappings become plain objects whose keys are Ruby's `to_s` of the key.
 */
export function psychLoad(text: string, options: PsychLoadOptions): unknown {
  checkCharacters(text);
  const plain = blockSubsetTree(text);
  if (plain !== undefined) {
    try {
      return new ToRuby(options).accept(plain);
    } catch {
      // Read again by the port below, whose tree carries the offsets the error message needs.
    }
  }
  const root = buildFirstDocument(text);
  if (root === undefined) return null;
  return new ToRuby(options).accept(root);
}

/** libyaml's reader rejects these anywhere in what it has read, before parsing (reader.c). */
function checkCharacters(text: string): void {
  const match = NON_PRINTABLE.exec(text);
  if (!match) return;
  const error = new PsychError('syntax', 'control characters are not allowed', match.index);
  // A reader error leaves libyaml's context mark unset: Psych prints line 1 column 1.
  error.mark = { line: 1, column: 1 };
  error.problemMark = lineAndColumn(text, match.index);
  throw error;
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
  private readonly rubyFloats: boolean;
  private mergedKeys = 0;

  constructor(options: PsychLoadOptions) {
    this.permitted = new Set(options.permittedClasses);
    this.aliases = options.aliases;
    this.rubyFloats = options.rubyFloats === true;
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
          const float = this.rubyFloats && scalar.type === 'float';
          if (node.anchor === undefined) return float ? new RubyFloat(scalar.value) : scalarValue(scalar);
          const key = scalarKey(scalar);
          if (float) key.value = new RubyFloat(scalar.value);
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
        if (!isRubyEncodingName(value)) throw rubyError(`unknown encoding name - ${value}`);
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
      return this.plainPairs(this.register(node, {}), node.children);
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
      return this.plainPairs(this.register(node, {}), node.children);
    }
    if ((match = /^!ruby\/marshalable:(.*)$/.exec(tag))) this.impossibleClass(match[1]);
    return this.reviveHash(this.register(node, {}), node.children);
  }

  /** Psych::Set and Psych::Omap are filled with `[]=`, without merge keys. */
  private plainPairs(target: Record<string, unknown>, children: YamlNode[]): Record<string, unknown> {
    for (let index = 0; index < children.length; index += 2) {
      const key = this.acceptKey(children[index] as YamlNode);
      setKey(target, key.name, this.accept(children[index + 1] as YamlNode));
    }
    return target;
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
