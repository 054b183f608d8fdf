/**
 * YAML details at the CLI (issue 11 §1, §4): floats printed as Ruby prints them by `get` and
 * `show --json`; GitLab's WARNING line exactly as Psych words it, with our help on a separate
 * `hint:` line on stderr that never shows a value; a byte order mark that hides keys from GitLab.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/run_cli.ts';
import { assertSucceedsWith, newTree, rootArgs } from './cli_helpers.ts';

const FLOATS = 'one: 1.0\nthousand: !!float 1e3\nbig: 1.0e+20\nsmall: 0.00001\nhalf: .5\nminus_zero: -0.0\n' +
  'inf: .inf\nninf: -.inf\nnan: .NaN\nint: 7\nlist: [2.50, 3]\nword: 1e3\n';

test('get prints floats as Ruby’s Float#to_s', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', FLOATS);
  const expected: Record<string, string> = {
    one: '1.0',
    thousand: '1000.0',
    big: '1.0e+20',
    small: '1.0e-05',
    half: '0.5',
    minus_zero: '-0.0',
    inf: 'Infinity',
    ninf: '-Infinity',
    nan: 'NaN',
    int: '7',
    // YAML 1.1 in Psych: 1e3 without a dot is a string.
    word: '1e3',
    'list.0': '2.5',
  };
  for (const [key, text] of Object.entries(expected)) {
    assertSucceedsWith(await runCli([...rootArgs(tree), 'smtp', 'get', key]), `${text}\n`);
  }
  assertSucceedsWith(await runCli([...rootArgs(tree), 'smtp', 'get', 'list']), '[2.5,3]\n');
});

test('show --json writes floats as Ruby’s to_json does, and NaN/Infinity as strings so it stays JSON', async (t) => {
  const tree = newTree(t);
  tree.writeEncrypted('smtp.yaml.enc', FLOATS);
  const result = await runCli([...rootArgs(tree), 'smtp', 'show', '--json']);
  assert.equal(result.exitCode, 0, result.stderr);
  for (const line of ['"one": 1.0,', '"thousand": 1000.0,', '"big": 1.0e+20,', '"small": 1.0e-05,', '"minus_zero": -0.0,', '"inf": "Infinity",', '"nan": "NaN",', '"int": 7,', '"word": "1e3"']) {
    assert.ok(result.stdout.includes(line), `${line} in ${result.stdout}`);
  }
  const parsed = JSON.parse(result.stdout) as Record<string, unknown>;
  assert.equal(parsed.thousand, 1000);
  assert.deepEqual(parsed.list, [2.5, 3]);
  assert.equal(parsed.ninf, '-Infinity');
});

test('write: GitLab’s WARNING line is Psych’s own, and the hint on stderr shows no value', async (t) => {
  const tree = newTree(t);
  const secret = 'hunter2-not-shown';
  const result = await runCli([...rootArgs(tree), 'smtp', 'write'], { input: `main:\n  user: x\n password: ${secret}\n` });
  assert.notEqual(result.exitCode, 0);
  assert.ok(
    result.stdout.includes(
      'WARNING: Content was not a valid SMTP secret yml file. (<unknown>): did not find expected key while parsing a block mapping at line 1 column 1\n',
    ),
    result.stdout,
  );
  assert.match(result.stderr, /^hint: libyaml stopped at line 3 column 2 \(key "password"\)$/m);
  assert.ok(!`${result.stdout}${result.stderr}`.includes(secret));
});

test('write: a class Psych refuses has no invented line number in GitLab’s line', async (t) => {
  const tree = newTree(t);
  const result = await runCli([...rootArgs(tree), 'smtp', 'write'], { input: 'a: 1\nexpires: 2024-01-01\n' });
  assert.notEqual(result.exitCode, 0);
  assert.ok(result.stdout.includes('WARNING: Content was not a valid SMTP secret yml file. Tried to load unspecified class: Date\n'), result.stdout);
  assert.doesNotMatch(result.stdout, /line 2/);
});

test('write: a byte order mark saves as GitLab would, with a hint that GitLab sees only the first key', async (t) => {
  const tree = newTree(t);
  const input = '\uFEFFuser_name: a\npassword: b\n';
  const result = await runCli([...rootArgs(tree), 'smtp', 'write'], { input });
  assert.equal(result.exitCode, 0, result.stderr);
  assert.match(result.stderr, /^hint: the file starts with a byte order mark \(BOM\): GitLab reads only the first key of 2/m);
  assert.deepEqual(tree.readPlaintext('smtp.yaml.enc'), Buffer.from(input));
});
