/**
 * What `set` and `unset` save, the real ActiveSupport decrypts, with every comment and untouched byte of a
 * file Ruby encrypted still there, and Psych (YAML.safe_load, as GitLab loads it) reads the new values
 * with the types promised: stdin values are strings, --value is YAML.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { KEY_BASE, makeGitlabTree } from '../helpers/gitlab_tree.ts';
import { runCli } from '../helpers/run_cli.ts';
import { requireRubyOrSkip, rubyDecrypt, rubyEncrypt } from './ruby.ts';

const SAVED = 'File encrypted and saved.\n';

/** GitLab's own load: YAML.safe_load(contents, permitted_classes: [Symbol]), as JSON. */
function gitlabLoad(plaintext: Buffer): unknown {
  const result = spawnSync(
    'ruby',
    ['-ryaml', '-rjson', '-e', 'puts JSON.generate(YAML.safe_load($stdin.read, permitted_classes: [Symbol]))'],
    { input: plaintext, timeout: 60_000 },
  );
  assert.equal(result.status, 0, result.stderr.toString());
  return JSON.parse(result.stdout.toString('utf8'));
}

const ORIGINAL = [
  '---',
  '# LDAP bind secrets (edited by hand, keep the comments)',
  'main: # the primary server',
  "  bind_dn: 'cn=admin,dc=example,dc=com'",
  '  password: "old"   # rotated yearly',
  '',
  'secondary:',
  '  password: old2',
  '  options: {verify: peer}',
  '',
].join('\r\n');

test('Ruby decrypts what set and unset wrote; comments and other bytes survive; types are as promised', (t) => {
  if (!requireRubyOrSkip(t)) return;
  const tree = makeGitlabTree();
  t.after(() => tree.remove());
  const path = tree.file('ldap.yaml.enc');
  writeFileSync(path, rubyEncrypt(Buffer.from(ORIGINAL), KEY_BASE));
  const cli = (args: string[], input = ''): Promise<{ exitCode: number; stdout: string; stderr: string }> =>
    runCli(['--gitlab-root', tree.root, 'ldap', ...args], { input });

  return (async () => {
    for (const [args, input] of [
      [['set', 'main.password'], '0777\n'],
      [['set', 'secondary.port', '--value', '636'], ''],
      [['set', 'tertiary.password'], "it's: #not a comment"],
      [['unset', 'secondary.password'], ''],
    ] as const) {
      const result = await cli([...args], input);
      assert.equal(result.stdout, SAVED, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.exitCode, 0);
    }
    const plaintext = rubyDecrypt(readFileSync(path, 'latin1'), KEY_BASE);
    assert.equal(
      plaintext.toString('utf8'),
      ORIGINAL.replace('"old"   #', "'0777'   #")
        .replace('  password: old2\r\n', '')
        .replace('  options: {verify: peer}\r\n', "  options: {verify: peer}\r\n  port: 636\r\n")
        .concat("tertiary:\r\n  password: 'it''s: #not a comment'\r\n"),
    );
    assert.deepEqual(gitlabLoad(plaintext), {
      main: { bind_dn: 'cn=admin,dc=example,dc=com', password: '0777' },
      secondary: { options: { verify: 'peer' }, port: 636 },
      tertiary: { password: "it's: #not a comment" },
    });
  })();
});
