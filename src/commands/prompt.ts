import { InterruptedError } from '../errors.ts';
import type { Io } from '../io.ts';

/**
 * Read one line from the terminal without echoing it (as `read -s` or ssh's password prompt): the prompt
 * goes to stderr, so stdout stays clean. Ctrl-C is an interrupt (exit 130, nothing saved), Ctrl-D on an
 * empty line ends the input, Backspace deletes, Ctrl-U clears the line.
 */
export async function readHidden(io: Io, prompt: string): Promise<string> {
  const stdin = io.stdin as Io['stdin'] & { setRawMode?: (raw: boolean) => void };
  // Raw before the prompt shows: what is typed after it is never echoed nor taken as a signal by the terminal.
  stdin.setRawMode?.(true);
  io.stderr.write(prompt);
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let typed = '';
      const finish = (rest: string, error?: Error): void => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.pause();
        // What was typed ahead (both answers at once) is for the next prompt.
        if (rest !== '') stdin.unshift(Buffer.from(rest, 'utf8'));
        io.stderr.write('\n');
        if (error) reject(error);
        else resolve(typed);
      };
      const onEnd = (): void => finish('');
      const onData = (chunk: Buffer | string): void => {
        const chars = [...(typeof chunk === 'string' ? chunk : chunk.toString('utf8'))];
        for (let i = 0; i < chars.length; i++) {
          const char = chars[i]!;
          const rest = (): string => chars.slice(i + 1).join('');
          if (char === '\r' || char === '\n') return finish(char === '\r' && chars[i + 1] === '\n' ? chars.slice(i + 2).join('') : rest());
          if (char === '\u0003') return finish('', new InterruptedError('SIGINT'));
          if (char === '\u0004') {
            if (typed === '') return finish(rest());
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
