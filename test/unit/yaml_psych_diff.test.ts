import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfigYaml } from '../../src/yaml/config_yaml.ts';
import { checkSecretYaml } from '../../src/yaml/secret_yaml.ts';
import { canonical } from '../helpers/psych_canonical.ts';
import { seededRandom } from '../helpers/seeded_random.ts';
import { ALIASES_NOT_ENABLED } from '../../src/yaml/psych_load.ts';

// Differential test of our libyaml port against the real Psych, on generated documents: typical
// admin mistakes in realistic secret files, and random single-character mutations of them. One
// Ruby process (fixtures/psych_oracle.rb) gets every document in one batch. The seed is fixed, so
// a failure reproduces; GITLAB_SECRETS_YAML_SEED picks another one for exploring.
//
// Goals (issue 11 §1): acceptance (mapping / not-mapping / invalid, and the loaded values) agrees
// on every document; GitLab's WARNING line (Psych's message) is byte-equal on at least 95% of the
// invalid documents.

const ORACLE = fileURLToPath(new URL('./fixtures/psych_oracle.rb', import.meta.url));
const SEED = Number.parseInt(process.env.GITLAB_SECRETS_YAML_SEED ?? '20261129', 10);
const MUTATIONS = 1500;

type Kind = 'mapping' | 'not-mapping' | 'invalid';
interface OracleResult {
  kind: Kind;
  error?: string;
  value?: unknown;
}
interface OracleOutput {
  psych: string;
  results: Array<{ secret: OracleResult; config: OracleResult }>;
}


const BASES = [
  // smtp
  "# SMTP settings\nuser_name: 'smtp-user@example.com'\npassword: \"p@ss:w0rd#1\"\naddress: smtp.example.com\nport: 587\nenable_starttls_auto: true\n",
  // ldap, nested, with lists
  'main: # the main server\n  password: "s3cr3t\\tvalue"\n  bind_dn: \'cn=admin,dc=example,dc=com\'\n  hosts:\n    - ldap1.example.com\n    - ldap2.example.com\nsecondary:\n  password: plain value here\n  bind_dn: uid=x,ou=people\n',
  // redis
  'url: redis://:secret@redis.example.com:6379/0\nsentinels: [{host: s1, port: 26379}, {host: s2, port: 26379}]\npassword: |\n  multi\n  line\n',
  // incoming / service desk email
  "incoming_email:\n  user: 'incoming@example.com'\n  password: >-\n    folded\n    secret\n  # comment between keys\n  mailbox: inbox\n  idle_timeout: 60\n",
  // a flow mapping and quoted keys
  "{user: admin, password: 'a,b', \"port\": 25}\n",
  // symbols, explicit document
  '---\n:user_name: gitlab\n:password: x-y-z\nssl: false\n...\n',
];

/** Typical mistakes an administrator makes in `edit`. */
function adminMistakes(): string[] {
  const docs: string[] = [];
  for (const base of BASES) {
    const lines = base.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string;
      const edit = (replacement: string): void => {
        const copy = [...lines];
        copy[i] = replacement;
        docs.push(copy.join('\n'));
      };
      const content = line.trimStart();
      const indent = line.slice(0, line.length - content.length);
      if (content === '') continue;
      edit(`\t${content}`); // a tab for indentation
      edit(`${indent} ${content}`); // one space too many
      if (indent.length > 0) edit(`${indent.slice(1)}${content}`); // one space too few
      edit(line.replace(': ', ':')); // key:value
      edit(line.replace(': ', ' = ')); // key = value
      edit(line.replace(': ', ':\t')); // a tab after the colon
      edit(`${indent}- ${content}`); // a stray dash
      edit(`${indent}@${content}`);
      edit(`${indent}\`${content}`);
      edit(`${indent}%${content}`);
      edit(line.replace(/'([^']*)'/, "'$1")); // unclosed quotes
      edit(line.replace(/"([^"]*)"/, '"$1'));
      edit(line.replace(/: (.+)$/, ': "$1\\q"')); // an unknown escape
      edit(line.replace(/: (.+)$/, ': "\\x4$1"'));
      edit(line.replace(/: (.+)$/, ': [$1')); // unclosed brackets
      edit(line.replace(/: (.+)$/, ': {$1'));
      edit(line.replace(/: (.+)$/, ': $1]'));
      edit(line.replace(/: (.+)$/, ': *$1'));
      edit(line.replace(/: (.+)$/, ': &$1'));
      edit(line.replace(/: (.+)$/, ': !$1'));
      edit(line.replace(/: (.+)$/, ': |x $1'));
      edit(`${line} # trailing: comment`);
      edit(`${line}\n---`); // a duplicate ---
      edit(`${line}\n--- x`);
    }
    docs.push(`%YAML 1.3\n---\n${base}`, `%YAML 2.0\n${base}`, `%FOO\n${base}`, `---\n---\n${base}`, `${base}${base}`);
  }
  return docs;
}

const SIGNIFICANT = [' ', ' ', '\t', '\n', ':', '-', '?', '[', ']', '{', '}', ',', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`', '\\', 'a', '0'];

function mutations(random: () => number, count: number): string[] {
  const docs: string[] = [];
  for (let n = 0; n < count; n++) {
    const base = BASES[Math.floor(random() * BASES.length)] as string;
    const at = Math.floor(random() * (base.length + 1));
    const ch = SIGNIFICANT[Math.floor(random() * SIGNIFICANT.length)] as string;
    const op = random();
    if (op < 0.4) docs.push(base.slice(0, at) + ch + base.slice(at));
    else if (op < 0.7) docs.push(base.slice(0, at) + base.slice(at + 1));
    else docs.push(base.slice(0, at) + ch + base.slice(at + 1));
  }
  return docs;
}

// Hard cases, each checked for the exact line (found while building the scanner).
const HARD_CASES = [
  "a: 'x",
  'a: b: c\n',
  'main:\n  password: x\n bind_dn: y\n',
  'a:\n  - b\n  c: 1\n',
  '- a\nb: 1\n',
  'a: [1, 2\n',
  'a: {b: c\n',
  'a: "\\q"\n',
  'a: "\\x4"\n',
  '@x\n',
  '`x\n',
  '%YAML 1.3\n--- a\n',
  '%YAML 1.1\n%YAML 1.1\n--- a\n',
  '%TAG ! a\n%TAG ! b\n--- x\n',
  '!x!y a\n',
  '...\n',
  '[? : x]\n',
  'a:\tb\n',
  'a:\n\tb: 1\n',
  'key = value\n',
  'a: 1\n- b\n',
  "a: 'it's'\n",
  'a: |x\n  y\n',
  'a: &\n',
  'a: !<x\n',
  '{a: 1, b}\n',
  '[a, b]: c\n',
  'a:\n  b\n  c: d\n',
  'a: b\n  c: d\n',
  'a: >\n  x\n\ty\n',
  'a: "x\n---\ny"\n',
  `${'k'.repeat(1030)}: 1\n`,
  'a: 1\nb: \u0001\n',
];

function stripClass(error: string | undefined): string {
  return (error ?? '').replace(/^[A-Za-z:]+: /, '');
}

function runOracle(documents: string[]): OracleOutput | string {
  const ruby = spawnSync('ruby', ['-e', 'print RUBY_VERSION'], { encoding: 'utf8' });
  if (ruby.error) return 'ruby not found: install ruby to run the Psych differential test';
  const input = JSON.stringify(documents.map((document) => Buffer.from(document).toString('base64')));
  const run = spawnSync('ruby', [ORACLE], { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`psych_oracle.rb failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as OracleOutput;
}

interface Ours {
  kind: Kind;
  message?: string;
  value?: unknown;
}

function secretOf(document: string): Ours {
  const result = checkSecretYaml(Buffer.from(document));
  if (result.kind === 'invalid') return { kind: 'invalid', message: result.reason };
  return result.kind === 'mapping' ? { kind: 'mapping', value: result.value } : { kind: 'not-mapping' };
}

function configOf(document: string): Ours {
  try {
    const value = loadConfigYaml(document);
    const mapping = typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
    return { kind: mapping ? 'mapping' : 'not-mapping', value };
  } catch (error) {
    return { kind: 'invalid', message: (error as Error).message };
  }
}

/** Psych 4 says "Unknown alias" where GitLab's Psych 5 says "Alias parsing was not enabled": Psych 5 wins. */
function sameMessage(ruby: OracleResult, ours: string | undefined): boolean {
  const theirs = stripClass(ruby.error);
  if (ours === theirs) return true;
  return /^Psych::(BadAlias|AliasesNotEnabled)/.test(ruby.error ?? '') && ours === ALIASES_NOT_ENABLED;
}

test('generated mistakes and mutations: our acceptance, values and messages against Psych', (t) => {
  const random = seededRandom(SEED);
  const documents = [...new Set([...HARD_CASES, ...BASES, ...adminMistakes(), ...mutations(random, MUTATIONS)])];
  const output = runOracle(documents);
  if (typeof output === 'string') {
    assert.notEqual(process.env.GITLAB_SECRETS_REQUIRE_RUBY, '1', output);
    t.skip(output);
    return;
  }
  assert.equal(output.results.length, documents.length);
  let invalid = 0;
  let exact = 0;
  let accepted = 0;
  const acceptanceFailures: string[] = [];
  const messageFailures: string[] = [];
  for (const [index, document] of documents.entries()) {
    const ruby = output.results[index] as { secret: OracleResult; config: OracleResult };
    const secret = secretOf(document);
    const config = configOf(document);
    let agrees = secret.kind === ruby.secret.kind && config.kind === ruby.config.kind;
    if (agrees && secret.kind === 'mapping' && ruby.secret.value !== undefined) {
      agrees = JSON.stringify(canonical(secret.value)) === JSON.stringify(ruby.secret.value);
    }
    if (agrees && config.kind !== 'invalid' && ruby.config.value !== undefined) {
      agrees = JSON.stringify(canonical(config.value)) === JSON.stringify(ruby.config.value);
    }
    if (agrees) accepted++;
    else {
      acceptanceFailures.push(
        `${JSON.stringify(document)}: Psych ${ruby.secret.kind}/${ruby.config.kind} ${ruby.secret.error ?? ''}; ours ${secret.kind}/${config.kind} ${secret.message ?? ''}`,
      );
    }
    if (ruby.secret.kind === 'invalid') {
      invalid++;
      if (sameMessage(ruby.secret, secret.message)) exact++;
      else messageFailures.push(`${JSON.stringify(document)}\n    Psych: ${stripClass(ruby.secret.error)}\n    ours:  ${secret.message}`);
    }
  }
  const exactRatio = exact / invalid;
  const acceptance = accepted / documents.length;
  t.diagnostic(`seed ${SEED}: ${documents.length} documents, ${invalid} invalid per Psych ${output.psych}`);
  t.diagnostic(`acceptance and values equal: ${accepted}/${documents.length} = ${(acceptance * 100).toFixed(2)}%`);
  t.diagnostic(`exact WARNING line on invalid documents: ${exact}/${invalid} = ${(exactRatio * 100).toFixed(2)}%`);
  for (const failure of messageFailures.slice(0, 15)) t.diagnostic(`message differs: ${failure}`);
  assert.ok(invalid > documents.length / 4, `the generator should make many invalid documents (${invalid})`);
  assert.deepEqual(acceptanceFailures.slice(0, 10), [], `acceptance differs on ${acceptanceFailures.length} documents`);
  assert.equal(acceptance, 1);
  assert.ok(exactRatio >= 0.95, `only ${(exactRatio * 100).toFixed(2)}% of the messages are exact`);
});

test('the fixed hard cases get exactly Psych’s line', (t) => {
  const output = runOracle(HARD_CASES);
  if (typeof output === 'string') {
    assert.notEqual(process.env.GITLAB_SECRETS_REQUIRE_RUBY, '1', output);
    t.skip(output);
    return;
  }
  for (const [index, document] of HARD_CASES.entries()) {
    const ruby: OracleResult = (output.results[index] as { secret: OracleResult }).secret;
    const ours = secretOf(document);
    assert.equal(ours.kind, ruby.kind, JSON.stringify(document));
    if (ruby.kind === 'invalid') assert.ok(sameMessage(ruby, ours.message), `${JSON.stringify(document)}: Psych ${ruby.error}, ours ${ours.message}`);
  }
});
