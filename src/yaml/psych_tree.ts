import { PsychError } from './psych_error.ts';
import { Parser } from './libyaml_parser.ts';

// The node tree Psych's TreeBuilder would build for the first document, from the events of our
// port of libyaml's parser (libyaml_parser.ts).

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

/** Ruby's Psych runs out of stack (SystemStackError) a little under 1000 nested collections. */
export const MAX_NESTING_DEPTH = 500;
export const NESTING_REASON = `the document nests collections more than ${MAX_NESTING_DEPTH} deep`;

/**
 * The root node of the first document of `text`, or undefined when there is no document. Events
 * are pulled from our libyaml parser up to the end of the first document and no further, as
 * Psych.parse returns there: what follows is never read (beyond the token libyaml peeks at).
 */
export function buildFirstDocument(text: string): YamlNode | undefined {
  const parser = new Parser(text);
  const stack: CollectionNode[] = [];
  let root: YamlNode | undefined;
  const attach = (node: YamlNode): void => {
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(node);
    else root = node;
  };
  for (;;) {
    const event = parser.next();
    switch (event.type) {
      case 'stream-start':
      case 'document-start':
        break;
      case 'stream-end':
        return undefined;
      case 'document-end':
        return root;
      case 'scalar':
        attach({
          kind: 'scalar',
          offset: event.start.index,
          anchor: event.anchor,
          tag: event.tag,
          value: event.value,
          quoted: event.quotedImplicit,
        });
        break;
      case 'alias':
        attach({ kind: 'alias', offset: event.start.index, anchor: event.anchor });
        break;
      case 'sequence-start':
      case 'mapping-start': {
        const node: CollectionNode = {
          kind: event.type === 'sequence-start' ? 'sequence' : 'mapping',
          offset: event.start.index,
          anchor: event.anchor,
          tag: event.tag,
          children: [],
        };
        attach(node);
        stack.push(node);
        if (stack.length > MAX_NESTING_DEPTH) throw new PsychError('limit', NESTING_REASON, event.start.index);
        break;
      }
      case 'sequence-end':
      case 'mapping-end':
        stack.pop();
        break;
    }
  }
}
