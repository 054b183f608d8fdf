import { writeSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { EXIT, InputTooLargeError, MAX_INPUT_BYTES, StdoutError } from './errors.ts';
import { describeIoError } from './format/encrypted_file.ts';
import { removeAllNow } from './fs/cleanup.ts';
import { releaseAllLocks } from './lock.ts';

/** The streams a command talks to; tests can pass their own. */
export interface Io {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable;
  stderr: Writable;
}

/** The process's streams. stdin is looked up only when a command reads it: creating it costs start-up time. */
export function processIo(): Io {
  // A reader that stops early (`gitlab-secrets smtp show | head -1`) is not an error of ours: end
  // quietly instead of Node's unhandled-error stack trace. Any other failure (`show > /dev/full`) is one
  // line and exit 9. Either way, temporary files and the lock go first.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    removeAllNow();
    releaseAllLocks();
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    try {
      writeSync(2, `${new StdoutError(describeIoError(error)).message}\n`);
    } catch {
      // stderr is gone too: the exit code still tells
    }
    process.exit(EXIT.IO);
  });
  return {
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
  };
}

/**
 * What `write` encrypts: all of stdin, or one line when stdin is a terminal, as GitLab's rake task does
 * (`$stdin.tty? ? $stdin.gets : $stdin.read`). Bytes, untouched. At most MAX_INPUT_BYTES (64 MiB): more
 * is refused as soon as it arrives, before it can exhaust memory or Node's string limit.
 */
export async function readInput(stdin: Io['stdin'], limit: number = MAX_INPUT_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += bytes.length;
    if (size > limit) {
      stdin.destroy();
      throw new InputTooLargeError();
    }
    if (stdin.isTTY) {
      const newline = bytes.indexOf(0x0a);
      if (newline >= 0) {
        chunks.push(bytes.subarray(0, newline + 1));
        break;
      }
    }
    chunks.push(bytes);
  }
  if (stdin.isTTY) stdin.pause();
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}
