import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { blockSubsetTree } from '../../src/yaml/block_subset.ts';
import { loadConfigYaml } from '../../src/yaml/config_yaml.ts';
import { buildFirstDocument } from '../../src/yaml/psych_tree.ts';
import type { YamlNode } from '../../src/yaml/psych_tree.ts';
import { canonical } from '../helpers/psych_canonical.ts';
import { seededRandom } from '../helpers/seeded_random.ts';
import { makeGitlabYml } from '../../bench/gitlab_yml.mjs';

// The line-at-a-time reader of plain block YAML (src/yaml/block_subset.ts) must build exactly the tree our
// libyaml port builds wherever it does not decline, and decline every document the port refuses. Checked on
// real-size configuration files and on seeded mutations of them (characters YAML gives meaning to, and
// indentation and line changes); the values of the documents it reads are checked against the real Psych.

const ORACLE = fileURLToPath(new URL('./fixtures/psych_oracle.rb', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../examples/gitlab/config/gitlab.yml', import.meta.url));
const SEED = Number.parseInt(process.env.GITLAB_SECRETS_YAML_SEED ?? '20261130', 10);

/** The tree without offsets (the reader leaves them 0: only error messages use them). */
function shape(node: YamlNode | undefined): unknown {
  if (node === undefined) return undefined;
  if (node.kind === 'alias') return { kind: 'alias', anchor: node.anchor };
  if (node.kind === 'scalar') return { kind: 'scalar', anchor: node.anchor, tag: node.tag, value: node.value, quoted: node.quoted };
  return { kind: node.kind, anchor: node.anchor, tag: node.tag, children: node.children.map(shape) };
}

/** The port's tree, or the error it raises. */
function portTree(text: string): { tree: unknown } | { error: string } {
  try {
    return { tree: shape(buildFirstDocument(text)) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** Undefined when the reader declined; throws when it read a document differently from the port. */
function checkAgainstPort(text: string): YamlNode | undefined {
  const fast = blockSubsetTree(text);
  if (fast === undefined) return undefined;
  const port = portTree(text);
  if ('error' in port) assert.fail(`the reader accepted a document the port refuses (${port.error}):\n${text}`);
  assert.deepEqual(shape(fast), port.tree, `a different tree:\n${text}`);
  return fast;
}

/** A gitlab.yml excerpt with every construct the reader knows, small enough to mutate thousands of times. */
const SMALL_GITLAB_YML = `# GitLab settings
production: &base
  gitlab:
    host: localhost
    port: 80 # Set to 443 if using HTTPS
    https: false
    email_from: 'example@example.com'
    email_display_name: "GitLab"
    trusted_proxies: []
    default_projects_features: {}
  ldap:
    servers:
      main: &main
        label: 'LDAP'
        attributes:
          username: ['uid', 'userid', "sAMAccountName"]
        port: 389
      secondary:
        <<: *main
        label: 'it''s secondary'
  cron_jobs:
    - { name: stuck_ci, cron: "0 * * * *" }
    - name: expire
      cron: '*/5 * * * *'
    -
      name: empty
    - plain entry # a comment
    - -1
  storages:
  - default
  - other
  empty:
  anchored: &only
  alias_of_it: *only
  anchored_list: &list
  - a
  - b
  list_again: *list
  nested:
    - *main
    - &item item
    - [a, 1, 'b']
development:
  <<: *base
`;

const SECRETS_LIKE = "user_name: 'smtp-user@example.com'\npassword: \"p@ss:w0rd#1\"\naddress: smtp.example.com\nport: 587\n";

const SIGNIFICANT = [' ', ' ', '\t', '\n', ':', '-', '?', '[', ']', '{', '}', ',', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`', '\\', 'a', '0', '~', '.'];


/** Single-character changes, and changes of whole lines: indentation, removal, doubling, swapping. */
function mutations(base: string, count: number, random: () => number): string[] {
  const docs: string[] = [];
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  for (let n = 0; n < count; n++) {
    if (random() < 0.6) {
      const at = Math.floor(random() * (base.length + 1));
      const ch = pick(SIGNIFICANT);
      const op = random();
      if (op < 0.4) docs.push(base.slice(0, at) + ch + base.slice(at));
      else if (op < 0.7) docs.push(base.slice(0, at) + base.slice(at + 1));
      else docs.push(base.slice(0, at) + ch + base.slice(at + 1));
      continue;
    }
    const lines = base.split('\n');
    const i = Math.floor(random() * lines.length);
    const op = random();
    if (op < 0.25) lines[i] = ` ${lines[i]}`;
    else if (op < 0.5) lines[i] = lines[i]!.replace(/^ {1,2}/, '');
    else if (op < 0.65) lines.splice(i, 1);
    else if (op < 0.8) lines.splice(i, 0, lines[i]!);
    else if (i + 1 < lines.length) [lines[i], lines[i + 1]] = [lines[i + 1]!, lines[i]!];
    else lines[i] = `${lines[i]}  `;
    docs.push(lines.join('\n'));
  }
  return docs;
}

test('the reader reads a real-size gitlab.yml, the example tree and a secrets file: the same trees as the port', () => {
  for (const text of [makeGitlabYml(), readFileSync(EXAMPLE, 'utf8'), SMALL_GITLAB_YML, SECRETS_LIKE]) {
    assert.notEqual(checkAgainstPort(text), undefined, `declined:\n${text.slice(0, 300)}`);
  }
});

test('the reader declines what it does not know, and the loader still reads it through the port', () => {
  const outside = [
    'a: |\n  block\n', // block scalar
    'a: "tab\\there"\n', // escape
    'a: !!str 1\n', // tag
    '---\na: 1\n', // document marker
    'a: multi\n  line\n', // multi-line plain scalar
    '"quoted key": 1\n',
    'a:\tb\n',
    'a: 1\r\nb: 2\r\n',
    '\uFEFFa: 1\n',
    'a: [1, [2]]\n',
    '- - nested\n',
    '  indented: root\n',
    'plain scalar root\n',
    '',
  ];
  for (const text of outside) {
    assert.equal(blockSubsetTree(text), undefined, JSON.stringify(text));
    // The loader still gives what the port gives.
    let expected: unknown;
    try {
      expected = canonical(loadConfigYaml(text));
    } catch (error) {
      expected = (error as Error).message;
    }
    assert.notEqual(expected, undefined);
  }
});

test('mutations of gitlab.yml and secrets files: where the reader does not decline, the port agrees; what the port refuses, the reader declines', (t) => {
  const random = seededRandom(SEED);
  let read = 0;
  const docs = [...mutations(SMALL_GITLAB_YML, 3000, random), ...mutations(SECRETS_LIKE, 600, random)];
  for (const text of docs) if (checkAgainstPort(text) !== undefined) read++;
  t.diagnostic(`${read} of ${docs.length} mutations read by the reader`);
  // Both sides exercised: many mutations stay readable (a comment, a value), many leave the subset.
  assert.ok(read > docs.length * 0.25 && read < docs.length * 0.9, `${read} of ${docs.length} read by the reader`);
});

test('values of the documents the reader reads agree with the real Psych', (t) => {
  const ruby = spawnSync('ruby', ['-e', 'print RUBY_VERSION'], { encoding: 'utf8' });
  if (ruby.error) {
    if (process.env['GITLAB_SECRETS_REQUIRE_RUBY']) assert.fail('ruby is required (GITLAB_SECRETS_REQUIRE_RUBY) but not found');
    t.skip('ruby not found');
    return;
  }
  const random = seededRandom(SEED + 1);
  const docs = [SMALL_GITLAB_YML, SECRETS_LIKE, ...mutations(SMALL_GITLAB_YML, 1200, random)].filter((text) => blockSubsetTree(text) !== undefined);
  const input = JSON.stringify(docs.map((text) => Buffer.from(text).toString('base64')));
  const run = spawnSync('ruby', [ORACLE], { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  assert.equal(run.status, 0, run.stderr);
  const results = (JSON.parse(run.stdout) as { results: Array<{ config: { kind: string; error?: string; value?: unknown } }> }).results;
  let compared = 0;
  docs.forEach((text, i) => {
    const theirs = results[i]!.config;
    let ours: { kind: string; value?: unknown; error?: string };
    try {
      ours = { kind: 'loaded', value: canonical(loadConfigYaml(text)) };
    } catch (error) {
      ours = { kind: 'invalid', error: (error as Error).message };
    }
    if (theirs.kind === 'invalid') {
      // Read by the reader, refused by Psych: only a loading error (an unknown alias) may do that.
      assert.equal(ours.kind, 'invalid', `Psych refuses (${theirs.error}), we load:\n${text}`);
      return;
    }
    assert.equal(ours.kind, 'loaded', `Psych loads, we refuse (${ours.error}):\n${text}`);
    if (theirs.value === undefined) return; // not representable as canonical JSON (e.g. a cycle)
    assert.deepEqual(ours.value, theirs.value, `a different value:\n${text}`);
    compared++;
  });
  assert.ok(compared > docs.length / 2, `only ${compared} of ${docs.length} values compared`);
});

test('corner cases: the reader declines each of these or builds the port\'s tree', () => {
  const docs = [
    // A flow mapping key longer than libyaml's 1024-character simple key limit: the port refuses it.
    `a: {${'k'.repeat(1025)}: 1}\n`,
    `a: {${'k'.repeat(1001)}: 1}\n`,
    // A NUL ends libyaml's input; an unpaired surrogate; control characters (psychLoad refuses all of
    // these before either reader runs, as libyaml's reader does).
    'a: b\x00c\n',
    'a: \uD800\n',
    'a: \uDC00x\n',
    'a: b\x01\n',
    'a: b\x7F\n',
    'a: b\x0C\n',
    'a: \uFFFE\n',
  ];
  for (const text of docs) assert.equal(checkAgainstPort(text), undefined, `read:\n${JSON.stringify(text)}`);
  // Psych refuses the long flow key too ("did not find expected ',' or '}'"); the loader used to return a value.
  assert.throws(() => loadConfigYaml(docs[0]!), /did not find expected ',' or '}'/);
  // Still read: the same characters where YAML allows them, and keys at the limit.
  for (const text of [`a: {${'k'.repeat(1000)}: 1}\n`, `${'k'.repeat(1000)}: 1\n`, 'a: \u{1F600}\n', 'a: b\u00A0#c\n']) {
    assert.notEqual(checkAgainstPort(text), undefined, `declined:\n${JSON.stringify(text)}`);
  }
});

test('random documents of lines from the subset at random indentations: where the reader does not decline, the port agrees', (t) => {
  const random = seededRandom(SEED + 2);
  const kinds = ['k: v', 'k:', '- v', '-', '- k: v', '- k:', '# c', '', 'k: &a', '- &a', 'k: *a', '-   k: v', 'k: [a]', 'k: &a v',
    '- *a', '-  k:', '<<: *a', 'k: {a: b}', '- []', 'k2: v2', 'k2:', '- k2: v', 'v', '  '];
  let read = 0;
  const count = 30000;
  for (let n = 0; n < count; n++) {
    const lines: string[] = [];
    for (let i = 1 + Math.floor(random() * 7); i > 0; i--) {
      lines.push(' '.repeat(Math.floor(random() * random() * 7)) + kinds[Math.floor(random() * kinds.length)]!);
    }
    if (checkAgainstPort(lines.join('\n') + (random() < 0.9 ? '\n' : '')) !== undefined) read++;
  }
  t.diagnostic(`${read} of ${count} read by the reader`);
  assert.ok(read > count * 0.03, `${read} of ${count} read by the reader`);
});
