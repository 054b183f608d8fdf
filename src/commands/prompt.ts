import { InterruptedError } from '../errors.ts';
import type { Io } from '../io.ts';

/**
 * Read one line from the terminal without echoing it (as `read -s` or ssh's password prompt): the prompt
 * goes to stderr, so stdout stays clean. Ctrl-C is an interrupt (exit 130, nothing saved), Ctrl-D on an
 * empty line ends the input, Backspace deletes, Ctrl-U clears the line.
 */
export async function readHidden(io: Io, prompt: string): Promise<string> {
  const stdin = io.stdin as Io['stdin'] & { setRawMode?: (raw: boolean) => void };
  io.stderr.write(prompt);
  stdin.setRawMode?.(true);
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let typed = '';
      const finish = (error?: Error): void => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        io.stderr.write('\n');
        if (error) reject(error);
        else resolve(typed);
      };
      const onEnd = (): void => finish();
      const onData = (chunk: Buffer | string): void => {
        for (const char of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
          if (char === '\r' || char === '\n') return finish();
          if (char === '\u0003') return finish(new InterruptedError('SIGINT'));
          if (char === '\u0004') {
            if (typed === '') return finish();
            continue;
          }
          if (char === '\u007f' || char === '\b') typed = [...typed].slice(0, -1).join('');
          else if (char === '\u0015') typed = '';
          else typed += char;
        }
      };
      stdin.on('data', onData);
      stdin.on('end', onEnd);
    });
  } finally {
    stdin.setRawMode?.(false);
    stdin.pause();
  }
}
