/**
 * Issue 10, parts 4, 6 and 7: exit codes that tell the truth, and one line for every failure.
 *   - A signal during the save waits for it; the file is saved, so the exit code is 0 and stderr says
 *     the signal came during the save (it used to exit 130/143, which --help says means "nothing saved").
 *   - stdout that fails (`show > /dev/full`) is one line and exit 9; a reader that stops early (EPIPE)
 *     stays quiet, exit 0.
 *   - stdin larger than 64 MiB is refused with one line before it exhausts memory.
 *   - `rotate --all` without a GitLab root says so once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { execa } from 'execa';
import { BIN, PROJECT_ROOT } from '../helpers/run_cli.ts';
import { EXIT, SAVED, SECRETS, TEST_TIMEOUT_MS, assertCleanError, setup, waitFor, waitForSignalGuard } from './safety_helpers.ts';

const BIG = `user_name: "edit"\nblob: "${'x'.repeat(8 * 1024 * 1024)}"\n`;

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} during the save: the file is saved, the exit code is 0 and stderr says so`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const s = setup(t);
    s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
    const run = s.start([...s.root, 'smtp', 'write'], { stdinOpen: true });
    await waitForSignalGuard(run.subprocess.pid!);
    run.subprocess.stdin!.end(BIG);
    // The sibling temporary file exists only while the new file is written and flushed, before the rename.
    await waitFor('the save to start', () => readdirSync(s.tree.settingsDir).some((name) => name.endsWith('.tmp')), 60_000);
    run.subprocess.kill(signal);
    const result = await run.result();
    assert.equal(result.signal, undefined, `killed by ${result.signal}`);
    assert.equal(result.exitCode, 0, `exit code after a completed save: ${result.stderr}`);
    assert.equal(result.stdout, SAVED);
    assert.equal(result.stderr, `note: ${signal} arrived while the file was being saved; the save completed\n`);
    assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString(), BIG);
  });
}

/** Run the CLI through sh, for redirections and pipes; the tree is readable by root only, as we are. */
async function shell(script: string, env: Record<string, string> = {}): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const result = await execa('sh', ['-c', script], { cwd: PROJECT_ROOT, reject: false, env: { BIN, ...env }, timeout: 120_000 });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

for (const command of ['show', 'get password', 'show --json']) {
  test(`${command} > /dev/full is one line on stderr and exit 9`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const s = setup(t);
    s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
    const result = await shell(`node "$BIN" --gitlab-root "$ROOT" smtp ${command} > /dev/full`, { ROOT: s.tree.root });
    assert.equal(result.exitCode, EXIT.IO, result.stderr);
    assert.equal(result.stderr, 'Cannot write to standard output: no space left on device');
  });
}

test('show of a big file > /dev/full is one line too', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', BIG);
  const result = await shell('node "$BIN" --gitlab-root "$ROOT" smtp show > /dev/full', { ROOT: s.tree.root });
  assert.equal(result.exitCode, EXIT.IO, result.stderr);
  assert.equal(result.stderr, 'Cannot write to standard output: no space left on device');
});

test('show | head -c1 stays quiet and exits 0 (EPIPE)', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', BIG);
  const result = await execa('bash', ['-c', 'node "$BIN" --gitlab-root "$ROOT" smtp show | head -c1 >/dev/null; exit ${PIPESTATUS[0]}'], {
    cwd: PROJECT_ROOT,
    reject: false,
    env: { BIN, ROOT: s.tree.root },
  });
  assert.equal(String(result.stderr), '');
  assert.equal(result.exitCode, 0);
});

test('write of more than 64 MiB is refused with one line; the file is kept', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = readFileSync(path);
  // In this process: the limit is the CLI's reading of its stdin, whatever kind of stream that is.
  const result = await s.run([...s.root, 'smtp', 'write'], { input: Buffer.alloc(70_000_000, 'a') });
  assert.equal(result.exitCode, EXIT.INVALID_CONTENT, result.stderr);
  assert.match(result.stderr, /^The input is larger than 64 MiB[^\n]*nothing saved\.\n$/);
  assert.equal(result.stdout, '');
  assert.ok(readFileSync(path).equals(before), 'the file changed');
});

test('rotate --all without a GitLab root says so once', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const result = await s.run(['rotate', '--all'], { env: { GITLAB_ROOT: `${s.work}/nowhere` } });
  assertCleanError(result, { exitCode: EXIT.CONFIG });
});
