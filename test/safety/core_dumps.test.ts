/**
 * A crash during `edit` cannot write the plaintext (or the key) to a core file. Node cannot set
 * RLIMIT_CORE; the CLI has util-linux's `prlimit` lower both limits to 0 for itself, and so for the editor it
 * starts, unless they are 0 already.
 *
 * An edit run in-process lowers the limits of the test process itself, for good (only a privileged process
 * may raise them again), and every CLI it starts afterwards inherits them: the first test here would then
 * prove nothing. So this file needs a process where no edit ran in-process before it: scripts/test.mjs runs
 * it with the lock races, whose edits are all real processes. It fails, not passes, when that is broken.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { shellWord } from '../helpers/project.ts';
import { SAVED, SECRETS, TEST_TIMEOUT_MS, setup, waitFor } from './safety_helpers.ts';

const MINE = 'user_name: "me"\npassword: "my edit"\n';

/** RLIMIT_CORE of a process, soft and hard as /proc shows them: "0 unlimited", "0 0". */
function coreLimits(pid: number | 'self'): string {
  return /^Max core file size\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))!.slice(1).join(' ');
}

/** Why these tests cannot run here, or false. */
function prlimitProblem(): string | false {
  if (!existsSync('/proc/self/limits')) return 'no /proc';
  try {
    execFileSync('prlimit', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'no prlimit (util-linux)';
  }
  return false;
}

const PROBLEM = prlimitProblem();
/** This process's limits as it started: read when the file loads, before any test of the process runs. */
const INHERITED = PROBLEM ? '' : coreLimits('self');

/**
 * A `prlimit` first on PATH that logs its arguments, then runs the real one (`real`, for the test's own
 * wrapper): shows whether the CLI started one, and the CLI still gets its limits set. The CLI finds prlimit
 * through PATH; one that ran a fixed path would fail these tests, and they would need another way to watch.
 */
function recordingPrlimit(dir: string): { path: string; real: string; calls: () => string[] } {
  const real = execFileSync('sh', ['-c', 'command -v prlimit'], { encoding: 'utf8' }).trim();
  const log = join(dir, 'prlimit.log');
  mkdirSync(join(dir, 'prlimit-bin'), { mode: 0o755 });
  writeFileSync(join(dir, 'prlimit-bin', 'prlimit'), `#!/bin/sh\necho "$*" >> ${shellWord(log)}\nexec ${shellWord(real)} "$@"\n`, { mode: 0o755 });
  return {
    path: `${join(dir, 'prlimit-bin')}${delimiter}${process.env['PATH'] ?? ''}`,
    real,
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
  };
}

/**
 * The limits a CLI starts with, as `prlimit --core=` takes them: the soft limit raised to the hard one (no
 * privilege needed), and the soft limit 0 under a hard one that is not (most systems' default, where an
 * editor could raise its own soft limit again).
 */
const STARTS = [
  { name: 'allowed', limits: (hard: string) => `${hard}:${hard}` },
  { name: 'off, soft limit only', limits: (hard: string) => `0:${hard}` },
];

for (const start of STARTS) {
  test(`edit runs with core dumps disabled (started ${start.name}), so a crash cannot dump the plaintext`, { timeout: TEST_TIMEOUT_MS, skip: PROBLEM }, async (t) => {
    const [, hard] = INHERITED.split(' ');
    if (hard === '0') {
      t.skip('core dumps are off where the tests run (hard limit 0): nothing left for edit to lower');
      return;
    }
    assert.equal(coreLimits('self'), INHERITED, 'an edit ran in-process before this test and lowered its limits: run this file apart (scripts/test.mjs)');
    const s = setup(t);
    s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
    const prlimit = recordingPrlimit(s.work);
    const editor = s.editor([{ write: MINE, sleepMs: 1500 }]);
    const run = s.start([...s.root, 'smtp', 'edit'], { env: { ...editor.env, PATH: prlimit.path }, wrapper: [prlimit.real, `--core=${start.limits(hard!)}`] });
    const record = await waitFor('the editor to run', () => editor.run(1));
    assert.equal(coreLimits(record.ppid), '0 0', 'the CLI may dump core');
    assert.equal(coreLimits(record.pid), '0 0', 'the editor may dump core');
    const result = await run.result();
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout, SAVED);
    assert.deepEqual(prlimit.calls(), [`--pid ${result.pid} --core=0:0`]);
  });
}

test('edit starts no prlimit where core dumps are off already (hard limit 0)', { timeout: TEST_TIMEOUT_MS, skip: PROBLEM }, async (t) => {
  const s = setup(t);
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const prlimit = recordingPrlimit(s.work);
  const editor = s.editor([{ write: MINE, sleepMs: 500 }]);
  const run = s.start([...s.root, 'smtp', 'edit'], { env: { ...editor.env, PATH: prlimit.path }, wrapper: [prlimit.real, '--core=0:0'] });
  const record = await waitFor('the editor to run', () => editor.run(1));
  assert.equal(coreLimits(record.ppid), '0 0');
  assert.equal(coreLimits(record.pid), '0 0');
  const result = await run.result();
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(result.stdout, SAVED);
  assert.deepEqual(prlimit.calls(), []);
});
