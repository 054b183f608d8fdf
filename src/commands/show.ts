import { isBlankBytes } from '../text.ts';
import { editCommand, openTarget, warnIfTrailingNewline } from './context.ts';
import type { CommandContext } from './context.ts';

export interface ShowOptions {
  /** Print the parsed settings as JSON instead of the text. */
  json?: boolean;
}

/** Print the plaintext bytes exactly, as `gitlab-rake gitlab:<ns>:secret:show` does (`puts`). */
export async function show(context: CommandContext, options: ShowOptions = {}): Promise<void> {
  const { target, file } = openTarget(context);
  const result = await file.read();
  warnIfTrailingNewline(context, target.path, result);
  const { stdout } = context.io;
  if (options.json) {
    const { parseSettings, toJson } = await import('./parsed.ts');
    stdout.write(`${toJson(parseSettings(target.path, result?.plaintext ?? null), 2)}\n`);
    return;
  }
  if (!result || isBlankBytes(result.plaintext)) {
    // GitLab: `encrypted.read.presence || "File ... does not exist."`, on stdout, success.
    stdout.write(`File '${target.path}' does not exist. Use \`${editCommand(context)}\` to change that.\n`);
    return;
  }
  const { plaintext } = result;
  stdout.write(plaintext);
  if (plaintext[plaintext.length - 1] !== 0x0a) stdout.write('\n');
}
