/**
 * Mistakes get suggestions (issue 10 §17): commander's error line stays, and our near match follows on a
 * `hint:` line; exit 2. `help [cmd]` exits 0. Help lists every command of the table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/run_cli.ts';
import { NAMESPACE_COMMANDS, TOP_LEVEL_COMMANDS } from '../../src/commands/table.ts';

const cases: Array<[string[], string]> = [
  [['edit', 'smtp'], "error: unknown command 'edit'\nhint: did you mean `gitlab-secrets smtp edit`?\n"],
  [['edit', 'redis', 'cache'], "error: unknown command 'edit'\nhint: did you mean `gitlab-secrets redis edit cache`?\n"],
  [['SMTP', 'show'], "error: unknown command 'SMTP'\nhint: did you mean `gitlab-secrets smtp show`?\n"],
  [['service-desk', 'show'], "error: unknown command 'service-desk'\nhint: did you mean `gitlab-secrets service-desk-email show`?\n"],
  [['stmp', 'show'], "error: unknown command 'stmp'\nhint: did you mean `gitlab-secrets smtp show`?\n"],
  [['gitlab:smtp:secrets:show'], "error: unknown command 'gitlab:smtp:secrets:show'\nhint: did you mean `gitlab-secrets smtp show`?\n"],
  [['smtp', 'shwo'], "error: unknown command 'shwo'\nhint: did you mean `gitlab-secrets smtp show`?\n"],
  [['docter'], "error: unknown command 'docter'\nhint: did you mean `gitlab-secrets doctor`?\n"],
  // A value typed on the command line by mistake is never repeated in the suggestion.
  [['set', 'smtp', 'password', 'hunter2-secret'], "error: unknown command 'set'\nhint: did you mean `gitlab-secrets smtp set password`?\n"],
  [['SMTP', 'set', 'password', 'hunter2-secret'], "error: unknown command 'SMTP'\nhint: did you mean `gitlab-secrets smtp set password`?\n"],
  [['redis', 'sett', 'password', 'cache', 'x'], "error: unknown command 'sett'\nhint: did you mean `gitlab-secrets redis set password cache`?\n"],
  [
    ['smtp', 'edit', 'editor=vim'],
    "error: too many arguments for 'edit'. Expected 0 arguments but got 1.\nhint: variables are upper case: EDITOR=vim\n",
  ],
];

for (const [args, stderr] of cases) {
  test(`${args.join(' ')} suggests the near match on a hint line`, async () => {
    const result = await runCli(['--gitlab-root', '/nonexistent', ...args]);
    assert.equal(result.stderr, stderr);
    assert.equal(result.stdout, '');
    assert.equal(result.exitCode, 2);
  });
}

test('a word near nothing gets no guess, and commander keeps its own for options', async () => {
  const bogus = await runCli(['bogus']);
  assert.equal(bogus.stderr, "error: unknown command 'bogus'\n");
  assert.equal(bogus.exitCode, 2);
  const option = await runCli(['smtp', 'show', '--jsn']);
  assert.match(option.stderr, /^error: unknown option '--jsn'\n\(Did you mean --json\?\)\n$/);
  assert.equal(option.exitCode, 2);
});

test('help [cmd] shows the help and exits 0', async () => {
  const top = await runCli(['help']);
  assert.equal(top.exitCode, 0);
  assert.match(top.stdout, /^Usage: gitlab-secrets/);
  const smtp = await runCli(['help', 'smtp']);
  assert.equal(smtp.exitCode, 0);
  assert.match(smtp.stdout, /^Usage: gitlab-secrets smtp/);
  const set = await runCli(['smtp', 'help', 'set']);
  assert.equal(set.exitCode, 0);
  assert.match(set.stdout, /^Usage: gitlab-secrets smtp set \[options\] <key>/);
});

test('--help lists every command of the table; write --help never redirects from the key file', async () => {
  const top = await runCli(['--help']);
  for (const row of TOP_LEVEL_COMMANDS) assert.match(top.stdout, new RegExp(`^  ${row.name}\\b`, 'm'), row.name);
  const namespace = await runCli(['smtp', '--help']);
  for (const row of NAMESPACE_COMMANDS) assert.match(namespace.stdout, new RegExp(`^  ${row.name}\\b`, 'm'), row.name);
  assert.match(top.stdout, /Commands of every namespace: .*\bset\b.*\bunset\b/);
  const write = await runCli(['smtp', 'write', '--help']);
  assert.match(write.stdout, /gitlab-secrets smtp write < smtp\.yml/);
  assert.doesNotMatch(write.stdout, /< secrets\.yml/);
});
