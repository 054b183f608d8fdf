import { isBlankBytes } from '../text.ts';
import { editCommand, openTarget, warnIfTrailingNewline } from './context.ts';
import type { CommandContext } from './context.ts';

/** Print the plaintext bytes exactly, as `gitlab-rake gitlab:<ns>:secret:show` does (`puts`). */
export async function show(context: CommandContext): Promise<void> {
  const { target, file } = openTarget(context);
  const result = await file.read();
  warnIfTrailingNewline(context, target.path, result);
  const { stdout } = context.io;
  if (!result || isBlankBytes(result.plaintext)) {
    // GitLab: `encrypted.read.presence || "File ... does not exist."`, on stdout, success.
    stdout.write(`File '${target.path}' does not exist. Use \`${editCommand(context)}\` to change that.\n`);
    return;
  }
  const { plaintext } = result;
  stdout.write(plaintext);
  if (plaintext[plaintext.length - 1] !== 0x0a) stdout.write('\n');
}
