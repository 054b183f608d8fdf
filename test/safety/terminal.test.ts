/**
 * Issue 4, parts 5 and 6: what `edit` does at a terminal. Invalid YAML is never thrown away without asking:
 * at a terminal the CLI asks "(e)dit again, (q)uit without saving [e]"; without one it refuses (WARNING on
 * stdout, exit 7). An editor that returns at once without a change (a GUI editor without --wait) gets a hint
 * on stderr at a terminal only, and stdout stays exactly GitLab's lines.
 *
 * The terminal is a real pseudo-terminal (test/safety/pty_bridge.py, python3) as the CLI's stdin; stdout and
 * stderr stay pipes so that they can be told apart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import {
  EXIT,
  INVALID_YAML_PREFIX,
  ptyProblem,
  SAVED,
  SECRETS,
  TEST_TIMEOUT_MS,
  UNCHANGED,
  assertCleanError,
  assertNoKeyLeak,
  assertSuccess,
  setup,
  waitFor,
} from './safety_helpers.ts';
import type { SafeResult, Started } from './safety_helpers.ts';

const PTY_PROBLEM = ptyProblem();

const INVALID = 'password: "unterminated\nuser_name: [\n';
const VALID = 'user_name: "fixed"\npassword: "after a second try"\n';
const QUESTION = '(e)dit again, (q)uit without saving [e]';

/** Wait for the question to be asked `times` times in all, then type `answer` and Enter. */
async function answer(run: Started, times: number, text: string): Promise<void> {
  await waitFor(`question ${times} on stderr`, () => run.stderrSoFar().split(QUESTION).length - 1 >= times);
  run.subprocess.stdin!.write(`${text}\r`);
}

function assertNoStackTrace(result: SafeResult): void {
  assert.doesNotMatch(result.stderr, /^\s+at /m, `stack trace on stderr: ${result.stderr}`);
  assertNoKeyLeak(result);
}

/** Stdout holds exactly `count` WARNING lines for invalid YAML, then `rest`. */
function assertWarnings(stdout: string, count: number, rest: string): void {
  const lines = stdout.split('\n');
  const warnings = lines.slice(0, count);
  for (const line of warnings) assert.ok(line.startsWith(INVALID_YAML_PREFIX('SMTP')), `not a WARNING line: ${line}`);
  assert.equal(lines.slice(count).join('\n'), rest, `stdout: ${stdout}`);
}

// --- invalid YAML ----------------------------------------------------------------------------------

test('without a terminal, invalid YAML in edit is refused with the WARNING, no question and nothing saved', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = readFileSync(path);
  const editor = s.editor([{ write: INVALID }, { write: VALID }]);
  const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env });
  assertWarnings(result.stdout, 1, '');
  assertCleanError(result, { exitCode: EXIT.INVALID_CONTENT, stdout: result.stdout });
  assert.ok(!result.stderr.includes(QUESTION), 'asked a question without a terminal');
  assert.equal(editor.runs().length, 1, 'the editor ran again without a terminal');
  assert.ok(readFileSync(path).equals(before), 'the file changed');
});

test('at a terminal, invalid YAML asks, and (e)dit again reopens the edit and saves the fixed text', { timeout: TEST_TIMEOUT_MS, skip: PTY_PROBLEM }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const editor = s.editor([{ write: INVALID }, { write: VALID }]);
  const run = s.start([...s.root, 'smtp', 'edit'], { env: editor.env, tty: true });
  await answer(run, 1, 'e');
  const result = await run.result();
  assert.equal(result.exitCode, 0, result.stderr);
  assertWarnings(result.stdout, 1, SAVED);
  assertNoStackTrace(result);
  const runs = editor.runs();
  assert.equal(runs.length, 2, 'the editor did not run a second time');
  assert.equal(Buffer.from(runs[1]!.seen, 'base64').toString('utf8'), INVALID, 'the second run did not start from the first edit');
  assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString('utf8'), VALID);
  for (const run of runs) assert.equal(existsSync(run.buffer), false, 'the buffer was left on disk');
});

test('at a terminal, Enter takes the default answer and edits again', { timeout: TEST_TIMEOUT_MS, skip: PTY_PROBLEM }, async (t) => {
  const s = setup(t);
  const editor = s.editor([{ write: INVALID }, { write: VALID }]);
  const run = s.start([...s.root, 'smtp', 'edit'], { env: editor.env, tty: true });
  await answer(run, 1, '');
  const result = await run.result();
  assert.equal(result.exitCode, 0, result.stderr);
  assertWarnings(result.stdout, 1, SAVED);
  assert.equal(editor.runs().length, 2);
  assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString('utf8'), VALID);
});

test('at a terminal, (q)uit without saving saves nothing and exits non-zero', { timeout: TEST_TIMEOUT_MS, skip: PTY_PROBLEM }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = readFileSync(path);
  const editor = s.editor([{ write: INVALID }, { write: VALID }]);
  const run = s.start([...s.root, 'smtp', 'edit'], { env: editor.env, tty: true });
  await answer(run, 1, 'q');
  const result = await run.result();
  assert.equal(result.exitCode, EXIT.INVALID_CONTENT, result.stderr);
  assertWarnings(result.stdout, 1, '');
  assertNoStackTrace(result);
  assert.match(result.stderr, /nothing saved\.\n$/, `the last line does not say nothing was saved: ${result.stderr}`);
  assert.ok(!result.stdout.includes(SAVED), 'claims to have saved');
  assert.equal(editor.runs().length, 1, 'the editor ran again after quit');
  assert.ok(readFileSync(path).equals(before), 'the file changed');
  assert.equal(existsSync(editor.run(1)!.buffer), false, 'the buffer was left on disk');
});

test('at a terminal, an answer other than e or q asks again', { timeout: TEST_TIMEOUT_MS, skip: PTY_PROBLEM }, async (t) => {
  const s = setup(t);
  const editor = s.editor([{ write: INVALID }]);
  const run = s.start([...s.root, 'smtp', 'edit'], { env: editor.env, tty: true });
  await answer(run, 1, 'maybe');
  await answer(run, 2, 'q');
  const result = await run.result();
  assert.equal(result.exitCode, EXIT.INVALID_CONTENT, result.stderr);
  assert.equal(editor.runs().length, 1);
  assert.deepEqual(s.tree.listSettings(), []);
});

test('at a terminal, invalid YAML twice asks twice and the third edit is saved', { timeout: TEST_TIMEOUT_MS, skip: PTY_PROBLEM }, async (t) => {
  const s = setup(t);
  const editor = s.editor([{ write: INVALID }, { write: `${INVALID}still: [broken\n` }, { write: VALID }]);
  const run = s.start([...s.root, 'smtp', 'edit'], { env: editor.env, tty: true });
  await answer(run, 1, 'e');
  await answer(run, 2, 'e');
  const result = await run.result();
  assert.equal(result.exitCode, 0, result.stderr);
  assertWarnings(result.stdout, 2, SAVED);
  assert.equal(editor.runs().length, 3);
  assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString('utf8'), VALID);
});

// --- the quick-return hint -------------------------------------------------------------------------

const HINT = /^hint: [^\n]*--wait[^\n]*$/m;

test('at a terminal, an editor that returns at once without a change gets a hint about --wait', { timeout: TEST_TIMEOUT_MS, skip: PTY_PROBLEM }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const editor = s.editor([{}]);
  const run = s.start([...s.root, 'smtp', 'edit'], { env: editor.env, tty: true });
  const result = await run.result();
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(result.stdout, `${UNCHANGED}${SAVED}`, "stdout is not exactly GitLab's lines");
  assert.match(result.stderr, HINT, `no hint on stderr: ${JSON.stringify(result.stderr)}`);
  assert.equal(result.stderr.split('\n').filter(Boolean).length, 1, `more than the hint on stderr: ${result.stderr}`);
});

test('without a terminal, an editor that returns at once without a change gets no hint', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const editor = s.editor([{}]);
  const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env });
  assertSuccess(result, `${UNCHANGED}${SAVED}`, '');
});

test('at a terminal, an editor that returns at once with a change gets no hint', { timeout: TEST_TIMEOUT_MS, skip: PTY_PROBLEM }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const editor = s.editor([{ write: VALID }]);
  const result = await s.start([...s.root, 'smtp', 'edit'], { env: editor.env, tty: true }).result();
  assertSuccess(result, SAVED, '');
});

test('at a terminal, an editor that took its time without a change gets no hint', { timeout: TEST_TIMEOUT_MS, skip: PTY_PROBLEM }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const editor = s.editor([{ sleepMs: 1500 }]);
  const result = await s.start([...s.root, 'smtp', 'edit'], { env: editor.env, tty: true }).result();
  assertSuccess(result, `${UNCHANGED}${SAVED}`, '');
});

test('at a terminal, Ctrl-C at the question aborts as Ctrl-C does everywhere: exit 130 and nothing saved', { timeout: TEST_TIMEOUT_MS, skip: PTY_PROBLEM }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = readFileSync(path);
  const editor = s.editor([{ write: INVALID }, { write: VALID }]);
  const run = s.start([...s.root, 'smtp', 'edit'], { env: editor.env, tty: true });
  await waitFor('the question on stderr', () => run.stderrSoFar().includes(QUESTION));
  run.subprocess.stdin!.write('\x03'); // what the terminal sends for Ctrl-C in raw mode
  const result = await run.result();
  assertNoStackTrace(result);
  assert.equal(result.exitCode, EXIT.SIGINT, `exit code (stderr: ${JSON.stringify(result.stderr)})`);
  assert.ok(result.stderr.endsWith('Aborted changing file: nothing saved.\n'), `stderr: ${JSON.stringify(result.stderr)}`);
  assert.equal(editor.runs().length, 1, 'the editor ran again after Ctrl-C');
  assert.ok(readFileSync(path).equals(before), 'the file changed');
  assert.equal(existsSync(editor.run(1)!.buffer), false, 'the buffer was left on disk');
});

test('at a terminal, Ctrl-D at the question quits without saving', { timeout: TEST_TIMEOUT_MS, skip: PTY_PROBLEM }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = readFileSync(path);
  const editor = s.editor([{ write: INVALID }, { write: VALID }]);
  const run = s.start([...s.root, 'smtp', 'edit'], { env: editor.env, tty: true });
  await waitFor('the question on stderr', () => run.stderrSoFar().includes(QUESTION));
  run.subprocess.stdin!.write('\x04'); // end of input
  const result = await run.result();
  assertNoStackTrace(result);
  assert.equal(result.exitCode, EXIT.INVALID_CONTENT, `exit code (stderr: ${JSON.stringify(result.stderr)})`);
  assert.match(result.stderr, /nothing saved\.\n$/, `stderr: ${JSON.stringify(result.stderr)}`);
  assert.doesNotMatch(result.stderr, /internal error/, 'an internal error');
  assert.equal(editor.runs().length, 1, 'the editor ran again after end of input');
  assert.ok(readFileSync(path).equals(before), 'the file changed');
  assert.equal(existsSync(editor.run(1)!.buffer), false, 'the buffer was left on disk');
});

test('at a terminal, SIGTERM while the question waits aborts with 143 and saves nothing', { timeout: TEST_TIMEOUT_MS, skip: PTY_PROBLEM }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = readFileSync(path);
  const editor = s.editor([{ write: INVALID }]);
  const run = s.start([...s.root, 'smtp', 'edit'], { env: editor.env, tty: true });
  await waitFor('the question on stderr', () => run.stderrSoFar().includes(QUESTION));
  const cli = editor.run(1)!.ppid; // the CLI itself, not the pty bridge
  process.kill(cli, 'SIGTERM');
  const result = await run.result();
  assertNoStackTrace(result);
  assert.equal(result.exitCode, EXIT.SIGTERM, `exit code (stderr: ${JSON.stringify(result.stderr)})`);
  assert.ok(result.stderr.endsWith('Aborted changing file: nothing saved.\n'), `stderr: ${JSON.stringify(result.stderr)}`);
  assert.ok(readFileSync(path).equals(before), 'the file changed');
  assert.equal(existsSync(editor.run(1)!.buffer), false, 'the buffer was left on disk');
});
