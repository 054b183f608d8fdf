/** Ruby's `String#blank?`: empty or only white space (`[[:space:]]`, which does not include U+FEFF). */
const BLANK = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/u;

export function isBlank(text: string): boolean {
  return BLANK.test(text);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The bytes as UTF-8 text, or null when they are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return UTF8.decode(bytes);
  } catch {
    return null;
  }
}

const ASCII_SPACE = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20]);

/** Blank plaintext bytes: GitLab's `encrypted.read.presence` is nil for them. Bytes may come in pieces. */
export function isBlankBytes(bytes: Uint8Array | readonly Uint8Array[]): boolean {
  const pieces = bytes instanceof Uint8Array ? [bytes] : bytes;
  // Settings start with a letter or `#` within a few bytes: answer without decoding megabytes.
  for (const piece of pieces) {
    for (const byte of piece) {
      if (byte >= 0x80) {
        const text = decodeUtf8(pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces));
        return text !== null && isBlank(text);
      }
      if (!ASCII_SPACE.has(byte)) return false;
    }
  }
  return true;
}
