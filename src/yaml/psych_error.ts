/** Why Psych refused a document. `syntax` covers libyaml's scanner, parser and reader errors. */
export type PsychErrorKind = 'syntax' | 'class' | 'alias' | 'ruby' | 'limit';

/**
 * A failure to load YAML the way Ruby's Psych would. `offset` (UTF-16 index into the text) is
 * filled in by the loader when it knows which node failed.
 */
export class PsychError extends Error {
  readonly kind: PsychErrorKind;
  readonly reason: string;
  offset: number | undefined;
  /** For syntax errors: libyaml's context mark as Psych prints it (1-based line and column). */
  mark: { line: number; column: number } | undefined;
  /** For syntax errors: where libyaml found the problem (1-based), for our own hints. */
  problemMark: { line: number; column: number } | undefined;

  constructor(kind: PsychErrorKind, reason: string, offset?: number) {
    super(reason);
    this.name = 'PsychError';
    this.kind = kind;
    this.reason = reason;
    this.offset = offset;
  }
}

/** psych/exception.rb DisallowedClass: the text GitLab prints. */
export function disallowedClass(className: string): PsychError {
  return new PsychError('class', `Tried to load unspecified class: ${className}`);
}

/** An ArgumentError or TypeError raised by Ruby while converting a scalar (Float(), Integer()). */
export function rubyError(message: string): PsychError {
  return new PsychError('ruby', message);
}

/** 1-based line and column of a UTF-16 offset; line breaks are libyaml's: \n, \r\n, \r, NEL, LS, PS. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 10 || ch === 0x85 || ch === 0x2028 || ch === 0x2029) {
      line++;
      lineStart = i + 1;
    } else if (ch === 13) {
      if (text.charCodeAt(i + 1) === 10) i++;
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}
