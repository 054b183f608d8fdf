import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { FileTooLargeError, NotRegularFileError } from '../errors.ts';

/** The most we read of a configuration file (gitlab.yml, secrets.yml, redis.yml): real ones are a few KiB. */
export const CONFIG_FILE_LIMIT = 16 * 1024 * 1024;
/** The most we read of an encrypted settings file: real ones are a few KiB; 256 MiB is far beyond any. */
export const ENCRYPTED_FILE_LIMIT = 256 * 1024 * 1024;

export type FileRole = 'config' | 'data';

export interface BoundedOptions {
  /** Bytes; a larger file is refused with FileTooLargeError. */
  limit: number;
  /** Which exit code a refusal gets: a configuration file's (3) or a data file's (9). */
  role: FileRole;
}

export interface OpenedRegularFile {
  fd: number;
  stat: BigIntStats;
}

/**
 * Open a file for reading without ever blocking: O_NONBLOCK so that a named pipe with no writer cannot hang
 * the open (nor make the process deaf to SIGINT and SIGTERM), O_NOCTTY so a terminal device never becomes
 * ours. Anything but a regular file (pipe, device such as /dev/zero, directory, socket) is refused with
 * one line naming it, and so is a file larger than `limit`. Symlinks are followed: this is a read.
 * Returns null when the file does not exist; other failures are Node's errors, for the caller to word.
 * O_NONBLOCK has no effect on reads of a regular file, so it stays set.
 */
export function openRegularFile(path: string, options: BoundedOptions): OpenedRegularFile | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const stat = fstatSync(fd, { bigint: true });
    if (!stat.isFile()) throw new NotRegularFileError(path, describeKind(stat), options.role);
    if (stat.size > BigInt(options.limit)) throw new FileTooLargeError(path, describeSize(options.limit), options.role);
    return { fd, stat };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/**
 * The whole of a regular file, at most `limit` bytes (see openRegularFile); null when it does not exist.
 * A file that grows past the limit while it is read is refused too.
 */
export function readRegularFile(path: string, options: BoundedOptions): Buffer | null {
  const opened = openRegularFile(path, options);
  if (!opened) return null;
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    const size = Number(opened.stat.size);
    for (;;) {
      const buffer = Buffer.allocUnsafe(Math.min(Math.max(size - total, 0) + 1, 1024 * 1024, options.limit + 1 - total));
      const n = readSync(opened.fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      total += n;
      if (total > options.limit) throw new FileTooLargeError(path, describeSize(options.limit), options.role);
      chunks.push(buffer.subarray(0, n));
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(opened.fd);
  }
}

/** What a file that is not a regular file is, in words for a message. */
export function describeKind(stat: Pick<BigIntStats, 'isFIFO' | 'isCharacterDevice' | 'isBlockDevice' | 'isDirectory' | 'isSocket'>): string {
  if (stat.isFIFO()) return 'a named pipe (FIFO)';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isDirectory()) return 'a directory';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

function describeSize(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}
