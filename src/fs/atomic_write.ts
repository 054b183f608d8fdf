import { constants, promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { removeOnExit } from './cleanup.ts';

export interface AtomicWriteResult {
  /** The file that was replaced or created (a symlink's target, not the link). */
  path: string;
  created: boolean;
  /** Set when a new file was given the directory's owner (running as root in a directory owned by `git`). */
  chownedTo?: { uid: number; gid: number };
}

/**
 * Replace `path` with `data` so that a crash at any point leaves either the old file or the new one:
 * a sibling temporary file is written and fsynced, renamed over the target, and the directory is fsynced
 * (Rails' EncryptedFile#write renames too). An existing file keeps its mode, owner and group; a symlink
 * stays a symlink and its target is replaced; a new file is 0600.
 */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<AtomicWriteResult> {
  const target = await resolveLink(path);
  const dir = dirname(target);
  const existing = await statOrNull(target);
  const result: AtomicWriteResult = { path: target, created: existing === null };

  let mode = 0o600;
  let owner: { uid: number; gid: number } | undefined;
  if (existing) {
    mode = existing.mode & 0o7777;
    owner = { uid: existing.uid, gid: existing.gid };
  } else if (process.getuid?.() === 0) {
    // Omnibus: root creating a file in git's directory would leave GitLab unable to read it.
    const dirStat = await fs.stat(dir);
    if (dirStat.uid !== 0) {
      owner = { uid: dirStat.uid, gid: dirStat.gid };
      result.chownedTo = owner;
    }
  }

  const temp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const forget = removeOnExit(temp);
  try {
    const handle = await fs.open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
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
    await fs.rename(temp, target);
  } finally {
    forget();
  }
  await syncDirectory(dir);
  return result;
}

/** Follow symlinks of the last component to the file they name, even if that file does not exist yet. */
async function resolveLink(path: string): Promise<string> {
  let current = path;
  for (let hops = 0; hops < 40; hops++) {
    let link: string;
    try {
      link = await fs.readlink(current);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EINVAL' || code === 'ENOENT') return current;
      throw error;
    }
    current = join(dirname(current), link);
    if (link.startsWith('/')) current = link;
  }
  return current;
}

async function statOrNull(path: string): Promise<import('node:fs').Stats | null> {
  try {
    return await fs.stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the rename itself has happened.
  } finally {
    await handle.close();
  }
}
