/**
 * `rotate` against the real ActiveSupport: a file Ruby encrypted with the old key base is re-encrypted by
 * the CLI so that Ruby reads it with only the new key base, to exactly the original bytes, and Ruby with
 * only the old key base no longer can (test/interop/oracle.rb).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { KEY_BASE, OTHER_KEY_BASE, makeGitlabTree } from '../helpers/gitlab_tree.ts';
import { runCli } from '../helpers/run_cli.ts';
import { outcome, requireRubyOrSkip, rubyBatch } from './ruby.ts';
import type { OracleJob, OracleResult, RubyEncoding } from './ruby.ts';

const OLD_KEY = KEY_BASE;
const NEW_KEY = OTHER_KEY_BASE;

/** Bytes a decode/re-encode would change: invalid UTF-8, CRLF, a BOM, no final newline. */
const PLAINTEXT = Buffer.concat([
  Buffer.from([0xef, 0xbb, 0xbf]),
  Buffer.from('user_name: "smtp-user"\r\npassword: "'),
  Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x80]),
  Buffer.from('"\r\nnote: "Zoë ✓"'),
]);

function okPlaintext(result: OracleResult | undefined, label: string): Buffer {
  assert.ok(result, `no result for ${label}`);
  if (!result.ok) assert.fail(`ActiveSupport failed on ${label}: ${result.error}: ${result.message}`);
  assert.ok(result.plaintext, `no plaintext for ${label}`);
  return result.plaintext;
}

function okBody(result: OracleResult | undefined, label: string): string {
  assert.ok(result, `no result for ${label}`);
  if (!result.ok) assert.fail(`ActiveSupport failed on ${label}: ${result.error}: ${result.message}`);
  assert.ok(result.body, `no body for ${label}`);
  return result.body;
}

function assertSameBytes(actual: Buffer, expected: Buffer, label: string): void {
  assert.ok(actual.equals(expected), `${label}: got ${actual.toString('hex')}, expected ${expected.toString('hex')}`);
}

test('a file ActiveSupport wrote with the old key base, rotated, is read by ActiveSupport with only the new key base', async (t) => {
  if (!requireRubyOrSkip(t)) return;
  const tree = makeGitlabTree({ keyBase: NEW_KEY, rotatedKeyBases: [OLD_KEY] });
  t.after(() => tree.remove());
  const path = tree.file('smtp.yaml.enc');

  const [encrypted] = rubyBatch([{ op: 'encrypt', keyBase: OLD_KEY, plaintext: PLAINTEXT }]);
  const before = okBody(encrypted, 'encrypt with the old key');
  writeFileSync(path, before, 'latin1');

  const result = await runCli(['--gitlab-root', tree.root, 'smtp', 'rotate']);
  assert.equal(result.stderr, '');
  assert.equal(result.exitCode, 0);
  assert.equal(result.stdout, `Re-encrypted ${path} with the primary key (it was readable with rotated key 1).\n`);

  const after = readFileSync(path, 'latin1');
  assert.notEqual(after, before, 'the file was not rewritten');
  assert.ok(!after.endsWith('\n'), 'the body ends with a newline, which strict base64 in Rails rejects');

  const [withNew, withOld, beforeWithOld, beforeWithNew] = rubyBatch([
    { op: 'decrypt', keyBase: NEW_KEY, body: after },
    { op: 'decrypt', keyBase: OLD_KEY, body: after },
    { op: 'decrypt', keyBase: OLD_KEY, body: before },
    { op: 'decrypt', keyBase: NEW_KEY, body: before },
  ]);
  // The oracle itself: the original body was on the old key and not on the new one.
  assertSameBytes(okPlaintext(beforeWithOld, 'original with the old key'), PLAINTEXT, 'original body');
  assert.equal(outcome(beforeWithNew), 'ActiveSupport::MessageEncryptor::InvalidMessage');

  assertSameBytes(okPlaintext(withNew, 'rotated body with the new key only'), PLAINTEXT, 'after rotate');
  assert.equal(outcome(withOld), 'ActiveSupport::MessageEncryptor::InvalidMessage', 'the old key still reads the rotated file');
});

test('rotate --all re-encrypts files ActiveSupport wrote in every string encoding, keeping their bytes', async (t) => {
  if (!requireRubyOrSkip(t)) return;
  const tree = makeGitlabTree({ keyBase: NEW_KEY, rotatedKeyBases: [OLD_KEY] });
  t.after(() => tree.remove());

  const cases: Array<[string, Buffer, RubyEncoding]> = [
    ['smtp.yaml.enc', PLAINTEXT, 'UTF-8'],
    ['ldap.yaml.enc', Buffer.from([0x6d, 0x61, 0x69, 0x6e, 0x3a, 0x20, 0x00, 0xff, 0x0d, 0x0a]), 'BINARY'],
    ['incoming_email.yaml.enc', Buffer.from('user: "incoming@example.com"\npassword: "ascii"\n'), 'US-ASCII'],
    // "パスワード: x" in Shift_JIS.
    ['service_desk_email.yaml.enc', Buffer.from('83708358838f815b83683a20780a', 'hex'), 'Shift_JIS'],
  ];
  const encrypted = rubyBatch(
    cases.map(([, plaintext, encoding]): OracleJob => ({ op: 'encrypt', keyBase: OLD_KEY, plaintext, encoding })),
  );
  cases.forEach(([name, , encoding], i) => writeFileSync(tree.file(name), okBody(encrypted[i], `${name} (${encoding})`), 'latin1'));

  const result = await runCli(['--gitlab-root', tree.root, 'rotate', '--all']);
  assert.equal(result.stderr, '');
  assert.equal(result.exitCode, 0);
  assert.ok(result.stdout.endsWith(`Re-encrypted ${cases.length} files.\n`), result.stdout);

  const jobs: OracleJob[] = cases.flatMap(([name]): OracleJob[] => {
    const body = readFileSync(tree.file(name), 'latin1');
    return [
      { op: 'decrypt', keyBase: NEW_KEY, body },
      { op: 'decrypt', keyBase: OLD_KEY, body },
    ];
  });
  const results = rubyBatch(jobs);
  cases.forEach(([name, plaintext, encoding], i) => {
    assertSameBytes(okPlaintext(results[2 * i], `${name} with the new key`), plaintext, `${name} (${encoding})`);
    assert.equal(outcome(results[2 * i + 1]), 'ActiveSupport::MessageEncryptor::InvalidMessage', `${name}: the old key still reads it`);
  });
});
