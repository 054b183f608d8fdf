/**
 * gitlab-secrets as a library: read and write GitLab's encrypted settings files
 * (shared/encrypted_settings/*.yaml.enc) byte-compatibly with GitLab's Gitlab::EncryptedConfiguration.
 *
 * @example
 * ```ts
 * import { EncryptedFile } from 'gitlab-secrets';
 * const file = new EncryptedFile({ contentPath: 'smtp.yaml.enc', keyBase: process.env.KEY_BASE! });
 * const result = await file.read(); // null when the file does not exist
 * ```
 */
import { DEFAULT_DIGEST, KeyRing, deriveKey } from './format/key_generator.ts';
import type { KeyDigest } from './format/key_generator.ts';
import { decryptBody, DEFAULT_SERIALIZER, encryptBody } from './format/message_encryptor.ts';
import type { Decrypted, Serializer } from './format/message_encryptor.ts';

export { EncryptedFile } from './format/encrypted_file.ts';
export type { EncryptedFileOptions, ReadResult } from './format/encrypted_file.ts';
export type { Decrypted, PayloadFormat, Serializer } from './format/message_encryptor.ts';
export { DEFAULT_SERIALIZER, SERIALIZERS } from './format/message_encryptor.ts';
export { deriveKey, KeyRing, DEFAULT_DIGEST, KEY_DIGESTS } from './format/key_generator.ts';
export type { KeyDigest } from './format/key_generator.ts';
export { dumpString, loadString } from './format/marshal.ts';
export { dumpJsonString, loadJsonString, JsonPayloadError } from './format/json_string.ts';
export { KEY_BASE_VARIABLE, ROTATED_KEY_BASES_VARIABLE } from './config/key_env.ts';
export {
  GitlabSecretsError,
  BaseKeyTooSmallError,
  InvalidMessageError,
  DecryptError,
  JsonSerializerError,
  EXIT,
} from './errors.ts';

export interface EncryptOptions {
  /** 'marshal' (default: every GitLab reads it) or 'json' (Rails 7.1's JSON message serializer). */
  serializer?: Serializer;
  /** The PBKDF2 digest of the key: 'sha1' (default, GitLab's) or 'sha256' (Rails 7 defaults). */
  digest?: KeyDigest;
}

/**
 * Encrypt plaintext bytes into a file body with a key base, as GitLab does. With `serializer: 'json'`
 * the text must be valid UTF-8 (JsonPayloadError otherwise).
 */
export function encrypt(plaintext: Uint8Array, keyBase: string, options: EncryptOptions = {}): string {
  return encryptBody(plaintext, deriveKey(keyBase, options.digest ?? DEFAULT_DIGEST), options.serializer ?? DEFAULT_SERIALIZER);
}

/**
 * Decrypt a file body and say how it was made: the plaintext, which key read it (0 the primary), the
 * serializer and the digest. Throws as decrypt() does.
 */
export function decryptWithFormat(body: string | Uint8Array, keyBase: string, rotatedKeyBases: readonly string[] = []): Decrypted {
  const input = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return decryptBody(input, new KeyRing(keyBase, rotatedKeyBases));
}

/**
 * Decrypt a file body with a key base, then the rotated key bases in order (each with PBKDF2-SHA1, then
 * each with SHA256), Marshal or JSON. Throws InvalidMessageError for a wrong key or a corrupt body,
 * BaseKeyTooSmallError for a key base under 16 characters.
 */
export function decrypt(body: string | Uint8Array, keyBase: string, rotatedKeyBases: readonly string[] = []): Buffer {
  return decryptWithFormat(body, keyBase, rotatedKeyBases).plaintext;
}
