import { constants, fsync, lstatSync, promises as fs, readdirSync, unlinkSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname } from 'node:path';
import { NotRegularTargetError, PathSwappedError } from '../errors.ts';
import { removeOnExit } from './cleanup.ts';
import { isProcessGone } from './processes.ts';
import { describeKind } from './safe_read.ts';
import { openDirectory, resolveForWrite } from './trusted_path.ts';
import type { OpenDirectory } from './trusted_path.ts';

export interface AtomicWriteResult {
  /** The file that was replaced or created (a symlink's target, not the link). */
  path: string;
  created: boolean;
  /** Set when a new file was given the directory's owner (running as root in a directory owned by `git`). */
  chownedTo?: { uid: number; gid: number };
}

/** The temporary file's name: it carries our pid, so that a later run can remove it if we are killed. */
export function temporaryName(target: string, pid = process.pid): string {
  return `.${target}.${pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/** `.<name>.<pid>.<hex>.tmp`: the pid of a temporary file's writer, or undefined when it is not one. */
export function temporaryNamePid(name: string): number | undefined {
  const match = /^\.(.+)\.(\d+)\.[0-9a-f]{8}\.tmp$/.exec(name);
  return match ? Number(match[2]) : undefined;
}

/**
 * Replace `path` with `data` so that a crash at any point leaves either the old file or the new one:
 * a sibling temporary file is written and fsynced, renamed over the target, and the directory is fsynced
 * (Rails' EncryptedFile#write renames too). An existing file keeps its mode, owner and group; a symlink
 * stays a symlink and its target is replaced; a new file is 0600.
 *
 * Running as root, symlinks are followed only as src/fs/trusted_path.ts allows (a link planted by `git`
 * must not steer root's write). The directory is opened once and everything after happens through that
 * descriptor: the temporary file (O_EXCL|O_NOFOLLOW), its chown and chmod, the rename and the fsync, so a
 * directory swapped for a symlink halfway cannot redirect any of them.
 */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<AtomicWriteResult> {
  const target = resolveForWrite(path);
  const name = basename(target);
  const dir = openDirectory(dirname(target));
  try {
    sweepStaleTemporaryFiles(dir);
    const existing = await lstatOrNull(dir.entry(name));
    if (existing?.isSymbolicLink()) throw new PathSwappedError(target);
    // A rename would put a regular file where a device (`--file /dev/null`), a pipe or a directory was.
    if (existing && !existing.isFile()) throw new NotRegularTargetError(target, describeKind(existing));
    const result: AtomicWriteResult = { path: target, created: existing === null };

    let mode = 0o600;
    let owner: { uid: number; gid: number } | undefined;
    if (existing) {
      mode = existing.mode & 0o7777;
      owner = { uid: existing.uid, gid: existing.gid };
    } else if (process.getuid?.() === 0 && dir.stat.uid !== 0) {
      // Omnibus: root creating a file in git's directory would leave GitLab unable to read it.
      owner = { uid: dir.stat.uid, gid: dir.stat.gid };
      result.chownedTo = owner;
    }

    const temp = dir.entry(temporaryName(name));
    const forget = removeOnExit(temp);
    try {
      const handle = await fs.open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try {
        if (owner && (owner.uid !== process.getuid?.() || owner.gid !== process.getgid?.())) {
          await handle.chown(owner.uid, owner.gid).catch((error: NodeJS.ErrnoException) => {
            // Only root may give a file away; anyone else keeps their own ownership.
            if (error.code !== 'EPERM') throw error;
          });
        }
        await handle.chmod(mode);
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temp, dir.entry(name));
    } finally {
      forget();
    }
    await syncDirectory(dir.fd);
    return result;
  } finally {
    dir.close();
  }
}

/**
 * Remove the temporary files that writers killed with SIGKILL left in this directory: named
 * `.<file>.<pid>.<hex>.tmp` with a pid that no longer runs, regular files (a symlink is never followed nor
 * removed), owned by us or by the directory's owner (root's temporary files in git's directory are given
 * to git; git could remove them itself). Works through the directory's descriptor. Never fails.
 */
function sweepStaleTemporaryFiles(dir: OpenDirectory): void {
  let names: string[];
  try {
    names = readdirSync(dir.entry('.'));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = temporaryNamePid(name);
    if (pid === undefined || pid === process.pid || !isProcessGone(pid)) continue;
    try {
      const stat = lstatSync(dir.entry(name));
      if (!stat.isFile() || (stat.uid !== process.geteuid?.() && stat.uid !== dir.stat.uid)) continue;
      unlinkSync(dir.entry(name));
    } catch {
      // gone already, or not ours to remove
    }
  }
}

async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await fs.lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

async function syncDirectory(fd: number): Promise<void> {
  await new Promise<void>((resolve) => {
    // Some filesystems refuse fsync on a directory; the rename itself has happened.
    fsync(fd, () => resolve());
  });
}
