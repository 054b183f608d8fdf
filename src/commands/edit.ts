import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import {
  ConcurrentChangeError,
  EditConflictError,
  EditNotSavedError,
  FileAccessError,
  InterruptedError,
  LockHeldError,
  NoEditorError,
  hintLine,
} from '../errors.ts';
import type { GitlabSecretsError } from '../errors.ts';
import { createEditBuffer, runEditor } from '../editor.ts';
import { abort } from '../signals.ts';
import { editCommand, openTarget, warnIfTrailingNewline } from './context.ts';
import type { CommandContext } from './context.ts';
import { prepareChange, saveChange } from './save.ts';
import type { Change } from './save.ts';
import { checkContent, refuseContent } from './validate.ts';

/** An editor that returns this fast without a change was probably a GUI editor that did not wait. */
const QUICK_RETURN_MS = 1000;

export interface EditOptions {
  /** Create a missing settings directory. */
  createDir?: boolean;
  /** Edit (starting from the template) and replace a file that no configured key decrypts. */
  force?: boolean;
}

/**
 * Open the plaintext (or the namespace's template for a new file) in $EDITOR and save the result, as
 * `gitlab-rake gitlab:<ns>:secret:edit` does, with the buffer kept out of the settings directory and
 * removed on every exit. An edit is never thrown away without asking: at a terminal, invalid YAML, a
 * file changed meanwhile and a failed save each ask what to do; without one, stderr says it was discarded.
 */
export async function edit(context: CommandContext, options: EditOptions = {}): Promise<void> {
  const opened = openTarget(context, { createDir: options.createDir === true });
  const { env } = context.lookup;
  const editor = env['EDITOR'];
  if (!editor || !editor.trim()) throw new NoEditorError(`${editCommand(context)} EDITOR=vim`);

  await disableCoreDumps();
  const change = await prepareChange(context, { force: options.force === true, opened });
  const { current } = change;
  warnIfTrailingNewline(context, opened.target.path, current);
  const original = current ? current.plaintext : Buffer.from(context.namespace.template, 'utf8');

  const buffer = await createEditBuffer(opened.target.path, env);
  try {
    buffer.write(original);
    for (;;) {
      const elapsed = await runEditor(editor, buffer.path, env);
      const edited = buffer.read();
      // Only a person at a terminal can have been fooled by a window that opened and returned at once.
      if (context.io.stdin.isTTY && elapsed < QUICK_RETURN_MS && edited.equals(original)) {
        context.io.stderr.write(
          'hint: the editor returned at once without a change. A GUI editor must wait for its window to close: ' +
            "EDITOR='code --wait', 'subl --wait' or 'gedit -s'.\n",
        );
      }
      const verdict = checkContent(context.namespace, edited, context.io);
      if (!verdict.ok) {
        // At a terminal the hint comes before the question, where it helps the next edit.
        const atTerminal = context.io.stdin.isTTY === true;
        if (atTerminal && verdict.hint !== undefined) context.io.stderr.write(`${hintLine(verdict.hint)}\n`);
        const answer = await ask(context, `${verdict.problem}. What now? (e)dit again, (q)uit without saving [e]: `, 'eq');
        if (answer === 'e') continue;
        throw refuseContent(atTerminal ? { problem: verdict.problem } : verdict);
      }

      // GitLab prints both lines for an unchanged buffer; it writes only when the text differs from the
      // stored plaintext, so an untouched template still creates the new file.
      if (edited.equals(original)) context.io.stdout.write('Contents were unchanged.\n');
      if (current && edited.equals(current.plaintext)) {
        context.io.stdout.write('File encrypted and saved.\n');
        return;
      }
      if ((await saveEdit(context, change, edited)) === 'saved') return;
    }
  } finally {
    buffer.remove();
  }
}

/**
 * A crash must not write the plaintext and the key to a core file. Node cannot set RLIMIT_CORE itself;
 * util-linux's prlimit can, for our process (and so for the editor we start). Best effort: without
 * prlimit, or where it is refused, the edit goes on. Where both limits are 0 already (`ulimit -Hc 0`, or
 * an earlier edit in this process) there is nothing to lower, and no process to start.
 */
async function disableCoreDumps(): Promise<void> {
  if (process.platform !== 'linux' || coreDumpsOff()) return;
  await new Promise<void>((resolve) => {
    execFile('prlimit', ['--pid', String(process.pid), '--core=0:0'], { timeout: 5000 }, () => resolve());
  });
}

/** RLIMIT_CORE is 0, soft and hard, for this process (read from /proc; false where it cannot be read). */
function coreDumpsOff(): boolean {
  try {
    return /^Max core file size\s+0\s+0\s/m.test(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return false;
  }
}

/** Save, asking at a terminal what to do when the file changed meanwhile or the save failed. */
async function saveEdit(context: CommandContext, change: Change, edited: Buffer): Promise<'saved' | 'edit again'> {
  const path = change.file.contentPath;
  for (;;) {
    try {
      await saveChange(context, change, edited, { onChanged: 'conflict' });
      return 'saved';
    } catch (error) {
      if (error instanceof ConcurrentChangeError) {
        const answer = await ask(
          context,
          `${path} was changed by someone else while you were editing it. ` +
            'What now? (o)verwrite it with your edit, (e)dit again, (q)uit without saving [e]: ',
          'eoq',
        );
        if (answer === 'q') throw new EditConflictError(path);
        // Either way the file as it is now is what the user decided about.
        change.version = change.file.version();
        if (answer === 'e') return 'edit again';
        continue;
      }
      if (error instanceof FileAccessError || error instanceof LockHeldError) {
        const answer = await ask(context, `${error.message} What now? (r)etry, (q)uit without saving [r]: `, 'rq');
        if (answer === 'q') throw new EditNotSavedError(error as GitlabSecretsError);
        continue;
      }
      throw error;
    }
  }
}

/**
 * Ask at the terminal, as visudo does; resolves with one of `choices` (the first is the default), or 'q'
 * when there is nobody to ask (no terminal, Ctrl-D). Ctrl-C aborts as a SIGINT would; a terminal that
 * hangs up (SSH dropped: SIGHUP, then reads fail with EIO) aborts as SIGHUP, cleanly.
 */
async function ask(context: CommandContext, question: string, choices: string): Promise<string> {
  const { stdin, stderr } = context.io;
  if (!stdin.isTTY) return 'q';
  const prompt = createInterface({ input: stdin, output: stderr, terminal: true });
  const hangUp = (): void => abort('SIGHUP');
  // A hung-up terminal ends stdin, and readline's attempt to leave raw mode then fails with EIO.
  prompt.on('error', hangUp);
  stdin.on('error', hangUp);
  stderr.on('error', hangUp);
  try {
    for (;;) {
      let answer: string;
      try {
        answer = await prompt.question(question);
      } catch (error) {
        // readline turns Ctrl-C into a rejected question (the terminal is raw, so no SIGINT comes);
        // Ctrl-D or a closed terminal means quit.
        if (error instanceof Error && /Ctrl\+C/.test(error.message)) throw new InterruptedError('SIGINT');
        return 'q';
      }
      answer = answer.trim().toLowerCase();
      if (answer === '') return choices[0]!;
      if (answer.length === 1 && choices.includes(answer)) return answer;
    }
  } finally {
    prompt.close();
    stdin.off('error', hangUp);
    stderr.off('error', hangUp);
  }
}
