import { InvalidContentError, terminalWriteHint } from '../errors.ts';
import { readInput } from '../io.ts';
import { isBlankBytes } from '../text.ts';
import { openTarget } from './context.ts';
import type { CommandContext } from './context.ts';
import { prepareChange, saveChange } from './save.ts';
import { checkContent, refuseContent } from './validate.ts';

export interface WriteOptions {
  /** Let empty or blank input replace a file that holds secrets. */
  allowEmpty?: boolean;
  /** Create a missing settings directory. */
  createDir?: boolean;
  /** Replace a file that no configured key decrypts. */
  force?: boolean;
}

/**
 * Encrypt stdin into the file, as `gitlab-rake gitlab:<ns>:secret:write` does. Unlike GitLab:
 *   - empty input does not silently wipe existing secrets: an upstream command that failed in a pipe
 *     (`gcloud … | gitlab-secrets smtp write`) sends nothing;
 *   - a file that no configured key decrypts is not replaced without --force: a stale RAILS_ENV or the
 *     wrong secrets file must not destroy secrets that the right key still opens.
 */
export async function write(context: CommandContext, options: WriteOptions = {}): Promise<void> {
  const opened = openTarget(context, { createDir: options.createDir === true });
  const { target } = opened;
  if (context.io.stdin.isTTY) {
    const instance = context.instance === undefined ? '' : ` ${context.instance}`;
    context.io.stderr.write(
      `${terminalWriteHint(`gitlab-secrets ${context.namespace.name} write${instance}`, context.namespace.fileName.replace(/\.enc$/, ''))}\n`,
    );
  }
  const input = await readInput(context.io.stdin);
  let change;
  try {
    change = await prepareChange(context, { force: options.force === true, hint: true, opened });
  } catch (error) {
    // An unreadable file may hold anything: empty input over it is the empty-input refusal, as before.
    if (isBlankBytes(input) && !options.allowEmpty) throw emptyInputRefusal(target.path);
    throw error;
  }
  const holdsSecrets = change.undecryptable || (change.current !== null && !isBlankBytes(change.current.plaintext));
  if (isBlankBytes(input) && !options.allowEmpty && holdsSecrets) throw emptyInputRefusal(target.path);
  const verdict = checkContent(context.namespace, input, context.io);
  if (!verdict.ok) throw refuseContent(verdict);
  await saveChange(context, change, input, { onChanged: 'replace' });
}

function emptyInputRefusal(path: string): InvalidContentError {
  return new InvalidContentError(
    `The input is empty and ${path} holds secrets: nothing saved. ` +
      'If the command before the pipe failed, fix it; to clear the file on purpose, pass --allow-empty.',
  );
}
