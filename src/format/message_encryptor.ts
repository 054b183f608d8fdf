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
  let text = typeof body === 'string' ? body : body.toString('latin1');
  const trailingNewline = text.endsWith('\n');
  if (trailingNewline) text = text.slice(0, -1);
  const [ciphertext, iv, authTag] = splitBody(text);
  for (let i = 0; i < keys.size; i++) {
    const payload = openGcm(ciphertext, iv, authTag, keys.key(i));
    if (payload) return { plaintext: unwrap(payload), keyIndex: i, trailingNewline };
  }
  throw new InvalidMessageError();
}

function splitBody(text: string): [Buffer, Buffer, Buffer] {
  // Exactly three parts: Rails 7.1+ (current GitLab) rejects extra ones, where 6.1/7.0 ignored them.
  const parts = text.split(SEPARATOR);
  if (parts.length !== 3) throw new InvalidMessageError();
  const [ciphertext, iv, authTag] = parts.map(strictDecode64) as [Buffer, Buffer, Buffer];
  // message_encryptor.rb checks the tag length itself: OpenSSL would accept a truncated tag.
  if (iv.length !== IV_LENGTH || authTag.length !== AUTH_TAG_LENGTH) throw new InvalidMessageError();
  return [ciphertext, iv, authTag];
}

/**
 * Ruby's Base64.strict_decode64 (`unpack1("m0")`): standard alphabet, `=` padding, no line breaks, and
 * no stray bits in the last character. Node's decoder is lenient, so check the canonical form.
 */
function strictDecode64(text: string): Buffer {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) throw new InvalidMessageError();
  return bytes;
}

function openGcm(ciphertext: Buffer, iv: Buffer, authTag: Buffer, key: Buffer): Buffer | null {
  const decipher = createDecipheriv(CIPHER, key, iv, { authTagLength: AUTH_TAG_LENGTH });
  decipher.setAuthTag(authTag);
  const head = decipher.update(ciphertext);
  try {
    const tail = decipher.final();
    return tail.length === 0 ? head : Buffer.concat([head, tail]);
  } catch {
    return null;
  }
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
