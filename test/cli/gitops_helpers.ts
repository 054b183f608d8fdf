/**
 * Helpers for the diff, textconv and export tests: a process whose stdout is a terminal, and git runs in
 * a private temp repository that no user or system git config can change.
 */
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { BIN, CLI_VARIABLES, runCli } from '../helpers/run_cli.ts';
import type { CliResult } from '../helpers/run_cli.ts';

/** The stdin bridge of the safety tests: the command's stdin is a pseudo-terminal. */
export const PTY_STDIN = fileURLToPath(new URL('../safety/pty_bridge.py', import.meta.url));

/** Runs argv[1:] with stdout on the slave side of a new pty, copies what it printed there to our stdout. */
const PTY_STDOUT = `
import os, subprocess, sys
master, slave = os.openpty()
child = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=slave)
os.close(slave)
out = b''
while True:
    try:
        data = os.read(master, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
code = child.wait()
sys.stdout.buffer.write(out)
sys.exit(code if code >= 0 else 128 - code)
`;

function runWrapped(wrapper: string[], args: readonly string[]): Promise<CliResult> {
  return runCli(args, { spawn: true, wrapper });
}

/** The built CLI with a terminal as stdout (what it printed there comes back as stdout, CRLF and all). */
export function runCliOnTerminal(args: readonly string[]): Promise<CliResult> {
  return runWrapped(['python3', '-S', '-c', PTY_STDOUT], args);
}

/** The built CLI with a terminal as stdin and nothing typed. */
export function runCliFromTerminal(args: readonly string[]): Promise<CliResult> {
  return runWrapped(['python3', '-S', PTY_STDIN], args);
}

export interface GitResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** git in `repo`, with no user or system configuration and a fixed identity. */
export async function git(repo: string, args: readonly string[]): Promise<GitResult> {
  const result = await execa('git', args, {
    cwd: repo,
    env: {
      ...Object.fromEntries(CLI_VARIABLES.map((name) => [name, undefined])),
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 'Test',
      GIT_AUTHOR_EMAIL: 'test@example.com',
      GIT_COMMITTER_NAME: 'Test',
      GIT_COMMITTER_EMAIL: 'test@example.com',
      GIT_PAGER: 'cat',
      PAGER: 'cat',
    },
    extendEnv: true,
    reject: false,
    stripFinalNewline: false,
    timeout: 60_000,
  });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** The textconv command line for git config: the built bin, by absolute path, and the lookup options. */
export function textconvCommand(lookup: readonly string[]): string {
  return ['node', BIN, ...lookup, 'textconv'].map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
}
