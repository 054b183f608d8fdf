import { chownSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { accountName } from './accounts.ts';

/**
 * Create a missing settings directory (GitLab issue 296646: it can vanish in an upgrade), mode 0700.
 * Run as root, it is given the owner of its parent (Omnibus: git) so that GitLab can use it. Returns
 * that owner as `user:group` when it was given away.
 */
export function createDirectory(dir: string): string | undefined {
  const parent = nearestExisting(dirname(dir));
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
