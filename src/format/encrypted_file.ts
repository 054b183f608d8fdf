import { closeSync, readSync, statSync } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { DecryptError, FileAccessError, GitlabSecretsError, WriteFailedError, InvalidMessageError, JsonSerializerError } from '../errors.ts';
import { writeFileAtomic } from '../fs/atomic_write.ts';
import { ENCRYPTED_FILE_LIMIT, openRegularFile } from '../fs/safe_read.ts';
import type { AtomicWriteResult } from '../fs/atomic_write.ts';
import { DEFAULT_DIGEST, KeyRing } from './key_generator.ts';
import type { KeyDigest } from './key_generator.ts';
import { JsonPayloadError } from './json_string.ts';
import { decryptBodyAsync, DEFAULT_SERIALIZER, encryptBody, PIECE } from './message_encryptor.ts';
import type { BodySource, Decrypted, PayloadFormat, Serializer } from './message_encryptor.ts';

export interface EncryptedFileOptions {
  /** The encrypted file, e.g. shared/encrypted_settings/smtp.yaml.enc. */
  contentPath: string;
  /** encrypted_settings_key_base. */
  keyBase: string;
  /** rotated_encrypted_settings_key_base: tried in order when the primary key cannot decrypt. */
  rotatedKeyBases?: readonly string[];
  /**
   * The serializer to write with. Default: the one the file was written with (JSON stays JSON, Marshal
   * stays Marshal), Marshal for a new file or one our keys cannot read.
   */
  serializer?: Serializer | undefined;
  /** The PBKDF2 digest to write with. Default: the one that read the file, SHA1 for a new file. */
  digest?: KeyDigest | undefined;
}

export interface ReadResult extends Decrypted {
  /** The identity of the file that was read (see version()), to notice a concurrent change. */
  version: string;
}

/**
 * An encrypted settings file, after Rails' ActiveSupport::EncryptedFile and GitLab's
 * Gitlab::EncryptedConfiguration: read and write plaintext bytes; the key is derived only when needed.
 */
export class EncryptedFile {
  readonly contentPath: string;
  private readonly keys: KeyRing;
  private readonly chosen: Partial<PayloadFormat>;
  /** How the file was written, from the last read (null: there was no file, or our keys cannot read it). */
  private found: PayloadFormat | null | undefined;

  constructor(options: EncryptedFileOptions) {
    this.contentPath = options.contentPath;
    this.keys = new KeyRing(options.keyBase, options.rotatedKeyBases ?? []);
    this.chosen = {};
    if (options.serializer) this.chosen.serializer = options.serializer;
    if (options.digest) this.chosen.digest = options.digest;
  }

  /**
   * Decrypt the file; null when it does not exist. A wrong key or a corrupt file throws DecryptError.
   * The body is read piece by piece as it is decrypted, never held whole.
   */
  async read(): Promise<ReadResult | null> {
    this.found = null;
    let opened: ReturnType<typeof openRegularFile>;
    try {
      // Never blocks on a named pipe; refuses devices and files over 256 MiB with one line.
      opened = openRegularFile(this.contentPath, { limit: ENCRYPTED_FILE_LIMIT, role: 'data' });
    } catch (error) {
      if (error instanceof GitlabSecretsError) throw error;
      throw this.readError(error);
    }
    if (opened === null) return null;
    const { fd, stat } = opened;
    try {
      const decrypted = await decryptBodyAsync(fileSource(fd, Number(stat.size)), this.keys);
      this.found = { serializer: decrypted.serializer, digest: decrypted.digest };
      return Object.assign(decrypted, { version: versionOf(stat) });
    } catch (error) {
      if (error instanceof InvalidMessageError) throw new DecryptError(this.contentPath);
      if (error instanceof GitlabSecretsError) throw error;
      throw this.readError(error);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The identity of the file now at the path (device, inode, size, change times), or null when there is
   * none. An atomic replace gives a new inode; an in-place write a new ctime.
   */
  version(): string | null {
    const stat = statSync(this.contentPath, { bigint: true, throwIfNoEntry: false });
    return stat ? versionOf(stat) : null;
  }

  private readError(error: unknown): FileAccessError {
    return new FileAccessError(`Cannot read ${this.contentPath}: ${describeIoError(error)}`);
  }

  /**
   * How write() will encrypt: the serializer and digest chosen in the options, else the ones the file was
   * written with (read now if it was not read yet), else Marshal and SHA1, which every GitLab reads.
   */
  async writeFormat(): Promise<PayloadFormat> {
    const regularFile = (): boolean => statSync(this.contentPath, { throwIfNoEntry: false })?.isFile() === true;
    // Only a regular file is read for it: a FIFO or device in its place must not block a write.
    if (this.found === undefined && (!this.chosen.serializer || !this.chosen.digest) && regularFile()) {
      try {
        await this.read();
      } catch {
        // Not readable with our keys (or at all): a write replaces it in the default format.
      }
    }
    return {
      serializer: this.chosen.serializer ?? this.found?.serializer ?? DEFAULT_SERIALIZER,
      digest: this.chosen.digest ?? this.found?.digest ?? DEFAULT_DIGEST,
    };
  }

  /** Encrypt with the primary key (in writeFormat()) and replace the file atomically. */
  async write(plaintext: Uint8Array): Promise<AtomicWriteResult> {
    const { serializer, digest } = await this.writeFormat();
    let body: string;
    try {
      body = encryptBody(plaintext, await this.keys.keyAsync(0, digest), serializer);
    } catch (error) {
      if (error instanceof JsonPayloadError) throw new JsonSerializerError(this.contentPath);
      throw error;
    }
    try {
      return await writeFileAtomic(this.contentPath, Buffer.from(body, 'latin1'));
    } catch (error) {
      if (error instanceof GitlabSecretsError) throw error; // a refused symlink, a swapped directory
      throw new WriteFailedError(this.contentPath, describeIoError(error));
    }
  }
}

function versionOf(stat: BigIntStats): string {
  return [stat.dev, stat.ino, stat.size, stat.mtimeNs, stat.ctimeNs].join(':');
}

/** Reads for decryptBodyAsync from an open file, through one reused buffer. */
function fileSource(fd: number, size: number): BodySource {
  const scratch = Buffer.allocUnsafe(PIECE);
  return {
    size,
    read(position, length) {
      const buffer = length <= scratch.length ? scratch : Buffer.allocUnsafe(length);
      return buffer.subarray(0, readSync(fd, buffer, 0, length, position));
    },
  };
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
