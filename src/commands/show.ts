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
    stdout.write(`${toJson(parseSettings(target.path, result?.plaintext ?? null, { rubyFloats: true }), 2)}\n`);
    return;
  }
  if (!result || isBlankBytes(result.pieces)) {
    // GitLab: `encrypted.read.presence || "File ... does not exist."`, on stdout, success.
    stdout.write(`File '${target.path}' does not exist. Use \`${editCommand(context)}\` to change that.\n`);
    return;
  }
  // The pieces as decrypted: a large file is never joined into one more copy.
  for (const piece of result.pieces) stdout.write(piece);
  const last = result.pieces.at(-1)!;
  if (last[last.length - 1] !== 0x0a) stdout.write('\n');
}
