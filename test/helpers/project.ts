/**
 * Where the project and its built CLI are, without loading what running the CLI takes (execa and the
 * bundle): the test/package files only need the paths, and each runs in a process of its own.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/gitlab-secrets.cjs', import.meta.url));
export const BUNDLE = fileURLToPath(new URL('../../dist/gitlab-secrets.cjs', import.meta.url));

/** Build the bundle once if a single test file is run on its own (npm test builds first). */
export function ensureBuilt(): void {
  if (!existsSync(BUNDLE)) execFileSync('node', ['scripts/build.mjs'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
}

/**
 * `word` as one word of a command line, quoted as sh quotes it: for paths put into $EDITOR (which the CLI splits
 * as a shell would) or into a `sh -c` script. The checkout may be anywhere, a directory with spaces included.
 */
export function shellWord(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
