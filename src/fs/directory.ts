import { chownSync, closeSync, constants, fchmodSync, fchownSync, fstatSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { PathSwappedError } from '../errors.ts';
import { accountName } from './accounts.ts';
import { CAN_USE_DESCRIPTORS, openDirectory, resolveForWrite } from './trusted_path.ts';

/**
 * Create a missing settings directory (GitLab issue 296646: it can vanish in an upgrade), mode 0700.
 * Run as root, it is given the owner of its parent (Omnibus: git) so that GitLab can use it. Returns
 * that owner as `user:group` when it was given away.
 *
 * The parent's owner could swap a symlink in after mkdir and before a chown by path, and so take any
 * directory on the system (issue 10). So each level is made and given away through descriptors: the
 * parent is opened (O_DIRECTORY|O_NOFOLLOW), the new directory made inside it (/proc/self/fd/N/name, as
 * mkdirat), opened again with O_NOFOLLOW, checked to be the empty directory we just made (ours, 0700 or
 * less, no entries), and only then fchown-ed and fchmod-ed.
 */
export function createDirectory(dir: string): string | undefined {
  const wanted = resolveForWrite(dir);
  const parentPath = nearestExisting(dirname(wanted));
  const names = relative(parentPath, wanted).split(sep).filter((name) => name !== '');
  if (!CAN_USE_DESCRIPTORS) return createByPath(wanted, parentPath);
  const root = process.geteuid?.() === 0;
  const parent = openDirectory(parentPath);
  let fd = parent.fd;
  const owner = root && parent.stat.uid !== 0 ? { uid: parent.stat.uid, gid: parent.stat.gid } : undefined;
  let path = parentPath;
  try {
    for (const name of names) {
      path = join(path, name);
      const entry = `/proc/self/fd/${fd}/${name}`;
      try {
        mkdirSync(entry, { mode: 0o700 });
      } catch (error) {
        // Someone else made it meanwhile: use it only if it passes the same checks as ours.
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      let child: number;
      try {
        child = openSync(entry, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ELOOP' || code === 'ENOTDIR' || code === 'ENOENT') throw new PathSwappedError(path);
        throw error;
      }
      closeSync(fd);
      fd = child;
      const stat = fstatSync(fd);
      const ours = stat.isDirectory() && stat.uid === process.geteuid?.() && (stat.mode & 0o077) === 0 && readdirSync(`/proc/self/fd/${fd}`).length === 0;
      if (!ours) throw new PathSwappedError(path);
      if (owner) fchownSync(fd, owner.uid, owner.gid);
      fchmodSync(fd, 0o700);
    }
  } finally {
    closeSync(fd);
  }
  if (!owner) return undefined;
  return `${accountName('/etc/passwd', owner.uid)}:${accountName('/etc/group', owner.gid)}`;
}

/** Without /proc: the old way, by path. */
function createByPath(dir: string, parent: string): string | undefined {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (process.getuid?.() !== 0) return undefined;
  const { uid, gid } = statSync(parent);
  if (uid === 0) return undefined;

  for (let current = dir; current !== parent; current = dirname(current)) chownSync(current, uid, gid);
  return `${accountName('/etc/passwd', uid)}:${accountName('/etc/group', gid)}`;
}

/** The path itself or its closest ancestor that exists. */
export function nearestExisting(path: string): string {
  for (let current = path; ; current = dirname(current)) {
    try {
      statSync(current);
      return current;
    } catch {
      if (dirname(current) === current) return current;
    }
  }
}

