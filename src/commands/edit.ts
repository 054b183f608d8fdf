import { createInterface } from 'node:readline/promises';
import { ConcurrentChangeError, InterruptedError, NoEditorError } from '../errors.ts';
import { createEditBuffer, runEditor } from '../editor.ts';
import { editCommand, openTarget, warnIfTrailingNewline } from './context.ts';
import type { CommandContext } from './context.ts';
import { save } from './save.ts';
import { checkContent, refuseContent } from './validate.ts';

/** An editor that returns this fast without a change was probably a GUI editor that did not wait. */
const QUICK_RETURN_MS = 1000;

/**
 * Open the plaintext (or the namespace's template for a new file) in $EDITOR and save the result, as
 * `gitlab-rake gitlab:<ns>:secret:edit` does, with the buffer kept out of the settings directory and
 * removed on every exit.
 */
export interface EditOptions {
  /** Create a missing settings directory. */
  createDir?: boolean;
}

export async function edit(context: CommandContext, options: EditOptions = {}): Promise<void> {
  const { target, file } = openTarget(context, { createDir: options.createDir === true });
  const { env } = context.lookup;
  const editor = env['EDITOR'];
  if (!editor || !editor.trim()) throw new NoEditorError(`${editCommand(context)} EDITOR=vim`);

  const current = await file.read();
  warnIfTrailingNewline(context, target.path, current);
  const original = current ? current.plaintext : Buffer.from(context.namespace.template, 'utf8');

  const buffer = await createEditBuffer(target.path, env);
  let edited: Buffer;
  try {
    buffer.write(original);
    for (;;) {
      const elapsed = await runEditor(editor, buffer.path, env);
      edited = buffer.read();
      // Only a person at a terminal can have been fooled by a window that opened and returned at once.
      if (context.io.stdin.isTTY && elapsed < QUICK_RETURN_MS && edited.equals(original)) {
        context.io.stderr.write(
          'hint: the editor returned at once without a change. A GUI editor must wait for its window to close: ' +
            "EDITOR='code --wait', 'subl --wait' or 'gedit -s'.\n",
        );
      }
      const verdict = checkContent(context.namespace, edited, context.io);
      if (verdict.ok) break;
      if (!(await askToEditAgain(context, verdict.problem))) throw refuseContent(verdict.problem);
    }
  } finally {
    buffer.remove();
  }

  // GitLab prints both lines for an unchanged buffer; it writes only when the text differs from the
  // stored plaintext, so an untouched template still creates the new file.
  if (edited.equals(original)) context.io.stdout.write('Contents were unchanged.\n');
  if (current && edited.equals(current.plaintext)) {
    context.io.stdout.write('File encrypted and saved.\n');
    return;
  }
  if (file.version() !== (current?.version ?? null)) throw new ConcurrentChangeError(target.path);
  await save(context, file, edited);
}

/**
 * Invalid content in an interactive edit: ask, as visudo does, instead of throwing the edit away.
 * Without a terminal there is nobody to ask.
 */
async function askToEditAgain(context: CommandContext, problem: string): Promise<boolean> {
  const { stdin, stderr } = context.io;
  if (!stdin.isTTY) return false;
  const prompt = createInterface({ input: stdin, output: stderr, terminal: true });
  try {
    for (;;) {
      let answer: string;
      try {
        answer = await prompt.question(`${problem}. What now? (e)dit again, (q)uit without saving [e]: `);
      } catch (error) {
        // readline turns Ctrl-C into a rejected question (the terminal is raw, so no SIGINT comes);
        // Ctrl-D or a closed terminal means quit.
        if (error instanceof Error && /Ctrl\+C/.test(error.message)) throw new InterruptedError('SIGINT');
        return false;
      }
      answer = answer.trim().toLowerCase();
      if (answer === '' || answer === 'e') return true;
      if (answer === 'q') return false;
    }
  } finally {
    prompt.close();
  }
}
