/** Run the built CLI as a user would: `node bin/gitlab-secrets.cjs …` in a clean environment. */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/gitlab-secrets.cjs', import.meta.url));
const BUNDLE = fileURLToPath(new URL('../../dist/gitlab-secrets.cjs', import.meta.url));

/** Variables the CLI reads; cleared so the developer's own shell cannot change a test's outcome. */
const CLI_VARIABLES = ['GITLAB_ROOT', 'GITLAB_CONFIG', 'RAILS_ENV', 'EDITOR', 'VISUAL'];

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  input?: string | Buffer;
  timeoutMs?: number;
  /**
   * Run the built bin as a real process. Needed only for what only a process shows (signals, terminals,
   * real pipes, exit of the process itself); otherwise tests may run in-process.
   */
  spawn?: boolean;
}

/** Build the bundle once if a single test file is run on its own (npm test builds first). */
export function ensureBuilt(): void {
  if (!existsSync(BUNDLE)) execFileSync('node', ['scripts/build.mjs'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
}

export async function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  ensureBuilt();
  const env: Record<string, string | undefined> = {};
  for (const name of CLI_VARIABLES) env[name] = undefined;
  Object.assign(env, options.env);
  const result = await execa('node', [BIN, ...args], {
    cwd: options.cwd ?? PROJECT_ROOT,
    env,
    extendEnv: true,
    input: options.input ?? '',
    encoding: 'buffer',
    stripFinalNewline: false,
    reject: false,
    timeout: options.timeoutMs ?? 30_000,
  });
  const stdoutBytes = Buffer.from(result.stdout);
  return {
    exitCode: result.exitCode ?? -1,
    stdout: stdoutBytes.toString('utf8'),
    stderr: Buffer.from(result.stderr).toString('utf8'),
    stdoutBytes,
  };
}
