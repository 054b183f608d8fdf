/**
 * Issue 4, part 7 (everything but the encrypted file): YAML bombs and 10,000-deep nesting as new content,
 * malformed or unreadable gitlab.yml and secrets.yml, a settings path that is a file, and a 10 MB secret.
 * Every failure is one line on stderr (two for the documented no-EDITOR and unknown Redis instance
 * messages) with no stack trace and no key, a non-zero exit, and nothing written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_BASE } from '../helpers/gitlab_tree.ts';
import {
  EXIT,
  INVALID_YAML_PREFIX,
  NEEDS_PERMISSIONS_ENFORCED,
  SAVED,
  SECRETS,
  TEST_TIMEOUT_MS,
  assertCleanError,
  assertNoKeyLeak,
  randomBytesFrom,
  seededRandom,
  setup,
} from './safety_helpers.ts';

/** The classic billion laughs: 10 levels of 10 aliases, 10^10 "lol"s if expanded. */
function billionLaughs(): string {
  const lines = ['lol0: &lol0 "lol"'];
  for (let i = 1; i <= 10; i++) lines.push(`lol${i}: &lol${i} [${Array.from({ length: 10 }, () => `*lol${i - 1}`).join(', ')}]`);
  lines.push('password: *lol10');
  return `${lines.join('\n')}\n`;
}

/** The same bomb with the aliases in one flow collection and merge keys, as a config file would hold it. */
function billionLaughsConfig(): string {
  const lines = ['production: &base', '  gitlab:', '    host: gitlab.example.com', 'bomb:', '  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
  for (let i = 1; i <= 12; i++) lines.push(`  l${i}: &l${i} [${Array.from({ length: 10 }, () => `*l${i - 1}`).join(', ')}]`);
  return `${lines.join('\n')}\n`;
}

const DEPTH = 10_000;
const deepDocuments: Array<[string, string]> = [
  ['flow sequences', `password: ${'['.repeat(DEPTH)}x${']'.repeat(DEPTH)}\n`],
  ['flow mappings', `password: ${'{a: '.repeat(DEPTH)}x${'}'.repeat(DEPTH)}\n`],
  ['block sequences', `password:\n  ${'- '.repeat(DEPTH)}x\n`],
];

/** A YAML mapping of `size` bytes or a little more, deterministic. */
function hugeSecrets(size: number): Buffer {
  const random = seededRandom(10);
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < size; i++) {
    const line = `key_${String(i).padStart(7, '0')}: "${randomBytesFrom(random, 24).toString('hex')} ✓ zoë"\n`;
    lines.push(line);
    length += Buffer.byteLength(line);
  }
  return Buffer.from(lines.join(''));
}

// --- YAML bombs and deep nesting in new content ----------------------------------------------------

test('write of a billion-laughs document is refused quickly, in one line, and writes nothing', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const result = await s.run([...s.root, 'smtp', 'write'], { input: billionLaughs() });
  assert.ok(result.stdout.startsWith(INVALID_YAML_PREFIX('SMTP')), `stdout: ${result.stdout}`);
  assertCleanError(result, { exitCode: EXIT.INVALID_CONTENT, stdout: result.stdout });
  assert.equal(result.stdout.split('\n').length, 2, `stdout is not one WARNING line: ${result.stdout.slice(0, 500)}`);
  assert.ok(result.durationMs < 20_000, `took ${result.durationMs} ms`);
  assert.deepEqual(s.tree.listSettings(), []);
});

test('write of a billion-laughs document over existing secrets leaves them unchanged', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = readFileSync(path);
  const result = await s.run([...s.root, 'smtp', 'write'], { input: billionLaughs() });
  assertCleanError(result, { exitCode: EXIT.INVALID_CONTENT, stdout: result.stdout });
  assert.ok(readFileSync(path).equals(before), 'the file changed');
});

test('edit to a billion-laughs document is refused without a terminal and saves nothing', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const before = readFileSync(path);
  const editor = s.editor([{ write: billionLaughs() }]);
  const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env });
  assertCleanError(result, { exitCode: EXIT.INVALID_CONTENT, stdout: result.stdout });
  assert.ok(result.stdout.startsWith(INVALID_YAML_PREFIX('SMTP')), `stdout: ${result.stdout}`);
  assert.ok(readFileSync(path).equals(before), 'the file changed');
});

for (const [name, document] of deepDocuments) {
  test(`write of ${DEPTH.toLocaleString('en')}-deep ${name} is refused in one line, without a stack overflow, and writes nothing`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const s = setup(t);
    const result = await s.run([...s.root, 'smtp', 'write'], { input: document });
    assertCleanError(result, { exitCode: EXIT.INVALID_CONTENT, stdout: result.stdout });
    assert.doesNotMatch(result.stderr, /internal error|call stack/i);
    assert.ok(result.stdout.startsWith(INVALID_YAML_PREFIX('SMTP')), `stdout: ${result.stdout.slice(0, 500)}`);
    assert.equal(result.stdout.split('\n').length, 2, `stdout is not one WARNING line: ${result.stdout.slice(0, 500)}`);
    assert.ok(result.durationMs < 20_000, `took ${result.durationMs} ms`);
    assert.deepEqual(s.tree.listSettings(), []);
  });
}

test('a gitlab.yml holding a billion-laughs bomb is read without expanding it', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t, { gitlabYml: billionLaughsConfig() });
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const result = await s.run([...s.root, 'smtp', 'show']);
  assert.ok(result.durationMs < 20_000, `took ${result.durationMs} ms`);
  // Psych loads it (aliases share one object); a one-line refusal naming the file would be safe too.
  if (result.exitCode === 0) {
    assert.equal(result.stdout, SECRETS);
    assert.equal(result.stderr, '');
  } else {
    assertCleanError(result, { exitCode: EXIT.CONFIG, mentions: ['gitlab.yml'] });
  }
});

test(`a gitlab.yml nested ${DEPTH.toLocaleString('en')} deep is one line naming it, or read`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t, { gitlabYml: `production:\n  gitlab:\n    host: x\n  deep: ${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}\n` });
  s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const result = await s.run([...s.root, 'smtp', 'show']);
  assert.ok(result.durationMs < 20_000, `took ${result.durationMs} ms`);
  if (result.exitCode === 0) assert.equal(result.stdout, SECRETS);
  else assertCleanError(result, { exitCode: EXIT.CONFIG, mentions: [join(s.tree.root, 'config', 'gitlab.yml')] });
});

// --- malformed configuration files -----------------------------------------------------------------

const configFiles = ['gitlab.yml', 'secrets.yml'] as const;

for (const file of configFiles) {
  test(`a ${file} of binary garbage is one line naming it, and nothing is written`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const s = setup(t);
    const path = join(s.tree.root, 'config', file);
    writeFileSync(path, randomBytesFrom(seededRandom(file.length), 2048));
    for (const command of ['show', 'write'] as const) {
      const result = await s.run([...s.root, 'smtp', command], { input: SECRETS });
      assertCleanError(result, { exitCode: EXIT.CONFIG, mentions: [path] });
    }
    assert.deepEqual(s.tree.listSettings(), []);
  });

  test(`a directory in place of ${file} is one line naming it`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const s = setup(t);
    const path = join(s.tree.root, 'config', file);
    rmSync(path);
    mkdirSync(path);
    const result = await s.run([...s.root, 'smtp', 'show']);
    assertCleanError(result, { exitCode: EXIT.CONFIG, mentions: [path] });
  });

  test(
    `a ${file} the user cannot read is one line naming it, not a missing file`,
    { timeout: TEST_TIMEOUT_MS, skip: NEEDS_PERMISSIONS_ENFORCED },
    async (t) => {
      const s = setup(t);
      s.tree.writeEncrypted('smtp.yaml.enc', SECRETS);
      s.shareWithNobody();
      chmodSync(s.tree.file('smtp.yaml.enc'), 0o644);
      const path = join(s.tree.root, 'config', file);
      chmodSync(path, 0o600); // root's own (or, not as root, nobody's: 0000 below)
      if (process.getuid?.() !== 0) chmodSync(path, 0o000);
      const result = await s.run([...s.root, 'smtp', 'show'], { unprivileged: true });
      assertCleanError(result, { exitCode: EXIT.CONFIG, mentions: [path] });
    },
  );
}

for (const [name, line] of [
  ['an unterminated quote', `  encrypted_settings_key_base: "${KEY_BASE}\n`],
  ['a tab in the indentation', `\tencrypted_settings_key_base: "${KEY_BASE}"\n`],
  ['a NUL byte after the key', `  encrypted_settings_key_base: "${KEY_BASE}"\u0000\n`],
  ['an unclosed flow sequence', `  encrypted_settings_key_base: [${KEY_BASE}\n`],
] as const) {
  test(`a secrets.yml with ${name} on the key's line is one line that does not show the key`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const s = setup(t, { secretsYml: `production:\n  secret_key_base: 0123456789abcdef\n${line}  other: x\n` });
    const path = join(s.tree.root, 'config', 'secrets.yml');
    const result = await s.run([...s.root, 'smtp', 'show']);
    assertCleanError(result, { exitCode: EXIT.CONFIG, mentions: [path] });
  });
}

// --- a settings path that is a file ----------------------------------------------------------------

for (const command of ['show', 'write', 'edit'] as const) {
  test(`${command} when the settings directory is a file is one clear line and changes nothing`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const s = setup(t, { settingsDir: false });
    mkdirSync(join(s.tree.root, 'shared'));
    writeFileSync(s.tree.settingsDir, 'I am a file\n');
    const editor = s.editor([{ write: SECRETS }]);
    const result = await s.run([...s.root, 'smtp', command], { input: SECRETS, env: editor.env });
    assertCleanError(result, { exitCode: EXIT.CONFIG, mentions: [s.tree.settingsDir, 'not a directory'] });
    assert.equal(readFileSync(s.tree.settingsDir, 'utf8'), 'I am a file\n');
    assert.equal(editor.runs().length, 0, 'the editor ran');
  });
}

test('a settings path in gitlab.yml that names a file is one clear line', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t, { gitlabYml: 'production:\n  encrypted_settings:\n    path: config/secrets.yml\n' });
  const path = join(s.tree.root, 'config', 'secrets.yml');
  const before = readFileSync(path);
  const result = await s.run([...s.root, 'smtp', 'write'], { input: SECRETS });
  assertCleanError(result, { mentions: [path] });
  assert.ok(readFileSync(path).equals(before), 'secrets.yml changed');
});

test('--file below a regular file is one clear line', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const notADir = join(s.work, 'plain-file');
  writeFileSync(notADir, 'x');
  const result = await s.run([...s.root, '--file', join(notADir, 'smtp.yaml.enc'), 'smtp', 'write'], { input: SECRETS });
  assertCleanError(result, { mentions: [notADir] });
  assert.equal(readFileSync(notADir, 'utf8'), 'x');
});

// --- a 10 MB secret --------------------------------------------------------------------------------

test('a 10 MB plaintext written with write is shown back byte for byte', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const input = hugeSecrets(10 * 1024 * 1024);
  const written = await s.run([...s.root, 'smtp', 'write'], { input, timeoutMs: 90_000 });
  assert.equal(written.exitCode, 0, written.stderr.slice(0, 2000));
  assert.equal(written.stdout, SAVED);
  assert.equal(written.stderr, '');
  assert.ok(s.tree.readPlaintext('smtp.yaml.enc').equals(input), 'the stored plaintext differs');
  const shown = await s.run([...s.root, 'smtp', 'show'], { timeoutMs: 90_000 });
  assert.equal(shown.exitCode, 0, shown.stderr.slice(0, 2000));
  assert.equal(shown.stderr, '');
  assert.ok(shown.stdoutBytes.equals(input), `show printed ${shown.stdoutBytes.length} bytes, not the ${input.length} written`);
});

// --- the documented two-line messages --------------------------------------------------------------

test('edit without EDITOR is GitLab\'s line and a hint: line with a runnable command', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const result = await s.run([...s.root, 'smtp', 'edit']);
  assertCleanError(result, {
    exitCode: EXIT.EDITOR,
    lines: 2,
    stderr: 'No $EDITOR specified to open file. Please provide one when running the command:\nhint: gitlab-secrets smtp edit EDITOR=vim\n',
  });
});

test('an unknown Redis instance is exactly two lines on stderr', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const result = await s.run([...s.root, 'redis', 'show', 'no_such_instance']);
  assertCleanError(result, { lines: 2, mentions: ['Specified instance name no_such_instance does not exist.', 'The available instances are '] });
});

test('a wrong key is one line that shows neither key', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = s.tree.writeEncrypted('smtp.yaml.enc', SECRETS, 'a different key base, long enough to use');
  for (const command of ['show', 'edit'] as const) {
    const result = await s.run([...s.root, 'smtp', command], { env: { EDITOR: 'true' } });
    assertCleanError(result, { exitCode: EXIT.DECRYPT, stderr: `Couldn't decrypt ${path}. Perhaps you passed the wrong key?\n` });
    assertNoKeyLeak(result, ['a different key base']);
  }
});
