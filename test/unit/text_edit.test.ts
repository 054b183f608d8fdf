/**
 * set/unset's targeted text edit: only the changed entry's bytes change. Every expectation is the whole
 * new text, so any other byte that moved fails the test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PathConflict, TextEditRefused, setInText, unsetInText, yamlKey, yamlString } from '../../src/commands/text_edit.ts';
import { checkSecretYaml } from '../../src/yaml/secret_yaml.ts';

const REAL = [
  '---',
  '# SMTP secrets for gitlab.example.com',
  "user_name: 'smtp-relay@example.com'   # the relay account",
  'password: "old \\"quoted\\" one"',
  '',
  '# TLS options',
  'options: {verify: peer, ca_file: /etc/ssl/ca.pem}',
  'port: 25',
  '',
].join('\n');

const load = (text: string): unknown => {
  const check = checkSecretYaml(Buffer.from(text));
  assert.equal(check.kind, 'mapping', text);
  return (check as { value: unknown }).value;
};

test('set replaces one value in place: comments, blank lines, quoting and flow maps elsewhere stay', () => {
  const { text } = setInText(REAL, ['password'], "'new'");
  assert.equal(text, REAL.replace('password: "old \\"quoted\\" one"', "password: 'new'"));
  const { text: commented } = setInText(REAL, ['user_name'], "'x@example.com'");
  assert.equal(commented, REAL.replace("'smtp-relay@example.com'   #", "'x@example.com'   #"));
  const { text: port } = setInText(REAL, ['port'], '587');
  assert.equal(port, REAL.replace('port: 25', 'port: 587'));
});

test('set appends a new key after the last entry, before trailing blank lines', () => {
  const { text } = setInText(REAL, ['address'], "'smtp.example.com'");
  assert.equal(text, REAL.replace('port: 25\n', "port: 25\naddress: 'smtp.example.com'\n"));
  assert.deepEqual(load(text), { ...(load(REAL) as object), address: 'smtp.example.com' });
});

test('set creates missing mappings with the file\'s own indentation', () => {
  const ldap = "main:\n    password: 'a'\n    bind_dn: 'cn=admin'\nsecondary:\n    password: 'b'\n";
  assert.equal(setInText(ldap, ['main', 'password'], "'z'").text, ldap.replace("'a'", "'z'"));
  assert.equal(
    setInText(ldap, ['main', 'tls', 'verify'], 'true').text,
    ldap.replace("'cn=admin'\n", "'cn=admin'\n    tls:\n        verify: true\n"),
  );
  assert.equal(setInText(ldap, ['third', 'password'], "'c'").text, `${ldap}third:\n    password: 'c'\n`);
});

test('set keeps CRLF line endings and adds CRLF lines', () => {
  const crlf = "# comment\r\nuser: 'a'\r\npassword: 'b'\r\n";
  assert.equal(setInText(crlf, ['password'], "'c'").text, "# comment\r\nuser: 'a'\r\npassword: 'c'\r\n");
  assert.equal(setInText(crlf, ['port'], '25').text, `${crlf}port: 25\r\n`);
});

test('set on an empty or comment-only text (a fresh template) appends the entry', () => {
  const template = "# password: '123'\n# user_name: 'gitlab-inst'\n";
  assert.equal(setInText(template, ['password'], "'p'").text, `${template}password: 'p'\n`);
  assert.equal(setInText('', ['main', 'password'], "'p'").text, "main:\n  password: 'p'\n");
  assert.equal(setInText('# no newline', ['a'], '1').text, '# no newline\na: 1\n');
});

test('set replaces a null value, a block scalar and a multi-line plain scalar', () => {
  assert.equal(setInText('a:\nb: 1\n', ['a'], '2').text, 'a: 2\nb: 1\n');
  assert.equal(setInText('a: # later\nb: 1\n', ['a'], '2').text, 'a: 2 # later\nb: 1\n');
  assert.equal(setInText('key: |\n  line one\n  line two\nb: 1\n', ['key'], "'x'").text, "key: 'x'\nb: 1\n");
  assert.equal(setInText('key: first\n  second\nb: 1\n', ['key'], "'x'").text, "key: 'x'\nb: 1\n");
});

test('set refuses to cross or replace what is not a scalar, and layouts it does not understand', () => {
  assert.throws(() => setInText('password: x\n', ['password', 'inner'], '1'), PathConflict);
  assert.throws(() => setInText('main:\n  a: 1\n', ['main'], '1'), (error) => error instanceof PathConflict && error.isMapping);
  // A flow mapping is a mapping, only not one edited in place: refused as a layout, not as a path through a scalar.
  assert.throws(() => setInText('opts: {a: 1}\n', ['opts', 'a'], '2'), TextEditRefused);
  assert.throws(() => setInText('{a: 1}\n', ['a'], '2'), TextEditRefused);
  assert.throws(() => setInText('a: 1\na: 2\n', ['a'], '3'), TextEditRefused);
  assert.throws(() => setInText('a: &x 1\n', ['a'], '3'), TextEditRefused);
  assert.throws(() => setInText('a: 1\n...\n', ['b'], '3'), TextEditRefused);
  assert.throws(() => setInText('- a\n- b\n', ['a'], '3'), TextEditRefused);
});

test('unset through a flow mapping is refused as a layout it does not change, never reported as not found', () => {
  assert.throws(() => unsetInText('a: {b: 1, c: 2}\n', ['a', 'c']), TextEditRefused);
  assert.throws(() => unsetInText('a: &x {c: 2}\n', ['a', 'c']), TextEditRefused);
  assert.equal(unsetInText('a: 1\n', ['a', 'c']), null);
});

test('set finds quoted and symbol keys as GitLab loads them', () => {
  assert.equal(setInText(":password: 'a'\n", ['password'], "'b'").text, ":password: 'b'\n");
  assert.equal(setInText("'user name': 'a'\n", ['user name'], "'b'").text, "'user name': 'b'\n");
  assert.equal(setInText('"pass": a\n', ['pass'], "'b'").text, `"pass": 'b'\n`);
});

test('unset removes only the entry, with its nested lines; an emptied mapping stays a mapping', () => {
  assert.equal(unsetInText(REAL, ['port'])!.text, REAL.replace('port: 25\n', ''));
  assert.equal(unsetInText(REAL, ['options'])!.text, REAL.replace('options: {verify: peer, ca_file: /etc/ssl/ca.pem}\n', ''));
  const ldap = "main: # primary\n  password: 'a'\n  # the bind account\n  bind_dn: 'cn=admin'\nother: 1\n";
  assert.equal(unsetInText(ldap, ['main', 'password'])!.text, "main: # primary\n  # the bind account\n  bind_dn: 'cn=admin'\nother: 1\n");
  assert.equal(unsetInText(ldap, ['main'])!.text, 'other: 1\n');
  const single = "main:\n  password: 'a'\nother: 1\n";
  assert.equal(unsetInText(single, ['main', 'password'])!.text, 'main: {}\nother: 1\n');
  assert.deepEqual(load(unsetInText(single, ['main', 'password'])!.text), { main: {}, other: 1 });
});

test('unset of a missing key or a path through a scalar is null', () => {
  assert.equal(unsetInText(REAL, ['nope']), null);
  assert.equal(unsetInText(REAL, ['port', 'x']), null);
  assert.equal(unsetInText('', ['a']), null);
});

test('yamlString writes strings Psych reads back as the same string', () => {
  const values = ['0777', 'yes', 'null', '~', "it's", 'a "b"', 'tab\there', 'two\nlines', '\u0085nel', ' lead', 'trail ', '#x', ': x', '', 'ünï', '\u2028'];
  for (const value of values) {
    assert.deepEqual(load(`v: ${yamlString(value)}\n`), { v: value }, JSON.stringify(value));
  }
  for (const key of ['password', 'yes', 'user name', '1', 'a:b']) {
    assert.deepEqual(Object.keys(load(`${yamlKey(key)}: 1\n`) as object), [key], key);
  }
});
