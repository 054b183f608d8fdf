import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { GitlabSecretsError, LockHeldError, WriteFailedError, waitingForLockNote } from './errors.ts';
import { describeIoError } from './format/encrypted_file.ts';
import { openDirectory, resolveForWrite } from './fs/trusted_path.ts';
import { isProcessGone } from './fs/processes.ts';
import { accountName } from './fs/accounts.ts';
import type { OpenDirectory } from './fs/trusted_path.ts';

/**
 * The lock every gitlab-secrets writer holds around "check the file is still the one I read, then rename
 * over it", so that no acknowledged change is lost to another gitlab-secrets (GitLab's own rake task and
 * other tools do not take it).
 *
 * Node has no flock, and the settings directory belongs to `git`, who must be assumed hostile to root:
 *   - the lock is `.<file>.lock` beside the file, created with O_CREAT|O_EXCL|O_NOFOLLOW (never through a
 *     symlink someone planted), mode 0600, holding "<pid> <process start time>";
 *   - an existing lock is read with O_NOFOLLOW|O_NONBLOCK (a planted FIFO cannot hang us) and at most 64
 *     bytes; anything that is not a regular file is never treated as ours;
 *   - a lock whose process is gone (or whose pid now belongs to a process that started later) is stale.
 *     It is removed only while holding a second lock, `.<file>.lock.break`, after reading it again: no two
 *     processes can both judge the same lock stale and remove a fresh one in between;
 *   - a live lock is waited for, up to a bounded time ($GITLAB_SECRETS_LOCK_TIMEOUT seconds, default
 *     10), then a clear error; release removes the lock only if it is still our own file (same inode,
 *     which cannot be reused while we hold it open);
 *   - the directory is resolved as a write would resolve it (src/fs/trusted_path.ts) and opened once;
 *     every lock operation goes through that descriptor, so a settings directory swapped for a symlink
 *     cannot make root create or remove a lock file anywhere else.
 */
export interface HeldLock {
  readonly path: string;
  /** Remove the lock (idempotent, synchronous: safe in a signal handler). */
  release(): void;
}

const DEFAULT_TIMEOUT_S = 10;
/** A lock file without a valid owner line (its creator died between create and write) is stale after this. */
const UNWRITTEN_STALE_MS = 5000;
/** The breaker lock is held for microseconds; one this old was left by a killed process. */
const BREAKER_STALE_MS = 30_000;
const POLL_MS = 50;
const NOTE_AFTER_MS = 1000;

const held = new Set<HeldLock>();

export function lockPathOf(target: string): string {
  return join(dirname(target), `.${basename(target)}.lock`);
}

/** Release every lock this process holds (the signal handler calls it before exiting). */
export function releaseAllLocks(): void {
  for (const lock of [...held]) lock.release();
}

export interface LockOptions {
  env: NodeJS.ProcessEnv;
  /** Where to say that we are waiting. */
  note?: (line: string) => void;
}

/** Take the lock of `target` (the encrypted file), waiting a bounded time for another holder. */
export async function acquireLock(target: string, options: LockOptions): Promise<HeldLock> {
  const shown = lockPathOf(target);
  let dir: OpenDirectory;
  try {
    dir = openDirectory(dirname(resolveForWrite(target)));
  } catch (error) {
    if (error instanceof GitlabSecretsError) throw error;
    throw new WriteFailedError(target, describeIoError(error));
  }
  const path = dir.entry(basename(shown));
  const timeoutS = lockTimeoutSeconds(options.env);
  const started = Date.now();
  let noted = false;
  try {
    for (;;) {
      const lock = tryCreate(path, shown, target, dir);
      if (lock) return lock;
      const holder = inspect(path);
      if (holder.state === 'gone') continue;
      let description: string;
      if (holder.state === 'stale') {
        if (breakStale(path, target)) continue;
        // Someone holds the breaker, or something was planted there: wait as for a live lock, never spin
        // (a synchronous loop would also keep the signal handlers from ever running).
        description = `a stale lock that cannot be broken while ${shown}.break exists`;
      } else {
        description = holder.description;
      }
      const waited = Date.now() - started;
      if (waited >= timeoutS * 1000) throw new LockHeldError(target, shown, description, timeoutS);
      if (!noted && waited >= NOTE_AFTER_MS) {
        noted = true;
        options.note?.(waitingForLockNote(shown, description));
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } catch (error) {
    dir.close();
    throw error;
  }
}

function lockTimeoutSeconds(env: NodeJS.ProcessEnv): number {
  const value = Number(env['GITLAB_SECRETS_LOCK_TIMEOUT']);
  return Number.isFinite(value) && value >= 0 ? value : DEFAULT_TIMEOUT_S;
}

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const INSPECT = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Create the lock file at `path` (inside `dir`, through its descriptor); null when it exists. Other failures
 * are the save's failure (read-only, no permission). The held lock keeps `dir` open until it is released.
 */
function tryCreate(path: string, shown: string, target: string, dir: OpenDirectory): HeldLock | null {
  let fd: number;
  try {
    fd = openSync(path, CREATE, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw new WriteFailedError(target, describeIoError(error));
  }
  try {
    writeSync(fd, `${process.pid} ${startTimeOf(process.pid) ?? 0}\n`);
  } catch (error) {
    closeSync(fd);
    unlinkSync(path);
    throw new WriteFailedError(target, describeIoError(error));
  }
  const { dev, ino } = fstatSync(fd);
  let open = true;
  const lock: HeldLock = {
    path: shown,
    release() {
      if (!open) return;
      open = false;
      held.delete(lock);
      try {
        const now = lstatSync(path);
        if (now.dev === dev && now.ino === ino) unlinkSync(path);
      } catch {
        // already gone (removed by hand): nothing to release
      }
      closeSync(fd);
      dir.close();
    },
  };
  held.add(lock);
  return lock;
}

type Holder = { state: 'gone' } | { state: 'stale' } | { state: 'live'; description: string };

/** Who holds the lock at `path`. Never follows a symlink, never blocks on a FIFO, reads at most 64 bytes. */
function inspect(path: string): Holder {
  let fd: number;
  try {
    fd = openSync(path, INSPECT);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { state: 'gone' };
    // A symlink (ELOOP), or something we may not open: not a lock of ours, and not ours to remove.
    return { state: 'live', description: `something that is not a gitlab-secrets lock` };
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { state: 'live', description: 'something that is not a gitlab-secrets lock' };
    const bytes = Buffer.alloc(64);
    const length = readSync(fd, bytes, 0, bytes.length, 0);
    const match = /^(\d+) (\d+)\n$/.exec(bytes.subarray(0, length).toString('latin1'));
    if (!match) {
      // Its creator may be between creating and writing it; only an old one is stale.
      return Date.now() - stat.mtimeMs > UNWRITTEN_STALE_MS ? { state: 'stale' } : { state: 'live', description: 'another gitlab-secrets' };
    }
    const pid = Number(match[1]);
    const start = Number(match[2]);
    if (!isAlive(pid)) return { state: 'stale' };
    const nowStart = startTimeOf(pid);
    if (start !== 0 && nowStart !== undefined && nowStart !== start) return { state: 'stale' }; // the pid was reused
    // A lock another user made may be theirs to explain (or planted): say whose it is.
    const owner = stat.uid === process.geteuid?.() ? '' : `, lock owned by ${accountName('/etc/passwd', stat.uid)}`;
    return { state: 'live', description: `gitlab-secrets (pid ${pid}${owner})` };
  } finally {
    closeSync(fd);
  }
}

/**
 * Remove a stale lock, race-free against other gitlab-secrets: under the breaker lock, look again and
 * remove it only if it is still stale (a fresh lock can only appear once the stale one is gone). False
 * when the breaker could not be taken (another process is breaking it, or a planted breaker that is not
 * a regular file, or not old yet): the caller waits.
 */
function breakStale(path: string, target: string): boolean {
  const breaker = `${path}.break`;
  let fd: number;
  try {
    fd = openSync(breaker, CREATE, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new WriteFailedError(target, describeIoError(error));
    }
    // Someone else is breaking it; a breaker left by a killed process goes after a while.
    try {
      const stat = lstatSync(breaker);
      if (stat.isFile() && Date.now() - stat.mtimeMs > BREAKER_STALE_MS) unlinkSync(breaker);
    } catch {
      // gone meanwhile
    }
    return false;
  }
  try {
    if (inspect(path).state === 'stale') unlinkSync(path);
  } catch {
    // gone meanwhile: the next attempt creates it
  } finally {
    closeSync(fd);
    unlinkSync(breaker);
  }
  return true;
}

function isAlive(pid: number): boolean {
  return pid === process.pid || !isProcessGone(pid);
}

/** The process's start time in clock ticks since boot (/proc/<pid>/stat field 22), where there is /proc. */
function startTimeOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const value = Number(fields[19]);
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
