import { accessSync, closeSync, constants, fchmodSync, fstatSync, lstatSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join } from 'node:path';
import { EditBufferLostError, EditorFailedError, HANDLED_SIGNALS, InterruptedError, PathSwappedError } from './errors.ts';
import { removeOnExit } from './fs/cleanup.ts';
import { isProcessGone } from './fs/processes.ts';
import { trackEditor } from './signals.ts';

/**
 * Split $EDITOR into words as a shell would for a simple command, honouring quotes and backslashes
 * (Rails uses Shellwords; GitLab's plain split on spaces broke `EDITOR='emacs -nw'`, GitLab issue
 * 431339). No variable expansion, no globbing: the words are run without a shell.
 */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) throw new EditorFailedError(`${command} (unterminated quote)`);
      word += command.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      inWord = true;
      for (i++; ; i++) {
        if (i >= command.length) throw new EditorFailedError(`${command} (unterminated quote)`);
        const d = command[i]!;
        if (d === '"') break;
        if (d === '\\' && i + 1 < command.length && '"\\$`\n'.includes(command[i + 1]!)) word += command[++i];
        else word += d;
      }
    } else if (c === '\\' && i + 1 < command.length) {
      word += command[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

export interface EditBuffer {
  path: string;
  read(): Buffer;
  write(bytes: Uint8Array): void;
  remove(): void;
}

/**
 * The plaintext's home while the editor runs: a 0600 file in a private 0700 directory, on a RAM-backed
 * filesystem where there is one, never beside the encrypted file (GitLab puts it in the settings
 * directory). Named after the target with a YAML suffix so editors highlight it.
 *
 * Issue 10: the directory is made with mkdtemp (0700) in a root only this user controls (see
 * privateTempRoot: an inherited $XDG_RUNTIME_DIR of another user is not used) and checked by lstat to be
 * ours; its name carries our pid (`gitlab-secrets-<pid>-…`) so that a later run can remove it if we are
 * killed with SIGKILL (sweepStaleEditBuffers). The buffer is written with O_NOFOLLOW and read back only if
 * it is still a regular file of ours, in the same directory.
 */
export async function createEditBuffer(targetPath: string, env: NodeJS.ProcessEnv): Promise<EditBuffer> {
  const root = privateTempRoot(env);
  sweepStaleEditBuffers(env);
  const dir = mkdtempSync(join(root, `${BUFFER_PREFIX}${process.pid}-`));
  const remove = removeOnExit(dir);
  const dirStat = lstatSync(dir);
  if (!isPrivateDirectory(dirStat)) {
    remove();
    throw new PathSwappedError(dir);
  }
  const name = basename(targetPath).replace(/\.enc$/, '');
  const path = join(dir, /\.ya?ml$/.test(name) ? name : `${name}.yml`);
  const sameDirectory = (): boolean => {
    const now = lstatOrUndefined(dir);
    return now !== undefined && now.dev === dirStat.dev && now.ino === dirStat.ino && isPrivateDirectory(now);
  };
  let written = false;
  return {
    path,
    read: () => {
      if (!sameDirectory()) throw new EditBufferLostError();
      let fd: number;
      try {
        fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
      } catch {
        throw new EditBufferLostError();
      }
      try {
        const stat = fstatSync(fd);
        if (!stat.isFile() || stat.uid !== process.geteuid?.()) throw new EditBufferLostError();
        return readFileSync(fd);
      } finally {
        closeSync(fd);
      }
    },
    write: (bytes) => {
      if (!sameDirectory()) throw new PathSwappedError(dir);
      const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | (written ? constants.O_TRUNC : constants.O_EXCL);
      const fd = openSync(path, flags, 0o600);
      try {
        fchmodSync(fd, 0o600);
        writeFileSync(fd, bytes);
      } finally {
        closeSync(fd);
      }
      written = true;
    },
    remove,
  };
}

/** `gitlab-secrets-<pid>-XXXXXX`: an edit buffer's directory. */
const BUFFER_PREFIX = 'gitlab-secrets-';
const BUFFER_NAME = /^gitlab-secrets-+(\d+)-[A-Za-z0-9]+$/;

/**
 * Remove this user's edit buffer directories that a killed run left behind (SIGKILL cannot be caught):
 * only directories, never symlinks, owned by us, named with a pid that no longer runs. Never fails.
 */
export function sweepStaleEditBuffers(env: NodeJS.ProcessEnv): void {
  for (const root of new Set(candidateRoots(env).filter(isSafeRoot))) {
    let names: string[];
    try {
      names = readdirSync(root);
    } catch {
      continue;
    }
    for (const name of names) {
      const pid = BUFFER_NAME.exec(name)?.[1];
      if (pid === undefined || !isProcessGone(Number(pid))) continue;
      const path = join(root, name);
      const stat = lstatOrUndefined(path);
      if (!stat?.isDirectory() || stat.uid !== process.geteuid?.()) continue;
      try {
        rmSync(path, { recursive: true, force: true }); // unlinks symlinks inside, never follows them
      } catch {
        // someone else's problem now; the next run tries again
      }
    }
  }
}

/**
 * $XDG_RUNTIME_DIR (per user, in RAM), then /dev/shm, then the system temp directory, each only if this
 * user can trust it: an inherited $XDG_RUNTIME_DIR (`sudo -E`, `su` without `-`) belongs to another user,
 * who could read the plaintext or swap in a buffer of their own. Last resort: /tmp.
 */
function privateTempRoot(env: NodeJS.ProcessEnv): string {
  return candidateRoots(env).find(isSafeRoot) ?? '/tmp';
}

function candidateRoots(env: NodeJS.ProcessEnv): string[] {
  return [env['XDG_RUNTIME_DIR'], '/dev/shm', tmpdir()].filter((dir): dir is string => Boolean(dir) && isAbsolute(dir!));
}

/**
 * A directory (not a symlink) we can write in, whose other writers cannot touch our entries: owned by us
 * and writable by no one else, or owned by root and sticky (/dev/shm, /tmp), or ours and sticky.
 */
function isSafeRoot(dir: string): boolean {
  const stat = lstatOrUndefined(dir);
  if (!stat?.isDirectory()) return false;
  const me = process.geteuid?.();
  const othersWrite = (stat.mode & 0o022) !== 0;
  const sticky = (stat.mode & 0o1000) !== 0;
  if (stat.uid === me ? othersWrite && !sticky : !(stat.uid === 0 && sticky)) return false;
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function isPrivateDirectory(stat: Stats): boolean {
  return stat.isDirectory() && stat.uid === process.geteuid?.() && (stat.mode & 0o077) === 0;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Run the editor on a file, stdio inherited, no shell. Resolves with how long it ran; an editor that
 * cannot start, is killed or exits non-zero is an EditorFailedError. Node's own spawn: this is all we need
 * of a process library, and execa's 117 kB cost every edit ~50 ms of CPU to load before the editor opened.
 */
export async function runEditor(editor: string, file: string, env: NodeJS.ProcessEnv): Promise<number> {
  const [command, ...args] = splitCommand(editor);
  if (!command) throw new EditorFailedError(editor);
  const started = Date.now();
  const child = spawn(command, [...args, file], { stdio: 'inherit', env });
  trackEditor(child);
  try {
    const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined>((resolve) => {
      child.once('error', () => resolve(undefined)); // it could not start (not found, not executable)
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    // The editor died of the signal that is stopping us too (Ctrl-C, a hang-up): that is an interruption.
    const signal = HANDLED_SIGNALS.find((name) => name === ended?.signal);
    if (signal) throw new InterruptedError(signal);
    if (ended?.code !== 0) throw new EditorFailedError(editor);
  } finally {
    trackEditor(undefined);
  }
  return Date.now() - started;
}
