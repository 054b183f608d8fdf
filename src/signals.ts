import { closeSync, openSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import type { ChildProcess } from 'node:child_process';
import { HANDLED_SIGNALS, InterruptedError, signalAfterSaveNote } from './errors.ts';
import type { HandledSignal } from './errors.ts';
import { removeAllNow } from './fs/cleanup.ts';
import { releaseAllLocks } from './lock.ts';

/**
 * While a command may change a file, SIGINT, SIGTERM and SIGHUP stop it cleanly: the editor is stopped,
 * every temporary file (edit buffer, half-written sibling) is removed, the file's lock is released,
 * GitLab's "Aborted changing file: nothing saved." is printed and the process exits with 128 + the signal
 * number. The one moment a signal waits for is the final rename, so that "nothing saved" is always true;
 * a signal that waited for a save is reported after it (signalDuringSave) and the exit code is the
 * save's, 0, because the file was saved.
 */
let editor: ChildProcess | undefined;
let committing = false;
let deferred: HandledSignal | undefined;
let late: HandledSignal | undefined;
let lateReported = false;
let exitGuarded = false;

export function guardSignals(): () => void {
  const handler = (signal: HandledSignal): void => {
    if (signal === 'SIGHUP') letGoOfHungUpTerminal();
    if (committing) {
      deferred = signal;
      return;
    }
    abort(signal);
  };
  for (const signal of HANDLED_SIGNALS) process.on(signal, handler);
  // Once, and kept: the command may end (the editor died of the hang-up) before the SIGHUP handler runs.
  if (!exitGuarded) {
    terminalsAtStart = [0, 1, 2].filter((fd) => isatty(fd));
    process.on('exit', letGoOfHungUpTerminal);
  }
  exitGuarded = true;
  return () => {
    for (const signal of HANDLED_SIGNALS) process.off(signal, handler);
    // Without our handlers, a late SIGINT/SIGTERM gets Node's own, which resets a hung-up terminal and aborts.
    letGoOfHungUpTerminal();
  };
}

/** The running editor, to stop with us. */
export function trackEditor(child: ChildProcess | undefined): void {
  editor = child;
}

/** Run the step that makes the change visible; a signal during it is acted on after it. */
export async function commit<T>(step: () => Promise<T>): Promise<T> {
  committing = true;
  let saved = false;
  try {
    const result = await step();
    saved = true;
    return result;
  } finally {
    committing = false;
    const signal = deferred;
    deferred = undefined;
    // The step failed: nothing was saved, so the signal stops us now as it would have before.
    if (signal && !saved) abort(signal);
    late ??= signal;
  }
}

/**
 * A signal that arrived while a file was being saved, and the note to print after saying it was saved.
 * Whoever commits reports it once; a command that would go on to change more (rotate --all) stops.
 */
export function signalDuringSave(): { signal: HandledSignal; note: string } | undefined {
  return late && { signal: late, note: signalAfterSaveNote(late) };
}

/** The note about a signal during the save, the first time it is asked for (then undefined). */
export function takeSignalDuringSaveNote(): string | undefined {
  if (!late || lateReported) return undefined;
  lateReported = true;
  return signalAfterSaveNote(late);
}

/**
 * Stop now: the editor, temporary files, the lock, then GitLab's line and 128 + the signal number. Also
 * used when the terminal hangs up under a prompt (the read fails with EIO before or instead of SIGHUP).
 */
let aborting = false;
export function abort(signal: HandledSignal): void {
  // Leaving a hung-up terminal's raw mode fails and reports it again: stop once.
  if (aborting) return;
  aborting = true;
  try {
    // A hang-up is passed on as one: the editor's terminal is gone too, and an editor whose runtime resets
    // the terminal on SIGTERM (Node does) would abort on the hung-up terminal and print its stack there.
    editor?.kill(signal === 'SIGHUP' ? 'SIGHUP' : 'SIGTERM');
  } catch {
    // already gone
  }
  removeAllNow();
  releaseAllLocks();
  const error = new InterruptedError(signal);
  try {
    writeSync(2, `${error.message}\n`);
  } catch {
    // stderr is gone too (a hung-up terminal): the exit code still tells
  }
  letGoOfHungUpTerminal();
  process.exit(error.exitCode);
}

/**
 * After a hang-up, Node's exit (and its handler for a late signal) restores the terminal settings it saved
 * at start-up and aborts (SIGABRT, a core dump holding the plaintext) when the hung-up terminal refuses with
 * EIO. It skips a descriptor that no longer is the file it saved, so put /dev/null in place of each
 * descriptor that was a terminal when the guard started and no longer answers as one (isatty's tcgetattr
 * fails on a hung-up terminal): the descriptor stays valid for libuv's handles, and Node leaves it alone.
 * Run on every exit while a command may change a file: the editor can die of the hang-up and end the
 * command before our SIGHUP handler runs.
 */
function letGoOfHungUpTerminal(): void {
  for (const fd of terminalsAtStart) {
    try {
      if (isatty(fd)) continue;
      closeSync(fd);
      const replacement = openSync('/dev/null', 'r+');
      // The lowest free number comes back: fd itself, unless a lower one was free too (then leave fd closed).
      if (replacement !== fd) closeSync(replacement);
    } catch {
      // closed already: Node skips it too
    }
  }
}

/** The standard descriptors that were terminals when the guard started. */
let terminalsAtStart: number[] = [];
/**
 * Forget the state of an earlier `main()` in the same process (tests run the CLI in-process): no editor,
 * no commit in progress, no signal deferred or late.
 */
export function resetSignalState(): void {
  editor = undefined;
  committing = false;
  deferred = undefined;
  late = undefined;
  lateReported = false;
  aborting = false;
}
