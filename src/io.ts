import type { Readable, Writable } from 'node:stream';

/** The streams a command talks to; tests can pass their own. */
export interface Io {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable;
  stderr: Writable;
}

/** The process's streams. stdin is looked up only when a command reads it: creating it costs start-up time. */
export function processIo(): Io {
  // A reader that stops early (`gitlab-secrets smtp show | head -1`) is not an error of ours: end
  // quietly instead of Node's unhandled-error stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
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
 * (`$stdin.tty? ? $stdin.gets : $stdin.read`). Bytes, untouched.
 */
export async function readInput(stdin: Io['stdin']): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
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
