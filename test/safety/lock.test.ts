/**
 * Issue 10, part 2: lost updates. Every gitlab-secrets writer takes `.<file>.lock` beside the file around
 * "is it still the file I read? then rename over it", so an edit racing a write (or another edit) can no
 * longer overwrite a change that was acknowledged with "File encrypted and saved.". The settings directory
 * belongs to `git`: a planted symlink or FIFO at the lock path is never followed and never hangs us; a
 * lock left by a dead process is broken; a live one is waited for, a bounded time.
 *
 * After every test, setup() checks that no lock (a dot file) is left in the settings directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, lstatSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT, NEEDS_ROOT, NOBODY, SAVED, SECRETS, TEST_TIMEOUT_MS, assertCleanError, delay, seededRandom, setup, waitFor, waitForSignalGuard } from './safety_helpers.ts';

const LOCK = '.smtp.yaml.enc.lock';
const MINE = 'user_name: "edit"\npassword: "from the edit"\n';
const THEIRS = 'user_name: "write"\npassword: "from the write"\n';
/** Rounds of each race: each spawns three or four Node processes. */
const ROUNDS = Number(process.env['SAFETY_RACE_ROUNDS'] ?? 6);

/** A large edit: encrypting, writing and flushing it takes long enough for a write to land in between. */
const BIG = `user_name: "edit"\nblob: "${'x'.repeat(8 * 1024 * 1024)}"\n`;

test('a write that lands while an edit is being saved is not lost', { timeout: 600_000 }, async (t) => {
  const s = setup(t);
  for (let round = 0; round < Math.ceil(ROUNDS / 2); round++) {
    s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
    // The write is started first and waits for its input, so that it saves within milliseconds of being fed.
    const write = s.start([...s.root, 'smtp', 'write'], { stdinOpen: true });
    await waitForSignalGuard(write.subprocess.pid!);
    const editor = s.editor([{ write: BIG }]);
    const edit = s.start([...s.root, 'smtp', 'edit'], { env: editor.env });
    // The edit's sibling temporary file appears once it has checked the file and is writing the new one.
    const settings = s.tree.settingsDir;
    await waitFor('the edit to start saving', () => readdirSync(settings).some((name) => name.endsWith('.tmp')), 120_000);
    write.subprocess.stdin!.end(THEIRS);
    const [e, w] = await Promise.all([edit.result(), write.result()]);
    assert.equal(w.exitCode, 0, `round ${round}: write: ${w.stderr}`);
    assert.equal(w.stdout, SAVED);
    assert.equal(e.exitCode, 0, `round ${round}: edit: ${e.stderr}`);
    assert.equal(e.stdout, SAVED);
    // Both acknowledged, and the write came last: its text must be the one on disk.
    const final = s.tree.readPlaintext('smtp.yaml.enc').toString();
    assert.ok(final === THEIRS, `round ${round}: lost update: the write was acknowledged, then overwritten by the edit of the older text`);
  }
});

test('an edit racing a write at random moments never loses an acknowledged change', { timeout: 600_000 }, async (t) => {
  const s = setup(t);
  const random = seededRandom(10);
  for (let round = 0; round < ROUNDS; round++) {
    s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
    const editor = s.editor([{ write: MINE }]);
    const edit = s.start([...s.root, 'smtp', 'edit'], { env: editor.env });
    await delay(Math.floor(random() * 500));
    const write = s.start([...s.root, 'smtp', 'write'], { input: THEIRS });
    const [e, w] = await Promise.all([edit.result(), write.result()]);
    assert.equal(w.exitCode, 0, `round ${round}: write failed: ${w.stderr}`);
    assert.equal(w.stdout, SAVED);
    const final = s.tree.readPlaintext('smtp.yaml.enc').toString();
    if (e.exitCode === EXIT.CONFLICT) {
      assert.equal(final, THEIRS, `round ${round}: the edit said nothing was saved, yet the write's text is gone`);
      assert.match(e.stderr, /discarded/, `round ${round}: stderr does not say the edit was discarded`);
      continue;
    }
    assert.equal(e.exitCode, 0, `round ${round}: edit: ${e.stderr}`);
    assert.equal(e.stdout, SAVED);
    if (final === MINE) {
      // The edit saved last: it must have been made from the write's text, or the write was lost.
      const seen = Buffer.from(editor.run(1)!.seen, 'base64').toString();
      assert.equal(seen, THEIRS, `round ${round}: lost update: the write was acknowledged, then overwritten by an edit of the older text`);
    } else {
      assert.equal(final, THEIRS, `round ${round}: neither text is in the file`);
    }
  }
});

test('two concurrent edits never lose an acknowledged edit', { timeout: 600_000 }, async (t) => {
  const s = setup(t);
  const A = 'user_name: "a"\n';
  const B = 'user_name: "b"\n';
  const random = seededRandom(11);
  for (let round = 0; round < ROUNDS; round++) {
    s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
    const editorA = s.editor([{ write: A }]);
    const editorB = s.editor([{ write: B }]);
    const a = s.start([...s.root, 'smtp', 'edit'], { env: editorA.env });
    await delay(Math.floor(random() * 300));
    const b = s.start([...s.root, 'smtp', 'edit'], { env: editorB.env });
    const [ra, rb] = await Promise.all([a.result(), b.result()]);
    for (const r of [ra, rb]) assert.ok([0, EXIT.CONFLICT].includes(r.exitCode), `round ${round}: ${r.exitCode} ${r.stderr}`);
    const final = s.tree.readPlaintext('smtp.yaml.enc').toString();
    if (ra.exitCode === 0 && rb.exitCode === 0) {
      // Both acknowledged: the one saved last must have started from the other's text.
      const [lastEditor, other] = final === A ? [editorA, B] : [editorB, A];
      assert.equal(Buffer.from(lastEditor.run(1)!.seen, 'base64').toString(), other, `round ${round}: an acknowledged edit was lost`);
    } else if (ra.exitCode === 0) {
      assert.equal(final, A, `round ${round}`);
    } else if (rb.exitCode === 0) {
      assert.equal(final, B, `round ${round}`);
    }
  }
});

/** The start time field of /proc/<pid>/stat, as the CLI records it ("0": unknown). */
function startTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '0';
  } catch {
    return '0';
  }
}

test('a lock held by a live gitlab-secrets is waited for, then a clear error; nothing saved', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = readFileSync(path);
  const lock = join(s.tree.settingsDir, LOCK);
  writeFileSync(lock, `${process.pid} ${startTime(process.pid)}\n`, { mode: 0o600 });
  t.after(() => rmSync(lock, { force: true }));
  const result = await s.run([...s.root, 'smtp', 'write'], { input: THEIRS, env: { GITLAB_SECRETS_LOCK_TIMEOUT: '2' } });
  // The note that it waits, then the error.
  assertCleanError(result, { exitCode: EXIT.CONFLICT, lines: 2, mentions: [lock, `pid ${process.pid}`, 'nothing saved'] });
  assert.match(result.stderr.split('\n')[0]!, /^note: waiting for /);
  assert.ok(readFileSync(path).equals(before), 'the file changed while another held its lock');
  assert.equal(readFileSync(lock, 'utf8'), `${process.pid} ${startTime(process.pid)}\n`, "the other's lock was touched");
  rmSync(lock);
});

test("a live lock another user made (git planting one, or a run as git) names its owner", { timeout: TEST_TIMEOUT_MS, skip: NEEDS_ROOT }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const lock = join(s.tree.settingsDir, LOCK);
  writeFileSync(lock, `${process.pid} ${startTime(process.pid)}\n`, { mode: 0o600 });
  chownSync(lock, NOBODY!.uid, NOBODY!.gid);
  s.allowInSettings(LOCK);
  t.after(() => rmSync(lock, { force: true }));
  const result = await s.run([...s.root, 'smtp', 'write'], { input: THEIRS, env: { GITLAB_SECRETS_LOCK_TIMEOUT: '1' } });
  assertCleanError(result, { exitCode: EXIT.CONFLICT, mentions: [lock, `pid ${process.pid}, lock owned by nobody`] });
  assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString(), SECRETS);
});

test('a write waiting for a lock saves as soon as it is released', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const lock = join(s.tree.settingsDir, LOCK);
  writeFileSync(lock, `${process.pid} ${startTime(process.pid)}\n`, { mode: 0o600 });
  // In this process: the CLI waits for the lock on a timer, so the test runs meanwhile.
  const run = s.startInProcess([...s.root, 'smtp', 'write'], { input: THEIRS });
  await waitFor('the note that it waits', () => run.stderrSoFar().includes('note: waiting for'));
  assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString(), SECRETS, 'it saved while the lock was held');
  rmSync(lock);
  const result = await run.result();
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString(), THEIRS);
});

test("a lock left by a process that is gone is broken, and the write saves", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const dead = Number(execFileSync('sh', ['-c', 'sh -c "echo \\$\\$"'], { encoding: 'utf8' }).trim());
  writeFileSync(join(s.tree.settingsDir, LOCK), `${dead} 12345\n`, { mode: 0o600 });
  const result = await s.run([...s.root, 'smtp', 'write'], { input: THEIRS });
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(result.stderr, '');
  assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString(), THEIRS);
  assert.equal(existsSync(join(s.tree.settingsDir, LOCK)), false, 'the stale lock is still there');
});

test('a lock whose pid now belongs to a later process is stale', { timeout: TEST_TIMEOUT_MS, skip: !existsSync('/proc/self/stat') && 'no /proc' }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  // Our own pid is alive, but it did not start at tick 1.
  writeFileSync(join(s.tree.settingsDir, LOCK), `${process.pid} 1\n`, { mode: 0o600 });
  const result = await s.run([...s.root, 'smtp', 'write'], { input: THEIRS, env: { GITLAB_SECRETS_LOCK_TIMEOUT: '5' } });
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString(), THEIRS);
});

test('an empty lock file (its creator died before writing its pid) is broken once it is old', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const lock = join(s.tree.settingsDir, LOCK);
  writeFileSync(lock, '', { mode: 0o600 });
  const old = new Date(Date.now() - 60_000);
  utimesSync(lock, old, old);
  const result = await s.run([...s.root, 'smtp', 'write'], { input: THEIRS });
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString(), THEIRS);
});

test('a symlink planted at the lock path is never followed nor removed', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = readFileSync(path);
  const victim = join(s.work, 'root-owned-file');
  writeFileSync(victim, 'precious\n', { mode: 0o644 });
  const lock = join(s.tree.settingsDir, LOCK);
  symlinkSync(victim, lock);
  s.allowInSettings(LOCK);
  t.after(() => rmSync(lock, { force: true }));
  const dangling = join(s.work, 'does-not-exist');
  for (const target of [victim, dangling]) {
    rmSync(lock, { force: true });
    symlinkSync(target, lock);
    const result = await s.run([...s.root, 'smtp', 'write'], { input: THEIRS, env: { GITLAB_SECRETS_LOCK_TIMEOUT: '2' } });
    assertCleanError(result, { exitCode: EXIT.CONFLICT, lines: 2, mentions: [lock, 'not a gitlab-secrets lock'] });
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n', 'the symlink was followed');
    assert.equal(existsSync(dangling), false, 'the dangling symlink was followed');
    assert.ok(lstatSync(lock).isSymbolicLink(), 'the planted symlink was removed or replaced');
    assert.ok(readFileSync(path).equals(before), 'the file was saved without the lock');
  }
});

test('a stale lock with a breaker planted as a directory is waited for, then a clear error: never a spin deaf to signals', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const dead = Number(execFileSync('sh', ['-c', 'sh -c "echo \\$\\$"'], { encoding: 'utf8' }).trim());
  const lock = join(s.tree.settingsDir, LOCK);
  writeFileSync(lock, `${dead} 12345\n`, { mode: 0o600 });
  for (const breaker of ['directory', 'file from the future'] as const) {
    const path = `${lock}.break`;
    rmSync(path, { recursive: true, force: true });
    if (breaker === 'directory') execFileSync('mkdir', [path]);
    else execFileSync('touch', ['-d', '2099-01-01', path]);
    s.allowInSettings(LOCK);
    s.allowInSettings(`${LOCK}.break`);
    t.after(() => rmSync(path, { recursive: true, force: true }));
    // A real process: on a regression the spin would block an in-process run, and the whole test file with it.
    const result = await s.run([...s.root, 'smtp', 'write'], { input: THEIRS, env: { GITLAB_SECRETS_LOCK_TIMEOUT: '1' }, timeoutMs: 20_000, spawn: true });
    assertCleanError(result, { exitCode: EXIT.CONFLICT, mentions: [lock, '.break'] });
    assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString(), SECRETS, `saved past a ${breaker} breaker`);
  }
});

test('a FIFO planted at the lock path does not hang the CLI', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const lock = join(s.tree.settingsDir, LOCK);
  execFileSync('mkfifo', [lock]);
  s.allowInSettings(LOCK);
  t.after(() => rmSync(lock, { force: true }));
  const result = await s.run([...s.root, 'smtp', 'write'], { input: THEIRS, env: { GITLAB_SECRETS_LOCK_TIMEOUT: '2' }, timeoutMs: 20_000 });
  assertCleanError(result, { exitCode: EXIT.CONFLICT, lines: 2, mentions: [lock] });
  assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString(), SECRETS);
});

test('SIGTERM while waiting for the lock exits 143, saves nothing and leaves the other lock alone', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const lock = join(s.tree.settingsDir, LOCK);
  const content = `${process.pid} ${startTime(process.pid)}\n`;
  writeFileSync(lock, content, { mode: 0o600 });
  t.after(() => rmSync(lock, { force: true }));
  const run = s.start([...s.root, 'smtp', 'write'], { input: THEIRS });
  await waitFor('the note that it waits', () => run.stderrSoFar().includes('note: waiting for'));
  await waitForSignalGuard(run.subprocess.pid!);
  run.subprocess.kill('SIGTERM');
  const result = await run.result();
  assert.equal(result.exitCode, EXIT.SIGTERM, result.stderr);
  assert.ok(result.stderr.endsWith('Aborted changing file: nothing saved.\n'), result.stderr);
  assert.equal(s.tree.readPlaintext('smtp.yaml.enc').toString(), SECRETS);
  assert.equal(readFileSync(lock, 'utf8'), content, "the other's lock was touched");
  rmSync(lock);
});
