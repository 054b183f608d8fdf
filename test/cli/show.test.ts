/** `show`: the stored plaintext bytes, exactly, for every namespace spelling; rotation; ActiveSupport vectors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { runCli } from '../helpers/run_cli.ts';
import type { TestContext } from 'node:test';
import { OTHER_KEY_BASE } from '../helpers/gitlab_tree.ts';
import type { GitlabTree } from '../helpers/gitlab_tree.ts';
import { VECTORS } from '../helpers/vectors.ts';
import type { Vector } from '../helpers/vectors.ts';
import {
  assertFailsWith,
  assertSucceedsWith,
  couldNotDecrypt,
  doesNotExistHint,
  newTree,
  rootArgs,
  runCliClosingStdout,
} from './cli_helpers.ts';

const SECRETS = 'user_name: "smtp-user"\npassword: "hunter2"\n';

/** [name, stored plaintext, expected stdout] */
const byteCases: Array<[string, Buffer, Buffer]> = [
  [
    'invalid UTF-8 bytes',
    Buffer.from([0x70, 0x3a, 0x20, 0x27, 0xff, 0xfe, 0xc3, 0x28, 0x27, 0x0a]),
    Buffer.from([0x70, 0x3a, 0x20, 0x27, 0xff, 0xfe, 0xc3, 0x28, 0x27, 0x0a]),
  ],
  ['CRLF line ends', Buffer.from('a: 1\r\nb: 2\r\n'), Buffer.from('a: 1\r\nb: 2\r\n')],
  ['no final newline (one is added)', Buffer.from('a: 1\nb: 2'), Buffer.from('a: 1\nb: 2\n')],
  ['a final CR without LF (an LF is added)', Buffer.from('a: 1\r'), Buffer.from('a: 1\r\n')],
  ['a final newline (not doubled)', Buffer.from('a: 1\n'), Buffer.from('a: 1\n')],
  ['several final newlines (kept as they are)', Buffer.from('a: 1\n\n\n'), Buffer.from('a: 1\n\n\n')],
  ['a byte order mark', Buffer.from('\uFEFFa: 1\n'), Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from('a: 1\n')])],
  ['multi-byte UTF-8', Buffer.from('name: "Zoë ✓ 日本 🎉"\n'), Buffer.from('name: "Zoë ✓ 日本 🎉"\n')],
  ['leading and trailing spaces', Buffer.from('  a: 1  \n  '), Buffer.from('  a: 1  \n  \n')],
];

for (const [name, stored, expected] of byteCases) {
  test(`show prints ${name} byte for byte`, async (t) => {
    const tree = newTree(t);
    tree.writeEncrypted('smtp.yaml.enc', stored);
    const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
    assert.equal(result.stderr, '');
    assert.equal(result.exitCode, 0);
    assert.deepEqual([...result.stdoutBytes], [...expected]);
  });
}

test('show prints a long plaintext (multi-byte Marshal length) exactly', async (t) => {
  const tree = newTree(t);
  const stored = Buffer.from(Array.from({ length: 3000 }, (_, i) => `key_${i}: "${'v'.repeat(i % 50)}"\n`).join(''));
  tree.writeEncrypted('smtp.yaml.enc', stored);
  // The real bin through a real pipe: a long stdout must arrive whole before the process exits.
  const result = await runCli([...rootArgs(tree), 'smtp', 'show'], { spawn: true });
  assert.equal(result.exitCode, 0);
  assert.equal(result.stderr, '');
  assert.ok(result.stdoutBytes.equals(stored), 'stdout differs from the stored plaintext');
});

test('show into a pipe closed early (| head -1) prints no stack trace', async (t) => {
  const tree = newTree(t);
  const stored = Buffer.from(Array.from({ length: 40_000 }, (_, i) => `key_${i}: "${'v'.repeat(40)}"\n`).join(''));
  tree.writeEncrypted('smtp.yaml.enc', stored);
  const result = await runCliClosingStdout([...rootArgs(tree), 'smtp', 'show']);
  assert.doesNotMatch(result.stderr, /^\s+at /m, `stack trace on stderr: ${result.stderr}`);
  assert.doesNotMatch(result.stderr, /EPIPE|Unhandled/, `raw error on stderr: ${result.stderr}`);
  assert.notEqual(result.signal, 'SIGKILL', 'the CLI hung');
});

/** [arguments naming the namespace and show, file name] */
const spellings: Array<[string[], string]> = [
  [['smtp', 'show'], 'smtp.yaml.enc'],
  [['service-desk-email', 'show'], 'service_desk_email.yaml.enc'],
  [['service_desk_email', 'show'], 'service_desk_email.yaml.enc'],
  [['gitlab:smtp:secret:show'], 'smtp.yaml.enc'],
  [['gitlab:service_desk_email:secret:show'], 'service_desk_email.yaml.enc'],
];

for (const [args, fileName] of spellings) {
  test(`show as "${args.join(' ')}" reads ${fileName} and only that file`, async (t) => {
    const tree = newTree(t);
    // Both files exist with different contents, so reading the wrong one cannot pass.
    tree.writeEncrypted('smtp.yaml.enc', 'user_name: "smtp"\n');
    tree.writeEncrypted('service_desk_email.yaml.enc', 'user: "service-desk"\n');
    const expected = fileName === 'smtp.yaml.enc' ? 'user_name: "smtp"\n' : 'user: "service-desk"\n';
    const result = await runCli([...rootArgs(tree), ...args]);
    assertSucceedsWith(result, expected);
  });
}

test('show does not fall back to another namespace when its own file is absent', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  const result = await runCli([...rootArgs(tree), 'service_desk_email', 'show']);
  assert.equal(result.exitCode, 0);
  assert.equal(result.stderr, '');
  assert.ok(result.stdout.startsWith(`File '${tree.file('service_desk_email.yaml.enc')}' does not exist.`), result.stdout);
});

test('show through the rake name prints the same hint for an absent file', async (t) => {
  const tree = newTree(t);
  const result = await runCli([...rootArgs(tree), 'gitlab:smtp:secret:show']);
  assertSucceedsWith(result, `${doesNotExistHint(tree.file('smtp.yaml.enc'), 'smtp')}\n`);
});

test('show reads a body with one trailing newline and warns on stderr', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', SECRETS);
  writeFileSync(path, `${readFileSync(path, 'latin1')}\n`, 'latin1');
  const before = readFileSync(path);
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assert.equal(result.exitCode, 0);
  assert.equal(result.stdout, SECRETS);
  assert.notEqual(result.stderr, '', 'no warning on stderr');
  assert.ok(result.stderr.includes('write'), `the warning should point to write: ${result.stderr}`);
  assert.ok(readFileSync(path).equals(before), 'show must not rewrite the file');
});

test('show reads a file written with a rotated key listed in secrets.yml', async (t) => {
  const tree = newTree(t, { rotatedKeyBases: [OTHER_KEY_BASE] });
  tree.writeEncrypted('smtp.yaml.enc', SECRETS, OTHER_KEY_BASE);
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assertSucceedsWith(result, SECRETS);
});

test('show tries every rotated key in order', async (t) => {
  const third = 'ffeeddccbbaa99887766554433221100'.repeat(4);
  const tree = newTree(t, { rotatedKeyBases: [OTHER_KEY_BASE, third] });
  tree.writeEncrypted('smtp.yaml.enc', SECRETS, third);
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assertSucceedsWith(result, SECRETS);
});

test('show of a file written with the old key fails when the key is not listed as rotated', async (t) => {
  const tree = newTree(t);
  const path = tree.writeEncrypted('smtp.yaml.enc', SECRETS, OTHER_KEY_BASE);
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assertFailsWith(result, couldNotDecrypt(path));
});

test('show does not modify the encrypted file', async (t) => {
  const tree = newTree(t, { rotatedKeyBases: [OTHER_KEY_BASE] });
  const path = tree.writeEncrypted('smtp.yaml.enc', SECRETS, OTHER_KEY_BASE);
  const before = readFileSync(path);
  const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
  assert.equal(result.exitCode, 0);
  assert.ok(readFileSync(path).equals(before));
  assert.deepEqual(tree.listSettings(), ['smtp.yaml.enc']);
});

// --- ActiveSupport 6.1 vectors (SPEC "Vectors"), through the CLI --------------------------------------

const vectors = VECTORS;

function vectorTree(t: TestContext, vector: Vector): GitlabTree {
  return newTree(t, { keyBase: vector.key_base, rotatedKeyBases: vector.rotated_key_bases });
}

for (const vector of vectors) {
  if (vector.expect === 'ok') {
    test(`show prints the plaintext of ActiveSupport vector ${vector.name}`, async (t) => {
      const tree = vectorTree(t, vector);
      const path = tree.file('smtp.yaml.enc');
      writeFileSync(path, vector.body, 'latin1');
      const plaintext = Buffer.from(vector.plaintext_hex, 'hex');
      const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
      assert.equal(result.stderr, '');
      assert.equal(result.exitCode, 0);
      if (plaintext.toString('latin1').trim() === '') {
        assert.equal(result.stdout, `${doesNotExistHint(path, 'smtp')}\n`);
      } else {
        const expected = plaintext.at(-1) === 0x0a ? plaintext : Buffer.concat([plaintext, Buffer.from('\n')]);
        assert.ok(result.stdoutBytes.equals(expected), `stdout ${result.stdoutBytes.toString('hex')}`);
      }
    });
  } else if (vector.expect === 'invalid') {
    test(`show refuses ActiveSupport vector ${vector.name} as undecryptable`, async (t) => {
      const tree = vectorTree(t, vector);
      const path = tree.file('smtp.yaml.enc');
      writeFileSync(path, vector.body, 'latin1');
      const result = await runCli([...rootArgs(tree), 'smtp', 'show']);
      assertFailsWith(result, couldNotDecrypt(path));
    });
  }
}
