/**
 * bin/ compiles the CLI bundle with the V8 code cache the build writes beside it (dist/gitlab-secrets.cjs.cache,
 * the bundle's SHA-256 then V8's data). The cache is used only with the bundle it was made from; a stale,
 * corrupt or missing cache costs a compile, never a wrong or failed run.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, PROJECT_ROOT, ensureBuilt } from '../helpers/project.ts';

ensureBuilt();
const work = mkdtempSync(join(tmpdir(), 'gitlab-secrets-code-cache-'));
after(() => rmSync(work, { recursive: true, force: true }));
const DIST = join(PROJECT_ROOT, 'dist');
const DEMO = join(PROJECT_ROOT, 'examples', 'gitlab');

/** A preload that records, for each vm.Script made with cachedData, whether V8 rejected it. */
const PROBE = join(work, 'probe.cjs');
writeFileSync(
  PROBE,
  `const vm = require('node:vm');
const Script = vm.Script;
vm.Script = class extends Script {
  constructor(source, options) {
    super(source, options);
    if (options && options.cachedData) require('node:fs').appendFileSync(process.env.PROBE_LOG, this.cachedDataRejected ? 'rejected\\n' : 'accepted\\n');
  }
};
`,
);

/** A copy of bin/ and dist/ with the given cache file (undefined: none), and what a show of the demo tree gives. */
function showWith(name: string, cache: Buffer | undefined): { stdout: string; stderr: string; status: number | null; probe: string } {
  const dir = join(work, name);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'dist'));
  cpSync(BIN, join(dir, 'bin', 'gitlab-secrets.cjs'));
  for (const file of ['gitlab-secrets.cjs', 'prefetch.cjs']) cpSync(join(DIST, file), join(dir, 'dist', file));
  if (cache) writeFileSync(join(dir, 'dist', 'gitlab-secrets.cjs.cache'), cache);
  const log = join(dir, 'probe.log');
  writeFileSync(log, '');
  const run = spawnSync(process.execPath, ['--require', PROBE, join(dir, 'bin', 'gitlab-secrets.cjs'), '--gitlab-root', DEMO, 'smtp', 'show'], {
    encoding: 'utf8',
    env: { ...process.env, PROBE_LOG: log, GITLAB_ROOT: '', RAILS_ENV: '', GITLAB_ENCRYPTED_SETTINGS_KEY_BASE: '' },
  });
  return { stdout: run.stdout, stderr: run.stderr, status: run.status, probe: readFileSync(log, 'utf8') };
}

const built = readFileSync(join(DIST, 'gitlab-secrets.cjs.cache'));
const hash = createHash('sha256').update(readFileSync(join(DIST, 'gitlab-secrets.cjs'))).digest();

test('the build writes a code cache for the bundle it built, and bin/ uses it', () => {
  assert.ok(built.subarray(0, 32).equals(hash), 'the cache does not start with the SHA-256 of dist/gitlab-secrets.cjs');
  const run = showWith('matching', built);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^user_name: /);
  assert.equal(run.probe, 'accepted\n');
});

test('a cache made for another bundle is never used; a corrupt or missing one costs a compile, not the run', () => {
  const expected = showWith('none', undefined);
  assert.equal(expected.status, 0, expected.stderr);
  assert.equal(expected.probe, '', 'no cache file, yet a cache was handed to V8');
  const stale = Buffer.concat([createHash('sha256').update('another bundle').digest(), built.subarray(32)]);
  const corrupt = Buffer.concat([hash, Buffer.alloc(built.length - 32, 0x5a)]);
  for (const [name, cache, probe] of [
    ['stale', stale, ''],
    ['corrupt', corrupt, 'rejected\n'],
    ['short', Buffer.from('x'), ''],
  ] as const) {
    const run = showWith(name, cache);
    assert.equal(run.status, 0, `${name}: ${run.stderr}`);
    assert.equal(run.stdout, expected.stdout, name);
    assert.equal(run.stderr, '', name);
    assert.equal(run.probe, probe, name);
  }
});
