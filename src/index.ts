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
import { KeyRing, deriveKey } from './format/key_generator.ts';
import { decryptBody, encryptBody } from './format/message_encryptor.ts';

export { EncryptedFile } from './format/encrypted_file.ts';
export type { EncryptedFileOptions, ReadResult } from './format/encrypted_file.ts';
export type { Decrypted } from './format/message_encryptor.ts';
export { deriveKey, KeyRing } from './format/key_generator.ts';
export { dumpString, loadString } from './format/marshal.ts';
export {
  GitlabSecretsError,
  BaseKeyTooSmallError,
  InvalidMessageError,
  DecryptError,
  EXIT,
} from './errors.ts';

/** Encrypt plaintext bytes into a file body with a key base, as GitLab does. */
export function encrypt(plaintext: Uint8Array, keyBase: string): string {
  return encryptBody(plaintext, deriveKey(keyBase));
}

/**
 * Decrypt a file body with a key base, then the rotated key bases in order. Throws InvalidMessageError for
 * a wrong key or a corrupt body, BaseKeyTooSmallError for a key base under 16 characters.
 */
export function decrypt(body: string | Uint8Array, keyBase: string, rotatedKeyBases: readonly string[] = []): Buffer {
  const input = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return decryptBody(input, new KeyRing(keyBase, rotatedKeyBases)).plaintext;
}
