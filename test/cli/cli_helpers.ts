/**
 * Shared setup for the CLI tests: a temp GitLab tree removed after each test, the fake editor, an
 * independent encryptor for hand-made bodies, and assertions on the streams.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createCipheriv, pbkdf2Sync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { makeGitlabTree } from '../helpers/gitlab_tree.ts';
import type { GitlabTree, TreeOptions } from '../helpers/gitlab_tree.ts';
import { BIN, CLI_VARIABLES, ensureBuilt, shellWord } from '../helpers/run_cli.ts';
import type { CliResult } from '../helpers/run_cli.ts';

/** The fake editor: a POSIX sh script (a few ms per run; a Node one cost ~0.13 s of CPU). */
export const FAKE_EDITOR = fileURLToPath(new URL('../helpers/fake_editor.sh', import.meta.url));
/** EDITOR value running the fake editor: a command with an argument. */
export const FAKE_EDITOR_COMMAND = `sh ${shellWord(FAKE_EDITOR)}`;

/** SPEC §1 templates, exact bytes. */
export const SMTP_TEMPLATE = "# password: '123'\n# user_name: 'gitlab-inst'\n";
export const SERVICE_DESK_TEMPLATE = "# password: '123'\n# user: 'gitlab-incoming@gmail.com'\n";

export const SAVED = 'File encrypted and saved.\n';
export const UNCHANGED = 'Contents were unchanged.\n';
export const NOT_A_MAPPING = (displayName: string): string =>
  `WARNING: Content was not a valid ${displayName} secret yml file. Did not include any key-value pairs`;
export const INVALID_YAML_PREFIX = (displayName: string): string =>
  `WARNING: Content was not a valid ${displayName} secret yml file. `;

/** A GitLab tree removed when the test ends. */
export function newTree(t: TestContext, options: TreeOptions = {}): GitlabTree {
  const tree = makeGitlabTree(options);
  t.after(() => tree.remove());
  return tree;
}

/** An empty temp directory removed when the test ends. */
export function tempDir(t: TestContext, prefix = 'gitlab-secrets-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function rootArgs(tree: GitlabTree): string[] {
  return ['--gitlab-root', tree.root];
}

export interface EditorSetup {
  env: Record<string, string>;
  /** Where the fake editor copies the buffer it was given. */
  record: string;
  /** The buffer the editor saw, or null when the editor never ran. */
  seen(): Buffer | null;
  /** The editor's argv (its script path first, the buffer path last), or null when it never ran. */
  argv(): string[] | null;
}

export interface EditorBehaviour {
  /** Bytes that replace the buffer. */
  write?: string | Buffer;
  append?: string;
  exit?: number;
  sleepMs?: number;
  /** EDITOR value; default FAKE_EDITOR_COMMAND. */
  command?: string;
}

/** Environment for a run with the fake editor, recording what it saw into a temp directory. */
export function fakeEditor(t: TestContext, behaviour: EditorBehaviour = {}): EditorSetup {
  const dir = tempDir(t, 'gitlab-secrets-editor-');
  const record = join(dir, 'seen.buffer');
  const env: Record<string, string> = {
    EDITOR: behaviour.command ?? FAKE_EDITOR_COMMAND,
    FAKE_EDITOR_RECORD: record,
  };
  if (behaviour.write !== undefined) {
    const source = join(dir, 'replacement');
    writeFileSync(source, behaviour.write);
    env.FAKE_EDITOR_WRITE = source;
  }
  if (behaviour.append !== undefined) env.FAKE_EDITOR_APPEND = behaviour.append;
  if (behaviour.exit !== undefined) env.FAKE_EDITOR_EXIT = String(behaviour.exit);
  if (behaviour.sleepMs !== undefined) env.FAKE_EDITOR_SLEEP_MS = String(behaviour.sleepMs);
  // The editor writes its argv last, each word NUL-terminated.
  const argvFile = `${record}.argv`;
  return {
    env,
    record,
    seen: () => (existsSync(argvFile) ? readFileSync(record) : null),
    argv: () => (existsSync(argvFile) ? readFileSync(argvFile, 'utf8').split('\0').slice(0, -1) : null),
  };
}

/** A failure: exactly `line` on stderr, nothing on stdout, a non-zero exit. */
export function assertFailsWith(result: CliResult, line: string): void {
  assert.equal(result.stderr, `${line}\n`, 'stderr');
  assert.equal(result.stdout, '', 'stdout');
  assert.notEqual(result.exitCode, 0, 'exit code');
}

/** A success: exactly `text` on stdout, nothing on stderr, exit 0. */
export function assertSucceedsWith(result: CliResult, text: string): void {
  assert.equal(result.stdout, text, 'stdout');
  assert.equal(result.stderr, '', 'stderr');
  assert.equal(result.exitCode, 0, 'exit code');
}

/**
 * SPEC §4: "one clear line on stderr for every error ... naming the file involved", no stack trace; help of
 * our own may follow only on lines of its own that start `hint: `.
 */
export function assertOneErrorLine(result: CliResult, mentions: readonly string[] = []): void {
  assert.notEqual(result.exitCode, 0, `exit code (stderr: ${result.stderr})`);
  assert.match(result.stderr, /^(?!hint: )[^\n]+\n(?:hint: [^\n]+\n)*$/, `stderr is not one error line (and hint: lines): ${JSON.stringify(result.stderr)}`);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'stack trace on stderr');
  assert.doesNotMatch(result.stderr, /^\s*at /m, 'stack trace on stderr');
  for (const text of mentions) assert.ok(result.stderr.includes(text), `stderr does not mention ${text}: ${result.stderr}`);
}

export function couldNotDecrypt(path: string): string {
  return `Couldn't decrypt ${path}. Perhaps you passed the wrong key?`;
}

export function doesNotExistHint(path: string, namespace: string): string {
  return `File '${path}' does not exist. Use \`gitlab-secrets ${namespace} edit\` to change that.`;
}

/**
 * Encrypt an arbitrary GCM payload the way ActiveSupport does, without the project's code: lets tests make
 * bodies whose payload is not a Marshal string, and checks the CLI against an independent encryptor.
 */
export function rawEncrypt(payload: Buffer, keyBase: string): string {
  const key = pbkdf2Sync(Buffer.from(keyBase, 'utf8'), 'GitLabEncryptedConfigSalt', 65536, 32, 'sha1');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  const ciphertext = Buffer.concat([cipher.update(payload), cipher.final()]);
  return [ciphertext, iv, cipher.getAuthTag()].map((part) => part.toString('base64')).join('--');
}

/** Marshal.dump of a UTF-8 Ruby String (SPEC §2), for lengths up to 122. */
export function marshalUtf8Short(bytes: Buffer): Buffer {
  assert.ok(bytes.length >= 1 && bytes.length <= 122);
  return Buffer.concat([
    Buffer.from([0x04, 0x08, 0x49, 0x22, bytes.length + 5]),
    bytes,
    Buffer.from([0x06, 0x3a, 0x06, 0x45, 0x54]),
  ]);
}

export interface SignalRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Run the CLI in its own process group, wait until `ready()` is true, then send `signal` to the CLI alone
 * or to the whole group (what Ctrl-C in a terminal does: the editor gets it too).
 */
export async function runCliAndSignal(
  args: readonly string[],
  options: { env: Record<string, string>; signal: NodeJS.Signals; group: boolean; ready: () => boolean },
): Promise<SignalRun> {
  ensureBuilt();
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of CLI_VARIABLES) delete env[name];
  Object.assign(env, options.env);
  const child = spawn('node', [BIN, ...args], { env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end();
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const pid = child.pid;
  assert.ok(pid !== undefined, 'the CLI did not start');

  const deadline = Date.now() + 20_000;
  let exitedEarly = false;
  void exited.then(() => (exitedEarly = true));
  while (!options.ready() && !exitedEarly && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  if (!exitedEarly) {
    if (options.group) process.kill(-pid, options.signal);
    else process.kill(pid, options.signal);
  }
  const killer = setTimeout(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 20_000);
  const { code, signal } = await exited;
  await closed;
  clearTimeout(killer);
  return {
    exitCode: code,
    signal,
    stdout: Buffer.concat(stdout).toString('utf8'),
    stderr: Buffer.concat(stderr).toString('utf8'),
  };
}

/**
 * Run the CLI and close the read end of its stdout after the first chunk, as `gitlab-secrets smtp show |
 * head -1` does. Returns what the CLI wrote on stderr and how it exited.
 */
export async function runCliClosingStdout(
  args: readonly string[],
): Promise<{ exitCode: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  ensureBuilt();
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of CLI_VARIABLES) delete env[name];
  const child = spawn('node', [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.stdout.once('data', () => child.stdout.destroy());
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  clearTimeout(killer);
  return { exitCode: code, signal, stderr: Buffer.concat(stderr).toString('utf8') };
}
