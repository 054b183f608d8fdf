/**
 * Run the built CLI as a user would, in a clean environment: by default in this process (the bundle's
 * `main()` with its own streams, environment and working directory, as bin/ calls it), or with
 * `spawn: true` as a real `node bin/gitlab-secrets.cjs …` process.
 */
import { execa } from 'execa';
import { createRequire } from 'node:module';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { BIN, BUNDLE, PROJECT_ROOT, ensureBuilt, shellWord } from './project.ts';

export { BIN, PROJECT_ROOT, ensureBuilt, shellWord };

const PREFETCH = fileURLToPath(new URL('../../dist/prefetch.cjs', import.meta.url));

/** Variables the CLI reads; cleared so the developer's own shell cannot change a test's outcome. */
export const CLI_VARIABLES = [
  'GITLAB_ROOT', 'GITLAB_CONFIG', 'RAILS_ENV', 'EDITOR', 'VISUAL',
  'GITLAB_ENCRYPTED_SETTINGS_KEY_BASE', 'GITLAB_ENCRYPTED_SETTINGS_KEY_BASE_ROTATED',
];

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
   * real pipes, exit of the process itself); otherwise the run is in-process.
   */
  spawn?: boolean;
  /** With spawn: run the bin under this command (e.g. a pty bridge): `wrapper… node bin/gitlab-secrets.cjs args…`. */
  wrapper?: readonly string[];
}

export async function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  ensureBuilt();
  return options.spawn ? spawnCli(args, options) : runInProcess(args, options);
}

/** The real process: `node bin/gitlab-secrets.cjs …` with pipes. */
async function spawnCli(args: readonly string[], options: CliOptions): Promise<CliResult> {
  const env: Record<string, string | undefined> = {};
  for (const name of CLI_VARIABLES) env[name] = undefined;
  Object.assign(env, options.env);
  const [command, ...prefix] = [...(options.wrapper ?? []), 'node'];
  const result = await execa(command!, [...prefix, BIN, ...args], {
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

// --- in-process -------------------------------------------------------------------------------------

interface InProcessIo {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable;
  stderr: Writable;
}

interface Bundle {
  main(argv: readonly string[], options: Record<string, unknown>): Promise<number>;
}

interface PrefetchBundle {
  prefetchKey(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): unknown;
}

let bundle: { cli: Bundle; prefetch: PrefetchBundle } | undefined;

/** The bundles bin/ loads, loaded once per test process (their key cache is shared, as intended). */
function loadBundle(): { cli: Bundle; prefetch: PrefetchBundle } {
  if (!bundle) {
    const require = createRequire(import.meta.url);
    bundle = { cli: require(BUNDLE) as Bundle, prefetch: require(PREFETCH) as PrefetchBundle };
  }
  return bundle;
}

/** Streams for one in-process run: stdin gives `input` then ends, like execa's `input`; not a terminal. */
export function captureIo(input: string | Buffer = ''): { io: InProcessIo; stdout: () => Buffer; stderr: () => Buffer } {
  const stdin: Readable & { isTTY?: boolean } = new Readable({ read() {} });
  const bytes = Buffer.from(input);
  if (bytes.length > 0) stdin.push(bytes);
  stdin.push(null);
  stdin.isTTY = false;
  const collector = (): { stream: Writable; bytes: () => Buffer } => {
    const chunks: Buffer[] = [];
    const stream = new Writable({
      write(chunk: Buffer | string, encoding, callback) {
        chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, encoding) : Buffer.from(chunk));
        callback();
      },
    });
    return { stream, bytes: () => Buffer.concat(chunks) };
  };
  const out = collector();
  const err = collector();
  return { io: { stdin, stdout: out.stream, stderr: err.stream }, stdout: out.bytes, stderr: err.bytes };
}

/** The environment a spawned CLI would see: this process's, the CLI's variables cleared, then `extra`. */
export function cliEnv(extra: Record<string, string | undefined> = {}, cleared: readonly string[] = CLI_VARIABLES): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of cleared) delete env[name];
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/**
 * `main()` as bin/ calls it (key prefetch first), with captured streams. A run that does not finish within
 * the timeout rejects, so a hang fails its test instead of stopping the suite.
 */
export async function mainInProcess(
  args: readonly string[],
  options: {
    env: NodeJS.ProcessEnv;
    cwd: string;
    input?: string | Buffer;
    timeoutMs?: number;
    /** Called before the run starts with what it has written so far, to watch it while it runs. */
    onStart?: (soFar: { stdout: () => Buffer; stderr: () => Buffer }) => void;
  },
): Promise<CliResult> {
  const { cli, prefetch } = loadBundle();
  const { io, stdout, stderr } = captureIo(options.input);
  options.onStart?.({ stdout, stderr });
  const timeoutMs = options.timeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      io.stdin.destroy();
      reject(
        new Error(
          `in-process run of gitlab-secrets ${args.join(' ')} did not finish within ${timeoutMs} ms ` +
            `(stdout ${JSON.stringify(stdout().toString('utf8').slice(0, 500))}, ` +
            `stderr ${JSON.stringify(stderr().toString('utf8').slice(0, 500))})`,
        ),
      );
    }, timeoutMs);
  });
  try {
    const prefetched = prefetch.prefetchKey(args, options.env, options.cwd);
    const exitCode = await Promise.race([cli.main(args, { prefetched, io, env: options.env, cwd: options.cwd }), timeout]);
    const stdoutBytes = stdout();
    return { exitCode, stdout: stdoutBytes.toString('utf8'), stderr: stderr().toString('utf8'), stdoutBytes };
  } finally {
    clearTimeout(timer);
  }
}

function runInProcess(args: readonly string[], options: CliOptions): Promise<CliResult> {
  return mainInProcess(args, {
    env: cliEnv(options.env),
    cwd: options.cwd ?? PROJECT_ROOT,
    ...(options.input !== undefined ? { input: options.input } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
}
