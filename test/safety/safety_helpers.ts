/**
 * Shared setup for the safety tests (issue 4, "Nothing lost, nothing leaked"): inflict a failure on the
 * built CLI and check that nothing was lost (the old file intact) and nothing leaked (no plaintext, no
 * temporary file, no edit buffer, no key in the output).
 *
 * Every test starts with `setup(t)`: a GitLab tree, a private $XDG_RUNTIME_DIR for the CLI's edit buffers
 * and a scratch directory, all removed afterwards. After the test it checks that the settings directory
 * holds no temporary or plaintext file and that no `gitlab-secrets-*` directory made by the test's CLI runs
 * is left in $XDG_RUNTIME_DIR, /dev/shm or the system temp directory.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { execa } from 'execa';
import type { Writable } from 'node:stream';
import { KEY_BASE, OTHER_KEY_BASE, makeGitlabTree } from '../helpers/gitlab_tree.ts';
import type { GitlabTree, TreeOptions } from '../helpers/gitlab_tree.ts';
import { BIN, CLI_VARIABLES as RUN_CLI_VARIABLES, PROJECT_ROOT, cliEnv, ensureBuilt, mainInProcess, shellWord } from '../helpers/run_cli.ts';

/** The scripted editor: a POSIX sh script (a few ms per run; a Node one cost ~0.13 s of CPU). */
export const SAFETY_EDITOR = fileURLToPath(new URL('./safety_editor.sh', import.meta.url));
export const SAFETY_EDITOR_COMMAND = `sh ${shellWord(SAFETY_EDITOR)}`;
export const PTY_BRIDGE = fileURLToPath(new URL('./pty_bridge.py', import.meta.url));

export const SECRETS = 'user_name: "smtp-user"\npassword: "hunter2"\n';
export const SAVED = 'File encrypted and saved.\n';
export const UNCHANGED = 'Contents were unchanged.\n';
export const ABORTED = 'Aborted changing file: nothing saved.\n';
export const NOT_A_MAPPING = (displayName: string): string =>
  `WARNING: Content was not a valid ${displayName} secret yml file. Did not include any key-value pairs\n`;
export const INVALID_YAML_PREFIX = (displayName: string): string =>
  `WARNING: Content was not a valid ${displayName} secret yml file. `;
export const couldNotDecrypt = (path: string): string => `Couldn't decrypt ${path}. Perhaps you passed the wrong key?`;

/** README "Exit codes". */
export const EXIT = {
  CONFIG: 3,
  DECRYPT: 6,
  INVALID_CONTENT: 7,
  EDITOR: 8,
  IO: 9,
  CONFLICT: 10,
  SIGHUP: 129,
  SIGINT: 130,
  SIGTERM: 143,
} as const;

/** A generous limit for one test: a hang is a failure, not a stuck suite. */
export const TEST_TIMEOUT_MS = 120_000;

export const IS_ROOT = process.getuid?.() === 0;

/** The `nobody` account, to drop root's privileges where a permission failure is the point. */
export const NOBODY: { uid: number; gid: number } | null = (() => {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , uid, gid] = line.split(':');
      if (name === 'nobody') return { uid: Number(uid), gid: Number(gid) };
    }
  } catch {
    // no passwd database
  }
  return null;
})();

/**
 * Why a test that needs another user cannot run here, or false. As root we drop to `nobody`; as anyone
 * else permissions are enforced anyway, so those tests run as the current user.
 */
export const NEEDS_PERMISSIONS_ENFORCED: string | false =
  IS_ROOT && NOBODY === null ? 'running as root without a nobody account: cannot drop privileges' : false;

/** Why a test that needs root (chown, giving files away) cannot run here, or false. */
export const NEEDS_ROOT: string | false = IS_ROOT
  ? NOBODY === null
    ? 'no nobody account to give files to'
    : false
  : 'needs root: only root can give files to another user';

/** /etc/group name of a gid, for messages. */
export function groupName(gid: number): string {
  for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
    const [name, , id] = line.split(':');
    if (name && Number(id) === gid) return name;
  }
  return String(gid);
}

// --- running the CLI -------------------------------------------------------------------------------

/** Variables the CLI reads; cleared so the developer's own shell cannot change a test's outcome. */
const CLI_VARIABLES = [...RUN_CLI_VARIABLES, 'XDG_RUNTIME_DIR'];

export interface SafeResult {
  exitCode: number;
  /** Set when the CLI died of a signal instead of exiting. */
  signal: string | undefined;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
  pid: number | undefined;
  durationMs: number;
  timedOut: boolean;
}

export interface RunOptions {
  input?: string | Buffer;
  /** Extra variables; undefined removes one (e.g. XDG_RUNTIME_DIR). */
  env?: Record<string, string | undefined>;
  /** Run as `nobody` when root (as the current user otherwise). */
  unprivileged?: boolean;
  /** A command that runs the CLI, e.g. ['prlimit', '--fsize=16384']: it must exec it (same pid). */
  wrapper?: string[];
  /** Run under this umask (through sh -c). */
  umask?: number;
  /** Give the CLI a pseudo-terminal as stdin (tests check ptyProblem() first); type into it with `subprocess.stdin`. */
  tty?: boolean;
  /** Leave stdin open (a pipe nobody writes to) instead of sending `input` or nothing. */
  stdinOpen?: boolean;
  /** Start the CLI as the leader of a new process group, to signal the group as a terminal does. */
  detached?: boolean;
  timeoutMs?: number;
  /**
   * Run `node bin/gitlab-secrets.cjs` as a real process. `run` is in-process otherwise, except with the
   * options only a process can have (unprivileged, wrapper, umask, tty, stdinOpen, detached); `start`
   * always spawns.
   */
  spawn?: boolean;
}

/** The options that need a real process. */
function needsProcess(options: RunOptions): boolean {
  return (
    options.spawn === true ||
    options.unprivileged === true ||
    options.wrapper !== undefined ||
    options.umask !== undefined ||
    options.tty === true ||
    options.stdinOpen === true ||
    options.detached === true
  );
}

export interface Safety {
  tree: GitlabTree;
  /** The CLI's $XDG_RUNTIME_DIR: private to this test, empty before and after every run. */
  runtimeDir: string;
  /** A scratch directory outside the tree, removed after the test. */
  work: string;
  /** `--gitlab-root <tree>` */
  root: string[];
  /** Let `name` stay in the settings directory (a file the test put there on purpose). */
  allowInSettings(name: string): void;
  /** Check this directory too for temporary files after the test (e.g. a symlink's real directory). */
  watchDir(dir: string): void;
  /** Run the CLI to completion. */
  run(args: readonly string[], options?: RunOptions): Promise<SafeResult>;
  /** Start the CLI; the caller awaits `result(subprocess)`. */
  start(args: readonly string[], options?: RunOptions): Started;
  /**
   * Start the CLI in this process, to watch a run that needs no process of its own while it runs (it must
   * wait asynchronously, or nothing else runs until it ends); the caller awaits `result()`.
   */
  startInProcess(args: readonly string[], options?: RunOptions): StartedInProcess;
  /** A scripted editor: one step per run of the editor. */
  editor(steps: EditorStep[]): ScriptedEditor;
  /** Make the tree readable by `nobody` (its key too, as for the git user in a real install). */
  shareWithNobody(): void;
}

export interface StartedInProcess {
  /** Everything the CLI has written to stderr so far. */
  stderrSoFar(): string;
  result(): Promise<SafeResult>;
}

export interface Started {
  /** The CLI's process (with `tty`, the pty bridge's): type into `stdin`, signal it with `kill`. */
  subprocess: { readonly pid?: number | undefined; readonly stdin: Writable | null; kill(signal?: NodeJS.Signals): boolean };
  started: number;
  /** Everything the CLI has written to stderr so far. */
  stderrSoFar(): string;
  result(): Promise<SafeResult>;
}

/**
 * What a run as `nobody` executes, copied where `nobody` can reach it: the checkout may be private (a
 * 0700 home or `mktemp -d`). bin/, the dist bundles bin/ loads and the scripted editor go into a 0755
 * directory under /tmp, made on first use and removed when this test process exits.
 */
let reachable: { dir: string; bin: string; editor: string } | undefined;

function reachableCopy(): { dir: string; bin: string; editor: string } {
  if (reachable) return reachable;
  const dir = mkdtempSync(join('/tmp', 'gitlab-secrets-safety-bin-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  for (const sub of ['bin', 'dist', 'test']) mkdirSync(join(dir, sub), { mode: 0o755 });
  cpSync(BIN, join(dir, 'bin', basename(BIN)));
  const dist = join(PROJECT_ROOT, 'dist');
  for (const name of readdirSync(dist)) if (name.endsWith('.cjs')) cpSync(join(dist, name), join(dir, 'dist', name));
  cpSync(SAFETY_EDITOR, join(dir, 'test', basename(SAFETY_EDITOR)));
  execFileSync('chmod', ['-R', 'a+rX', dir]);
  reachable = { dir, bin: join(dir, 'bin', basename(BIN)), editor: join(dir, 'test', basename(SAFETY_EDITOR)) };
  return reachable;
}

/** Make a test's GitLab tree and the checks that run after it. */
export function setup(t: TestContext, options: TreeOptions = {}): Safety {
  ensureBuilt();
  const tree = makeGitlabTree(options);
  const runtimeDir = mkdtempSync(join(tmpdir(), 'gitlab-secrets-safety-xdg-'));
  chmodSync(runtimeDir, 0o700);
  const work = mkdtempSync(join(tmpdir(), 'gitlab-secrets-safety-work-'));
  chmodSync(work, 0o755);
  const allowed = new Set<string>();
  const watched: string[] = [];
  const pids = new Set<number>();
  const roots = [...new Set([runtimeDir, '/dev/shm', tmpdir()])].filter((dir) => existsSync(dir));
  const before = new Map(roots.map((dir) => [dir, new Set(listTempDirs(dir))]));
  let editors = 0;

  const start = (args: readonly string[], options: RunOptions = {}): Started => {
    const env: Record<string, string | undefined> = {};
    for (const name of CLI_VARIABLES) env[name] = undefined;
    env['XDG_RUNTIME_DIR'] = runtimeDir;
    Object.assign(env, options.env);
    const identity = options.unprivileged && IS_ROOT && NOBODY ? { uid: NOBODY.uid, gid: NOBODY.gid } : {};
    let bin = BIN;
    let cwd = PROJECT_ROOT;
    if ('uid' in identity) {
      // `nobody` may not reach the checkout: run copies it can reach.
      const copy = reachableCopy();
      bin = copy.bin;
      cwd = copy.dir;
      if (env['EDITOR'] === SAFETY_EDITOR_COMMAND) env['EDITOR'] = `sh ${shellWord(copy.editor)}`;
    }
    let command = ['node', bin, ...args];
    if (options.umask !== undefined) {
      command = ['sh', '-c', `umask ${options.umask.toString(8).padStart(3, '0')} && exec "$@"`, 'sh', ...command];
    }
    if (options.wrapper) command = [...options.wrapper, ...command];
    // -S: no site-packages to look at (~35 ms of CPU less per start); the bridges use the standard library only.
    if (options.tty) command = [pythonPath(), '-S', PTY_BRIDGE, ...command];
    const subprocess = execa(command[0]!, command.slice(1), {
      cwd,
      env,
      extendEnv: true,
      encoding: 'buffer',
      stripFinalNewline: false,
      reject: false,
      timeout: options.timeoutMs ?? 60_000,
      ...(options.input !== undefined ? { input: options.input } : options.tty || options.stdinOpen ? {} : { input: '' }),
      ...(options.detached ? { detached: true } : {}),
      ...identity,
    });
    if (subprocess.pid !== undefined) pids.add(subprocess.pid);
    const stderrChunks: Buffer[] = [];
    subprocess.stderr?.on('data', (chunk: Buffer) => stderrChunks.push(chunk));
    const started = Date.now();
    return {
      subprocess,
      started,
      stderrSoFar: () => Buffer.concat(stderrChunks).toString('utf8'),
      result: async () => {
        const result = await subprocess;
        const stdoutBytes = Buffer.from(result.stdout ?? new Uint8Array());
        return {
          exitCode: result.exitCode ?? -1,
          signal: result.signal,
          stdout: stdoutBytes.toString('utf8'),
          stderr: Buffer.from(result.stderr ?? new Uint8Array()).toString('utf8'),
          stdoutBytes,
          pid: subprocess.pid,
          durationMs: Date.now() - started,
          timedOut: result.timedOut,
        };
      },
    };
  };

  /** The CLI's `main()` in this process, as bin/ runs it; the same checks after the test apply. */
  const runInProcess = async (
    args: readonly string[],
    options: RunOptions,
    onStart?: (soFar: { stdout: () => Buffer; stderr: () => Buffer }) => void,
  ): Promise<SafeResult> => {
    if (needsProcess(options)) throw new Error('this run needs a process of its own: use start() or run()');
    const env = cliEnv({ XDG_RUNTIME_DIR: runtimeDir, ...options.env }, CLI_VARIABLES);
    pids.add(process.pid); // edit buffer directories carry the pid of the process that made them
    const started = Date.now();
    const timeoutMs = options.timeoutMs ?? 60_000;
    try {
      const result = await mainInProcess(args, {
        env,
        cwd: PROJECT_ROOT,
        input: options.input ?? '',
        timeoutMs,
        ...(onStart ? { onStart } : {}),
      });
      return { ...result, signal: undefined, pid: undefined, durationMs: Date.now() - started, timedOut: false };
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('in-process run')) throw error;
      const empty = Buffer.alloc(0);
      return { exitCode: -1, signal: undefined, stdout: '', stderr: error.message, stdoutBytes: empty, pid: undefined, durationMs: Date.now() - started, timedOut: true };
    }
  };

  const safety: Safety = {
    tree,
    runtimeDir,
    work,
    root: ['--gitlab-root', tree.root],
    allowInSettings: (name) => void allowed.add(name),
    watchDir: (dir) => void watched.push(dir),
    start,
    startInProcess(args, options = {}) {
      let stderr: () => Buffer = () => Buffer.alloc(0);
      const running = runInProcess(args, options, (soFar) => (stderr = soFar.stderr));
      running.catch(() => undefined); // result() reports it; a test that fails first leaves no unhandled rejection
      return { stderrSoFar: () => stderr().toString('utf8'), result: () => running };
    },
    run: (args, options = {}) => (needsProcess(options) ? start(args, options).result() : runInProcess(args, options)),
    editor(steps) {
      editors += 1;
      // Readable by nobody, the log writable by nobody: the editor may run as nobody.
      const plan = join(work, `editor-${editors}`);
      mkdirSync(plan, { mode: 0o755 });
      chmodSync(plan, 0o755);
      const log = join(plan, 'log');
      mkdirSync(log, { mode: 0o777 });
      chmodSync(log, 0o777);
      steps.forEach((step, i) => writePlanStep(join(plan, String(i + 1)), step));
      const read = (run: number): EditorRecord | null => {
        const path = join(log, `run-${run}.rec`);
        if (!existsSync(path)) return null;
        const record = parseEditorRecord(readFileSync(path), path);
        pids.add(record.ppid);
        return record;
      };
      return {
        env: { EDITOR: SAFETY_EDITOR_COMMAND, SAFETY_EDITOR_PLAN: plan },
        run: read,
        runs: () => {
          const records: EditorRecord[] = [];
          for (let n = 1; ; n++) {
            const record = read(n);
            if (!record) return records;
            records.push(record);
          }
        },
      };
    },
    shareWithNobody() {
      for (const dir of [tree.root, join(tree.root, 'config'), join(tree.root, 'shared'), tree.settingsDir]) {
        if (existsSync(dir)) chmodSync(dir, 0o755);
      }
      for (const file of ['gitlab.yml', 'secrets.yml']) {
        const path = join(tree.root, 'config', file);
        if (existsSync(path)) chmodSync(path, 0o644);
      }
    },
  };

  t.after(async () => {
    try {
      const problems: string[] = [];
      for (const dir of [tree.settingsDir, ...watched]) {
        if (!existsSync(dir) || !lstatSync(dir).isDirectory()) continue;
        for (const name of readdirSync(dir)) {
          if (allowed.has(name) && dir === tree.settingsDir) continue;
          if (name.startsWith('.') || name.endsWith('.tmp')) problems.push(`temporary file left: ${join(dir, name)}`);
          else if (dir === tree.settingsDir && !name.endsWith('.enc')) problems.push(`plaintext or stray file left: ${join(dir, name)}`);
        }
      }
      const inRuntime = readdirSync(runtimeDir);
      if (inRuntime.length > 0) problems.push(`left in $XDG_RUNTIME_DIR: ${inRuntime.join(', ')}`);
      problems.push(...(await leftoverTempDirs(before, pids)));
      assert.deepEqual(problems, [], 'something was left behind');
    } finally {
      tree.remove();
      rmSync(runtimeDir, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    }
  });
  return safety;
}

/** The helper prefixes of the test suites' own directories: not edit buffers. */
const TEST_DIR_PREFIXES = ['gitlab-secrets-tree-', 'gitlab-secrets-editor-', 'gitlab-secrets-test-', 'gitlab-secrets-safety-'];

function listTempDirs(dir: string): string[] {
  try {
    return readdirSync(dir).filter(
      (name) => name.startsWith('gitlab-secrets-') && !TEST_DIR_PREFIXES.some((prefix) => name.startsWith(prefix)),
    );
  } catch {
    return [];
  }
}

/**
 * `gitlab-secrets-*` entries that appeared during the test and are still there. Other test files (and other
 * people's) may run at the same time, so an entry whose name carries a process id (the `tmp` package names
 * directories `<prefix>-<pid>-<random>`) counts only when it is one of this test's CLI processes. An entry
 * without one counts when it is still there after a grace period, except in the shared system temp
 * directory, where other suites keep directories of their own.
 */
async function leftoverTempDirs(before: Map<string, Set<string>>, pids: Set<number>): Promise<string[]> {
  const unattributed: string[] = [];
  const leftovers: string[] = [];
  for (const [dir, old] of before) {
    for (const name of listTempDirs(dir)) {
      if (old.has(name)) continue;
      const pid = /^gitlab-secrets-+(\d+)-/.exec(name);
      if (!pid) {
        if (dir !== tmpdir()) unattributed.push(join(dir, name));
      }
      else if (pids.has(Number(pid[1]))) leftovers.push(`edit buffer directory left: ${join(dir, name)}`);
    }
  }
  if (unattributed.length > 0) await delay(2000);
  for (const path of unattributed) if (existsSync(path)) leftovers.push(`temporary directory left: ${path}`);
  return leftovers;
}

// --- the scripted editor ---------------------------------------------------------------------------

export interface EditorStep {
  /** Bytes that replace the buffer. */
  write?: string | Buffer;
  /** Write the buffer's bytes to this file name beside the buffer (an editor's swap or backup file). */
  sidecar?: string;
  /** Delete the buffer. */
  removeBuffer?: boolean;
  /** Act as another writer on the encrypted file while the edit is open. */
  target?: { path: string; mode: 'rename' | 'inplace' | 'delete'; body?: string | Buffer };
  sleepMs?: number;
  /**
   * 'node': do the sleep as a Node process (the sh editor execs Node, so the recorded pid stays the
   * editor's), for the tests about how a Node-based editor takes signals on a hung-up terminal.
   */
  sleepIn?: 'node';
  exit?: number;
}

export interface EditorRecord {
  run: number;
  pid: number;
  ppid: number;
  argv: string[];
  buffer: string;
  /** The bytes the editor was given, base64. */
  seen: string;
  bufferStat: FileDescription;
  dirStat: FileDescription;
  dirEntries: string[];
}

export interface FileDescription {
  mode: number;
  uid: number;
  gid: number;
  isFile: boolean;
  isDirectory: boolean;
  isSymbolicLink: boolean;
}

export interface ScriptedEditor {
  env: Record<string, string>;
  /** The record of run n (1-based), or null when the editor has not got that far. */
  run(n: number): EditorRecord | null;
  runs(): EditorRecord[];
}

/**
 * The plan for one run of the editor (safety_editor.sh's header): a directory of one file per action, the
 * bytes raw, the rest one line each.
 */
function writePlanStep(dir: string, step: EditorStep): void {
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755);
  const put = (name: string, bytes: string | Buffer): void => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    chmodSync(path, 0o644);
  };
  const line = (name: string, value: string): void => {
    if (/[\n\0]/.test(value)) throw new Error(`the scripted editor's ${name} must be one line: ${JSON.stringify(value)}`);
    put(name, value);
  };
  const count = (name: string, value: number): void => {
    if (!Number.isInteger(value) || value < 0) throw new Error(`the scripted editor's ${name} must be a whole number: ${value}`);
    line(name, String(value));
  };
  if (step.write !== undefined) put('write', Buffer.from(step.write));
  if (step.sidecar) line('sidecar', step.sidecar);
  if (step.removeBuffer) put('removeBuffer', '');
  if (step.target) {
    line('target', step.target.path);
    line('targetMode', step.target.mode);
    if (step.target.body !== undefined) put('targetBody', Buffer.from(step.target.body));
  }
  if (step.sleepMs) count('sleepMs', step.sleepMs);
  if (step.sleepIn === 'node') line('sleepWith', process.execPath);
  if (step.exit !== undefined) count('exit', step.exit);
}

/**
 * A record safety_editor.sh wrote: NUL-terminated key and value pairs (argv, stat and entry repeat), then
 * `seen` and the raw bytes the editor was given, to the end.
 */
function parseEditorRecord(bytes: Buffer, path: string): EditorRecord {
  const fields = new Map<string, string[]>();
  let seen: Buffer | undefined;
  for (let at = 0; at < bytes.length && seen === undefined; ) {
    const keyEnd = bytes.indexOf(0, at);
    if (keyEnd < 0) break;
    const key = bytes.toString('utf8', at, keyEnd);
    if (key === 'seen') {
      seen = bytes.subarray(keyEnd + 1);
      break;
    }
    const valueEnd = bytes.indexOf(0, keyEnd + 1);
    if (valueEnd < 0) break;
    fields.set(key, [...(fields.get(key) ?? []), bytes.toString('utf8', keyEnd + 1, valueEnd)]);
    at = valueEnd + 1;
  }
  const all = (key: string): string[] => fields.get(key) ?? [];
  const one = (key: string): string => {
    const values = all(key);
    if (values.length !== 1) throw new Error(`malformed editor record ${path}: ${values.length} values of ${key}`);
    return values[0]!;
  };
  const stats = all('stat');
  if (seen === undefined || stats.length !== 2) throw new Error(`malformed editor record ${path}`);
  return {
    run: Number(one('run')),
    pid: Number(one('pid')),
    ppid: Number(one('ppid')),
    argv: all('argv'),
    buffer: one('buffer'),
    seen: seen.toString('base64'),
    bufferStat: describeStat(stats[0]!),
    dirStat: describeStat(stats[1]!),
    dirEntries: all('entry').sort(),
  };
}

/** `stat -c '%f %u %g'` (raw mode in hex, uid, gid of an lstat) as a FileDescription. */
function describeStat(text: string): FileDescription {
  const [mode, uid, gid] = text.split(' ');
  const raw = Number.parseInt(mode!, 16);
  const type = raw & 0o170000;
  return {
    mode: raw & 0o7777,
    uid: Number(uid),
    gid: Number(gid),
    isFile: type === 0o100000,
    isDirectory: type === 0o040000,
    isSymbolicLink: type === 0o120000,
  };
}

// --- assertions ------------------------------------------------------------------------------------

/** Every 16-character piece of the key bases the trees use: none may ever be printed. */
const KEY_PIECES = [KEY_BASE, OTHER_KEY_BASE].flatMap((key) =>
  Array.from({ length: key.length - 15 }, (_, i) => key.slice(i, i + 16)),
);

export function assertNoKeyLeak(result: Pick<SafeResult, 'stdout' | 'stderr'>, extraKeys: readonly string[] = []): void {
  for (const stream of ['stdout', 'stderr'] as const) {
    for (const piece of [...KEY_PIECES, ...extraKeys]) {
      assert.ok(!result[stream].includes(piece), `the key base (${piece}) appears on ${stream}`);
    }
  }
}

export interface ErrorExpectation {
  exitCode?: number;
  /** Every line on stderr, hint: lines included (default: one error line, then any hint: lines). */
  lines?: 1 | 2;
  /** Exactly this stderr. */
  stderr?: string;
  /** Text stderr must contain. */
  mentions?: readonly string[];
  /** Exactly this stdout (default: nothing). */
  stdout?: string;
}

/** A CLI failure as the README promises: non-zero, one line on stderr, no stack trace, no key. */
export function assertCleanError(result: SafeResult, expected: ErrorExpectation = {}): void {
  const context = `exit ${result.exitCode}${result.signal ? ` (signal ${result.signal})` : ''}, stdout ${JSON.stringify(
    result.stdout.slice(0, 500),
  )}, stderr ${JSON.stringify(result.stderr.slice(0, 2000))}`;
  assert.equal(result.timedOut, false, `the CLI hung: ${context}`);
  assert.equal(result.signal, undefined, `the CLI died of a signal: ${context}`);
  assert.notEqual(result.exitCode, 0, `exit code: ${context}`);
  if (expected.exitCode !== undefined) assert.equal(result.exitCode, expected.exitCode, `exit code: ${context}`);
  assert.doesNotMatch(result.stderr, /^\s+at /m, `stack trace on stderr: ${context}`);
  assert.doesNotMatch(result.stdout, /^\s+at /m, `stack trace on stdout: ${context}`);
  assert.ok(result.stderr.endsWith('\n'), `stderr does not end a line: ${context}`);
  const lines = result.stderr.slice(0, -1).split('\n');
  // Our own help follows the error on `hint: ` lines (SPEC §4). An explicit `lines` counts every line;
  // by default there is exactly one error line, and only hint lines after it.
  if (expected.lines !== undefined) assert.equal(lines.length, expected.lines, `stderr lines: ${context}`);
  else assert.ok(lines.length >= 1 && !lines[0]!.startsWith('hint: ') && lines.slice(1).every((line) => line.startsWith('hint: ')), `stderr is not one error line (and hint: lines): ${context}`);
  assert.ok(lines.every((line) => line.trim() !== ''), `blank line on stderr: ${context}`);
  if (expected.stderr !== undefined) assert.equal(result.stderr, expected.stderr, `stderr: ${context}`);
  for (const text of expected.mentions ?? []) assert.ok(result.stderr.includes(text), `stderr does not mention ${text}: ${context}`);
  assert.equal(result.stdout, expected.stdout ?? '', `stdout: ${context}`);
  assertNoKeyLeak(result);
}

/** A success with exactly `stdout`, and `stderr` (default nothing). */
export function assertSuccess(result: SafeResult, stdout: string, stderr = ''): void {
  const context = `exit ${result.exitCode}, stderr ${JSON.stringify(result.stderr.slice(0, 2000))}`;
  assert.equal(result.timedOut, false, `the CLI hung: ${context}`);
  assert.equal(result.exitCode, 0, context);
  assert.equal(result.stdout, stdout, `stdout: ${context}`);
  assert.equal(result.stderr, stderr, 'stderr');
  assertNoKeyLeak(result);
}

// --- processes and time ----------------------------------------------------------------------------

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Wait until `check()` returns a value (not null/undefined/false), or throw after `ms`. */
export async function waitFor<T>(what: string, check: () => T | null | undefined | false, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

/** A process that no longer runs: gone, or a zombie waiting for a parent that does not reap it. */
export function isProcessGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    if (existsSync('/proc/self/stat')) return true;
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

export async function waitForProcessGone(pid: number, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (isProcessGone(pid)) return true;
    await delay(25);
  }
  return isProcessGone(pid);
}

/**
 * Wait until the CLI has installed its own signal handlers (SIGHUP appears among the signals it catches:
 * Node catches SIGINT and SIGTERM itself, but not SIGHUP), so that a signal sent now tests the CLI and not
 * Node's start-up. Without /proc, wait a fixed time instead.
 */
export async function waitForSignalGuard(pid: number, ms = 20_000): Promise<void> {
  if (!existsSync('/proc/self/status')) return delay(2500);
  await waitFor(
    `process ${pid} to catch SIGHUP`,
    () => {
      try {
        const caught = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        return caught !== null && (BigInt(`0x${caught[1]}`) & 1n) === 1n;
      } catch {
        return false;
      }
    },
    ms,
  );
}

// --- terminals -------------------------------------------------------------------------------------

/**
 * python3's own executable, asked once and only by a test that needs it: `python3` on PATH may be a
 * version manager's shim (pyenv's costs ~0.45 s of CPU at every start, the interpreter itself ~0.07 s).
 */
let python: string | undefined;
function pythonPath(): string {
  if (python === undefined) {
    try {
      python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8', timeout: 20_000 }).trim() || 'python3';
    } catch {
      python = 'python3';
    }
  }
  return python;
}

let ptyProblemFound: string | false | undefined;

/**
 * Why the pseudo-terminal tests cannot run here, or false. Asked once, by the files with such tests only
 * (every file that imports these helpers paid for the probe before).
 */
export function ptyProblem(): string | false {
  if (ptyProblemFound === undefined) {
    try {
      // The bridge gives the command a terminal as stdin: `test -t 0` says whether it is one.
      execFileSync(pythonPath(), ['-S', PTY_BRIDGE, 'sh', '-c', 'test -t 0 || exit 3'], {
        stdio: ['pipe', 'ignore', 'ignore'],
        input: '',
        timeout: 20_000,
      });
      ptyProblemFound = false;
    } catch (error) {
      ptyProblemFound = `no pseudo-terminal: python3 ${PTY_BRIDGE} does not work here (${(error as Error).message.split('\n')[0]})`;
    }
  }
  return ptyProblemFound;
}

// --- deterministic randomness ----------------------------------------------------------------------

export { seededRandom } from '../helpers/seeded_random.ts';

export function randomBytesFrom(random: () => number, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}
