/**
 * Live interop with the real ActiveSupport (test/interop/oracle.rb), through the library API: what Ruby
 * encrypts we decrypt to the same bytes, and what we encrypt Ruby decrypts to the same bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decrypt, encrypt } from '../../src/index.ts';
import { BaseKeyTooSmallError, InvalidMessageError } from '../../src/errors.ts';
import { KeyRing } from '../../src/format/key_generator.ts';
import { decryptBody } from '../../src/format/message_encryptor.ts';
import { dumpString, loadString } from '../../src/format/marshal.ts';
import { KEY_BASE, OTHER_KEY_BASE } from '../helpers/gitlab_tree.ts';
import { outcome, requireRubyOrSkip, rubyBatch, rubyDecrypt, rubyEncrypt, RubyOracleError } from './ruby.ts';
import type { OracleJob, OracleResult, RubyEncoding } from './ruby.ts';

const INVALID_MESSAGE = 'ActiveSupport::MessageEncryptor::InvalidMessage';

/** Deterministic bytes (mulberry32), so a failure can be replayed. */
function seededBytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    out[i] = (z ^ (z >>> 14)) & 0xff;
  }
  return out;
}

/** Printable YAML-ish text of an exact byte length. */
function textOfLength(length: number, seed: number): Buffer {
  const alphabet = Buffer.from("abcdefghijklmnopqrstuvwxyz0123456789 :'-_\n");
  return Buffer.from(seededBytes(length, seed).map((b) => alphabet[b % alphabet.length]!));
}

const KEY_BASES = {
  hex128: KEY_BASE,
  ascii16: 'sixteen-chars-ok',
  cyrillic16: 'ключ-для-теста-1',
  emoji16: '🔑'.repeat(16),
  mixed: 'Grüße aus Köln, 東京 🗝 key base',
} as const;
const KEY_BASE_LIST = Object.values(KEY_BASES);

interface Case {
  name: string;
  plaintext: Buffer;
}

// Marshal's string length changes form at 123 (one byte n+5 → 01 nn), 256 (02), 65536 (03); 2**24 (04) is
// in its own test below, streamed rather than hex-encoded in JSON.
const BOUNDARY_LENGTHS = [0, 1, 121, 122, 123, 255, 256, 65535, 65536, 80_017, 1_048_579];

const CASES: Case[] = [
  { name: 'empty', plaintext: Buffer.alloc(0) },
  { name: 'ASCII SMTP secrets', plaintext: Buffer.from("user_name: 'smtp-relay@example.com'\npassword: 's3cr3t!'\n") },
  { name: 'the SMTP template', plaintext: Buffer.from("# password: '123'\n# user_name: 'gitlab-inst'\n") },
  { name: 'multi-byte UTF-8', plaintext: Buffer.from("password: 'pässwörd 日本語 🔐'\nuser: 'Ωmega'\n") },
  {
    name: 'invalid UTF-8 bytes',
    // a lone continuation byte, a truncated sequence, an overlong slash, a surrogate, 0xff 0xfe
    plaintext: Buffer.from([0x61, 0x80, 0x62, 0xe2, 0x82, 0x0a, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xff, 0xfe, 0x0a]),
  },
  { name: 'CRLF line endings', plaintext: Buffer.from("user_name: 'a'\r\npassword: 'b'\r\n") },
  { name: 'no final newline', plaintext: Buffer.from("user_name: 'a'\npassword: 'b'") },
  { name: 'a UTF-8 BOM', plaintext: Buffer.from("\ufeffpassword: 'with bom'\n") },
  { name: 'NUL bytes', plaintext: Buffer.from([0x00, 0x61, 0x00, 0x00, 0x0a]) },
  { name: 'all 256 byte values', plaintext: Buffer.from(Array.from({ length: 256 }, (_, i) => i)) },
  { name: 'one newline', plaintext: Buffer.from('\n') },
  ...BOUNDARY_LENGTHS.map((length, i) => ({ name: `${length} random bytes`, plaintext: seededBytes(length, 1000 + i) })),
  ...BOUNDARY_LENGTHS.map((length, i) => ({ name: `${length} bytes of text`, plaintext: textOfLength(length, 2000 + i) })),
];

/** The key base case `i` is encrypted with: every key base gets cases of every kind. */
const keyBaseFor = (i: number): string => KEY_BASE_LIST[i % KEY_BASE_LIST.length]!;

/** Run a Ruby batch once, on first use, and share the results between the tests that need it. */
function lazily<T>(make: () => T): () => T {
  let value: T | undefined;
  let made = false;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value as T;
  };
}

function okResult(result: OracleResult | undefined, label: string): Extract<OracleResult, { ok: true }> {
  assert.ok(result, `no result for ${label}`);
  if (!result.ok) assert.fail(`Ruby failed on ${label}: ${result.error}: ${result.message}`);
  return result;
}

function assertSameBytes(actual: Buffer, expected: Buffer, label: string): void {
  if (actual.equals(expected)) return;
  let at = 0;
  while (at < actual.length && at < expected.length && actual[at] === expected[at]) at++;
  assert.fail(`${label}: ${actual.length} bytes, expected ${expected.length}; first difference at byte ${at}`);
}

// Ruby → us ----------------------------------------------------------------------------------------

const rubyBodies = lazily(() =>
  rubyBatch(CASES.map((c, i): OracleJob => ({ op: 'encrypt', keyBase: keyBaseFor(i), plaintext: c.plaintext }))),
);

CASES.forEach((c, i) => {
  test(`decrypt reads ActiveSupport's body of ${c.name} as the same bytes`, (t) => {
    if (!requireRubyOrSkip(t)) return;
    const { body } = okResult(rubyBodies()[i], c.name);
    assert.ok(body, 'Ruby returned no body');
    assert.match(body, /^[A-Za-z0-9+/=]+--[A-Za-z0-9+/=]{16}--[A-Za-z0-9+/=]{22}==$/);
    assertSameBytes(decrypt(body, keyBaseFor(i)), c.plaintext, c.name);
  });
});

// us → Ruby ----------------------------------------------------------------------------------------

const ourBodies = lazily(() => CASES.map((c, i) => encrypt(c.plaintext, keyBaseFor(i))));
const rubyReadsOurs = lazily(() =>
  rubyBatch(ourBodies().map((body, i): OracleJob => ({ op: 'decrypt', keyBase: keyBaseFor(i), body }))),
);

CASES.forEach((c, i) => {
  test(`ActiveSupport decrypts our body of ${c.name} to the same UTF-8 string`, (t) => {
    if (!requireRubyOrSkip(t)) return;
    const result = okResult(rubyReadsOurs()[i], c.name);
    assert.ok(result.plaintext, 'Ruby returned no plaintext');
    assertSameBytes(result.plaintext, c.plaintext, c.name);
    // GitLab writes UTF-8 strings (`I"…:E T`); Ruby must get one back, not a binary string.
    assert.equal(result.encoding, 'UTF-8');
  });
});

test('every key base kind was used in both directions', () => {
  const used = new Set(CASES.map((_, i) => keyBaseFor(i)));
  assert.deepEqual([...used].sort(), [...KEY_BASE_LIST].sort());
});

// Marshal wrappers ---------------------------------------------------------------------------------

const ENCODINGS: RubyEncoding[] = ['UTF-8', 'BINARY', 'US-ASCII', 'Shift_JIS'];
const SHIFT_JIS_TEXT = Buffer.from([0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea, 0x0a]); // 日本語\n in Shift_JIS
const WRAPPER_PLAINTEXTS: Case[] = [
  { name: 'empty', plaintext: Buffer.alloc(0) },
  { name: 'ASCII', plaintext: Buffer.from("password: '123'\n") },
  { name: 'Shift_JIS text', plaintext: SHIFT_JIS_TEXT },
  { name: 'bytes not valid in the label', plaintext: Buffer.from([0x80, 0xff, 0x00, 0x0a]) },
  ...[122, 123, 256, 65536].map((length, i) => ({ name: `${length} random bytes`, plaintext: seededBytes(length, 3000 + i) })),
];
const WRAPPER_JOBS = ENCODINGS.flatMap((encoding) => WRAPPER_PLAINTEXTS.map((c) => ({ encoding, ...c })));

const rubyMarshal = lazily(() =>
  rubyBatch(WRAPPER_JOBS.map((j): OracleJob => ({ op: 'marshal', plaintext: j.plaintext, encoding: j.encoding }))),
);
const rubyWrapperBodies = lazily(() =>
  rubyBatch(
    WRAPPER_JOBS.map((j): OracleJob => ({ op: 'encrypt', keyBase: KEY_BASE, plaintext: j.plaintext, encoding: j.encoding })),
  ),
);

test("Ruby's Marshal wrappers really differ by encoding", (t) => {
  if (!requireRubyOrSkip(t)) return;
  const dumps = rubyMarshal();
  WRAPPER_JOBS.forEach((j, i) => {
    const dump = okResult(dumps[i], `${j.encoding} ${j.name}`).marshal!.toString('latin1');
    const label = `${j.encoding} ${j.name}`;
    if (j.encoding === 'BINARY') assert.ok(dump.startsWith('\x04\x08"'), label);
    else assert.ok(dump.startsWith('\x04\x08I"'), label);
    if (j.encoding === 'UTF-8') assert.ok(dump.endsWith('\x06:\x06ET'), label);
    if (j.encoding === 'US-ASCII') assert.ok(dump.endsWith('\x06:\x06EF'), label);
    if (j.encoding === 'Shift_JIS') assert.ok(dump.endsWith('\x06:\x0dencoding"\x0eShift_JIS'), label);
  });
});

test("our Marshal dump is byte for byte Ruby's for UTF-8 strings of every length form", (t) => {
  if (!requireRubyOrSkip(t)) return;
  const lengths = [...BOUNDARY_LENGTHS, 2, 120, 124, 254, 257, 65534, 65537];
  const dumps = rubyBatch(lengths.map((length, i): OracleJob => ({ op: 'marshal', plaintext: seededBytes(length, 4000 + i) })));
  lengths.forEach((length, i) => {
    const expected = okResult(dumps[i], `${length} bytes`).marshal!;
    assertSameBytes(dumpString(seededBytes(length, 4000 + i)), expected, `Marshal.dump of ${length} bytes`);
  });
});

test("our Marshal reader returns the bytes of Ruby's dump in every encoding", (t) => {
  if (!requireRubyOrSkip(t)) return;
  const dumps = rubyMarshal();
  WRAPPER_JOBS.forEach((j, i) => {
    const label = `${j.encoding} ${j.name}`;
    assertSameBytes(loadString(okResult(dumps[i], label).marshal!), j.plaintext, label);
  });
});

for (const encoding of ENCODINGS) {
  test(`decrypt reads ActiveSupport bodies of ${encoding} strings as the same bytes`, (t) => {
    if (!requireRubyOrSkip(t)) return;
    const bodies = rubyWrapperBodies();
    let checked = 0;
    WRAPPER_JOBS.forEach((j, i) => {
      if (j.encoding !== encoding) return;
      const label = `${j.encoding} ${j.name}`;
      assertSameBytes(decrypt(okResult(bodies[i], label).body!, KEY_BASE), j.plaintext, label);
      checked++;
    });
    assert.equal(checked, WRAPPER_PLAINTEXTS.length);
  });
}

// Length 2**24: Marshal's four-byte length -----------------------------------------------------------

test('strings around 16 MiB (four-byte Marshal lengths) cross both ways', (t) => {
  if (!requireRubyOrSkip(t)) return;
  for (const length of [2 ** 24 - 1, 2 ** 24]) {
    const plaintext = seededBytes(length, length);
    const rubyBody = rubyEncrypt(plaintext, KEY_BASE);
    assertSameBytes(decrypt(rubyBody, KEY_BASE), plaintext, `Ruby → us, ${length} bytes`);
    assertSameBytes(rubyDecrypt(encrypt(plaintext, KEY_BASE), KEY_BASE), plaintext, `us → Ruby, ${length} bytes`);
  }
});

// Key bases ----------------------------------------------------------------------------------------

const KEY_BASE_CANDIDATES: { name: string; keyBase: string }[] = [
  { name: '15 ASCII characters', keyBase: 'fifteen-chars!!' },
  { name: '16 ASCII characters', keyBase: 'sixteen-chars-ok' },
  { name: '15 two-byte characters (30 bytes)', keyBase: 'ü'.repeat(15) },
  { name: '16 two-byte characters', keyBase: 'ü'.repeat(16) },
  { name: '8 emoji (16 UTF-16 code units)', keyBase: '🔑'.repeat(8) },
  { name: '16 emoji', keyBase: '🔑'.repeat(16) },
  { name: '16 spaces', keyBase: ' '.repeat(16) },
  { name: 'tabs and newlines', keyBase: '\t\n\r\f\v '.repeat(4) },
  { name: '16 ideographic spaces (U+3000)', keyBase: '\u3000'.repeat(16) },
  { name: '16 next-line characters (U+0085)', keyBase: '\u0085'.repeat(16) },
  { name: '16 no-break spaces (U+00A0)', keyBase: '\u00a0'.repeat(16) },
  { name: '16 zero-width spaces (U+200B)', keyBase: '\u200b'.repeat(16) },
  { name: '16 byte order marks (U+FEFF)', keyBase: '\ufeff'.repeat(16) },
  { name: 'spaces around a short key', keyBase: '   short-key    ' },
];

test('we refuse exactly the key bases GitLab refuses as "Base key too small"', (t) => {
  if (!requireRubyOrSkip(t)) return;
  const plaintext = Buffer.from("password: 'x'\n");
  const results = rubyBatch(KEY_BASE_CANDIDATES.map((k): OracleJob => ({ op: 'encrypt', keyBase: k.keyBase, plaintext })));
  const disagreements: string[] = [];
  KEY_BASE_CANDIDATES.forEach(({ name, keyBase }, i) => {
    const ruby = results[i]!;
    if (!ruby.ok) assert.equal(ruby.message, 'Base key too small', `Ruby on ${name}`);
    let ours: 'ok' | 'too small';
    try {
      assertSameBytes(decrypt(ruby.ok ? ruby.body! : encrypt(plaintext, keyBase), keyBase), plaintext, name);
      ours = 'ok';
    } catch (error) {
      if (!(error instanceof BaseKeyTooSmallError)) throw error;
      ours = 'too small';
    }
    const theirs = ruby.ok ? 'ok' : 'too small';
    if (ours !== theirs) disagreements.push(`${name}: ActiveSupport ${theirs}, we ${ours}`);
  });
  assert.deepEqual(disagreements, []);
});

// Rotated keys -------------------------------------------------------------------------------------

const OLD_KEY_BASE = 'old-key-base-from-2021-'.repeat(3);
const OLDER_KEY_BASE = 'öldest-kéy-bäse-😀-2019';

test('a body ActiveSupport wrote with a rotated key reads with primary plus rotated keys', (t) => {
  if (!requireRubyOrSkip(t)) return;
  const plaintext = Buffer.from("user_name: 'rotated'\npassword: 'still readable'\n");
  const rotated = [OLD_KEY_BASE, OLDER_KEY_BASE];
  const [old, older] = rubyBatch([
    { op: 'encrypt', keyBase: OLD_KEY_BASE, plaintext },
    { op: 'encrypt', keyBase: OLDER_KEY_BASE, plaintext },
  ]).map((r, i) => okResult(r, `rotated body ${i}`).body!) as [string, string];

  // What GitLab itself does with this configuration, so the expectations below are Ruby's.
  const gitlab = rubyBatch([
    { op: 'decrypt', keyBase: KEY_BASE, rotatedKeyBases: rotated, body: old },
    { op: 'decrypt', keyBase: KEY_BASE, rotatedKeyBases: rotated, body: older },
    { op: 'decrypt', keyBase: KEY_BASE, body: old },
  ]);
  assertSameBytes(okResult(gitlab[0], 'Ruby, old').plaintext!, plaintext, 'Ruby, old');
  assertSameBytes(okResult(gitlab[1], 'Ruby, older').plaintext!, plaintext, 'Ruby, older');
  assert.equal(outcome(gitlab[2]), INVALID_MESSAGE);

  assertSameBytes(decrypt(old, KEY_BASE, rotated), plaintext, 'old key');
  assertSameBytes(decrypt(older, KEY_BASE, rotated), plaintext, 'older key');
  assert.equal(decryptBody(old, new KeyRing(KEY_BASE, rotated)).keyIndex, 1);
  assert.equal(decryptBody(older, new KeyRing(KEY_BASE, rotated)).keyIndex, 2);
  assert.throws(() => decrypt(old, KEY_BASE), InvalidMessageError);
  assert.throws(() => decrypt(older, KEY_BASE, [OLD_KEY_BASE]), InvalidMessageError);
});

test('ActiveSupport reads our body with the same rotation rules', (t) => {
  if (!requireRubyOrSkip(t)) return;
  const plaintext = Buffer.from("password: 'written by us'\n");
  const body = encrypt(plaintext, OLD_KEY_BASE);
  const [rotatedOk, primaryOnly] = rubyBatch([
    { op: 'decrypt', keyBase: KEY_BASE, rotatedKeyBases: [OTHER_KEY_BASE, OLD_KEY_BASE], body },
    { op: 'decrypt', keyBase: KEY_BASE, body },
  ]);
  assertSameBytes(okResult(rotatedOk, 'rotated').plaintext!, plaintext, 'Ruby with the rotated key');
  assert.equal(outcome(primaryOnly), INVALID_MESSAGE);
});

// Wrong keys and tampering -------------------------------------------------------------------------

/** Flip one bit in the decoded part `part` (0 ciphertext, 1 IV, 2 tag) of a body. */
function tamper(body: string, part: number): string {
  const parts = body.split('--').map((p) => Buffer.from(p, 'base64'));
  parts[part]![0]! ^= 0x01;
  return parts.map((p) => p.toString('base64')).join('--');
}

test('ActiveSupport rejects our bodies under a wrong key, as we reject them', (t) => {
  if (!requireRubyOrSkip(t)) return;
  const samples = CASES.filter((_, i) => i % 5 === 0);
  const bodies = samples.map((c) => encrypt(c.plaintext, KEY_BASE));
  const results = rubyBatch(bodies.map((body): OracleJob => ({ op: 'decrypt', keyBase: OTHER_KEY_BASE, body })));
  results.forEach((r, i) => {
    const name = samples[i]!.name;
    assert.equal(outcome(r), INVALID_MESSAGE, name);
    assert.throws(() => decrypt(bodies[i]!, OTHER_KEY_BASE), InvalidMessageError, name);
  });
});

test('a flipped bit in the ciphertext, IV or tag fails in ActiveSupport and in our code', (t) => {
  if (!requireRubyOrSkip(t)) return;
  const plaintext = Buffer.from("password: 'tamper with me'\n");
  const body = encrypt(plaintext, KEY_BASE);
  const truncatedTag = body.replace(/--[^-]+$/, (tag) => `--${Buffer.from(tag.slice(2), 'base64').subarray(0, 15).toString('base64')}`);
  const bodies = [tamper(body, 0), tamper(body, 1), tamper(body, 2), truncatedTag];
  const results = rubyBatch([body, ...bodies].map((b): OracleJob => ({ op: 'decrypt', keyBase: KEY_BASE, body: b })));
  assertSameBytes(okResult(results[0], 'untouched').plaintext!, plaintext, 'untouched body');
  bodies.forEach((b, i) => {
    assert.equal(outcome(results[i + 1]), INVALID_MESSAGE, `tampered body ${i}`);
    assert.throws(() => decrypt(b, KEY_BASE), InvalidMessageError, `tampered body ${i}`);
  });
});

test('the streaming oracle reports a wrong key as a failure', (t) => {
  if (!requireRubyOrSkip(t)) return;
  const body = encrypt(Buffer.from('x: 1\n'), KEY_BASE);
  assert.throws(
    () => rubyDecrypt(body, OTHER_KEY_BASE),
    (error: unknown) => error instanceof RubyOracleError && error.status === 1 && error.stderr.includes('InvalidMessage'),
  );
  assert.equal(rubyDecrypt(body, OTHER_KEY_BASE, [KEY_BASE]).toString(), 'x: 1\n');
});
