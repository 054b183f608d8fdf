import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { GitlabSecretsError, PathSwappedError, UntrustedPathError, UntrustedSymlinkError } from '../errors.ts';
import { accountName } from './accounts.ts';

/**
 * The symlink rule for writes (issue 10). Root runs this tool next to files and directories that the
 * unprivileged `git` user owns, and `git` can plant symlinks there. So, when running as root, a symlink on
 * the way to a file we write, create, chown or chmod is followed only if
 *
 * - root owns the link (Omnibus links config/gitlab.yml and friends as root), or
 * - the link's owner owns what it points to anyway: the file, or, for a file that does not exist yet, the
 *   directory it would be created in (for a link to a directory, that directory).
 *
 * Anything else would let the link's owner make root write where they cannot, and is refused with one
 * line naming the link. This is the kernel's protected_symlinks idea made strict enough for root: a link
 * planted by `git` may only lead to what `git` could change itself. Reads may follow any link.
 * Not running as root, the kernel's permission checks already stop the link's owner, so links are followed.
 */
export function resolveForWrite(path: string): string {
  const resolved = resolveLinks(path);
  if (process.geteuid?.() === 0 && pathChooser && pathChooser.uid !== 0) checkChosenPath(resolved, pathChooser);
  return resolved;
}

/**
 * Who chose the paths we are about to write, when that is not root: a source install's gitlab.yml belongs
 * to git, and its shared.path, encrypted_settings.path and *_secret_file settings name the file. Set by
 * the lookup (src/config/locate.ts) before each command; undefined when root chose (a root-owned
 * gitlab.yml, --file).
 */
let pathChooser: { uid: number; source: string } | undefined;

export function setPathChooser(chooser: { uid: number; source: string } | undefined): void {
  pathChooser = chooser;
}

/**
 * A path chosen by `chooser` is written only where that user could write anyway: in a directory they own
 * (for a directory still to be created, the nearest existing ancestor), or over a file they own.
 */
function checkChosenPath(path: string, chooser: { uid: number; source: string }): void {
  const file = lstatOrUndefined(path);
  if (file && !file.isDirectory() && file.uid === chooser.uid) return;
  let dir = file?.isDirectory() ? path : dirname(path);
  for (;;) {
    const stat = lstatOrUndefined(dir);
    if (stat) {
      if (stat.uid === chooser.uid) return;
      break;
    }
    if (dirname(dir) === dir) break;
    dir = dirname(dir);
  }
  throw new UntrustedPathError(path, accountName('/etc/passwd', chooser.uid), chooser.source);
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function resolveLinks(path: string): string {
  const checking = process.geteuid?.() === 0;
  const pending = splitPath(resolve(path));
  let resolved: string = sep;
  for (let hops = 0; pending.length > 0; ) {
    const name = pending.shift()!;
    if (name === '.' || name === '') continue;
    if (name === '..') {
      resolved = dirname(resolved);
      continue;
    }
    const candidate = join(resolved, name);
    let stat: Stats;
    try {
      stat = lstatSync(candidate);
    } catch {
      // Not there (yet): the rest is taken as written; creating it is the caller's business.
      return join(candidate, ...pending);
    }
    if (!stat.isSymbolicLink()) {
      resolved = candidate;
      continue;
    }
    if (++hops > 40) return join(candidate, ...pending); // a loop: the write will fail with ELOOP
    let link: string;
    try {
      link = readlinkSync(candidate);
      if (checking && stat.uid !== 0) checkLink(candidate, stat.uid);
    } catch (error) {
      if (error instanceof GitlabSecretsError) throw error;
      // The link changed since the lstat (another user swapping it as we look): look at it again.
      pending.unshift(name);
      continue;
    }
    pending.unshift(...splitPath(link));
    if (isAbsolute(link)) resolved = sep;
  }
  return resolved;
}

/**
 * Whether resolveForWrite would follow this symlink (always true when not running as root, or for a
 * link root owns). For lookups that resolve a link to show its target: an untrusted one is left as the
 * link, so that a later write through it is refused, naming it.
 */
export function isTrustedLink(link: string): boolean {
  if (process.geteuid?.() !== 0) return true;
  try {
    const { uid } = lstatSync(link);
    if (uid !== 0) checkLink(link, uid);
    return true;
  } catch {
    return false;
  }
}

/** Refuse a link owned by `owner` (not root) unless `owner` owns what it leads to. */
function checkLink(link: string, owner: number): void {
  let leadsTo: string;
  let leadsToOwner: number | undefined;
  try {
    leadsTo = realpathSync(link);
    leadsToOwner = statSync(leadsTo).uid;
  } catch {
    // Dangling: the file would be created; judge by the directory it would be created in.
    const target = resolve(dirname(link), readlinkSync(link));
    try {
      leadsTo = realpathSync(dirname(target));
      leadsToOwner = statSync(leadsTo).uid;
    } catch {
      leadsTo = target;
    }
  }
  if (leadsToOwner !== owner) throw new UntrustedSymlinkError(link, accountName('/etc/passwd', owner), leadsTo);
}

function splitPath(path: string): string[] {
  return path.split(sep).filter((part) => part !== '');
}

/** Where /proc shows this process's open files: the way to work inside a directory by descriptor. */
const FD_DIR = existsSync('/proc/self/fd') ? '/proc/self/fd' : null;

export interface OpenDirectory {
  fd: number;
  /** The directory's path as we resolved it. */
  path: string;
  /**
   * A path for `name` inside the opened directory that cannot be redirected by swapping the directory or
   * any of its ancestors (/proc/self/fd/N/name, as openat would); the plain path where /proc is missing.
   */
  entry(name: string): string;
  stat: Stats;
  close(): void;
}

/**
 * Open a directory that resolveForWrite has resolved, refusing a symlink in its place (O_NOFOLLOW) and
 * checking that what was opened is still the directory at that path (a swapped ancestor shows as a
 * different real path). Everything done inside it afterwards goes through the descriptor.
 */
export function openDirectory(path: string): OpenDirectory {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || (code === 'ENOTDIR' && isLink(path))) throw new PathSwappedError(path);
    throw error;
  }
  try {
    const stat = fstatSync(fd);
    if (FD_DIR && realpathSync(`${FD_DIR}/${fd}`) !== path) throw new PathSwappedError(path);
    return {
      fd,
      path,
      stat,
      entry: (name) => (FD_DIR ? `${FD_DIR}/${fd}/${name}` : join(path, name)),
      close: () => closeSync(fd),
    };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** Whether /proc lets us work through descriptors (Linux). */
export const CAN_USE_DESCRIPTORS = FD_DIR !== null;

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
