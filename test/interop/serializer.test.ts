/**
 * Every payload and key GitLab may write (issue 11 §3): Marshal or Rails 7.1's JSON serializer, keys
 * derived with PBKDF2-SHA1 or SHA256. Ruby writes, we read, rotate and write back, Ruby reads with the
 * same serializer and digest. One Ruby process for the whole file (test/interop/serializer_oracle.rb).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Interface } from 'node:readline';
import { after, test } from 'node:test';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EncryptedFile } from '../../src/format/encrypted_file.ts';
import { deriveKey, derivationCount, KeyRing } from '../../src/format/key_generator.ts';
import type { KeyDigest } from '../../src/format/key_generator.ts';
import { dumpJsonString } from '../../src/format/json_string.ts';
import { decryptBody, encryptBody } from '../../src/format/message_encryptor.ts';
import type { Serializer } from '../../src/format/message_encryptor.ts';
import { decryptWithFormat, encrypt } from '../../src/index.ts';
import { runCli } from '../helpers/run_cli.ts';
import { newTree, rootArgs } from '../cli/cli_helpers.ts';
import { requireRubyOrSkip } from './ruby.ts';

const ORACLE = fileURLToPath(new URL('./serializer_oracle.rb', import.meta.url));

type Job = Record<string, string>;
type Answer = { ok: true; body?: string; plaintext_hex?: string; payload_hex?: string; encoding?: string } | { ok: false; error: string; message: string };

/** The one Ruby process of this file, started on first use. */
let ruby: { child: ChildProcessWithoutNullStreams; lines: Interface; waiting: ((line: string) => void)[] } | undefined;

function ask(job: Job): Promise<Answer> {
  if (!ruby) {
    const child = spawn('ruby', [ORACLE], { stdio: ['pipe', 'pipe', 'pipe'] });
    const lines = createInterface({ input: child.stdout });
    const state = { child, lines, waiting: [] as ((line: string) => void)[] };
    lines.on('line', (line) => state.waiting.shift()?.(line));
    ruby = state;
  }
  const { child, waiting } = ruby;
  return new Promise((resolve) => {
    waiting.push((line) => resolve(JSON.parse(line) as Answer));
    child.stdin.write(`${JSON.stringify(job)}\n`);
  });
}

after(() => {
  ruby?.child.stdin.end();
  ruby?.lines.close();
});

const hex = (text: string | Buffer): string => Buffer.from(text).toString('hex');

async function rubyEncrypt(keyBase: string, serializer: string, digest: KeyDigest, plaintext: string | Buffer): Promise<string> {
  const answer = await ask({ op: 'encrypt', key_base: keyBase, serializer, digest, plaintext_hex: hex(plaintext) });
  assert.ok(answer.ok, JSON.stringify(answer));
  return answer.body!;
}

/** Ruby's plaintext, or the exception class it raised. */
async function rubyDecrypt(keyBase: string, serializer: string, digest: KeyDigest, body: string): Promise<Buffer | string> {
  const answer = await ask({ op: 'decrypt', key_base: keyBase, serializer, digest, body });
  return answer.ok ? Buffer.from(answer.plaintext_hex!, 'hex') : answer.error;
}

/** The Rails serializer a GitLab that writes `serializer` reads with: Rails 6.1 Marshal, or 7.1's :json. */
const READER: Record<Serializer, string> = { marshal: 'marshal61', json: 'json' };
const COMBINATIONS: [Serializer, KeyDigest][] = [
  ['marshal', 'sha1'],
  ['marshal', 'sha256'],
  ['json', 'sha1'],
  ['json', 'sha256'],
];
const TEXT = 'user_name: "smtp<&>user"\npassword: "p\\a/s\u2028s \u00e9 \u{1f600}"\nport: 587\n';

function keyBaseFor(t: TestContext): string {
  // A key base of its own per test, so that derivation counts are not shared through the key cache.
  return `${t.name.replace(/\W/g, '').slice(0, 40)}-${'k'.repeat(20)}`;
}

test('our JSON payload is byte for byte ActiveSupport::JSON.encode of the text', async (t) => {
  if (!requireRubyOrSkip(t)) return;
  const keyBase = keyBaseFor(t);
  const texts = [
    TEXT,
    '',
    '<script>&amp;</script> \u2028\u2029',
    'ctl \u0000\u0001\u0008\u0009\u000a\u000b\u000c\u000d\u001f\u007f end',
    '"quoted" \\back\\slash/ slash',
    'ünïcödé \u{10ffff} \u{1f600} \u00a0',
    'x'.repeat(70_000),
  ];
  for (const text of texts) {
    const expected = await ask({ op: 'json_encode', plaintext_hex: hex(text) });
    assert.ok(expected.ok);
    assert.equal(dumpJsonString(Buffer.from(text)).toString('hex'), expected.payload_hex, JSON.stringify(text.slice(0, 40)));
    for (const digest of ['sha1', 'sha256'] as const) {
      const body = encryptBody(Buffer.from(text), deriveKey(keyBase, digest), 'json');
      const payload = await ask({ op: 'payload', key_base: keyBase, digest, body });
      assert.ok(payload.ok);
      assert.equal(payload.payload_hex, expected.payload_hex, `${digest} ${JSON.stringify(text.slice(0, 40))}`);
    }
  }
});

test('text that is not UTF-8 cannot be JSON: Ruby raises, we refuse the same text', async (t) => {
  if (!requireRubyOrSkip(t)) return;
  for (const bytes of [Buffer.from([0xff]), Buffer.from('caf\xe9', 'latin1'), Buffer.from([0xed, 0xa0, 0x80])]) {
    const ruby = await ask({ op: 'json_encode', plaintext_hex: hex(bytes) });
    assert.equal(ruby.ok, false);
    assert.throws(() => dumpJsonString(bytes), /not valid UTF-8/);
  }
});

test('JSON payloads read as ActiveSupport::JSON.decode reads them, hand-made ones included', async (t) => {
  if (!requireRubyOrSkip(t)) return;
  const keyBase = keyBaseFor(t);
  const payloads = [
    '"plain"',
    '"esc \\u003c\\u003e\\u0026 \\u2028 \\/ \\b\\f\\n\\r\\t \\"\\\\"',
    '"pair \\ud83d\\ude00 and \\u00E9"',
    '"lone low \\udc00"',
    '"lone high \\ud800x"',
    '"raw \t tab"',
    '"trailing space" \n',
    '"trailing junk" x',
    '"unterminated',
    Buffer.concat([Buffer.from('"bad '), Buffer.from([0xff, 0xfe]), Buffer.from('"')]),
  ];
  for (const payload of payloads) {
    const body = await rubyEncrypt(keyBase, 'raw', 'sha1', payload);
    const rubyRead = await rubyDecrypt(keyBase, 'json', 'sha1', body);
    let ours: Buffer | string;
    try {
      const decrypted = decryptBody(body, new KeyRing(keyBase));
      assert.equal(decrypted.serializer, 'json');
      ours = decrypted.plaintext;
    } catch (error) {
      ours = (error as Error).name;
    }
    const label = JSON.stringify(payload.toString());
    if (typeof rubyRead === 'string') assert.equal(ours, 'InvalidMessageError', `${label}: Ruby raised ${rubyRead}`);
    else assert.deepEqual(ours, rubyRead, label);
  }
});

for (const [serializer, digest] of COMBINATIONS) {
  test(`${serializer} + PBKDF2-${digest.toUpperCase()}: Ruby writes, we read, rotate and write back, Ruby reads`, async (t) => {
    if (!requireRubyOrSkip(t)) return;
    const tree = newTree(t);
    const keyBase = tree.keyBase!;
    const path = tree.file('smtp.yaml.enc');
    writeFileSync(path, await rubyEncrypt(keyBase, serializer, digest, TEXT));

    const read = await new EncryptedFile({ contentPath: path, keyBase }).read();
    assert.equal(read?.plaintext.toString('utf8'), TEXT);
    assert.equal(read?.serializer, serializer);
    assert.equal(read?.digest, digest);

    const shown = await runCli([...rootArgs(tree), 'smtp', 'show']);
    assert.equal(shown.stdout, TEXT);
    assert.equal(shown.exitCode, 0, shown.stderr);

    const before = readFileSync(path, 'latin1');
    const rotated = await runCli([...rootArgs(tree), 'smtp', 'rotate']);
    assert.equal(rotated.exitCode, 0, rotated.stderr);
    const after = readFileSync(path, 'latin1');
    assert.notEqual(after, before);
    assert.deepEqual(await rubyDecrypt(keyBase, READER[serializer], digest, after), Buffer.from(TEXT));
    // Written the same way: with the other digest (or, for JSON, Rails 6.1's Marshal) Ruby cannot read it.
    assert.equal(typeof (await rubyDecrypt(keyBase, READER[serializer], digest === 'sha1' ? 'sha256' : 'sha1', after)), 'string');

    const next = `${TEXT}user: "second"\n`;
    const written = await runCli([...rootArgs(tree), 'smtp', 'write'], { input: next });
    assert.equal(written.exitCode, 0, written.stderr);
    assert.deepEqual(await rubyDecrypt(keyBase, READER[serializer], digest, readFileSync(path, 'latin1')), Buffer.from(next));
    if (serializer === 'json') {
      // A Rails 7.1 GitLab reads it whatever its message_serializer; Rails 6.1/7.0 could not.
      assert.deepEqual(await rubyDecrypt(keyBase, 'json_allow_marshal', digest, readFileSync(path, 'latin1')), Buffer.from(next));
      assert.deepEqual(await rubyDecrypt(keyBase, 'marshal', digest, readFileSync(path, 'latin1')), Buffer.from(next));
    }
  });
}

test('a new file is Marshal with SHA1, which every GitLab reads; --serializer json chooses JSON', async (t) => {
  if (!requireRubyOrSkip(t)) return;
  const tree = newTree(t);
  const keyBase = tree.keyBase!;
  const path = tree.file('smtp.yaml.enc');
  const created = await runCli([...rootArgs(tree), 'smtp', 'write'], { input: TEXT });
  assert.equal(created.exitCode, 0, created.stderr);
  for (const reader of ['marshal61', 'marshal', 'json_allow_marshal']) {
    assert.deepEqual(await rubyDecrypt(keyBase, reader, 'sha1', readFileSync(path, 'latin1')), Buffer.from(TEXT), reader);
  }
  // Rails 7.1's strict :json does not read Marshal.
  assert.equal(typeof (await rubyDecrypt(keyBase, 'json', 'sha1', readFileSync(path, 'latin1'))), 'string');

  const json = await runCli([...rootArgs(tree), 'smtp', 'rotate', '--serializer', 'json']);
  assert.equal(json.exitCode, 0, json.stderr);
  assert.deepEqual(await rubyDecrypt(keyBase, 'json', 'sha1', readFileSync(path, 'latin1')), Buffer.from(TEXT));
  const back = await runCli([...rootArgs(tree), 'smtp', 'write', '--serializer', 'marshal'], { input: TEXT });
  assert.equal(back.exitCode, 0, back.stderr);
  assert.deepEqual(await rubyDecrypt(keyBase, 'marshal61', 'sha1', readFileSync(path, 'latin1')), Buffer.from(TEXT));
});

test('rotating a text that is not UTF-8 into JSON is refused and the file is untouched', async (t) => {
  if (!requireRubyOrSkip(t)) return;
  const tree = newTree(t);
  const text = Buffer.from('password: "caf\xe9"\n', 'latin1');
  const path = tree.file('smtp.yaml.enc');
  writeFileSync(path, await rubyEncrypt(tree.keyBase!, 'marshal61', 'sha1', text));
  const before = readFileSync(path);
  const result = await runCli([...rootArgs(tree), 'smtp', 'rotate', '--serializer', 'json']);
  assert.equal(result.exitCode, 7);
  assert.match(result.stderr, /^Cannot write .*smtp\.yaml\.enc with the JSON serializer: the text is not valid UTF-8\. Nothing saved\.\nhint: /);
  assert.ok(!result.stderr.includes('caf'), 'no secret in the message');
  assert.deepEqual(readFileSync(path), before);
});

test('each key is derived at most once, and SHA256 only after SHA1 failed with every key', async (t) => {
  if (!requireRubyOrSkip(t)) return;
  const keyBase = keyBaseFor(t);
  const rotated = `${keyBase}-old`;
  const sha1 = await rubyEncrypt(keyBase, 'marshal61', 'sha1', TEXT);
  const sha256 = await rubyEncrypt(keyBase, 'marshal61', 'sha256', TEXT);
  const oldSha256 = await rubyEncrypt(rotated, 'json', 'sha256', TEXT);

  let count = derivationCount();
  const derivedSince = (): number => {
    const now = derivationCount();
    const since = now - count;
    count = now;
    return since;
  };
  const ring = (): KeyRing => new KeyRing(keyBase, [rotated]);
  assert.equal(decryptBody(sha1, ring()).digest, 'sha1');
  assert.equal(derivedSince(), 1, 'the primary SHA1 key only');
  const second = decryptBody(sha256, ring());
  assert.deepEqual([second.keyIndex, second.digest], [0, 'sha256']);
  assert.equal(derivedSince(), 2, 'the rotated SHA1 key, then the primary SHA256 key');
  const third = decryptBody(oldSha256, ring());
  assert.deepEqual([third.keyIndex, third.digest, third.serializer], [1, 'sha256', 'json']);
  assert.equal(derivedSince(), 1, 'the rotated SHA256 key');
  decryptBody(sha1, ring());
  decryptBody(sha256, ring());
  decryptBody(oldSha256, ring());
  assert.equal(derivedSince(), 0, 'every key is cached');
});

test('the library encrypts in any serializer and digest and says how a body was made', async (t) => {
  if (!requireRubyOrSkip(t)) return;
  const keyBase = keyBaseFor(t);
  for (const [serializer, digest] of COMBINATIONS) {
    const body = encrypt(Buffer.from(TEXT), keyBase, { serializer, digest });
    assert.deepEqual(await rubyDecrypt(keyBase, READER[serializer], digest, body), Buffer.from(TEXT), `${serializer} ${digest}`);
    const read = decryptWithFormat(await rubyEncrypt(keyBase, serializer, digest, TEXT), keyBase);
    assert.deepEqual([read.plaintext.toString(), read.serializer, read.digest, read.keyIndex], [TEXT, serializer, digest, 0]);
  }
  // the defaults: Marshal and SHA1
  assert.deepEqual(await rubyDecrypt(keyBase, 'marshal61', 'sha1', encrypt(Buffer.from(TEXT), keyBase)), Buffer.from(TEXT));
});
