import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfigYaml, YamlSyntaxError } from '../../src/yaml/config_yaml.ts';

// Expected values come from Ruby 3.1 / Psych 4.0.4 (see yaml_psych_oracle.test.ts for the live check).

function syntaxError(text: string): YamlSyntaxError {
  try {
    loadConfigYaml(text);
  } catch (error) {
    assert.ok(error instanceof YamlSyntaxError, `expected a YamlSyntaxError, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected ${JSON.stringify(text)} to be refused`);
}

test('YAML 1.1 booleans are recognised in any case, but y and n stay strings', () => {
  const text = 'a: yes\nb: NO\nc: On\nd: oFF\ne: TRUE\nf: fAlSe\ng: y\nh: n\ni: Y\nj: "yes"\nk: trueee\n';
  assert.deepEqual(loadConfigYaml(text), {
    a: true,
    b: false,
    c: true,
    d: false,
    e: true,
    f: false,
    g: 'y',
    h: 'n',
    i: 'Y',
    j: 'yes',
    k: 'trueee',
  });
});

test('null is written as ~, null in any case, or nothing at all', () => {
  assert.deepEqual(loadConfigYaml('a: ~\nb: null\nc: NULL\nd: nULL\ne:\nf: "null"\n'), {
    a: null,
    b: null,
    c: null,
    d: null,
    e: null,
    f: 'null',
  });
});

test('integers follow Psych: leading-zero octal, 0x, 0b, underscores, commas and base 60', () => {
  const text = 'a: 010\nb: 0o10\nc: 0x1F\nd: 0b101\ne: 1_000\nf: 1,000\ng: 09\nh: 1:30\ni: 1:30:15\nj: -0\nk: +12\n';
  assert.deepEqual(loadConfigYaml(text), {
    a: 8,
    b: '0o10',
    c: 31,
    d: 5,
    e: 1000,
    f: 1000,
    g: '09',
    h: 5400,
    i: 5415,
    j: 0,
    k: 12,
  });
});

test('integers beyond 2^53 keep every digit as a bigint', () => {
  assert.deepEqual(loadConfigYaml('a: 12345678901234567890\nb: 9007199254740991\n'), {
    a: 12345678901234567890n,
    b: 9007199254740991,
  });
});

test('floats need a dot, and an exponent needs a sign', () => {
  assert.deepEqual(loadConfigYaml('a: .5\nb: 1.\nc: 1.0e+3\nd: 1e3\ne: 1.5e3\nf: .inf\ng: -.Inf\nh: 1_0.5\n'), {
    a: 0.5,
    b: 1,
    c: 1000,
    d: '1e3',
    e: '1.5e3',
    f: Number.POSITIVE_INFINITY,
    g: Number.NEGATIVE_INFINITY,
    h: 10.5,
  });
  assert.ok(Number.isNaN(loadConfigYaml('.NaN')));
});

test('quoted and block scalars are always strings', () => {
  assert.deepEqual(loadConfigYaml("a: '1'\nb: \"true\"\nc: |\n  12\nd: >-\n  yes\n"), { a: '1', b: 'true', c: '12\n', d: 'yes' });
});

test('anchors and aliases share one object, as Ruby does', () => {
  const value = loadConfigYaml('base: &base\n  host: example.com\nother: *base\n') as Record<string, unknown>;
  assert.deepEqual(value.other, { host: 'example.com' });
  assert.equal(value.other, value.base);
});

test('a merge key copies an aliased mapping and keys written after it win', () => {
  const text = 'production: &base\n  host: a\n  port: 1\ndevelopment:\n  <<: *base\n  host: b\n';
  assert.deepEqual((loadConfigYaml(text) as Record<string, unknown>).development, { host: 'b', port: 1 });
});

test('a merge key with a list of mappings lets the earlier mapping win', () => {
  const text = 'a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n';
  assert.deepEqual((loadConfigYaml(text) as Record<string, unknown>).c, { x: 1, y: 1, z: 2 });
});

test('a merge key overrides keys written before it, as Psych does', () => {
  assert.deepEqual(loadConfigYaml('c:\n  b: 2\n  <<: {a: 1, b: 9}\n'), { c: { b: 9, a: 1 } });
});

test('only an untagged << merges, and only mappings can be merged', () => {
  assert.deepEqual(loadConfigYaml("a:\n  '<<': {x: 1}\n"), { a: { x: 1 } });
  assert.deepEqual(loadConfigYaml('a:\n  !!str <<: {x: 1}\n'), { a: { '<<': { x: 1 } } });
  assert.deepEqual(loadConfigYaml('a:\n  <<: 5\n'), { a: { '<<': 5 } });
  assert.deepEqual(loadConfigYaml('a:\n  <<: [{x: 1}, 5]\n'), { a: { '<<': [{ x: 1 }, 5] } });
});

test('a duplicated key is allowed and the last one wins', () => {
  assert.deepEqual(loadConfigYaml('a: 1\nb: 2\na: 3\n'), { a: 3, b: 2 });
});

test('only the first document counts, even when a later one is broken', () => {
  assert.deepEqual(loadConfigYaml('a: 1\n---\nb: [\n'), { a: 1 });
  assert.deepEqual(loadConfigYaml('--- a\n--- b\n'), 'a');
  assert.equal(loadConfigYaml('---\n---\na: 1\n'), null);
});

test('an empty or comments-only file is null', () => {
  assert.equal(loadConfigYaml(''), null);
  assert.equal(loadConfigYaml('   \n\n'), null);
  assert.equal(loadConfigYaml('# production:\n#   key: value\n'), null);
  assert.equal(loadConfigYaml('--- # nothing\n'), null);
});

test('symbols lose their colon, as keys and as values', () => {
  assert.deepEqual(loadConfigYaml(':password: secret\nuser: :admin\nq: :"a b"\nr: !ruby/symbol x\n'), {
    password: 'secret',
    user: 'admin',
    q: 'a b',
    r: 'x',
  });
});

test('keys that are not strings become their Ruby to_s', () => {
  assert.deepEqual(loadConfigYaml('1: a\n1.0: b\ntrue: c\n~: d\n'), { '1': 'a', '1.0': 'b', true: 'c', '': 'd' });
});

test('dates, times and sets load, as GitLab reads its config with unsafe_load', () => {
  const value = loadConfigYaml('d: 2024-01-31\nt: 2024-01-31 10:00:00 +01:00\nbad: 2024-02-30\ns: !!set {a, b}\n');
  assert.deepEqual(value, {
    d: new Date(Date.UTC(2024, 0, 31)),
    t: new Date(Date.UTC(2024, 0, 31, 9)),
    bad: '2024-02-30',
    s: { a: null, b: null },
  });
});

test('!!binary becomes a Buffer and !!omap a mapping', () => {
  assert.deepEqual(loadConfigYaml('b: !!binary aGVsbG8=\no: !!omap [x: 1, y: 2]\n'), {
    b: Buffer.from('hello'),
    o: { x: 1, y: 2 },
  });
});

test('unknown local tags are ignored and the value resolved as if untagged', () => {
  assert.deepEqual(loadConfigYaml('a: !foo bar\nb: !foo "12"\nc: ! 12\nd: !foo {x: 1}\n'), { a: 'bar', b: 12, c: 12, d: { x: 1 } });
});

test('CRLF line endings read like LF', () => {
  assert.deepEqual(loadConfigYaml('a: 1\r\nb:\r\n  c: two\r\n'), { a: 1, b: { c: 'two' } });
});

test('a byte order mark counts as a column, so only the first line of such a file is read', () => {
  assert.deepEqual(loadConfigYaml('\uFEFFa: 1\n'), { a: 1 });
  assert.deepEqual(loadConfigYaml('\uFEFFa: 1\nb: 2\n'), { a: 1 });
});

test('a tab between a key and its value is fine but a tab used for indentation is refused', () => {
  assert.deepEqual(loadConfigYaml('a:\t1\nb: [1,\t2]\n'), { a: 1, b: [1, 2] });
  const error = syntaxError('a:\n\tb: 1\n');
  assert.equal(error.line, 2);
  assert.match(error.reason, /tab|cannot start any token/);
});

test('flow collections may close less indented than their key, as libyaml allows', () => {
  assert.deepEqual(loadConfigYaml('production:\n  hosts: [\n    a,\n  ]\n'), { production: { hosts: ['a'] } });
});

test('a syntax error is a YamlSyntaxError with a short reason and a 1-based line', () => {
  const error = syntaxError('production:\n  key: 1\n bad: 2\n');
  assert.equal(error.name, 'YamlSyntaxError');
  assert.equal(error.line, 3);
  assert.equal(typeof error.reason, 'string');
  assert.ok(error.reason.length > 0 && !error.reason.includes('\n'));
  assert.ok(error.message.includes('line 3'));
});

test('an alias to an unknown anchor is refused', () => {
  const error = syntaxError('a: *nowhere\n');
  assert.equal(error.reason, 'Unknown alias: nowhere');
  assert.equal(error.line, 1);
});

test('Ruby objects are refused like in YAML.load', () => {
  assert.equal(syntaxError('a: !ruby/object:Foo {x: 1}\n').reason, 'Tried to load unspecified class: Foo');
});

test('scalars Ruby cannot convert are refused', () => {
  assert.equal(syntaxError('a: 0x_\n').reason, 'invalid value for Integer(): "0x"');
  assert.equal(syntaxError('a: !!float foo\n').reason, 'invalid value for Float(): "foo"');
});

test('deep nesting is refused with a clear reason instead of overflowing the stack', () => {
  const error = syntaxError(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
  assert.match(error.reason, /more than 500 deep/);
});

test('a billion laughs loads at once because aliases are shared, not copied', () => {
  const lines = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 1; i < 30; i++) lines.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]`);
  const started = Date.now();
  const value = loadConfigYaml(lines.join('\n')) as Record<string, unknown[]>;
  assert.ok(Date.now() - started < 2000);
  assert.equal(value.a29?.[0], value.a28);
});

test('merge keys that would copy millions of entries are refused', () => {
  const lines = [`base: &b {${Array.from({ length: 1000 }, (_, i) => `k${i}: ${i}`).join(', ')}}`];
  for (let i = 0; i < 2000; i++) lines.push(`m${i}: {<<: [*b, *b, *b]}`);
  assert.match(syntaxError(lines.join('\n')).reason, /merge keys/);
});
