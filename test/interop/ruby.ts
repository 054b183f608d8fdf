/**
 * The real ActiveSupport as a test oracle: wrappers around test/interop/oracle.rb.
 *
 * Ruby takes ~0.2 s to start and ~20 ms per PBKDF2 key: one Ruby serves a whole test file, and tests send
 * their cases in one `rubyBatch` call.
 * Without Ruby the interop tests skip, unless GITLAB_SECRETS_REQUIRE_RUBY=1 (CI), where they fail instead.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { constants, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

export const ORACLE = fileURLToPath(new URL('./oracle.rb', import.meta.url));
export const SKIP_MESSAGE =
  'ruby with ActiveSupport not found: apt-get install -y ruby ruby-activesupport to run the interop tests';

/** The encodings the oracle can label a plaintext with, each a different Marshal wrapper. */
export type RubyEncoding = 'UTF-8' | 'BINARY' | 'US-ASCII' | 'Shift_JIS';

export type OracleJob =
  | { op: 'encrypt'; keyBase: string; plaintext: Uint8Array; encoding?: RubyEncoding }
  | { op: 'decrypt'; keyBase: string; rotatedKeyBases?: readonly string[]; body: string }
  | { op: 'marshal'; plaintext: Uint8Array; encoding?: RubyEncoding };

export type OracleResult =
  | {
      ok: true;
      /** encrypt: the file body. */
      body?: string;
      /** decrypt: the plaintext bytes and the Ruby encoding Marshal restored. */
      plaintext?: Buffer;
      encoding?: string;
      /** marshal: `Marshal.dump(string)`. */
      marshal?: Buffer;
    }
  | { ok: false; error: string; message: string };

/** The oracle exited non-zero: InvalidMessage for `decrypt` (exit 1), a usage or key error (exit 2). */
export class RubyOracleError extends Error {
  constructor(
    readonly status: number | null,
    readonly stderr: string,
  ) {
    super(`oracle.rb exited ${status}: ${stderr.trim()}`);
  }
}

let available: boolean | undefined;

/** Ruby is on PATH and can load ActiveSupport's MessageEncryptor. Checked once per process. */
export function rubyAvailable(): boolean {
  available ??=
    spawnSync('ruby', ['-e', 'require "active_support"; require "active_support/message_encryptor"'], {
      stdio: 'ignore',
      timeout: 30_000,
    }).status === 0;
  return available;
}

/**
 * True when the test can use Ruby. Otherwise skips the test and returns false, or, under
 * GITLAB_SECRETS_REQUIRE_RUBY=1, throws so that CI never passes with the interop tests silently skipped.
 */
export function requireRubyOrSkip(t: TestContext): boolean {
  if (rubyAvailable()) return true;
  if (process.env.GITLAB_SECRETS_REQUIRE_RUBY === '1') {
    throw new Error(`GITLAB_SECRETS_REQUIRE_RUBY=1 but ${SKIP_MESSAGE}`);
  }
  t.skip(SKIP_MESSAGE);
  return false;
}

/**
 * One long-lived `ruby oracle.rb serve` per test process, talked to over two FIFOs with blocking reads
 * and writes, so the oracle stays synchronous while Ruby and ActiveSupport load only once per test file.
 */
interface OracleServer {
  requests: number;
  responses: number;
  pending: Buffer;
}

let server: OracleServer | undefined;

function startServer(): OracleServer {
  const dir = mkdtempSync(join(tmpdir(), 'gitlab-secrets-oracle-'));
  const requestsPath = join(dir, 'requests');
  const responsesPath = join(dir, 'responses');
  execFileSync('mkfifo', ['-m', '600', requestsPath, responsesPath]);
  const child = spawn('ruby', [ORACLE, 'serve', requestsPath, responsesPath], { stdio: ['ignore', 'ignore', 'inherit'] });
  child.unref(); // it ends when this process does: its requests FIFO reaches end of file
  let exited = false;
  child.on('exit', () => (exited = true));
  // Open without blocking until Ruby has opened its end, so that a Ruby that dies at start fails, not hangs.
  const deadline = Date.now() + 60_000;
  let requests: number | undefined;
  while (requests === undefined) {
    try {
      requests = openSync(requestsPath, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENXIO' || exited || Date.now() > deadline) {
        throw new Error(`oracle.rb serve did not start: ${(error as Error).message}`);
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
  const responses = openSync(responsesPath, 'r'); // Ruby opens it right after the requests FIFO
  rmSync(dir, { recursive: true, force: true }); // both ends are open: the names are no longer needed
  return { requests, responses, pending: Buffer.alloc(0) };
}

function writeAll(fd: number, bytes: Buffer): void {
  for (let offset = 0; offset < bytes.length; ) {
    try {
      offset += writeSync(fd, bytes, offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1); // the FIFO is full: Ruby is reading
    }
  }
}

function readLine(oracle: OracleServer): string {
  const chunks: Buffer[] = [oracle.pending];
  let newline = oracle.pending.indexOf(0x0a);
  while (newline < 0) {
    const chunk = Buffer.allocUnsafe(1 << 20);
    const n = readSync(oracle.responses, chunk, 0, chunk.length, null);
    if (n === 0) throw new Error('oracle.rb serve ended without an answer');
    const read = chunk.subarray(0, n);
    const at = read.indexOf(0x0a);
    if (at >= 0) newline = chunks.reduce((sum, c) => sum + c.length, 0) + at;
    chunks.push(read);
  }
  const all = Buffer.concat(chunks);
  oracle.pending = all.subarray(newline + 1);
  return all.subarray(0, newline).toString('utf8');
}

/**
 * Inputs larger than this go to Ruby in a file and its output comes back in one: for the 16 MiB cases,
 * base64 inside JSON both ways cost more CPU than the encryption itself, in Node and in Ruby.
 */
const THROUGH_FILES = 1 << 20;

function runOracle(args: readonly string[], input: Uint8Array | string): Buffer {
  server ??= startServer();
  if (input.length > THROUGH_FILES) return runOracleThroughFiles(server, args, input);
  const request = { argv: args, input_base64: Buffer.from(input).toString('base64') };
  writeAll(server.requests, Buffer.from(`${JSON.stringify(request)}\n`));
  const answer = JSON.parse(readLine(server)) as { status: number; stdout_base64: string; stderr: string };
  if (answer.status !== 0) throw new RubyOracleError(answer.status, answer.stderr);
  return Buffer.from(answer.stdout_base64, 'base64');
}

/** runOracle with stdin read from a file and stdout written to one, in a private directory removed after. */
function runOracleThroughFiles(oracle: OracleServer, args: readonly string[], input: Uint8Array | string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'gitlab-secrets-oracle-io-'));
  try {
    const inputPath = join(dir, 'stdin');
    const outputPath = join(dir, 'stdout');
    writeFileSync(inputPath, input);
    writeAll(oracle.requests, Buffer.from(`${JSON.stringify({ argv: args, input_path: inputPath, output_path: outputPath })}\n`));
    const answer = JSON.parse(readLine(oracle)) as { status: number; stderr: string };
    if (answer.status !== 0) throw new RubyOracleError(answer.status, answer.stderr);
    return readFileSync(outputPath);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** ActiveSupport encrypts the plaintext bytes, labelled with `encoding` (UTF-8, as GitLab writes). */
export function rubyEncrypt(plaintext: Uint8Array, keyBase: string, encoding: RubyEncoding = 'UTF-8'): string {
  return runOracle(['encrypt', keyBase, '--encoding', encoding], plaintext).toString('latin1');
}

/** ActiveSupport decrypts a body, trying the rotated key bases after the primary. Throws RubyOracleError. */
export function rubyDecrypt(body: string | Uint8Array, keyBase: string, rotatedKeyBases: readonly string[] = []): Buffer {
  return runOracle(['decrypt', keyBase, ...rotatedKeyBases], body);
}

/** Versions of ruby, ActiveSupport and OpenSSL the oracle runs with. */
export function rubyVersions(): { ruby: string; activesupport: string; openssl: string } {
  return JSON.parse(runOracle(['versions'], '').toString('utf8')) as { ruby: string; activesupport: string; openssl: string };
}

interface RawResult {
  ok: boolean;
  body?: string;
  plaintext_hex?: string;
  encoding?: string;
  marshal_hex?: string;
  error?: string;
  message?: string;
}

/** Many jobs in one Ruby process; results in the same order. A failed job never stops the others. */
export function rubyBatch(jobs: readonly OracleJob[]): OracleResult[] {
  const raw = jobs.map((job) => {
    switch (job.op) {
      case 'encrypt':
        return { op: job.op, key_base: job.keyBase, plaintext_hex: hex(job.plaintext), encoding: job.encoding ?? 'UTF-8' };
      case 'decrypt':
        return { op: job.op, key_base: job.keyBase, rotated_key_bases: job.rotatedKeyBases ?? [], body: job.body };
      case 'marshal':
        return { op: job.op, plaintext_hex: hex(job.plaintext), encoding: job.encoding ?? 'UTF-8' };
    }
  });
  const results = JSON.parse(runOracle(['batch'], JSON.stringify(raw)).toString('utf8')) as RawResult[];
  if (results.length !== jobs.length) throw new Error(`oracle.rb answered ${results.length} of ${jobs.length} jobs`);
  return results.map((r): OracleResult => {
    if (!r.ok) return { ok: false, error: r.error ?? 'unknown', message: r.message ?? '' };
    const result: OracleResult = { ok: true };
    if (r.body !== undefined) result.body = r.body;
    if (r.plaintext_hex !== undefined) result.plaintext = Buffer.from(r.plaintext_hex, 'hex');
    if (r.encoding !== undefined) result.encoding = r.encoding;
    if (r.marshal_hex !== undefined) result.marshal = Buffer.from(r.marshal_hex, 'hex');
    return result;
  });
}

/** `ok`, or the Ruby exception class a job failed with: for asserting on failures. */
export function outcome(result: OracleResult | undefined): string {
  if (result === undefined) return 'no result';
  return result.ok ? 'ok' : result.error;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
