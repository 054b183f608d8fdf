import { readFileSync } from 'node:fs';
import { DecryptError, FileAccessError, InvalidMessageError } from '../errors.ts';
import { writeFileAtomic } from '../fs/atomic_write.ts';
import type { AtomicWriteResult } from '../fs/atomic_write.ts';
import { KeyRing } from './key_generator.ts';
import { decryptBodyAsync, encryptBody } from './message_encryptor.ts';
import type { Decrypted } from './message_encryptor.ts';

export interface EncryptedFileOptions {
  /** The encrypted file, e.g. shared/encrypted_settings/smtp.yaml.enc. */
  contentPath: string;
  /** encrypted_settings_key_base. */
  keyBase: string;
  /** rotated_encrypted_settings_key_base: tried in order when the primary key cannot decrypt. */
  rotatedKeyBases?: readonly string[];
}

export interface ReadResult extends Decrypted {
  /** The encrypted body as it was on disk, to notice a concurrent change before overwriting. */
  body: Buffer;
}

/**
 * An encrypted settings file, after Rails' ActiveSupport::EncryptedFile and GitLab's
 * Gitlab::EncryptedConfiguration: read and write plaintext bytes; the key is derived only when needed.
 */
export class EncryptedFile {
  readonly contentPath: string;
  private readonly keys: KeyRing;

  constructor(options: EncryptedFileOptions) {
    this.contentPath = options.contentPath;
    this.keys = new KeyRing(options.keyBase, options.rotatedKeyBases ?? []);
  }

  /** The raw body on disk, or null when the file does not exist. */
  async readBody(): Promise<Buffer | null> {
    try {
      // Synchronous: one small read, and cheaper at start-up than the promise machinery.
      return readFileSync(this.contentPath);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return null;
      throw new FileAccessError(`Cannot read ${this.contentPath}: ${describeIoError(error)}`);
    }
  }

  /** Decrypt the file; null when it does not exist. A wrong key or a corrupt file throws DecryptError. */
  async read(): Promise<ReadResult | null> {
    const body = await this.readBody();
    return body === null ? null : this.decrypt(body);
  }

  async decrypt(body: Buffer): Promise<ReadResult> {
    try {
      return { ...(await decryptBodyAsync(body, this.keys)), body };
    } catch (error) {
      if (error instanceof InvalidMessageError) throw new DecryptError(this.contentPath);
      throw error;
    }
  }

  /** Encrypt with the primary key and replace the file atomically. */
  async write(plaintext: Uint8Array): Promise<AtomicWriteResult> {
    const body = encryptBody(plaintext, await this.keys.keyAsync(0));
    try {
      return await writeFileAtomic(this.contentPath, Buffer.from(body, 'latin1'));
    } catch (error) {
      throw new FileAccessError(`Cannot write ${this.contentPath}: ${describeIoError(error)}. The old file is intact.`);
    }
  }
}

/** A short reason for a failed file operation, without Node's stack or syscall noise. */
export function describeIoError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOENT':
      return 'no such file or directory';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'a component of the path is not a directory';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EROFS':
      return 'read-only file system';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'ENAMETOOLONG':
      return 'file name too long';
    case 'EFBIG':
      return 'file too large';
    default: {
      // Node's own text without the syscall and path it appends: "EMFILE: too many open files, open '…'"
      const message = error instanceof Error ? error.message : String(error);
      return message.split(',')[0] ?? message;
    }
  }
}
