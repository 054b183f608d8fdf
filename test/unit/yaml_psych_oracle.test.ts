import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfigYaml } from '../../src/yaml/config_yaml.ts';
import { checkSecretYaml } from '../../src/yaml/secret_yaml.ts';
import { canonical } from '../helpers/psych_canonical.ts';

// Differential test: every document goes through real Ruby (one process, see
// fixtures/psych_oracle.rb) and through checkSecretYaml and loadConfigYaml. The kinds must agree,
// and so must the values wherever Ruby's value has a canonical JSON form.

const ORACLE = fileURLToPath(new URL('./fixtures/psych_oracle.rb', import.meta.url));

type Kind = 'mapping' | 'not-mapping' | 'invalid';
interface OracleResult {
  kind: Kind;
  error?: string;
  value?: unknown;
}
interface OracleOutput {
  ruby: string;
  psych: string;
  results: Array<{ secret: OracleResult; config: OracleResult }>;
}

const kb = 'k'.repeat(1030);
const CORPUS: Array<[name: string, document: string | Buffer]> = [
  ['a plain mapping of settings', "password: '123'\nuser_name: gitlab-inst\nport: 587\n"],
  ['the SMTP template, only comments', "# password: '123'\n# user_name: 'gitlab-inst'\n"],
  ['an empty document', ''],
  ['blank lines only', '  \n\n'],
  ['a lone document marker', '---\n'],
  ['booleans in several cases', 'a: yes\nb: No\nc: ON\nd: off\ne: True\nf: fAlSe\n'],
  ['y and n are not booleans', 'a: y\nb: n\nc: Y\nd: N\n'],
  ['quoted booleans are strings', "a: 'yes'\nb: \"off\"\n"],
  ['nulls', 'a: ~\nb: null\nc: NULL\nd: nUlL\ne:\n'],
  ['octal-looking integers', 'a: 010\nb: 0o10\nc: 09\nd: 00\ne: 0_7\n'],
  ['hex, binary, underscores and commas', 'a: 0x1F\nb: 0b101\nc: 1_000\nd: 1,000\ne: -0x1_F\n'],
  ['base 60 numbers', 'a: 1:30\nb: 1:30:15\nc: -1:30\nd: 1:30.5\n'],
  ['floats need a dot and a signed exponent', 'a: .5\nb: 1.\nc: 1e3\nd: 1.0e+3\ne: 1.5e3\nf: +1.5\n'],
  ['special floats', 'a: .inf\nb: -.Inf\nc: .NaN\n'],
  ['integers beyond 2^53', 'a: 123456789012345678901234567890\nb: 9007199254740993\n'],
  ['an integer Ruby cannot parse', 'a: 0x_\n'],
  ['a float Ruby cannot parse', 'a: -.e+5\n'],
  ['a merge key with one alias', 'base: &b\n  a: 1\n  b: 2\nx:\n  <<: *b\n  b: 3\n'],
  ['a merge key with a list of aliases', 'a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n'],
  ['a merge key after explicit keys', 'c:\n  b: 2\n  <<: {a: 1, b: 9}\n'],
  ['an inline merge key', 'c:\n  <<: {a: 1}\n  b: 2\n'],
  ['a quoted merge key', "a:\n  '<<': {x: 1}\n"],
  ['a merge key tagged as a string', 'a:\n  !!str <<: {x: 1}\n'],
  ['a merge key with a scalar', 'a:\n  <<: 5\n'],
  ['duplicate keys', 'a: 1\nb: 2\na: 3\n'],
  ['several documents', 'a: 1\n---\nb: 2\n'],
  ['a broken second document', 'a: 1\n---\nb: [\n'],
  ['an alias of a scalar', 'a: &x 1\nb: *x\n'],
  ['a recursive alias', 'a: &x [1, *x]\n'],
  ['an unknown alias', 'a: *nope\n'],
  ['a date', 'a: 2024-01-31\n'],
  ['an impossible date', 'a: 2024-02-30\n'],
  ['a timestamp with a zone', 'a: 2024-01-31 10:00:00.5 +05:30\n'],
  ['a quoted date', "a: '2024-01-31'\n"],
  ['a set', 'a: !!set {x, y}\n'],
  ['an ordered map written as a list', 'a: !!omap [x: 1, y: 2]\n'],
  ['an ordered map written as a mapping', 'a: !!omap {x: 1}\n'],
  ['an ordered map of scalars', 'a: !!omap [x, y]\n'],
  ['binary data', 'a: !!binary aGVsbG8=\nb: !!binary |\n  aGVs\n  bG8=\n'],
  ['symbols as values', 'a: :foo\nb: !ruby/symbol bar\nc: :"a b"\n'],
  ['symbols as keys', ':password: x\n:user: y\n'],
  ['unknown local tags', 'a: !foo bar\nb: !foo "12"\nc: !foo {x: 1}\n'],
  ['the non-specific tag', 'a: ! 12\nb: ! "12"\n'],
  ['a Ruby object', 'a: !ruby/object:Foo {x: 1}\n'],
  ['a Ruby hash subclass', 'a: !ruby/hash:Foo {x: 1}\n'],
  ['a Ruby Hash object', 'a: !ruby/object:Hash {x: 1}\n'],
  ['a Ruby object tag on a scalar', 'a: !ruby/object:Foo bar\n'],
  ['float and int tags', 'a: !!float 1\nb: !!int foo\nc: !!float 1e3\n'],
  ['a float tag on a word', 'a: !!float foo\n'],
  ['a byte order mark before one key', '\uFEFFa: 1\n'],
  ['a byte order mark before several keys', '\uFEFFa: 1\nb: 2\n'],
  ['a byte order mark before a document marker', '\uFEFF---\na: 1\n'],
  ['CRLF line endings', 'a: 1\r\nb:\r\n  c: 2\r\n'],
  ['a tab after a colon', 'a:\t1\nb: [1,\t2]\n'],
  ['tab indentation', 'a:\n\tb: 1\n'],
  ['a tab-only line between entries', 'a: 1\n\t\nb: 2\n'],
  ['a tab after a sequence dash', '- \tx\n'],
  ['a tab in a block scalar indentation', 'a: |\n  x\n\t\n'],
  ['a bad dedent', 'a:\n  b: 1\n c: 2\n'],
  ['an unterminated quote', "a: 'open\n"],
  ['an unterminated flow sequence', 'a: [1, 2\n'],
  ['a byte that is not UTF-8', Buffer.from([0x61, 0x3a, 0x20, 0xff, 0x0a])],
  ['a truncated UTF-8 sequence', Buffer.from([0x61, 0x3a, 0x20, 0xc3])],
  ['a control character', 'a: \u0001\n'],
  ['a control character in a later document', 'a: 1\n---\n\u0001\n'],
  ['very deep nesting', `a: ${'['.repeat(2000)}${']'.repeat(2000)}\n`],
  ['a literal block scalar', 'a: |\n  line 1\n  line 2\nb: >-\n  folded\n  text\n'],
  ['a block scalar at the end without a newline', 'a: |\n  lit'],
  ['a flow sequence closed less indented than its key', 'production:\n  hosts: [\n    a,\n  ]\n'],
  ['a quoted string continued without indentation', 'a: "x\ny"\n'],
  ['a value indicator without a key', 'a: 1\n: 2\n'],
  ['an explicit key', '? a\n: b\n'],
  ['an implicit key longer than 1024 characters', `${kb}: 1\n`],
  ['an unknown directive', '%FOO bar\n---\na: 1\n'],
  ['a YAML 1.2 directive', '%YAML 1.2\n---\na: 1\n'],
  ['a next line character as a line break', 'a: "x\u0085y"\n'],
  ['a root mapping followed by a less indented line', ' a: 1\nb: 2\n'],
  ['a root scalar followed by more text', "'x' foo\n"],
  ['a colon right after an alias key', 'a: &a 1\n*a: 2\n'],
  ['a question mark in a flow sequence', '[?k]\n'],
  ['a colon and a bracket in a flow plain scalar', '{a:[1]}\n'],
  [
    'a gitlab.yml production section',
    'production: &base\n  gitlab:\n    host: gitlab.example.com\n    https: true\n  shared:\n    path: /var/opt/gitlab/gitlab-rails/shared\n  encrypted_settings:\n    path: "/var/opt/gitlab/gitlab-rails/shared/encrypted_settings"\ndevelopment:\n  <<: *base\n',
  ],
  [
    'a secrets.yml with a shared section',
    'shared:\n  encrypted_settings_key_base: 0123456789abcdef0123456789abcdef\nproduction:\n  secret_key_base: abc\n  rotated_encrypted_settings_key_base:\n    - one\n    - two\n',
  ],
  ['an LDAP secret', "main:\n  password: 'p@ss: word'\n  bind_dn: 'cn=admin,dc=example,dc=com'\n"],
];

function kindOf(value: unknown): Kind {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype
    ? 'mapping'
    : 'not-mapping';
}

function runOracle(): OracleOutput | string {
  const ruby = spawnSync('ruby', ['-e', 'print RUBY_VERSION'], { encoding: 'utf8' });
  if (ruby.error) return 'ruby not found: install ruby to run the Psych differential test';
  const input = JSON.stringify(CORPUS.map(([, document]) => Buffer.from(document).toString('base64')));
  const run = spawnSync('ruby', [ORACLE], { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`psych_oracle.rb failed: ${run.stderr}`);
  const output = JSON.parse(run.stdout) as OracleOutput;
  if (Number.parseInt(output.psych, 10) < 4) return `Psych ${output.psych} is too old: the differential test needs Psych 4 or newer`;
  return output;
}

test('our loaders agree with Ruby’s Psych on every document of the corpus', async (t) => {
  const output = runOracle();
  if (typeof output === 'string') {
    assert.notEqual(process.env.GITLAB_SECRETS_REQUIRE_RUBY, '1', output);
    t.skip(output);
    return;
  }
  assert.equal(output.results.length, CORPUS.length);
  for (const [index, [name, document]] of CORPUS.entries()) {
    const ruby = output.results[index];
    assert.ok(ruby);
    await t.test(name, () => {
      const bytes = Buffer.from(document);
      const secret = checkSecretYaml(bytes);
      const detail = `${JSON.stringify(bytes.toString('latin1')).slice(0, 200)}: Psych said ${ruby.secret.error ?? ruby.secret.kind}`;
      assert.equal(secret.kind, ruby.secret.kind, `checkSecretYaml on ${detail}${secret.kind === 'invalid' ? `, we said ${secret.reason}` : ''}`);
      if (secret.kind === 'mapping' && ruby.secret.value !== undefined) {
        assert.deepEqual(canonical(secret.value), ruby.secret.value, `checkSecretYaml value of ${detail}`);
      }
      // loadConfigYaml takes text, so bytes that are not UTF-8 cannot reach it.
      if (typeof document !== 'string') return;
      let value: unknown;
      let kind: Kind;
      try {
        value = loadConfigYaml(document);
        kind = kindOf(value);
      } catch (error) {
        kind = 'invalid';
        value = (error as Error).message;
      }
      const configDetail = `${JSON.stringify(document).slice(0, 200)}: Psych said ${ruby.config.error ?? ruby.config.kind}`;
      assert.equal(kind, ruby.config.kind, `loadConfigYaml on ${configDetail}, we said ${String(value)}`);
      if (kind !== 'invalid' && ruby.config.value !== undefined) {
        assert.deepEqual(canonical(value), ruby.config.value, `loadConfigYaml value of ${configDetail}`);
      }
    });
  }
});
