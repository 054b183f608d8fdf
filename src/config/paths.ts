import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { findGitlabRoot } from './gitlab_root.ts';

/** Where to look, from the command line and the environment (SPEC §1, §3). */
export interface LookupOptions {
  gitlabRoot?: string | undefined;
  environment?: string | undefined;
  config?: string | undefined;
  secrets?: string | undefined;
  file?: string | undefined;
  env: NodeJS.ProcessEnv;
  cwd: string;
  standardRoots?: readonly string[];
}

/** --environment, else $RAILS_ENV, else production (every documented admin command uses production). */
export function environmentOf(options: LookupOptions): string {
  return options.environment || options.env['RAILS_ENV'] || 'production';
}

/** --secrets, else <root>/config/secrets.yml. */
export function secretsPathOf(options: LookupOptions, rootDir: () => string = () => rootOf(options)): string {
  return options.secrets ? resolve(options.cwd, expandHome(options.secrets, options.env)) : join(rootDir(), 'config', 'secrets.yml');
}

/** The Rails root: --gitlab-root, $GITLAB_ROOT, the current directory or a standard root (SPEC §3). */
export function rootOf(options: LookupOptions): string {
  return findGitlabRoot({ explicit: options.gitlabRoot || options.env['GITLAB_ROOT'], cwd: options.cwd, standardRoots: options.standardRoots });
}

/**
 * Ruby's File.expand_path handles a leading `~`: $HOME of the environment the CLI was given (`env`, which
 * is process.env for a real process), else the account's home directory, as os.homedir() does when HOME
 * is unset or empty.
 */
export function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  if (path !== '~' && !path.startsWith('~/')) return path;
  const home = env['HOME'] || homedir();
  return path === '~' ? home : join(home, path.slice(2));
}

