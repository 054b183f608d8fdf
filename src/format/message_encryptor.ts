import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { InvalidMessageError } from '../errors.ts';
import type { KeyRing } from './key_generator.ts';
import { dumpString, loadString, MarshalFormatError } from './marshal.ts';

/**
 * The body of an encrypted settings file, as ActiveSupport::MessageEncryptor writes it with
 * cipher aes-256-gcm: `base64(ciphertext)--base64(iv)--base64(auth_tag)` (message_encryptor.rb
 * `_encrypt`), strict base64, no trailing newline.
 */
export const CIPHER = 'aes-256-gcm';
export const SEPARATOR = '--';
export const IV_LENGTH = 12;
export const AUTH_TAG_LENGTH = 16;

export interface Decrypted {
  /** The stored plaintext bytes, untouched. */
  plaintext: Buffer;
  /** Which key read it: 0 the primary, 1.. a rotated key. */
  keyIndex: number;
  /**
   * The body ended in one newline (an editor added it). GitLab on Rails up to 7.2.1 cannot read such a
   * file; we read it and let the caller warn.
   */
  trailingNewline: boolean;
}

/** Encrypt plaintext bytes with a 32-byte key into a body. The IV is random. */
export function encryptBody(plaintext: Uint8Array, key: Buffer): string {
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv(CIPHER, key, iv, { authTagLength: AUTH_TAG_LENGTH });
  const ciphertext = Buffer.concat([cipher.update(dumpString(plaintext)), cipher.final()]);
  return [ciphertext, iv, cipher.getAuthTag()].map((part) => part.toString('base64')).join(SEPARATOR);
}

/**
 * Decrypt a body with the first key of the ring that can, primary first. Any malformed body (part count,
 * base64, IV or tag length, authentication, payload) throws InvalidMessageError, as Rails does: a wrong
 * key and a corrupt file are indistinguishable.
 */
export function decryptBody(body: string | Buffer, keys: KeyRing): Decrypted {
  const parts = splitBody(body);
  for (let i = 0; i < keys.size; i++) {
    const decrypted = open(parts, keys.key(i), i);
    if (decrypted) return decrypted;
  }
  throw new InvalidMessageError();
}

/** decryptBody, deriving keys on the thread pool (and sharing a derivation already under way). */
export async function decryptBodyAsync(body: string | Buffer, keys: KeyRing): Promise<Decrypted> {
  const parts = splitBody(body);
  for (let i = 0; i < keys.size; i++) {
    const decrypted = open(parts, await keys.keyAsync(i), i);
    if (decrypted) return decrypted;
  }
  throw new InvalidMessageError();
}

interface BodyParts {
  ciphertext64: Buffer;
  iv: Buffer;
  authTag: Buffer;
  trailingNewline: boolean;
}

function open(parts: BodyParts, key: Buffer, keyIndex: number): Decrypted | null {
  const payload = openGcm(parts.ciphertext64, parts.iv, parts.authTag, key);
  return payload && { plaintext: unwrap(payload), keyIndex, trailingNewline: parts.trailingNewline };
}

/**
 * `ciphertext--iv--tag`. Base64 has no `-`, so every part beyond the third, as Rails 7.1+ (current
 * GitLab) rejects where 6.1/7.0 ignored it, ends up in a part that fails strict decoding. The ciphertext
 * stays base64 here: openGcm decodes it piece by piece.
 */
function splitBody(body: string | Buffer): BodyParts {
  let bytes = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
  const trailingNewline = bytes[bytes.length - 1] === 0x0a;
  if (trailingNewline) bytes = bytes.subarray(0, -1);
  const first = bytes.indexOf(SEPARATOR);
  const second = first < 0 ? -1 : bytes.indexOf(SEPARATOR, first + SEPARATOR.length);
  if (second < 0) throw new InvalidMessageError();
  const iv = strictDecode64(bytes.toString('latin1', first + SEPARATOR.length, second));
  const authTag = strictDecode64(bytes.toString('latin1', second + SEPARATOR.length));
  // message_encryptor.rb checks the tag length itself: OpenSSL would accept a truncated tag.
  if (!iv || !authTag || iv.length !== IV_LENGTH || authTag.length !== AUTH_TAG_LENGTH) throw new InvalidMessageError();
  return { ciphertext64: bytes.subarray(0, first), iv, authTag, trailingNewline };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$/;

/**
 * Ruby's Base64.strict_decode64 (`unpack1("m0")`): standard alphabet, `=` padding, no line breaks, and
 * no stray bits in the last character (hence the short lists before the padding). Node's decoder is
 * lenient, so check the form first. Null when it is not strict base64.
 */
function strictDecode64(text: string): Buffer | null {
  return BASE64.test(text) ? Buffer.from(text, 'base64') : null;
}

/** Base64 characters decoded per step: a multiple of 4, so every piece but the last has no padding. */
const PIECE = 64 * 1024;

/**
 * Decrypt base64 ciphertext piece by piece into one buffer: a 4 MB file never exists as a second
 * base64 string nor as a decoded copy. Null when authentication fails: the plaintext is only returned
 * after GCM has checked the tag.
 */
function openGcm(ciphertext64: Buffer, iv: Buffer, authTag: Buffer, key: Buffer): Buffer | null {
  if (ciphertext64.length % 4 !== 0) throw new InvalidMessageError();
  const decipher = createDecipheriv(CIPHER, key, iv, { authTagLength: AUTH_TAG_LENGTH });
  decipher.setAuthTag(authTag);
  const out = Buffer.allocUnsafe((ciphertext64.length / 4) * 3);
  let length = 0;
  for (let start = 0; start < ciphertext64.length; start += PIECE) {
    const end = Math.min(start + PIECE, ciphertext64.length);
    const piece = strictDecode64(ciphertext64.toString('latin1', start, end));
    if (!piece || (end < ciphertext64.length && piece.length !== ((end - start) / 4) * 3)) throw new InvalidMessageError();
    length += decipher.update(piece).copy(out, length);
  }
  try {
    length += decipher.final().copy(out, length);
  } catch {
    return null;
  }
  return out.subarray(0, length);
}

/**
 * The decrypted payload is `Marshal.dump(text)` (Rails 6.1/7.0, GitLab today) or, from a Rails 7.1+ JSON
 * serializer, a JSON string.
 */
function unwrap(payload: Buffer): Buffer {
  if (payload[0] === 0x22 /* '"' */) {
    try {
      const text: unknown = JSON.parse(payload.toString('utf8'));
      if (typeof text === 'string') return Buffer.from(text, 'utf8');
    } catch {
      // fall through: not JSON
    }
    throw new InvalidMessageError();
  }
  try {
    return loadString(payload);
  } catch (error) {
    if (error instanceof MarshalFormatError) throw new InvalidMessageError();
    throw error;
  }
}
