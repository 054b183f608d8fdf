import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dumpString, encodeLong, loadString, MarshalFormatError } from '../../src/format/marshal.ts';

const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');

test('dumpString writes a UTF-8 String as Ruby does', () => {
  // Marshal.dump("ab") in Ruby: 04 08 49 22 07 61 62 06 3a 06 45 54
  assert.deepEqual(dumpString(Buffer.from('ab')), hex('0408 4922 07 6162 063a 0645 54'));
  assert.deepEqual(dumpString(Buffer.alloc(0)), hex('0408 4922 00 063a 0645 54'));
});

test('encodeLong uses the short form up to 122 and counted little-endian bytes above', () => {
  assert.deepEqual(encodeLong(0), hex('00'));
  assert.deepEqual(encodeLong(1), hex('06'));
  assert.deepEqual(encodeLong(122), hex('7f'));
  assert.deepEqual(encodeLong(123), hex('01 7b'));
  assert.deepEqual(encodeLong(240), hex('01 f0'));
  assert.deepEqual(encodeLong(255), hex('01 ff'));
  assert.deepEqual(encodeLong(256), hex('02 0001'));
  assert.deepEqual(encodeLong(1000), hex('02 e803'));
  assert.deepEqual(encodeLong(65536), hex('03 000001'));
  assert.deepEqual(encodeLong(0x1000000), hex('04 00000001'));
  assert.throws(() => encodeLong(-1), RangeError);
});

test('loadString round-trips every length boundary byte for byte', () => {
  for (const length of [0, 1, 121, 122, 123, 255, 256, 65535, 65536, 80_000]) {
    const bytes = Buffer.alloc(length, 0xff);
    assert.ok(loadString(dumpString(bytes)).equals(bytes), `length ${length}`);
  }
});

test('loadString reads the US-ASCII, other-encoding and binary forms', () => {
  assert.equal(loadString(hex('0408 4922 07 6162 063a 0645 46')).toString(), 'ab');
  // "ab".force_encoding("Shift_JIS"): ivar :encoding "Shift_JIS"
  const sjis = Buffer.concat([hex('0408 4922 07 6162 06 3a 0d'), Buffer.from('encoding'), hex('22 0e'), Buffer.from('Shift_JIS')]);
  assert.equal(loadString(sjis).toString(), 'ab');
  assert.equal(loadString(hex('0408 22 07 6162')).toString(), 'ab');
});

test('loadString returns invalid UTF-8 bytes untouched', () => {
  const bytes = hex('ff fe 80 0a');
  assert.ok(loadString(dumpString(bytes)).equals(bytes));
});

test('loadString rejects everything that is not one String', () => {
  const bad = [
    '', '0408', '0409 22 00', '0408 5b 00', // wrong version, an Array
    '0408 22 07 61', // truncated
    '0408 22 06 6162', // trailing data
    '0408 4922 07 6162 063a 0645', // missing ivar value
    '0408 4922 07 6162 073a 0645 54 3a 0645 54', // two ivars
    '0408 4922 07 6162 063a 0646 54', // unknown ivar :F
    '0408 22 fa 61', // negative length
  ];
  for (const h of bad) assert.throws(() => loadString(hex(h)), MarshalFormatError, h);
});
