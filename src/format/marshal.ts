/**
 * The smallest part of Ruby's Marshal format that GitLab's encrypted files use: one String.
 *
 * ActiveSupport::MessageEncryptor (Rails 6.1/7.0, and GitLab's Gitlab::EncryptedConfiguration) serializes
 * the plaintext with `Marshal.dump(string)` before encrypting it. Byte layout from Ruby's marshal.c
 * (w_object / r_object, w_long / r_long).
 */

const MAJOR = 4;
const MINOR = 8;
const TYPE_IVAR = 0x49; // 'I': an object followed by instance variables
const TYPE_STRING = 0x22; // '"'
const TYPE_SYMBOL = 0x3a; // ':'
const TYPE_TRUE = 0x54; // 'T'
const TYPE_FALSE = 0x46; // 'F'

/** Thrown when a plaintext is not one of the String forms we read; the caller treats it as a corrupt file. */
export class MarshalFormatError extends Error {}

/** `Marshal.dump(text)` for a UTF-8 String: `04 08 I " <len> <bytes> 06 : 06 E T`. */
export function dumpString(bytes: Uint8Array): Buffer {
  const length = encodeLong(bytes.length);
  const out = Buffer.allocUnsafe(4 + length.length + bytes.length + 5);
  let at = 0;
  out[at++] = MAJOR;
  out[at++] = MINOR;
  out[at++] = TYPE_IVAR;
  out[at++] = TYPE_STRING;
  out.set(length, at);
  at += length.length;
  out.set(bytes, at);
  at += bytes.length;
  // one ivar, the symbol :E with value true: the String's encoding is UTF-8
  out.set([0x06, TYPE_SYMBOL, 0x06, 0x45, TYPE_TRUE], at);
  return out;
}

/**
 * Read the bytes of a Marshal-dumped String in any encoding (UTF-8 `:E T`, US-ASCII `:E F`,
 * `:encoding "<name>"`, or binary with no ivar). The bytes come back untouched: no transcoding.
 * Returns a view into `data`, not a copy.
 */
export function loadString(data: Buffer): Buffer {
  const { start, end } = locateString({ size: data.length, byteAt: (i) => data[i]! });
  return data.subarray(start, end);
}

/** Random access to a payload that may be held in several pieces. */
export interface ByteSource {
  readonly size: number;
  byteAt(index: number): number;
}

/** Where the String's bytes lie in a Marshal-dumped String: [start, end). Validates the whole dump. */
export function locateString(source: ByteSource): { start: number; end: number } {
  const reader = new Reader(source);
  if (reader.byte() !== MAJOR || reader.byte() !== MINOR) throw new MarshalFormatError('not a Marshal 4.8 stream');
  const type = reader.byte();
  if (type === TYPE_STRING) {
    const range = reader.string();
    reader.end();
    return range;
  }
  if (type !== TYPE_IVAR || reader.byte() !== TYPE_STRING) throw new MarshalFormatError('not a String');
  const range = reader.string();
  const ivars = reader.long();
  if (ivars !== 1) throw new MarshalFormatError('unexpected instance variables');
  if (reader.byte() !== TYPE_SYMBOL) throw new MarshalFormatError('unexpected instance variable');
  const name = reader.text(reader.string());
  const value = reader.byte();
  if (name === 'E') {
    if (value !== TYPE_TRUE && value !== TYPE_FALSE) throw new MarshalFormatError('bad encoding flag');
  } else if (name === 'encoding') {
    if (value !== TYPE_STRING) throw new MarshalFormatError('bad encoding name');
    reader.string();
  } else {
    throw new MarshalFormatError('unexpected instance variable');
  }
  reader.end();
  return range;
}

/** Marshal's w_long for a non-negative integer below 2**32. */
export function encodeLong(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`cannot encode ${n}`);
  if (n === 0) return Buffer.from([0]);
  if (n < 123) return Buffer.from([n + 5]);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.push(rest % 256);
  return Buffer.from([bytes.length, ...bytes]);
}

class Reader {
  private at = 0;
  constructor(private readonly source: ByteSource) {}

  byte(): number {
    if (this.at >= this.source.size) throw new MarshalFormatError('truncated');
    return this.source.byteAt(this.at++);
  }

  /** Marshal's r_long, limited to the non-negative values lengths can take. */
  long(): number {
    const c = this.byte();
    if (c === 0) return 0;
    if (c >= 5 && c < 128) return c - 5;
    if (c >= 1 && c <= 4) {
      let n = 0;
      for (let i = 0; i < c; i++) n += this.byte() * 2 ** (8 * i);
      return n;
    }
    throw new MarshalFormatError('negative length');
  }

  /** A length-prefixed byte string, as the range it occupies. */
  string(): { start: number; end: number } {
    const length = this.long();
    if (this.at + length > this.source.size) throw new MarshalFormatError('truncated');
    const range = { start: this.at, end: this.at + length };
    this.at += length;
    return range;
  }

  /** A short range's bytes as Latin-1 text (symbol names). */
  text({ start, end }: { start: number; end: number }): string {
    if (end - start > 64) throw new MarshalFormatError('unexpected instance variable');
    let text = '';
    for (let i = start; i < end; i++) text += String.fromCharCode(this.source.byteAt(i));
    return text;
  }

  end(): void {
    if (this.at !== this.source.size) throw new MarshalFormatError('trailing data');
  }
}
