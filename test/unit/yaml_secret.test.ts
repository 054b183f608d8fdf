import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSecretYaml } from '../../src/yaml/secret_yaml.ts';
import type { SecretYamlCheck } from '../../src/yaml/secret_yaml.ts';

// Expected outcomes come from Ruby 3.1 / Psych 4.0.4 YAML.safe_load(text, permitted_classes: [Symbol]).

const ALIAS_REASON = /^Alias parsing was not enabled\. To enable it, pass `aliases: true` to `Psych::load` or `Psych::safe_load`\./;

function check(text: string | Uint8Array): SecretYamlCheck {
  return checkSecretYaml(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
}

function reason(text: string | Uint8Array): string {
  const result = check(text);
  assert.equal(result.kind, 'invalid', `expected ${JSON.stringify(String(text))} to be invalid`);
  return result.kind === 'invalid' ? result.reason : '';
}

test('a mapping of settings is a mapping with its values', () => {
  assert.deepEqual(check("password: '123'\nuser_name: gitlab-inst\nport: 587\ntls: yes\n"), {
    kind: 'mapping',
    value: { password: '123', user_name: 'gitlab-inst', port: 587, tls: true },
  });
});

test('the template of a new file, only comments, is not a mapping', () => {
  assert.deepEqual(check("# password: '123'\n# user_name: 'gitlab-inst'\n"), { kind: 'not-mapping' });
});

test('an empty document is not a mapping', () => {
  for (const text of ['', '\n\n', '---\n', '--- # c\n', '--- a\n...\n']) {
    assert.deepEqual(check(text), { kind: 'not-mapping' }, JSON.stringify(text));
  }
  // A lone document end marker starts an implicit document with no node: Psych refuses it.
  assert.equal(reason('...\n'), '(<unknown>): did not find expected node content while parsing a block node at line 1 column 1');
});

test('a scalar or a list at the top is not a mapping', () => {
  assert.deepEqual(check('hello\n'), { kind: 'not-mapping' });
  assert.deepEqual(check('- a\n- b\n'), { kind: 'not-mapping' });
  assert.deepEqual(check('--- !!binary aGk=\n'), { kind: 'not-mapping' });
});

test('any alias is invalid, because safe_load does not enable aliases', () => {
  assert.match(reason('a: &x 1\nb: *x\n'), ALIAS_REASON);
  assert.match(reason('base: &base\n  a: 1\nprod:\n  <<: *base\n'), ALIAS_REASON);
  assert.match(reason('a: *undefined\n'), ALIAS_REASON);
});

test('an anchor without an alias is fine', () => {
  assert.deepEqual(check('a: &x 1\n'), { kind: 'mapping', value: { a: 1 } });
});

test('an inline merge key works and later keys win', () => {
  assert.deepEqual(check('c:\n  <<: {a: 1, b: 1}\n  b: 2\n'), { kind: 'mapping', value: { c: { a: 1, b: 2 } } });
});

test('dates and times are disallowed classes', () => {
  assert.equal(reason('a: 2024-01-01\n'), 'Tried to load unspecified class: Date');
  assert.equal(reason('a: 1\nb: 2024-01-01 10:00:00\n'), 'Tried to load unspecified class: Time');
  assert.equal(reason('a: 2024-02-30\n'), 'Tried to load unspecified class: Date');
  assert.deepEqual(check("a: '2024-01-01'\nb: !!str 2024-01-01\n"), { kind: 'mapping', value: { a: '2024-01-01', b: '2024-01-01' } });
});

test('!!set and !!omap written as a mapping are disallowed classes', () => {
  assert.equal(reason('a: !!set {x, y}\n'), 'Tried to load unspecified class: Psych::Set');
  assert.equal(reason('a: !!omap {x: 1}\n'), 'Tried to load unspecified class: Psych::Omap');
});

test('Ruby-tagged objects are disallowed classes', () => {
  assert.equal(reason('a: !ruby/object:Foo {x: 1}\n'), 'Tried to load unspecified class: Foo');
  assert.equal(reason('a: !ruby/hash:Foo {x: 1}\n'), 'Tried to load unspecified class: Foo');
  assert.equal(reason('a: !ruby/struct:Foo {x: 1}\n'), 'Tried to load unspecified class: Foo');
  assert.equal(reason('a: !ruby/object {x: 1}\n'), 'Tried to load unspecified class: Object');
  assert.equal(reason('a: !ruby/regexp /x/\n'), 'Tried to load unspecified class: Regexp');
  assert.equal(reason('a: !ruby/range 1..2\n'), 'Tried to load unspecified class: Range');
});

test('Psych lets a few Ruby tags through: a plain Hash and a tagged scalar', () => {
  assert.deepEqual(check('a: !ruby/object:Hash {x: 1}\nb: !ruby/object:Foo bar\n'), { kind: 'mapping', value: { a: { x: 1 }, b: 'bar' } });
});

test('symbols are permitted and lose their colon', () => {
  assert.deepEqual(check(':password: secret\nmode: :login\nother: !ruby/symbol plain\n'), {
    kind: 'mapping',
    value: { password: 'secret', mode: 'login', other: 'plain' },
  });
});

test('!!binary becomes a Buffer and !!omap written as a list a mapping', () => {
  assert.deepEqual(check('key: !!binary aGVsbG8=\nmap: !!omap [x: 1, y: 2]\n'), {
    kind: 'mapping',
    value: { key: Buffer.from('hello'), map: { x: 1, y: 2 } },
  });
});

test('an unknown local tag is ignored', () => {
  assert.deepEqual(check('a: !foo bar\n'), { kind: 'mapping', value: { a: 'bar' } });
});

test('a duplicated key is allowed and the last one wins', () => {
  assert.deepEqual(check('password: one\npassword: two\n'), { kind: 'mapping', value: { password: 'two' } });
});

test('only the first of several documents counts', () => {
  assert.deepEqual(check('a: 1\n---\nb: *nowhere\n'), { kind: 'mapping', value: { a: 1 } });
  assert.deepEqual(check('--- x\n---\na: 1\n'), { kind: 'not-mapping' });
});

test('bytes that are not UTF-8 are invalid: Psych says line 1 column 1, the hint has the bad byte\'s place', () => {
  assert.equal(reason(Buffer.from([0x61, 0x3a, 0x20, 0xff, 0x0a])), '(<unknown>): invalid leading UTF-8 octet at line 1 column 1');
  const truncated = check(Buffer.concat([Buffer.from('a: 1\nb: '), Buffer.from([0xc3])]));
  assert.deepEqual(truncated, {
    kind: 'invalid',
    reason: '(<unknown>): incomplete UTF-8 octet sequence at line 1 column 1',
    hint: 'libyaml stopped at line 2 column 4',
  });
  assert.match(reason(Buffer.from([0x61, 0x3a, 0x20, 0xed, 0xa0, 0x80])), /invalid Unicode character/);
});

test('control characters are invalid anywhere (checked against Ruby: line 1 column 1)', () => {
  assert.equal(reason('a: \u0001\n'), '(<unknown>): control characters are not allowed at line 1 column 1');
  assert.equal(reason('a: 1\n---\n\u007f\n'), '(<unknown>): control characters are not allowed at line 1 column 1');
});

test('a byte order mark at the start is skipped but counts as a column', () => {
  assert.deepEqual(check('\uFEFFpassword: x\n'), { kind: 'mapping', value: { password: 'x' } });
  assert.deepEqual(check('\uFEFFpassword: x\nuser: y\n'), {
    kind: 'mapping',
    value: { password: 'x' },
    hint: 'the file starts with a byte order mark (BOM): GitLab reads only the first key of 2; save the file without the BOM',
  });
});

test('CRLF line endings are fine', () => {
  assert.deepEqual(check('a: 1\r\nb: two\r\n'), { kind: 'mapping', value: { a: 1, b: 'two' } });
});

test('tabs are fine between tokens but not where libyaml expects indentation', () => {
  assert.deepEqual(check('password:\tsecret\t# note\n'), { kind: 'mapping', value: { password: 'secret' } });
  assert.match(reason('main:\n\tpassword: x\n'), /line 2/);
  assert.match(reason('a: 1\n\t\nb: 2\n'), /found a tab character that violates indentation/);
  assert.match(reason('- \tx\n'), /found character that cannot start any token/);
});

test('a syntax error reads like Psych, with its context mark, and the problem goes in a hint', () => {
  // Psych prints libyaml's context mark: the start of the mapping whose key was expected.
  const dedent = check('main:\n  password: x\n bind_dn: y\n');
  assert.deepEqual(dedent, {
    kind: 'invalid',
    reason: '(<unknown>): did not find expected key while parsing a block mapping at line 1 column 1',
    hint: 'libyaml stopped at line 3 column 2 (key "bind_dn")',
  });
  assert.equal(reason("a: 'open\n"), '(<unknown>): found unexpected end of stream while scanning a quoted scalar at line 1 column 4');
  assert.equal(reason('a: b: c\n'), '(<unknown>): mapping values are not allowed in this context at line 1 column 5');
});

test('a hint never shows a value, only a plain key and a position', () => {
  const secret = 's3cr3t-value';
  for (const text of [`password: ${secret}: x\n`, `a:\n  - b\n  ${secret}\n`, `a: "${secret}\n`, `${secret}\n\tx: 1\n`]) {
    const result = check(text);
    assert.equal(result.kind, 'invalid', text);
    assert.ok(result.kind === 'invalid' && !`${result.reason}\n${result.hint ?? ''}`.includes(secret), `${text} leaked: ${JSON.stringify(result)}`);
  }
});

test('a value Ruby cannot load has no line number added to Psych\'s text', () => {
  const result = check('a: 1\nb: 2024-01-01 10:00:00\n');
  assert.deepEqual(result, { kind: 'invalid', reason: 'Tried to load unspecified class: Time' });
});

test('a byte order mark: GitLab sees only the first key, and a hint says so', () => {
  const result = check('\uFEFFa: 1\nb: 2\n');
  assert.equal(result.kind, 'mapping');
  assert.ok(result.kind === 'mapping');
  assert.deepEqual(result.value, { a: 1 });
  assert.match(result.hint ?? '', /byte order mark.*only the first key of 2/);
  assert.deepEqual(check('\uFEFFa: 1\n'), { kind: 'mapping', value: { a: 1 } });
});

test('scalars Ruby cannot convert are invalid', () => {
  assert.equal(reason('a: 0x_\n'), 'invalid value for Integer(): "0x"');
  assert.equal(reason('a: -.e+5\n'), 'invalid value for Float(): "-e+5"');
});

test('deep nesting is invalid with a clear reason instead of a crash', () => {
  assert.match(reason(`a: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`), /nests collections more than 500 deep/);
  assert.match(reason(`${'- '.repeat(100_000)}x\n`), /more than 500 deep/);
  assert.equal(check(`a: ${'['.repeat(400)}${']'.repeat(400)}\n`).kind, 'mapping');
});

test('a 10 MB file is checked in reasonable time', () => {
  const text = Array.from({ length: 300_000 }, (_, i) => `key_${i}: "value number ${i} ${'x'.repeat(10)}"`).join('\n');
  assert.ok(text.length > 10_000_000);
  const started = Date.now();
  const result = check(text);
  assert.equal(result.kind, 'mapping');
  assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
});

test('garbage never throws', () => {
  let seed = 42;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const alphabet = ' \t\n\r:-?#&*!|>\'"%@`[]{},<=~.09az\u00e9\uFEFF';
  for (let i = 0; i < 2000; i++) {
    const length = Math.floor(random() * 40);
    let text = '';
    for (let j = 0; j < length; j++) text += alphabet[Math.floor(random() * alphabet.length)];
    const result = check(text);
    assert.ok(['mapping', 'not-mapping', 'invalid'].includes(result.kind));
  }
});

test('reader errors read as Psych prints them (line 1 column 1), with the real place in the hint', () => {
  assert.deepEqual(check(Buffer.from([0x61, 0x3a, 0x20, 0x31, 0x0a, 0x62, 0x3a, 0x20, 0xff, 0x0a])), {
    kind: 'invalid',
    reason: '(<unknown>): invalid leading UTF-8 octet at line 1 column 1',
    hint: 'libyaml stopped at line 2 column 4',
  });
  assert.deepEqual(check('a: 1\nb: \u0001\n'), {
    kind: 'invalid',
    reason: '(<unknown>): control characters are not allowed at line 1 column 1',
    hint: 'libyaml stopped at line 2 column 4 (key "b")',
  });
});
