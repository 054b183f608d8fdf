import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { InvalidMessageError } from '../errors.ts';
import type { KeyDigest, KeyRing } from './key_generator.ts';
import { dumpJsonString, loadJsonString } from './json_string.ts';
import { dumpString, locateString, MarshalFormatError } from './marshal.ts';

/**
 * The body of an encrypted settings file, as ActiveSupport::MessageEncryptor writes it with
 * cipher aes-256-gcm: `base64(ciphertext)--base64(iv)--base64(auth_tag)` (message_encryptor.rb
 * `_encrypt`), strict base64, no trailing newline.
 */
export const CIPHER = 'aes-256-gcm';
export const SEPARATOR = '--';
export const IV_LENGTH = 12;
export const AUTH_TAG_LENGTH = 16;

/**
 * How the text is serialized before encryption: `Marshal.dump(text)` (Rails 6.1/7.0 and GitLab today, read
 * by every GitLab) or `ActiveSupport::JSON.encode(text)` (Rails 7.1+ `message_serializer` :json or
 * :json_allow_marshal, the `load_defaults 7.1` default, which a Rails 7.1 :json_allow_marshal or :marshal
 * reader also reads, but Rails 6.1/7.0 does not).
 */
export type Serializer = 'marshal' | 'json';
export const SERIALIZERS: readonly Serializer[] = ['marshal', 'json'];
export const DEFAULT_SERIALIZER: Serializer = 'marshal';

/** How a body was made: the payload's serializer and the digest its key was derived with. */
export interface PayloadFormat {
  serializer: Serializer;
  digest: KeyDigest;
}

export interface Decrypted {
  /** The stored plaintext bytes, untouched (joined from `pieces` on first use). */
  readonly plaintext: Buffer;
  /** The same bytes in the pieces they were decrypted in: `show` writes them without joining them. */
  readonly pieces: readonly Buffer[];
  /** Which key read it: 0 the primary, 1.. a rotated key. */
  readonly keyIndex: number;
  /** The digest that key was derived with. */
  readonly digest: KeyDigest;
  /** How the text was serialized. */
  readonly serializer: Serializer;
  /**
   * The body ended in one newline (an editor added it). GitLab on Rails up to 7.2.1 cannot read such a
   * file; we read it and let the caller warn.
   */
  readonly trailingNewline: boolean;
}

class DecryptedText implements Decrypted {
  constructor(
    private parts: readonly Buffer[],
    readonly keyIndex: number,
    readonly digest: KeyDigest,
    readonly serializer: Serializer,
    readonly trailingNewline: boolean,
  ) {}

  get pieces(): readonly Buffer[] {
    return this.parts;
  }

  get plaintext(): Buffer {
    if (this.parts.length !== 1) this.parts = [Buffer.concat(this.parts)];
    return this.parts[0]!;
  }
}

/**
 * Encrypt plaintext bytes with a 32-byte key into a body. The IV is random. With the JSON serializer the
 * text must be valid UTF-8 (JsonPayloadError otherwise, as Ruby raises).
 */
export function encryptBody(plaintext: Uint8Array, key: Buffer, serializer: Serializer = DEFAULT_SERIALIZER): string {
  const payload = serializer === 'json' ? dumpJsonString(plaintext) : dumpString(plaintext);
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv(CIPHER, key, iv, { authTagLength: AUTH_TAG_LENGTH });
  const ciphertext = Buffer.concat([cipher.update(payload), cipher.final()]);
  return [ciphertext, iv, cipher.getAuthTag()].map((part) => part.toString('base64')).join(SEPARATOR);
}

/** Where a body's bytes come from: memory, or an open file read piece by piece. */
export interface BodySource {
  readonly size: number;
  /** Bytes [position, position + length); the view may be reused by the next call. */
  read(position: number, length: number): Buffer;
}

function bufferSource(body: string | Buffer): BodySource {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
  return { size: bytes.length, read: (position, length) => bytes.subarray(position, position + length) };
}

/**
 * Decrypt a body with the first key of the ring that can (KeyRing.attempts: every key with SHA1, primary
 * first, then with SHA256). Any malformed body (part count, base64, IV or tag length, authentication,
 * payload) throws InvalidMessageError, as Rails does: a wrong key and a corrupt file are indistinguishable.
 */
export function decryptBody(body: string | Buffer, keys: KeyRing): Decrypted {
  const source = bufferSource(body);
  const parts = splitBody(source);
  for (const { index, digest } of keys.attempts()) {
    const decrypted = open(source, parts, keys.key(index, digest), index, digest);
    if (decrypted) return decrypted;
  }
  throw new InvalidMessageError();
}

/** decryptBody, deriving keys on the thread pool (and sharing a derivation already under way). */
export async function decryptBodyAsync(source: BodySource, keys: KeyRing): Promise<Decrypted> {
  const parts = splitBody(source);
  for (const { index, digest } of keys.attempts()) {
    const decrypted = open(source, parts, await keys.keyAsync(index, digest), index, digest);
    if (decrypted) return decrypted;
  }
  throw new InvalidMessageError();
}

interface BodyParts {
  /** The base64 ciphertext is bytes [0, ciphertextEnd) of the source, read piece by piece. */
  ciphertextEnd: number;
  iv: Buffer;
  authTag: Buffer;
  trailingNewline: boolean;
}

function open(source: BodySource, parts: BodyParts, key: Buffer, keyIndex: number, digest: KeyDigest): Decrypted | null {
  const payload = openGcm(source, parts, key);
  if (!payload) return null;
  const serializer: Serializer = payload[0]?.[0] === 0x22 /* '"' */ ? 'json' : 'marshal';
  const text = serializer === 'json' ? unwrapJson(payload) : unwrap(payload);
  return new DecryptedText(text, keyIndex, digest, serializer, parts.trailingNewline);
}

/** The JSON serializer's String (ActiveSupport::JSON.decode); any other JSON is not a settings text. */
function unwrapJson(payload: Buffer[]): Buffer[] {
  const text = loadJsonString(Buffer.concat(payload));
  if (!text) throw new InvalidMessageError();
  return [text];
}

/** A valid IV and tag take 16 + 24 base64 characters and two separators: they lie in the last bytes. */
const TAIL = 128;

/**
 * `ciphertext--iv--tag`, IV and tag found from the end. Base64 has no `-`, so a body with more parts (which
 * Rails 7.1+, current GitLab, rejects where 6.1/7.0 ignored them) always leaves a `-` in some part that
 * then fails strict decoding.
 */
function splitBody(source: BodySource): BodyParts {
  let end = source.size;
  const trailingNewline = end > 0 && source.read(end - 1, 1)[0] === 0x0a;
  if (trailingNewline) end--;
  const tailStart = Math.max(0, end - TAIL);
  const tail = source.read(tailStart, end - tailStart).toString('latin1');
  const last = tail.lastIndexOf(SEPARATOR);
  const previous = last < 1 ? -1 : tail.lastIndexOf(SEPARATOR, last - 1);
  if (previous < 0) throw new InvalidMessageError();
  const iv = strictDecode64(tail.slice(previous + SEPARATOR.length, last));
  const authTag = strictDecode64(tail.slice(last + SEPARATOR.length));
  // message_encryptor.rb checks the tag length itself: OpenSSL would accept a truncated tag.
  if (!iv || !authTag || iv.length !== IV_LENGTH || authTag.length !== AUTH_TAG_LENGTH) throw new InvalidMessageError();
  return { ciphertextEnd: tailStart + previous, iv, authTag, trailingNewline };
}

export const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$/;

/**
 * Ruby's Base64.strict_decode64 (`unpack1("m0")`): standard alphabet, `=` padding, no line breaks, and
 * no stray bits in the last character (hence the short lists before the padding). Node's decoder is
 * lenient, so check the form first. Null when it is not strict base64.
 */
function strictDecode64(text: string): Buffer | null {
  return BASE64.test(text) ? Buffer.from(text, 'base64') : null;
}

/**
 * Decode a piece of the ciphertext into `out` under the BASE64 rule. Node's decoder is lenient (it skips
 * what it does not know and takes the URL-safe alphabet), so the piece must equal the canonical encoding
 * of what was decoded: native work only. A regular expression over megabytes costs more than decrypting
 * them, and a JavaScript loop costs the optimizing compiler megabytes of memory. Only the last piece may
 * end in padding. Returns the number of bytes written, or -1 when it is not strict base64.
 */
export function decodeStrictBase64(bytes: Buffer, last: boolean, out: Buffer): number {
  if (bytes.length % 4 !== 0) return -1;
  const text = bytes.toString('latin1');
  const written = out.write(text, 'base64');
  if (!last && written !== (bytes.length / 4) * 3) return -1;
  return out.toString('base64', 0, written) === text ? written : -1;
}

/** Base64 characters decoded per step: a multiple of 4, so every piece but the last has no padding. */
export const PIECE = 64 * 1024;

/**
 * Decrypt the base64 ciphertext piece by piece: the body is never held whole, as base64 or decoded,
 * and the plaintext stays in the pieces the cipher returns (copying them into one buffer would leave
 * a second copy for a garbage collector that a short run never calls). Null when authentication
 * fails: the plaintext is only returned after GCM has checked the tag.
 */
function openGcm(source: BodySource, parts: BodyParts, key: Buffer): Buffer[] | null {
  const end = parts.ciphertextEnd;
  if (end % 4 !== 0) throw new InvalidMessageError();
  const decipher = createDecipheriv(CIPHER, key, parts.iv, { authTagLength: AUTH_TAG_LENGTH });
  decipher.setAuthTag(parts.authTag);
  const decoded = Buffer.allocUnsafe((PIECE / 4) * 3);
  const pieces: Buffer[] = [];
  for (let start = 0; start < end; start += PIECE) {
    const size = Math.min(PIECE, end - start);
    const bytes = decodeStrictBase64(source.read(start, size), start + size === end, decoded);
    if (bytes < 0) throw new InvalidMessageError();
    pieces.push(decipher.update(decoded.subarray(0, bytes)));
  }
  try {
    pieces.push(decipher.final());
  } catch {
    return null;
  }
  return pieces.filter((piece) => piece.length > 0);
}

/**
 * The text of a `Marshal.dump(text)` payload (Rails 6.1/7.0, GitLab today), as views into the payload's
 * pieces.
 */
function unwrap(payload: Buffer[]): Buffer[] {
  const offsets: number[] = [];
  let size = 0;
  for (const piece of payload) {
    offsets.push(size);
    size += piece.length;
  }
  let current = 0; // the piece the last byteAt() found: Marshal reads the head, then the tail
  const byteAt = (index: number): number => {
    while (index < offsets[current]!) current--;
    while (index >= offsets[current]! + payload[current]!.length) current++;
    return payload[current]![index - offsets[current]!]!;
  };
  let range: { start: number; end: number };
  try {
    range = locateString({ size, byteAt });
  } catch (error) {
    if (error instanceof MarshalFormatError) throw new InvalidMessageError();
    throw error;
  }
  const text: Buffer[] = [];
  payload.forEach((piece, i) => {
    const from = Math.max(range.start - offsets[i]!, 0);
    const to = Math.min(range.end - offsets[i]!, piece.length);
    if (to > from) text.push(piece.subarray(from, to));
  });
  return text;
}
