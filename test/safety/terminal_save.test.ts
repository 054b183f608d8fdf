/**
 * Issue 10, parts 3, 5 and 8: a terminal edit is never thrown away without asking, and a terminal that
 * hangs up (an SSH connection that drops) ends the edit cleanly.
 *   - The file changed meanwhile: "(o)verwrite it with your edit, (e)dit again, (q)uit without saving".
 *   - The save failed (here: an immutable directory): "(r)etry, (q)uit without saving"; without a terminal,
 *     stderr says plainly that the edit was discarded.
 *   - A hang-up at a question or while the editor runs: exit 129 (not a crash: Node used to abort with a
 *     core dump holding the plaintext), the buffer removed, the editor ended.
 *   - `write` at a terminal says what it waits for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encrypt } from '../../src/index.ts';
import { KEY_BASE } from '../helpers/gitlab_tree.ts';
import {
  ABORTED,
  EXIT,
  ptyProblem,
  SAVED,
  SECRETS,
  TEST_TIMEOUT_MS,
  assertCleanError,
  assertNoKeyLeak,
  setup,
  waitFor,
  waitForProcessGone,
} from './safety_helpers.ts';
import type { Started } from './safety_helpers.ts';

const PTY_PROBLEM = ptyProblem();

const PTY_HANGUP = fileURLToPath(new URL('./pty_hangup.py', import.meta.url));
const MINE = 'user_name: "me"\npassword: "my edit"\n';
const MINE_AGAIN = 'user_name: "me"\npassword: "my edit, merged"\n';
const THEIRS = 'user_name: "them"\npassword: "their edit"\n';
const INVALID = 'password: "unterminated\nuser_name: [\n';
const CONFLICT_QUESTION = '(o)verwrite it with your edit, (e)dit again, (q)uit without saving [e]';
const RETRY_QUESTION = '(r)etry, (q)uit without saving [r]';

async function answer(run: Started, question: string, times: number, text: string): Promise<void> {
  await waitFor(`question ${times} on stderr`, () => run.stderrSoFar().split(question).length - 1 >= times);
  run.subprocess.stdin!.write(`${text}\r`);
}

// --- the file changed meanwhile --------------------------------------------------------------------

test('at a terminal, a file changed during the edit asks; (o)verwrite saves the edit', { timeout: TEST_TIMEOUT_MS, skip: PTY_PROBLEM }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const editor = s.editor([{ write: MINE, target: { path, mode: 'rename', body: encrypt(Buffer.from(THEIRS), KEY_BASE) } }]);
  const run = s.start([...s.root, 'smtp', 'edit'], { env: editor.env, tty: true });
  await answer(run, CONFLICT_QUESTION, 1, 'o');
  const result = await run.result();
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(result.stdout, SAVED);
  assert.ok(result.stderr.includes(path), 'the question does not name the file');
  assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString(), MINE);
  assert.equal(existsSync(editor.run(1)!.buffer), false, 'the buffer was left on disk');
});

test('at a terminal, (e)dit again reopens the edit with my text, then saves', { timeout: TEST_TIMEOUT_MS, skip: PTY_PROBLEM }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const editor = s.editor([
    { write: MINE, target: { path, mode: 'rename', body: encrypt(Buffer.from(THEIRS), KEY_BASE) } },
    { write: MINE_AGAIN },
  ]);
  const run = s.start([...s.root, 'smtp', 'edit'], { env: editor.env, tty: true });
  await answer(run, CONFLICT_QUESTION, 1, 'e');
  const result = await run.result();
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(result.stdout, SAVED);
  assert.equal(editor.runs().length, 2, 'the editor did not run again');
  assert.equal(Buffer.from(editor.run(2)!.seen, 'base64').toString(), MINE, 'the second run did not start from my edit');
  assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString(), MINE_AGAIN);
});

test("at a terminal, (q)uit keeps the other writer's file and says my edit is discarded", { timeout: TEST_TIMEOUT_MS, skip: PTY_PROBLEM }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const theirs = encrypt(Buffer.from(THEIRS), KEY_BASE);
  const editor = s.editor([{ write: MINE, target: { path, mode: 'rename', body: theirs } }]);
  const run = s.start([...s.root, 'smtp', 'edit'], { env: editor.env, tty: true });
  await answer(run, CONFLICT_QUESTION, 1, 'q');
  const result = await run.result();
  assert.equal(result.exitCode, EXIT.CONFLICT, result.stderr);
  assert.match(result.stderr, /nothing saved, your edit is discarded/);
  assert.equal(result.stdout, '');
  assert.equal(readFileSync(path, 'latin1'), theirs);
  assertNoKeyLeak(result);
});

test('without a terminal, a conflict says plainly that the edit was discarded', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const editor = s.editor([{ write: MINE, target: { path, mode: 'rename', body: encrypt(Buffer.from(THEIRS), KEY_BASE) } }]);
  const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env });
  assertCleanError(result, { exitCode: EXIT.CONFLICT, mentions: [path, 'your edit is discarded'] });
  assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString(), THEIRS);
});

// --- the save failed --------------------------------------------------------------------------------

/** Why the immutable-directory tests cannot run: they need root, chattr and a filesystem that supports it. */
const IMMUTABLE_PROBLEM: string | false = (() => {
  if (process.getuid?.() !== 0) return 'needs root for chattr +i';
  try {
    execFileSync('chattr', ['--help'], { stdio: 'ignore' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'no chattr';
  }
  return false;
})();

/** Make the settings directory immutable (no file can be created or renamed in it, even by root). */
function makeImmutable(t: Parameters<typeof setup>[0], dir: string): (() => void) | null {
  try {
    execFileSync('chattr', ['+i', dir], { stdio: 'ignore' });
  } catch {
    t.skip('this filesystem or container does not allow chattr +i');
    return null;
  }
  let undone = false;
  const undo = (): void => {
    if (undone) return;
    undone = true;
    execFileSync('chattr', ['-i', dir], { stdio: 'ignore' });
  };
  t.after(undo);
  return undo;
}

test('at a terminal, a failed save asks; (r)etry after the problem is fixed saves the edit', { timeout: TEST_TIMEOUT_MS, skip: PTY_PROBLEM || IMMUTABLE_PROBLEM }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const undo = makeImmutable(t, s.tree.settingsDir);
  if (!undo) return;
  const editor = s.editor([{ write: MINE }]);
  const run = s.start([...s.root, 'smtp', 'edit'], { env: editor.env, tty: true });
  await answer(run, RETRY_QUESTION, 1, 'r'); // still immutable: it fails again and asks again
  await answer(run, RETRY_QUESTION, 2, 'r');
  await waitFor('the third question', () => run.stderrSoFar().split(RETRY_QUESTION).length - 1 >= 3);
  undo();
  run.subprocess.stdin!.write('r\r');
  const result = await run.result();
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(result.stdout, SAVED);
  assert.match(result.stderr, new RegExp(`Cannot write ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: permission denied\\. The old file is intact\\.`));
  assert.equal(editor.runs().length, 1, 'the editor ran again');
  assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString(), MINE);
  assert.equal(existsSync(editor.run(1)!.buffer), false, 'the buffer was left on disk');
});

test('at a terminal, (q)uit after a failed save says the edit is discarded, and keeps the old file', { timeout: TEST_TIMEOUT_MS, skip: PTY_PROBLEM || IMMUTABLE_PROBLEM }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = readFileSync(path);
  const undo = makeImmutable(t, s.tree.settingsDir);
  if (!undo) return;
  const editor = s.editor([{ write: MINE }]);
  const run = s.start([...s.root, 'smtp', 'edit'], { env: editor.env, tty: true });
  await answer(run, RETRY_QUESTION, 1, 'q');
  const result = await run.result();
  undo();
  assert.equal(result.exitCode, EXIT.IO, result.stderr);
  assert.match(result.stderr, /The old file is intact\. Your edit is discarded\.\n$/);
  assert.ok(readFileSync(path).equals(before));
  assert.equal(existsSync(editor.run(1)!.buffer), false, 'the buffer was left on disk');
});

test('without a terminal, a failed save is one line that says the edit is discarded', { timeout: TEST_TIMEOUT_MS, skip: IMMUTABLE_PROBLEM }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = readFileSync(path);
  const undo = makeImmutable(t, s.tree.settingsDir);
  if (!undo) return;
  const editor = s.editor([{ write: MINE }]);
  const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env });
  undo();
  assertCleanError(result, { exitCode: EXIT.IO, mentions: [path, 'The old file is intact', 'Your edit is discarded'] });
  assert.ok(readFileSync(path).equals(before));
  assert.equal(existsSync(editor.run(1)!.buffer), false, 'the buffer was left on disk');
});

// --- hang-up ----------------------------------------------------------------------------------------

test('a hang-up at the question exits 129 cleanly: no crash, buffer removed, nothing saved', { timeout: TEST_TIMEOUT_MS, skip: PTY_PROBLEM }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = readFileSync(path);
  const editor = s.editor([{ write: INVALID }]);
  const run = s.start([...s.root, 'smtp', 'edit'], { env: editor.env, wrapper: ['python3', '-S', PTY_HANGUP], stdinOpen: true });
  await waitFor('the question', () => run.stderrSoFar().includes('(e)dit again, (q)uit without saving [e]'));
  run.subprocess.stdin!.end(); // the SSH connection drops
  const result = await run.result();
  assert.equal(result.exitCode, EXIT.SIGHUP, `not a clean exit 129 (200 + n: killed by signal n): ${result.stderr.slice(-2000)}`);
  assert.ok(result.stderr.endsWith(ABORTED), result.stderr.slice(-500));
  assert.doesNotMatch(result.stderr, /Assertion failed|Native stack trace|^\s+at /m);
  assert.ok(readFileSync(path).equals(before), 'the file changed');
  assert.equal(existsSync(editor.run(1)!.buffer), false, 'the buffer was left on disk');
});

test('a hang-up while the editor runs exits 129 cleanly and ends the editor', { timeout: TEST_TIMEOUT_MS, skip: PTY_PROBLEM }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = readFileSync(path);
  // A Node-based editor on purpose (it sleeps as Node): Node resets the hung-up terminal when it gets
  // SIGTERM and aborts with its native stack on stderr, so the CLI must pass the hang-up on as SIGHUP
  // (commit "Hang-ups: pass SIGHUP on to the editor ..."). With the sh editor this test passes even when
  // the CLI sends SIGTERM; with Node it catches that in about one run of three, as it did before.
  const editor = s.editor([{ write: MINE, sleepMs: 60_000, sleepIn: 'node' }]);
  const run = s.start([...s.root, 'smtp', 'edit'], { env: editor.env, wrapper: ['python3', '-S', PTY_HANGUP], stdinOpen: true });
  const record = await waitFor('the editor to run', () => editor.run(1));
  run.subprocess.stdin!.end();
  const result = await run.result();
  assert.equal(result.exitCode, EXIT.SIGHUP, `not a clean exit 129 (200 + n: killed by signal n): ${result.stderr.slice(-2000)}`);
  assert.ok(result.stderr.endsWith(ABORTED), result.stderr.slice(-500));
  assert.ok(await waitForProcessGone(record.pid), 'the editor is still running');
  assert.ok(readFileSync(path).equals(before), 'the file changed');
  assert.equal(existsSync(record.buffer), false, 'the buffer was left on disk');
});

// --- write at a terminal ----------------------------------------------------------------------------

test('write at a terminal says it reads one line, then saves that line', { timeout: TEST_TIMEOUT_MS, skip: PTY_PROBLEM }, async (t) => {
  const s = setup(t);
  const run = s.start([...s.root, 'smtp', 'write'], { tty: true });
  await waitFor('the hint', () => run.stderrSoFar().includes('\n'));
  assert.match(run.stderrSoFar(), /^hint: reading one line of YAML from the terminal \(Ctrl-D to cancel\); pipe a file for more: gitlab-secrets smtp write < smtp\.yaml\n$/);
  run.subprocess.stdin!.write('password: typed\r');
  const result = await run.result();
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(result.stdout, SAVED);
  assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString(), 'password: typed\n');
});
