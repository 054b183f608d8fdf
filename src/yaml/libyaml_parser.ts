import { Scanner, Style, T, endOf, syntaxError } from './libyaml_scanner.ts';
import type { Mark, Token } from './libyaml_scanner.ts';

// libyaml 0.2.5's parser (parser.c) as a pull parser: the same states, the same events, the same
// error messages and marks. Psych stops pulling at the end of the first document, so a caller
// that wants Psych's behaviour stops there too.

export type ParserEvent =
  | { type: 'stream-start' | 'stream-end' | 'document-start' | 'document-end' | 'sequence-end' | 'mapping-end'; start: Mark }
  | {
      type: 'scalar';
      start: Mark;
      anchor: string | undefined;
      tag: string | undefined;
      value: string;
      plainImplicit: boolean;
      quotedImplicit: boolean;
      style: Style;
    }
  | { type: 'sequence-start' | 'mapping-start'; start: Mark; anchor: string | undefined; tag: string | undefined; flow: boolean }
  | { type: 'alias'; start: Mark; anchor: string };

const enum S {
  StreamStart,
  ImplicitDocumentStart,
  DocumentStart,
  DocumentContent,
  DocumentEnd,
  BlockNode,
  BlockNodeOrIndentlessSequence,
  FlowNode,
  BlockSequenceFirstEntry,
  BlockSequenceEntry,
  IndentlessSequenceEntry,
  BlockMappingFirstKey,
  BlockMappingKey,
  BlockMappingValue,
  FlowSequenceFirstEntry,
  FlowSequenceEntry,
  FlowSequenceEntryMappingKey,
  FlowSequenceEntryMappingValue,
  FlowSequenceEntryMappingEnd,
  FlowMappingFirstKey,
  FlowMappingKey,
  FlowMappingValue,
  FlowMappingEmptyValue,
  End,
}

const DEFAULT_TAGS: ReadonlyArray<[string, string]> = [
  ['!', '!'],
  ['!!', 'tag:yaml.org,2002:'],
];

export class Parser {
  private readonly scanner: Scanner;
  private state = S.StreamStart;
  private readonly states: S[] = [];
  private readonly marks: Mark[] = [];
  private tagDirectives: Array<[string, string]> = [];

  constructor(text: string) {
    this.scanner = new Scanner(text);
  }

  /** The next event; throws PsychError as libyaml would fail. */
  next(): ParserEvent {
    switch (this.state) {
      case S.StreamStart:
        return this.streamStart();
      case S.ImplicitDocumentStart:
        return this.documentStart(true);
      case S.DocumentStart:
        return this.documentStart(false);
      case S.DocumentContent:
        return this.documentContent();
      case S.DocumentEnd:
        return this.documentEnd();
      case S.BlockNode:
        return this.node(true, false);
      case S.BlockNodeOrIndentlessSequence:
        return this.node(true, true);
      case S.FlowNode:
        return this.node(false, false);
      case S.BlockSequenceFirstEntry:
        return this.blockSequenceEntry(true);
      case S.BlockSequenceEntry:
        return this.blockSequenceEntry(false);
      case S.IndentlessSequenceEntry:
        return this.indentlessSequenceEntry();
      case S.BlockMappingFirstKey:
        return this.blockMappingKey(true);
      case S.BlockMappingKey:
        return this.blockMappingKey(false);
      case S.BlockMappingValue:
        return this.blockMappingValue();
      case S.FlowSequenceFirstEntry:
        return this.flowSequenceEntry(true);
      case S.FlowSequenceEntry:
        return this.flowSequenceEntry(false);
      case S.FlowSequenceEntryMappingKey:
        return this.flowSequenceEntryMappingKey();
      case S.FlowSequenceEntryMappingValue:
        return this.flowSequenceEntryMappingValue();
      case S.FlowSequenceEntryMappingEnd:
        return this.flowSequenceEntryMappingEnd();
      case S.FlowMappingFirstKey:
        return this.flowMappingKey(true);
      case S.FlowMappingKey:
        return this.flowMappingKey(false);
      case S.FlowMappingValue:
        return this.flowMappingValue(false);
      case S.FlowMappingEmptyValue:
        return this.flowMappingValue(true);
      case S.End:
        return { type: 'stream-end', start: this.scanner.mark() };
    }
  }

  private peek(): Token {
    return this.scanner.peek();
  }

  private skip(): void {
    this.scanner.skipToken();
  }

  private pop(): S {
    return this.states.pop() as S;
  }

  private streamStart(): ParserEvent {
    const token = this.peek();
    if (token.type !== T.StreamStart) throw syntaxError(undefined, undefined, 'did not find expected <stream-start>', token.start);
    this.state = S.ImplicitDocumentStart;
    this.skip();
    return { type: 'stream-start', start: token.start };
  }

  private documentStart(implicit: boolean): ParserEvent {
    let token = this.peek();
    if (!implicit) {
      while (token.type === T.DocumentEnd) {
        this.skip();
        token = this.peek();
      }
    }
    if (
      implicit &&
      token.type !== T.VersionDirective &&
      token.type !== T.TagDirective &&
      token.type !== T.DocumentStart &&
      token.type !== T.StreamEnd
    ) {
      this.processDirectives();
      this.states.push(S.DocumentEnd);
      this.state = S.BlockNode;
      return { type: 'document-start', start: token.start };
    }
    if (token.type !== T.StreamEnd) {
      this.processDirectives();
      token = this.peek();
      if (token.type !== T.DocumentStart) throw syntaxError(undefined, undefined, 'did not find expected <document start>', token.start);
      this.states.push(S.DocumentEnd);
      this.state = S.DocumentContent;
      this.skip();
      return { type: 'document-start', start: token.start };
    }
    this.state = S.End;
    this.skip();
    return { type: 'stream-end', start: token.start };
  }

  private processDirectives(): void {
    let version = false;
    const tags: Array<[string, string]> = [];
    for (;;) {
      const token = this.peek();
      if (token.type === T.VersionDirective) {
        if (version) throw syntaxError(undefined, undefined, 'found duplicate %YAML directive', token.start);
        if (token.major !== 1 || (token.minor !== 1 && token.minor !== 2)) {
          throw syntaxError(undefined, undefined, 'found incompatible YAML document', token.start);
        }
        version = true;
      } else if (token.type === T.TagDirective) {
        const handle = token.handle ?? '';
        if (tags.some(([known]) => known === handle)) throw syntaxError(undefined, undefined, 'found duplicate %TAG directive', token.start);
        tags.push([handle, token.value ?? '']);
      } else {
        break;
      }
      this.skip();
    }
    for (const [handle, prefix] of DEFAULT_TAGS) if (!tags.some(([known]) => known === handle)) tags.push([handle, prefix]);
    this.tagDirectives = tags;
  }

  private documentContent(): ParserEvent {
    const token = this.peek();
    if (
      token.type === T.VersionDirective ||
      token.type === T.TagDirective ||
      token.type === T.DocumentStart ||
      token.type === T.DocumentEnd ||
      token.type === T.StreamEnd
    ) {
      this.state = this.pop();
      return this.emptyScalar(token.start);
    }
    return this.node(true, false);
  }

  private documentEnd(): ParserEvent {
    const token = this.peek();
    if (token.type === T.DocumentEnd) this.skip();
    this.state = S.DocumentStart;
    return { type: 'document-end', start: token.start };
  }

  private emptyScalar(mark: Mark): ParserEvent {
    return {
      type: 'scalar',
      start: mark,
      anchor: undefined,
      tag: undefined,
      value: '',
      plainImplicit: true,
      quotedImplicit: false,
      style: Style.Plain,
    };
  }

  private node(block: boolean, indentlessSequence: boolean): ParserEvent {
    let token = this.peek();
    if (token.type === T.Alias) {
      this.state = this.pop();
      this.skip();
      return { type: 'alias', start: token.start, anchor: token.value ?? '' };
    }
    let startMark = token.start;
    let tagMark = token.start;
    let anchor: string | undefined;
    let handle: string | undefined;
    let suffix: string | undefined;
    if (token.type === T.Anchor) {
      anchor = token.value;
      startMark = token.start;
      this.skip();
      token = this.peek();
      if (token.type === T.Tag) {
        handle = token.handle;
        suffix = token.value;
        tagMark = token.start;
        this.skip();
        token = this.peek();
      }
    } else if (token.type === T.Tag) {
      handle = token.handle;
      suffix = token.value;
      startMark = tagMark = token.start;
      this.skip();
      token = this.peek();
      if (token.type === T.Anchor) {
        anchor = token.value;
        this.skip();
        token = this.peek();
      }
    }
    let tag: string | undefined;
    if (handle !== undefined) {
      if (handle === '') tag = suffix;
      else {
        const directive = this.tagDirectives.find(([known]) => known === handle);
        if (directive === undefined) throw syntaxError('while parsing a node', startMark, 'found undefined tag handle', token.start);
        tag = directive[1] + (suffix ?? '');
      }
      void tagMark;
    }
    const implicit = tag === undefined || tag === '';
    if (indentlessSequence && token.type === T.BlockEntry) {
      this.state = S.IndentlessSequenceEntry;
      return { type: 'sequence-start', start: startMark, anchor, tag, flow: false };
    }
    switch (token.type) {
      case T.Scalar: {
        let plainImplicit = false;
        let quotedImplicit = false;
        if ((token.style === Style.Plain && tag === undefined) || tag === '!') plainImplicit = true;
        else if (tag === undefined) quotedImplicit = true;
        this.state = this.pop();
        this.skip();
        return {
          type: 'scalar',
          start: startMark,
          anchor,
          tag,
          value: token.value ?? '',
          plainImplicit,
          quotedImplicit,
          style: token.style ?? Style.Plain,
        };
      }
      case T.FlowSequenceStart:
        this.state = S.FlowSequenceFirstEntry;
        return { type: 'sequence-start', start: startMark, anchor, tag, flow: true };
      case T.FlowMappingStart:
        this.state = S.FlowMappingFirstKey;
        return { type: 'mapping-start', start: startMark, anchor, tag, flow: true };
      case T.BlockSequenceStart:
        if (!block) break;
        this.state = S.BlockSequenceFirstEntry;
        return { type: 'sequence-start', start: startMark, anchor, tag, flow: false };
      case T.BlockMappingStart:
        if (!block) break;
        this.state = S.BlockMappingFirstKey;
        return { type: 'mapping-start', start: startMark, anchor, tag, flow: false };
    }
    if (anchor !== undefined || tag !== undefined) {
      this.state = this.pop();
      return {
        type: 'scalar',
        start: startMark,
        anchor,
        tag,
        value: '',
        plainImplicit: implicit,
        quotedImplicit: false,
        style: Style.Plain,
      };
    }
    throw syntaxError(block ? 'while parsing a block node' : 'while parsing a flow node', startMark, 'did not find expected node content', token.start);
  }

  private blockSequenceEntry(first: boolean): ParserEvent {
    if (first) {
      this.marks.push(this.peek().start);
      this.skip();
    }
    const token = this.peek();
    if (token.type === T.BlockEntry) {
      this.skip();
      const next = this.peek();
      if (next.type !== T.BlockEntry && next.type !== T.BlockEnd) {
        this.states.push(S.BlockSequenceEntry);
        return this.node(true, false);
      }
      this.state = S.BlockSequenceEntry;
      return this.emptyScalar(endOf(token));
    }
    if (token.type === T.BlockEnd) {
      this.state = this.pop();
      this.marks.pop();
      this.skip();
      return { type: 'sequence-end', start: token.start };
    }
    throw syntaxError('while parsing a block collection', this.marks.pop(), "did not find expected '-' indicator", token.start);
  }

  private indentlessSequenceEntry(): ParserEvent {
    const token = this.peek();
    if (token.type === T.BlockEntry) {
      this.skip();
      const next = this.peek();
      if (next.type !== T.BlockEntry && next.type !== T.Key && next.type !== T.Value && next.type !== T.BlockEnd) {
        this.states.push(S.IndentlessSequenceEntry);
        return this.node(true, false);
      }
      this.state = S.IndentlessSequenceEntry;
      return this.emptyScalar(endOf(token));
    }
    this.state = this.pop();
    return { type: 'sequence-end', start: token.start };
  }

  private blockMappingKey(first: boolean): ParserEvent {
    if (first) {
      this.marks.push(this.peek().start);
      this.skip();
    }
    const token = this.peek();
    if (token.type === T.Key) {
      this.skip();
      const next = this.peek();
      if (next.type !== T.Key && next.type !== T.Value && next.type !== T.BlockEnd) {
        this.states.push(S.BlockMappingValue);
        return this.node(true, true);
      }
      this.state = S.BlockMappingValue;
      return this.emptyScalar(endOf(token));
    }
    if (token.type === T.BlockEnd) {
      this.state = this.pop();
      this.marks.pop();
      this.skip();
      return { type: 'mapping-end', start: token.start };
    }
    throw syntaxError('while parsing a block mapping', this.marks.pop(), 'did not find expected key', token.start);
  }

  private blockMappingValue(): ParserEvent {
    const token = this.peek();
    if (token.type === T.Value) {
      this.skip();
      const next = this.peek();
      if (next.type !== T.Key && next.type !== T.Value && next.type !== T.BlockEnd) {
        this.states.push(S.BlockMappingKey);
        return this.node(true, true);
      }
      this.state = S.BlockMappingKey;
      return this.emptyScalar(endOf(token));
    }
    this.state = S.BlockMappingKey;
    return this.emptyScalar(token.start);
  }

  private flowSequenceEntry(first: boolean): ParserEvent {
    if (first) {
      this.marks.push(this.peek().start);
      this.skip();
    }
    let token = this.peek();
    if (token.type !== T.FlowSequenceEnd) {
      if (!first) {
        if (token.type === T.FlowEntry) {
          this.skip();
          token = this.peek();
        } else {
          throw syntaxError('while parsing a flow sequence', this.marks.pop(), "did not find expected ',' or ']'", token.start);
        }
      }
      if (token.type === T.Key) {
        this.state = S.FlowSequenceEntryMappingKey;
        this.skip();
        return { type: 'mapping-start', start: token.start, anchor: undefined, tag: undefined, flow: true };
      }
      if (token.type !== T.FlowSequenceEnd) {
        this.states.push(S.FlowSequenceEntry);
        return this.node(false, false);
      }
    }
    this.state = this.pop();
    this.marks.pop();
    this.skip();
    return { type: 'sequence-end', start: token.start };
  }

  private flowSequenceEntryMappingKey(): ParserEvent {
    const token = this.peek();
    if (token.type !== T.Value && token.type !== T.FlowEntry && token.type !== T.FlowSequenceEnd) {
      this.states.push(S.FlowSequenceEntryMappingValue);
      return this.node(false, false);
    }
    const mark = endOf(token);
    this.skip();
    this.state = S.FlowSequenceEntryMappingValue;
    return this.emptyScalar(mark);
  }

  private flowSequenceEntryMappingValue(): ParserEvent {
    let token = this.peek();
    if (token.type === T.Value) {
      this.skip();
      token = this.peek();
      if (token.type !== T.FlowEntry && token.type !== T.FlowSequenceEnd) {
        this.states.push(S.FlowSequenceEntryMappingEnd);
        return this.node(false, false);
      }
    }
    this.state = S.FlowSequenceEntryMappingEnd;
    return this.emptyScalar(token.start);
  }

  private flowSequenceEntryMappingEnd(): ParserEvent {
    this.state = S.FlowSequenceEntry;
    return { type: 'mapping-end', start: this.peek().start };
  }

  private flowMappingKey(first: boolean): ParserEvent {
    if (first) {
      this.marks.push(this.peek().start);
      this.skip();
    }
    let token = this.peek();
    if (token.type !== T.FlowMappingEnd) {
      if (!first) {
        if (token.type === T.FlowEntry) {
          this.skip();
          token = this.peek();
        } else {
          throw syntaxError('while parsing a flow mapping', this.marks.pop(), "did not find expected ',' or '}'", token.start);
        }
      }
      if (token.type === T.Key) {
        this.skip();
        token = this.peek();
        if (token.type !== T.Value && token.type !== T.FlowEntry && token.type !== T.FlowMappingEnd) {
          this.states.push(S.FlowMappingValue);
          return this.node(false, false);
        }
        this.state = S.FlowMappingValue;
        return this.emptyScalar(token.start);
      }
      if (token.type !== T.FlowMappingEnd) {
        this.states.push(S.FlowMappingEmptyValue);
        return this.node(false, false);
      }
    }
    this.state = this.pop();
    this.marks.pop();
    this.skip();
    return { type: 'mapping-end', start: token.start };
  }

  private flowMappingValue(empty: boolean): ParserEvent {
    let token = this.peek();
    if (empty) {
      this.state = S.FlowMappingKey;
      return this.emptyScalar(token.start);
    }
    if (token.type === T.Value) {
      this.skip();
      token = this.peek();
      if (token.type !== T.FlowEntry && token.type !== T.FlowMappingEnd) {
        this.states.push(S.FlowMappingKey);
        return this.node(false, false);
      }
    }
    this.state = S.FlowMappingKey;
    return this.emptyScalar(token.start);
  }
}
