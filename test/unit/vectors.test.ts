import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyRing } from '../../src/format/key_generator.ts';
import { decryptBody, encryptBody } from '../../src/format/message_encryptor.ts';
import { InvalidMessageError } from '../../src/errors.ts';
import { VECTORS } from '../helpers/vectors.ts';

const fixture = { vectors: VECTORS };

test('the fixture holds the vectors of every kind', () => {
  assert.ok(fixture.vectors.length >= 20);
  for (const kind of ['ok', 'invalid', 'either']) assert.ok(fixture.vectors.some((v) => v.expect === kind), kind);
});

for (const vector of fixture.vectors) {
  const keys = (): KeyRing => new KeyRing(vector.key_base, vector.rotated_key_bases);
  const expected = Buffer.from(vector.plaintext_hex, 'hex');

  if (vector.expect === 'ok' || vector.expect === 'either') {
    test(`vector ${vector.name} decrypts to its plaintext bytes`, () => {
      const result = decryptBody(vector.body, keys());
      assert.ok(result.plaintext.equals(expected), 'plaintext differs');
      assert.equal(result.keyIndex, vector.rotated_key_bases.length > 0 ? 1 : 0);
      assert.equal(result.trailingNewline, vector.body.endsWith('\n'));
    });
    test(`vector ${vector.name} round-trips through our encryption`, () => {
      const body = encryptBody(expected, keys().key(0));
      assert.ok(decryptBody(body, keys()).plaintext.equals(expected));
    });
  } else {
    test(`vector ${vector.name} is rejected as a wrong key`, () => {
      assert.throws(() => decryptBody(vector.body, keys()), InvalidMessageError);
    });
  }
}

test('the rotated-key vector fails with the primary key alone', () => {
  const vector = fixture.vectors.find((v) => v.name === 'rotated-old-key')!;
  assert.throws(() => decryptBody(vector.body, new KeyRing(vector.key_base)), InvalidMessageError);
});

test('a vector with a wrong key base fails, and with the right one succeeds', () => {
  const vector = fixture.vectors.find((v) => v.name === 'utf8-smtp')!;
  assert.throws(() => decryptBody(vector.body, new KeyRing('x'.repeat(64))), InvalidMessageError);
  assert.ok(decryptBody(vector.body, new KeyRing('x'.repeat(64), [vector.key_base])).plaintext.length > 0);
});
