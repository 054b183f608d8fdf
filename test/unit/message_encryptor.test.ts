import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveKey, KeyRing, ITERATIONS } from '../../src/format/key_generator.ts';
import { BASE64, decryptBody, encryptBody, decodeStrictBase64, IV_LENGTH, AUTH_TAG_LENGTH } from '../../src/format/message_encryptor.ts';
import { BaseKeyTooSmallError, InvalidMessageError } from '../../src/errors.ts';
import { pbkdf2Sync, createCipheriv } from 'node:crypto';
import { dumpString } from '../../src/format/marshal.ts';

const KEY_BASE = 'k'.repeat(64);
const ring = new KeyRing(KEY_BASE);

test('deriveKey is PBKDF2-HMAC-SHA1 of the key base text, not of its hex decoding', () => {
  const hexBase = 'ab'.repeat(64);
  const expected = pbkdf2Sync(Buffer.from(hexBase, 'utf8'), 'GitLabEncryptedConfigSalt', ITERATIONS, 32, 'sha1');
  assert.ok(deriveKey(hexBase).equals(expected));
  assert.ok(!deriveKey(hexBase).equals(pbkdf2Sync(Buffer.from(hexBase, 'hex'), 'GitLabEncryptedConfigSalt', ITERATIONS, 32, 'sha1')));
});

test('deriveKey refuses blank key bases and ones under 16 characters', () => {
  for (const base of ['', ' '.repeat(20), '\u3000'.repeat(16), 'x'.repeat(15), 'ü'.repeat(15)]) {
    assert.throws(() => deriveKey(base), (error: unknown) => error instanceof BaseKeyTooSmallError && error.message === 'Base key too small');
  }
  // 16 characters that take more than 16 UTF-16 units or bytes are enough
  assert.equal(deriveKey('ü'.repeat(16)).length, 32);
  assert.equal(deriveKey('😀'.repeat(16)).length, 32);
});

test('KeyRing checks rotated key bases too, and derives keys only when asked', () => {
  assert.throws(() => new KeyRing(KEY_BASE, ['short']), BaseKeyTooSmallError);
  const keys = new KeyRing(KEY_BASE, ['r'.repeat(20)]);
  assert.equal(keys.size, 2);
  assert.ok(keys.key(1).equals(deriveKey('r'.repeat(20))));
  assert.equal(keys.key(0), keys.key(0), 'derived once and kept');
});

test('a body is three strict base64 parts with a 12-byte IV and a 16-byte tag, and no newline', () => {
  const body = encryptBody(Buffer.from('password: x\n'), ring.key(0));
  const parts = body.split('--');
  assert.equal(parts.length, 3);
  assert.equal(Buffer.from(parts[1]!, 'base64').length, IV_LENGTH);
  assert.equal(Buffer.from(parts[2]!, 'base64').length, AUTH_TAG_LENGTH);
  assert.match(body, /^[A-Za-z0-9+/=-]+$/);
});

test('two encryptions of the same text use different IVs', () => {
  const a = encryptBody(Buffer.from('x'), ring.key(0));
  const b = encryptBody(Buffer.from('x'), ring.key(0));
  assert.notEqual(a.split('--')[1], b.split('--')[1]);
});

test('decryptBody reports which key read the body', () => {
  const old = 'o'.repeat(32);
  const body = encryptBody(Buffer.from('x'), deriveKey(old));
  assert.equal(decryptBody(body, new KeyRing(KEY_BASE, ['z'.repeat(32), old])).keyIndex, 2);
});

test('a body with one trailing newline is read and flagged', () => {
  const body = encryptBody(Buffer.from('a: 1\n'), ring.key(0));
  const result = decryptBody(`${body}\n`, ring);
  assert.equal(result.trailingNewline, true);
  assert.equal(result.plaintext.toString(), 'a: 1\n');
  assert.throws(() => decryptBody(`${body}\n\n`, ring), InvalidMessageError);
});

const BASE64_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const withStrayBits = (c: string): string => BASE64_CHARS[BASE64_CHARS.indexOf(c) | 1]!;

function sealed(payload: Buffer, iv = Buffer.alloc(12, 1)): string {
  const cipher = createCipheriv('aes-256-gcm', ring.key(0), iv);
  const ct = Buffer.concat([cipher.update(payload), cipher.final()]);
  return [ct, iv, cipher.getAuthTag()].map((b) => b.toString('base64')).join('--');
}

test('malformed bodies all fail as a wrong key would', () => {
  const good = encryptBody(Buffer.from('a: 1\n'), ring.key(0));
  const [ct, iv, tag] = good.split('--') as [string, string, string];
  const cases = {
    empty: '',
    'two parts': `${ct}--${iv}`,
    'four parts (Rails 7.1+)': `${good}--${tag}`,
    'line break in base64': `${ct.slice(0, 4)}\n${ct.slice(4)}--${iv}--${tag}`,
    'url-safe alphabet': `_${ct.slice(1)}--${iv}--${tag}`,
    'missing padding': `${ct}--${iv}--${tag.replace(/=+$/, '')}`,
    // decodes to the same bytes in a lenient decoder: only strict base64 rejects it
    'stray bits in the last character': `${ct}--${iv}--${tag.slice(0, -3)}${withStrayBits(tag.at(-3)!)}==`,
    'short tag': `${ct}--${iv}--${Buffer.alloc(12).toString('base64')}`,
    'short IV': `${ct}--${Buffer.alloc(8).toString('base64')}--${tag}`,
    'not a Marshal string': sealed(Buffer.from([4, 8, 0x5b, 0])),
    'a JSON number': sealed(Buffer.from('42')),
    'a broken JSON string': sealed(Buffer.from('"abc')),
  };
  for (const [name, body] of Object.entries(cases)) assert.throws(() => decryptBody(body, ring), InvalidMessageError, name);
});

test('a JSON string payload and a 16-byte IV are read as Rails would', () => {
  assert.equal(decryptBody(sealed(Buffer.from('"a: \\u00fc\\n"')), ring).plaintext.toString(), 'a: ü\n');
  assert.throws(() => decryptBody(sealed(dumpString(Buffer.from('x')), Buffer.alloc(16, 2)), ring), InvalidMessageError);
});

test('a large body decrypts across decoding pieces, and padding inside it is refused', () => {
  const plaintext = Buffer.alloc(300_000, 'a');
  const body = encryptBody(plaintext, ring.key(0));
  assert.ok(decryptBody(body, ring).plaintext.equals(plaintext));
  // '==' at the end of the first 64 KiB piece: a lenient decoder would stop or skip there
  const padded = `${body.slice(0, 65534)}==${body.slice(65536)}`;
  assert.throws(() => decryptBody(padded, ring), InvalidMessageError);
  assert.throws(() => decryptBody(`${body.slice(0, 100)}\n${body.slice(101)}`, ring), InvalidMessageError);
});

test('the decoder of ciphertext pieces agrees with the strict base64 rule and with Node on random input', () => {
  // A seeded generator (xorshift) over base64 characters, padding and a stray '-'.
  let seed = 0x9e3779b9;
  const next = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const chars = `${BASE64_CHARS}==-`;
  for (let n = 0; n < 20_000; n++) {
    const length = Math.floor(next() * 4) * 4 + (next() < 0.1 ? 1 : 0);
    let text = '';
    for (let i = 0; i < length; i++) text += chars[Math.floor(next() * chars.length)];
    if (next() < 0.5) text = text.replace(/=+/g, '').padEnd(length, '=');
    const out = Buffer.alloc(length);
    const written = decodeStrictBase64(Buffer.from(text, 'latin1'), true, out);
    assert.equal(written >= 0, BASE64.test(text), JSON.stringify(text));
    if (written >= 0) assert.ok(out.subarray(0, written).equals(Buffer.from(text, 'base64')), JSON.stringify(text));
  }
});
