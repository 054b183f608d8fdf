/**
 * Issue 4, part 7 (encrypted files): corrupt, truncated, non-base64, huge and binary encrypted files, and a
 * seeded fuzz of corrupted bodies. Every one is GitLab's "Couldn't decrypt <path>. Perhaps you passed the
 * wrong key?" from the CLI (one line, exit 6) or InvalidMessageError from the library: never a crash, a
 * stack trace or a hang.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EncryptedFile, InvalidMessageError, decrypt, encrypt } from '../../src/index.ts';
import { DecryptError } from '../../src/errors.ts';
import { KEY_BASE } from '../helpers/gitlab_tree.ts';
import {
  EXIT,
  SECRETS,
  TEST_TIMEOUT_MS,
  assertCleanError,
  couldNotDecrypt,
  randomBytesFrom,
  seededRandom,
  setup,
} from './safety_helpers.ts';

const BODY = encrypt(Buffer.from(SECRETS), KEY_BASE);
const [CIPHERTEXT, IV, TAG] = BODY.split('--') as [string, string, string];

/** A base64 character other than `c`. */
function otherBase64Char(c: string): string {
  return c === 'A' ? 'B' : 'A';
}

const hostileBodies: Array<[string, () => Buffer]> = [
  ['a body with one ciphertext character changed', () => Buffer.from(`${otherBase64Char(CIPHERTEXT[0]!)}${BODY.slice(1)}`)],
  ['a body with one tag character changed', () => Buffer.from(`${CIPHERTEXT}--${IV}--${otherBase64Char(TAG[0]!)}${TAG.slice(1)}`)],
  ['a body with its tag cut off', () => Buffer.from(`${CIPHERTEXT}--${IV}`)],
  ['a body with an empty tag', () => Buffer.from(`${CIPHERTEXT}--${IV}--`)],
  ['a body cut in half', () => Buffer.from(BODY.slice(0, Math.floor(BODY.length / 2)))],
  ['a body missing its last character', () => Buffer.from(BODY.slice(0, -1))],
  ['a body missing its first character', () => Buffer.from(BODY.slice(1))],
  ['text that is not base64', () => Buffer.from('this is not base64--at all--!!!!')],
  ['base64 wrapped at 60 columns', () => Buffer.from(BODY.replace(/(.{60})/g, '$1\n'))],
  ['a body with two trailing newlines', () => Buffer.from(`${BODY}\n\n`)],
  ['a body with a CRLF ending', () => Buffer.from(`${BODY}\r\n`)],
  ['a body with a leading space', () => Buffer.from(` ${BODY}`)],
  ['a body with a UTF-8 byte order mark', () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(BODY)])],
  ['a body saved as UTF-16', () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(BODY, 'utf16le')])],
  ['a body with a fourth part', () => Buffer.from(`${BODY}--${IV}`)],
  ['a body with two parts', () => Buffer.from(`${CIPHERTEXT}--${TAG}`)],
  ['a body with the IV and tag swapped', () => Buffer.from(`${CIPHERTEXT}--${TAG}--${IV}`)],
  ['only separators', () => Buffer.from('----')],
  ['a zero-byte file', () => Buffer.alloc(0)],
  ['a single newline', () => Buffer.from('\n')],
  ['binary garbage with NUL bytes', () => randomBytesFrom(seededRandom(7), 4096)],
  ['a PNG header', () => Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')],
  ['the plaintext itself, never encrypted', () => Buffer.from(SECRETS)],
  ['10 MB of random bytes', () => randomBytes(10 * 1024 * 1024)],
  ['a 10 MB ciphertext in a well-formed body', () => Buffer.from(`${randomBytes(10 * 1024 * 1024).toString('base64')}--${IV}--${TAG}`)],
  ['10 MB of separators', () => Buffer.from('-'.repeat(10 * 1024 * 1024))],
];

for (const [name, make] of hostileBodies) {
  test(`show of ${name} is "Couldn't decrypt" in one line`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const s = setup(t);
    const path = s.tree.file('smtp.yaml.enc');
    const bytes = make();
    writeFileSync(path, bytes);
    const result = await s.run([...s.root, 'smtp', 'show'], { timeoutMs: 30_000 });
    assertCleanError(result, { exitCode: EXIT.DECRYPT, stderr: `${couldNotDecrypt(path)}\n` });
    assert.ok(readFileSync(path).equals(bytes), 'show changed the file');
  });
}

for (const [name, make] of hostileBodies.filter(([name]) => /cut in half|not base64|10 MB of random|zero-byte/.test(name))) {
  test(`edit of ${name} is "Couldn't decrypt" before the editor starts, and the file is kept`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const s = setup(t);
    const path = s.tree.file('smtp.yaml.enc');
    const bytes = make();
    writeFileSync(path, bytes);
    const editor = s.editor([{ write: 'password: "x"\n' }]);
    const result = await s.run([...s.root, 'smtp', 'edit'], { env: editor.env, timeoutMs: 30_000 });
    assertCleanError(result, { exitCode: EXIT.DECRYPT, stderr: `${couldNotDecrypt(path)}\n` });
    assert.equal(editor.runs().length, 0, 'the editor ran');
    assert.ok(readFileSync(path).equals(bytes), 'the file changed');
  });
}

test('the library refuses 10 MB of random bytes with InvalidMessageError', { timeout: TEST_TIMEOUT_MS }, async () => {
  await assert.rejects(async () => decrypt(randomBytes(10 * 1024 * 1024), KEY_BASE), InvalidMessageError);
  await assert.rejects(
    async () => decrypt(`${randomBytes(10 * 1024 * 1024).toString('base64')}--${IV}--${TAG}`, KEY_BASE),
    InvalidMessageError,
  );
});

// --- fuzz ------------------------------------------------------------------------------------------

interface Mutation {
  kind: string;
  body: Buffer;
}

/** A few hundred corruptions of a valid body, the same on every run (seeded). */
function mutations(seed: number, count: number): Mutation[] {
  const random = seededRandom(seed);
  const pick = (n: number): number => Math.floor(random() * n);
  const original = Buffer.from(BODY, 'latin1');
  const out: Mutation[] = [];
  const seen = new Set<string>();
  while (out.length < count) {
    let body: Buffer = Buffer.from(original);
    let kind: string;
    switch (pick(7)) {
      case 0: {
        const flips = 1 + pick(3);
        for (let i = 0; i < flips; i++) body[pick(body.length)]! ^= 1 << pick(8);
        kind = `${flips} bit flip(s)`;
        break;
      }
      case 1: {
        const length = pick(body.length);
        body = body.subarray(0, length);
        kind = `truncated to ${length} bytes`;
        break;
      }
      case 2: {
        const at = pick(body.length + 1);
        body = Buffer.concat([body.subarray(0, at), Buffer.from('--'), body.subarray(at)]);
        kind = `"--" inserted at ${at}`;
        break;
      }
      case 3: {
        const n = 1 + pick(8);
        for (let i = 0; i < n; i++) body[pick(body.length)] = pick(256);
        kind = `${n} random byte(s) replaced`;
        break;
      }
      case 4: {
        const at = pick(body.length + 1);
        const extra = randomBytesFrom(random, 1 + pick(16));
        body = Buffer.concat([body.subarray(0, at), extra, body.subarray(at)]);
        kind = `${extra.length} random byte(s) inserted at ${at}`;
        break;
      }
      case 5: {
        const from = pick(body.length);
        const to = Math.min(body.length, from + 1 + pick(12));
        body = Buffer.concat([body.subarray(0, from), body.subarray(to)]);
        kind = `bytes ${from}..${to} deleted`;
        break;
      }
      default: {
        body = randomBytesFrom(random, pick(400));
        kind = `${body.length} random bytes`;
      }
    }
    const key = body.toString('latin1');
    // Not corruptions: the body itself, and the body with the one trailing newline an editor may add
    // (read on purpose, with a warning).
    if (key === BODY || key === `${BODY}\n` || seen.has(key)) continue;
    seen.add(key);
    out.push({ kind, body });
  }
  return out;
}

const FUZZ = mutations(0x5eed_2024, 400);

test('the library refuses 380 seeded corruptions of a valid body, none crashing', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gitlab-secrets-fuzz-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const contentPath = join(dir, 'smtp.yaml.enc');
  const file = new EncryptedFile({ contentPath, keyBase: KEY_BASE });
  const surprises: string[] = [];
  for (const [index, { kind, body }] of FUZZ.slice(20).entries()) {
    const n = index + 20;
    // decrypt() derives the key for every call (PBKDF2, ~0.1 s): use it for a sample, EncryptedFile for the rest.
    if (n % 8 === 0) {
      try {
        await decrypt(body, KEY_BASE);
        surprises.push(`#${n} (${kind}): decrypt() accepted it`);
      } catch (error) {
        if (!(error instanceof InvalidMessageError)) surprises.push(`#${n} (${kind}): decrypt() threw ${String(error)}`);
      }
    }
    try {
      writeFileSync(contentPath, body);
      await file.read();
      surprises.push(`#${n} (${kind}): EncryptedFile accepted it`);
    } catch (error) {
      if (!(error instanceof DecryptError) || error.message !== couldNotDecrypt(contentPath)) {
        surprises.push(`#${n} (${kind}): EncryptedFile threw ${String(error)}`);
      }
    }
  }
  assert.deepEqual(surprises, []);
});

test('the CLI answers 20 seeded corruptions of a valid body with "Couldn\'t decrypt" in one line', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = setup(t);
  const path = s.tree.file('smtp.yaml.enc');
  for (const [index, { kind, body }] of FUZZ.slice(0, 20).entries()) {
    writeFileSync(path, body);
    const result = await s.run([...s.root, 'smtp', 'show'], { timeoutMs: 20_000 });
    assert.doesNotThrow(
      () => assertCleanError(result, { exitCode: EXIT.DECRYPT, stderr: `${couldNotDecrypt(path)}\n` }),
      `#${index} (${kind})`,
    );
  }
});
