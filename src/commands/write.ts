import { InvalidContentError } from '../errors.ts';
import { readInput } from '../io.ts';
import { isBlankBytes } from '../text.ts';
import type { EncryptedFile } from '../format/encrypted_file.ts';
import { openTarget } from './context.ts';
import type { CommandContext } from './context.ts';
import { save } from './save.ts';
import { checkContent, refuseContent } from './validate.ts';

export interface WriteOptions {
  /** Let empty or blank input replace a file that holds secrets. */
  allowEmpty?: boolean;
  /** Create a missing settings directory. */
  createDir?: boolean;
}

/**
 * Encrypt stdin into the file, as `gitlab-rake gitlab:<ns>:secret:write` does. It never needs the old
 * file's key. Unlike GitLab, empty input does not silently wipe existing secrets: an upstream command
 * that failed in a pipe (`gcloud … | gitlab-secrets smtp write`) sends nothing.
 */
export async function write(context: CommandContext, options: WriteOptions = {}): Promise<void> {
  const { file } = openTarget(context, { createDir: options.createDir === true });
  const input = await readInput(context.io.stdin);
  if (isBlankBytes(input) && !options.allowEmpty && (await holdsSecrets(file))) {
    throw new InvalidContentError(
      `The input is empty and ${file.contentPath} holds secrets: nothing saved. ` +
        'If the command before the pipe failed, fix it; to clear the file on purpose, pass --allow-empty.',
    );
  }
  const verdict = checkContent(context.namespace, input, context.io);
  if (!verdict.ok) throw refuseContent(verdict.problem);
  await save(context, file, input);
}

/** The file exists and is not blank, or cannot be read with our key (so it may hold anything). */
async function holdsSecrets(file: EncryptedFile): Promise<boolean> {
  try {
    const current = await file.read();
    return current !== null && !isBlankBytes(current.plaintext);
  } catch {
    return true;
  }
}
