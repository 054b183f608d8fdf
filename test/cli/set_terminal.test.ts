/**
 * `set` on a terminal: it prompts on stderr, asks twice, saves a match as a string, refuses a mismatch and
 * treats Ctrl-C as an interrupt; the value never reaches stdout or stderr. A real pseudo-terminal
 * (test/safety/pty_bridge.py) is stdin, so these run as real processes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BIN, ensureBuilt } from '../helpers/run_cli.ts';
import { newTree, rootArgs } from './cli_helpers.ts';

const BRIDGE = fileURLToPath(new URL('../safety/pty_bridge.py', import.meta.url));

/** Run the CLI with a terminal as stdin; type `keys` once the first prompt is on stderr. */
async function typed(args: readonly string[], keys: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  ensureBuilt();
  const child = spawn('python3', ['-S', BRIDGE, process.execPath, BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let sent = false;
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    if (!sent && stderr.includes('Value (not shown): ')) {
      sent = true;
      child.stdin.write(keys);
    }
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  clearTimeout(killer);
  child.stdin.destroy();
  return { status, stdout, stderr };
}

test('set on a terminal asks twice without showing the value, and saves it as a string', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', "# comment\npassword: 'old'\n");
  const result = await typed([...rootArgs(tree), 'smtp', 'set', 'password'], '0777\r0777\r');
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, 'File encrypted and saved.\n');
  assert.equal(result.stderr, 'Value (not shown): \nThe same again: \n');
  assert.equal(tree.readPlaintext('smtp.yaml.enc').toString(), "# comment\npassword: '0777'\n");
});

test('set on a terminal refuses two different answers and Ctrl-C, saving nothing', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', "password: 'old'\n");
  const before = readFileSync(path);
  const mismatch = await typed([...rootArgs(tree), 'smtp', 'set', 'password'], 'first-secret\rsecond-secret\r');
  assert.equal(mismatch.status, 7);
  assert.match(mismatch.stderr, /The two values typed do not match: nothing saved\.\n$/);
  assert.ok(!mismatch.stderr.includes('secret\n') && !mismatch.stdout.includes('secret'), 'a value was shown');
  const interrupted = await typed([...rootArgs(tree), 'smtp', 'set', 'password'], 'half\u0003');
  assert.equal(interrupted.status, 130);
  assert.match(interrupted.stderr, /Aborted changing file: nothing saved\.\n$/);
  assert.deepEqual(readFileSync(path), before);
});
