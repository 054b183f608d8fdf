import { writeSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { HANDLED_SIGNALS, InterruptedError } from './errors.ts';
import type { HandledSignal } from './errors.ts';
import { removeAllNow } from './fs/cleanup.ts';

/**
 * While a command may change a file, SIGINT, SIGTERM and SIGHUP stop it cleanly: the editor is stopped,
 * every temporary file (edit buffer, half-written sibling) is removed, GitLab's "Aborted changing file:
 * nothing saved." is printed and the process exits with 128 + the signal number. The one moment a signal
 * waits for is the final rename, so that "nothing saved" is always true.
 */
let editor: ChildProcess | undefined;
let committing = false;
let deferred: HandledSignal | undefined;
let late: HandledSignal | undefined;

export function guardSignals(): () => void {
  const handler = (signal: HandledSignal): void => {
    if (committing) {
      deferred = signal;
      return;
    }
    abort(signal);
  };
  for (const signal of HANDLED_SIGNALS) process.on(signal, handler);
  return () => {
    for (const signal of HANDLED_SIGNALS) process.off(signal, handler);
  };
}

/** The running editor, to stop with us. */
export function trackEditor(child: ChildProcess | undefined): void {
  editor = child;
}

/** Run the step that makes the change visible; a signal during it is acted on after it. */
export async function commit<T>(step: () => Promise<T>): Promise<T> {
  committing = true;
  try {
    return await step();
  } finally {
    committing = false;
    // The file was saved: finish, then exit as interrupted without claiming that nothing was.
    late ??= deferred;
    deferred = undefined;
  }
}

function abort(signal: HandledSignal): never {
  editor?.kill('SIGTERM');
  removeAllNow();
  const error = new InterruptedError(signal);
  writeSync(2, `${error.message}\n`);
  process.exit(error.exitCode);
}

/** The exit code of a signal that arrived while a file was being saved, if one did. */
export function lateSignalExitCode(): number | undefined {
  return late && new InterruptedError(late).exitCode;
}

/**
 * Forget the state of an earlier `main()` in the same process (tests run the CLI in-process): no editor,
 * no commit in progress, no signal deferred or late.
 */
export function resetSignalState(): void {
  editor = undefined;
  committing = false;
  deferred = undefined;
  late = undefined;
}
