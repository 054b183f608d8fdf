import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, GitlabRootNotFoundError } from '../errors.ts';

/** Where GitLab's Rails root lives: Omnibus, the cloud-native images, a source install (SPEC §3). */
export const STANDARD_ROOTS: readonly string[] = [
  '/opt/gitlab/embedded/service/gitlab-rails',
  '/srv/gitlab',
  '/home/git/gitlab',
];

export interface RootLookup {
  /** --gitlab-root, else $GITLAB_ROOT. */
  explicit?: string | undefined;
  cwd: string;
  standardRoots?: readonly string[];
}

/**
 * The Rails root: the explicit one; else the current directory if it holds config/gitlab.yml (a source
 * install run from /home/git/gitlab, as GitLab's docs do); else the first standard root that exists.
 */
export function findGitlabRoot(lookup: RootLookup): string {
  if (lookup.explicit) {
    const root = resolve(lookup.cwd, lookup.explicit);
    if (!isDirectory(root)) throw new ConfigError(`GitLab root ${root} is not a directory. Check --gitlab-root or GITLAB_ROOT.`);
    return root;
  }
  if (existsSync(join(lookup.cwd, 'config', 'gitlab.yml'))) return lookup.cwd;
  const candidates = lookup.standardRoots ?? STANDARD_ROOTS;
  const found = candidates.find(isDirectory);
  if (!found) throw new GitlabRootNotFoundError(['the current directory', ...candidates]);
  return found;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
