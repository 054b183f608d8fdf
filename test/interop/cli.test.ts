/**
 * Live interop through the built CLI: files the real ActiveSupport wrote are shown byte for byte, and what
 * `write` and `edit` save, ActiveSupport decrypts to exactly the expected bytes (test/interop/oracle.rb).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KEY_BASE, OTHER_KEY_BASE, makeGitlabTree } from '../helpers/gitlab_tree.ts';
import type { GitlabTree } from '../helpers/gitlab_tree.ts';
import { PROJECT_ROOT, runCli } from '../helpers/run_cli.ts';
import type { CliResult } from '../helpers/run_cli.ts';
import { outcome, requireRubyOrSkip, rubyBatch, rubyDecrypt, rubyEncrypt } from './ruby.ts';
import type { OracleJob, OracleResult, RubyEncoding } from './ruby.ts';

const APPEND_EDITOR = fileURLToPath(new URL('./append_editor.sh', import.meta.url));
const SAVED = 'File encrypted and saved.\n';

/** POSIX shell quoting of one word: `it's` becomes `'it'\''s'`. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/** EDITOR that appends `line` to the buffer; quoted, so the CLI must split it as a shell would. */
function appendEditor(line: string): string {
  return ['sh', APPEND_EDITOR, line].map(shellQuote).join(' ');
}

/** `show` prints the bytes and a newline only when they do not end in one (GitLab's `puts`). */
function shown(plaintext: Buffer): Buffer {
  return plaintext.length > 0 && plaintext[plaintext.length - 1] === 0x0a
    ? plaintext
    : Buffer.concat([plaintext, Buffer.from('\n')]);
}

function body(tree: GitlabTree, name: string): string {
  return readFileSync(tree.file(name), 'latin1');
}

function okResult(result: OracleResult | undefined, label: string): Extract<OracleResult, { ok: true }> {
  assert.ok(result, `no result for ${label}`);
  if (!result.ok) assert.fail(`ActiveSupport failed on ${label}: ${result.error}: ${result.message}`);
  return result;
}

function okPlaintext(result: OracleResult | undefined, label: string): Buffer {
  const { plaintext } = okResult(result, label);
  assert.ok(plaintext, `no plaintext for ${label}`);
  return plaintext;
}

function okBody(result: OracleResult | undefined, label: string): string {
  const { body } = okResult(result, label);
  assert.ok(body, `no body for ${label}`);
  return body;
}

function assertSameBytes(actual: Buffer, expected: Buffer, label: string): void {
  assert.ok(actual.equals(expected), `${label}: got ${JSON.stringify(actual.toString('latin1'))}, expected ${JSON.stringify(expected.toString('latin1'))}`);
}

function describe(result: CliResult): string {
  return `exit ${result.exitCode}, stdout ${JSON.stringify(result.stdout)}, stderr ${JSON.stringify(result.stderr)}`;
}

// show -------------------------------------------------------------------------------------------

interface ShowCase {
  name: string;
  plaintext: Buffer;
  encoding?: RubyEncoding;
  keyBase?: string;
}

const SHOW_CASES: ShowCase[] = [
  { name: 'ASCII SMTP secrets', plaintext: Buffer.from("user_name: 'smtp-relay@example.com'\npassword: 's3cr3t'\n") },
  { name: 'no final newline', plaintext: Buffer.from("user_name: 'a'\npassword: 'b'") },
  { name: 'CRLF line endings', plaintext: Buffer.from("user_name: 'a'\r\npassword: 'b'\r\n") },
  { name: 'multi-byte UTF-8', plaintext: Buffer.from("password: 'pässwörd 日本語 🔐'\n") },
  { name: 'a BOM', plaintext: Buffer.from("\ufeffpassword: 'bom'\n") },
  { name: 'invalid UTF-8 bytes', plaintext: Buffer.from([0x70, 0x3a, 0x20, 0xff, 0xfe, 0x80, 0x0a]) },
  { name: 'a binary string', plaintext: Buffer.from("password: 'binary'\n"), encoding: 'BINARY' },
  { name: 'a US-ASCII string', plaintext: Buffer.from("password: 'ascii'\n"), encoding: 'US-ASCII' },
  {
    name: 'a Shift_JIS string',
    plaintext: Buffer.from([0x70, 0x3a, 0x20, 0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea, 0x0a]),
    encoding: 'Shift_JIS',
  },
  { name: '70 KB of text', plaintext: Buffer.from(`password: '${'x'.repeat(70_000)}'\n`) },
  { name: 'a non-ASCII key base', plaintext: Buffer.from("password: 'cyrillic key'\n"), keyBase: 'ключ-для-теста-1' },
];

test('smtp show prints exactly the bytes ActiveSupport encrypted', async (t) => {
  if (!requireRubyOrSkip(t)) return;
  const bodies = rubyBatch(
    SHOW_CASES.map((c): OracleJob => ({ op: 'encrypt', keyBase: c.keyBase ?? KEY_BASE, plaintext: c.plaintext, encoding: c.encoding ?? 'UTF-8' })),
  );
  const trees = SHOW_CASES.map((c) => makeGitlabTree({ keyBase: c.keyBase ?? KEY_BASE }));
  try {
    const results = await Promise.all(
      trees.map((tree, i) => {
        writeFileSync(tree.file('smtp.yaml.enc'), okBody(bodies[i], SHOW_CASES[i]!.name));
        return runCli(['--gitlab-root', tree.root, 'smtp', 'show']);
      }),
    );
    for (const [i, c] of SHOW_CASES.entries()) {
      await t.test(c.name, () => {
        const result = results[i]!;
        assert.equal(result.exitCode, 0, describe(result));
        assert.equal(result.stderr, '');
        assertSameBytes(result.stdoutBytes, shown(c.plaintext), c.name);
      });
    }
  } finally {
    for (const tree of trees) tree.remove();
  }
});

test('show finds each namespace by its GitLab file name', async (t) => {
  if (!requireRubyOrSkip(t)) return;
  // SPEC §1: the namespaces and their files.
  const namespaces = [
    ['smtp', 'smtp.yaml.enc'],
    ['service-desk-email', 'service_desk_email.yaml.enc'],
    ['incoming-email', 'incoming_email.yaml.enc'],
    ['ldap', 'ldap.yaml.enc'],
    ['redis', 'redis.yaml.enc'],
  ] as const;
  const tree = makeGitlabTree();
  try {
    const plaintexts = namespaces.map(([name]) => Buffer.from(`password: 'secret of ${name}'\n`));
    const bodies = rubyBatch(plaintexts.map((plaintext): OracleJob => ({ op: 'encrypt', keyBase: KEY_BASE, plaintext })));
    namespaces.forEach(([name, file], i) => writeFileSync(tree.file(file), okBody(bodies[i], name)));
    for (const [i, [name]] of namespaces.entries()) {
      const result = await runCli(['--gitlab-root', tree.root, name, 'show']);
      assert.equal(result.exitCode, 0, `${name}: ${describe(result)}`);
      assertSameBytes(result.stdoutBytes, plaintexts[i]!, name);
    }
    const rake = await runCli(['--gitlab-root', tree.root, 'gitlab:service_desk_email:secret:show']);
    assertSameBytes(rake.stdoutBytes, plaintexts[1]!, 'rake task name');
  } finally {
    tree.remove();
  }
});

test('show of a file ActiveSupport wrote with blank plaintext prints the does-not-exist hint', async (t) => {
  if (!requireRubyOrSkip(t)) return;
  const tree = makeGitlabTree();
  try {
    for (const plaintext of ['', ' \n\n']) {
      writeFileSync(tree.file('smtp.yaml.enc'), rubyEncrypt(Buffer.from(plaintext), KEY_BASE));
      const result = await runCli(['--gitlab-root', tree.root, 'smtp', 'show']);
      assert.equal(result.exitCode, 0, describe(result));
      assert.equal(
        result.stdout,
        `File '${tree.file('smtp.yaml.enc')}' does not exist. Use \`gitlab-secrets smtp edit\` to change that.\n`,
      );
    }
  } finally {
    tree.remove();
  }
});

// write ------------------------------------------------------------------------------------------

const WRITE_CASES: { name: string; input: Buffer }[] = [
  { name: 'ASCII SMTP secrets', input: Buffer.from("user_name: 'smtp-relay@example.com'\npassword: 'n3w'\n") },
  { name: 'no final newline', input: Buffer.from("user_name: 'a'\npassword: 'b'") },
  { name: 'CRLF line endings', input: Buffer.from("user_name: 'a'\r\npassword: 'b'\r\n") },
  { name: 'a BOM', input: Buffer.from("\ufeffuser_name: 'a'\npassword: 'b'\n") },
  { name: 'multi-byte UTF-8', input: Buffer.from("user_name: 'jürgen@exämple.com'\npassword: '日本語🔐'\n") },
  { name: '200 KB of text', input: Buffer.from(`password: '${'y'.repeat(200_000)}'\n`) },
];

test('smtp write stores exactly the stdin bytes, which ActiveSupport decrypts as UTF-8', async (t) => {
  if (!requireRubyOrSkip(t)) return;
  const trees = WRITE_CASES.map(() => makeGitlabTree());
  try {
    const results = await Promise.all(
      trees.map((tree, i) => runCli(['--gitlab-root', tree.root, 'smtp', 'write'], { input: WRITE_CASES[i]!.input })),
    );
    results.forEach((result, i) => assert.equal(result.exitCode, 0, `${WRITE_CASES[i]!.name}: ${describe(result)}`));
    const decrypted = rubyBatch(trees.map((tree): OracleJob => ({ op: 'decrypt', keyBase: KEY_BASE, body: body(tree, 'smtp.yaml.enc') })));
    for (const [i, c] of WRITE_CASES.entries()) {
      await t.test(c.name, () => {
        assert.equal(results[i]!.stdout, SAVED);
        assert.doesNotMatch(body(trees[i]!, 'smtp.yaml.enc'), /\n$/, 'the body must not end in a newline');
        assertSameBytes(okPlaintext(decrypted[i], c.name), c.input, c.name);
        assert.equal(okResult(decrypted[i], c.name).encoding, 'UTF-8');
      });
    }
  } finally {
    for (const tree of trees) tree.remove();
  }
});

test('smtp write saves a non-mapping with the WARNING, and ActiveSupport reads it', async (t) => {
  if (!requireRubyOrSkip(t)) return;
  const tree = makeGitlabTree();
  try {
    const input = Buffer.from('just a plain string\n');
    const result = await runCli(['--gitlab-root', tree.root, 'smtp', 'write'], { input });
    assert.equal(result.exitCode, 0, describe(result));
    assert.equal(
      result.stdout,
      `WARNING: Content was not a valid SMTP secret yml file. Did not include any key-value pairs\n${SAVED}`,
    );
    assertSameBytes(rubyDecrypt(body(tree, 'smtp.yaml.enc'), KEY_BASE), input, 'non-mapping');
  } finally {
    tree.remove();
  }
});

test('smtp write refuses invalid UTF-8 and leaves the file ActiveSupport wrote untouched', async (t) => {
  if (!requireRubyOrSkip(t)) return;
  const tree = makeGitlabTree();
  try {
    const original = Buffer.from("password: 'keep me'\n");
    writeFileSync(tree.file('smtp.yaml.enc'), rubyEncrypt(original, KEY_BASE));
    const before = body(tree, 'smtp.yaml.enc');
    const result = await runCli(['--gitlab-root', tree.root, 'smtp', 'write'], {
      input: Buffer.from([0x70, 0x3a, 0x20, 0xff, 0x0a]),
    });
    assert.notEqual(result.exitCode, 0, describe(result));
    assert.doesNotMatch(result.stdout, /File encrypted and saved/);
    assert.equal(body(tree, 'smtp.yaml.enc'), before);
    assertSameBytes(rubyDecrypt(before, KEY_BASE), original, 'the old file');
  } finally {
    tree.remove();
  }
});

// edit -------------------------------------------------------------------------------------------

test('service-desk-email edit appends to what ActiveSupport wrote, and ActiveSupport reads the result', async (t) => {
  if (!requireRubyOrSkip(t)) return;
  const tree = makeGitlabTree();
  try {
    const original = Buffer.from("user: 'support@example.com'\r\npassword: 'ölder'\n");
    writeFileSync(tree.file('service_desk_email.yaml.enc'), rubyEncrypt(original, KEY_BASE));
    const line = "mailbox: 'inbox-ü'";
    const result = await runCli(['--gitlab-root', tree.root, 'service-desk-email', 'edit'], {
      env: { EDITOR: appendEditor(line) },
    });
    assert.equal(result.exitCode, 0, describe(result));
    assert.equal(result.stdout, SAVED);
    assert.equal(result.stderr, '');
    const expected = Buffer.concat([original, Buffer.from(`${line}\n`)]);
    assertSameBytes(rubyDecrypt(body(tree, 'service_desk_email.yaml.enc'), KEY_BASE), expected, 'edited file');
  } finally {
    tree.remove();
  }
});

test('service-desk-email edit of a new file saves the template plus the edit for ActiveSupport', async (t) => {
  if (!requireRubyOrSkip(t)) return;
  const tree = makeGitlabTree();
  try {
    const line = "user: 'support@example.com'";
    const result = await runCli(['--gitlab-root', tree.root, 'service-desk-email', 'edit', `EDITOR=${appendEditor(line)}`]);
    assert.equal(result.exitCode, 0, describe(result));
    assert.equal(result.stdout, SAVED);
    // SPEC §1: the service desk template, exact bytes.
    const expected = Buffer.from(`# password: '123'\n# user: 'gitlab-incoming@gmail.com'\n${line}\n`);
    assertSameBytes(rubyDecrypt(body(tree, 'service_desk_email.yaml.enc'), KEY_BASE), expected, 'new file');
  } finally {
    tree.remove();
  }
});

test('an edit that changes nothing keeps the body ActiveSupport wrote', async (t) => {
  if (!requireRubyOrSkip(t)) return;
  const tree = makeGitlabTree();
  try {
    const original = Buffer.from("user: 'support@example.com'\npassword: 'same'\n");
    writeFileSync(tree.file('service_desk_email.yaml.enc'), rubyEncrypt(original, KEY_BASE));
    const before = body(tree, 'service_desk_email.yaml.enc');
    const result = await runCli(['--gitlab-root', tree.root, 'service-desk-email', 'edit'], {
      // An editor that does nothing; the empty word must reach it as one (dropped, sh would run the buffer).
      env: { EDITOR: `${shellQuote('sh')} -c ''` },
    });
    assert.equal(result.exitCode, 0, describe(result));
    assert.equal(result.stdout, `Contents were unchanged.\n${SAVED}`);
    assert.equal(body(tree, 'service_desk_email.yaml.enc'), before);
  } finally {
    tree.remove();
  }
});

// rotated keys -----------------------------------------------------------------------------------

test('a file ActiveSupport wrote with a rotated key shows, and an edit re-encrypts it with the primary key', async (t) => {
  if (!requireRubyOrSkip(t)) return;
  const tree = makeGitlabTree({ rotatedKeyBases: [OTHER_KEY_BASE] });
  const unrotated = makeGitlabTree();
  try {
    const original = Buffer.from("user_name: 'rotated'\npassword: 'old key'\n");
    const oldBody = rubyEncrypt(original, OTHER_KEY_BASE);
    writeFileSync(tree.file('smtp.yaml.enc'), oldBody);
    writeFileSync(unrotated.file('smtp.yaml.enc'), oldBody);

    const show = await runCli(['--gitlab-root', tree.root, 'smtp', 'show']);
    assert.equal(show.exitCode, 0, describe(show));
    assertSameBytes(show.stdoutBytes, original, 'show with the rotated key');

    const refused = await runCli(['--gitlab-root', unrotated.root, 'smtp', 'show']);
    assert.notEqual(refused.exitCode, 0, describe(refused));
    assert.equal(refused.stdout, '');
    assert.equal(refused.stderr, `Couldn't decrypt ${unrotated.file('smtp.yaml.enc')}. Perhaps you passed the wrong key?\n`);

    const line = "port: 587";
    const edit = await runCli(['--gitlab-root', tree.root, 'smtp', 'edit'], { env: { EDITOR: appendEditor(line) } });
    assert.equal(edit.exitCode, 0, describe(edit));
    assert.equal(edit.stdout, SAVED);
    const expected = Buffer.concat([original, Buffer.from(`${line}\n`)]);
    const [primaryOnly, oldOnly] = rubyBatch([
      { op: 'decrypt', keyBase: KEY_BASE, body: body(tree, 'smtp.yaml.enc') },
      { op: 'decrypt', keyBase: OTHER_KEY_BASE, body: body(tree, 'smtp.yaml.enc') },
    ]);
    assertSameBytes(okPlaintext(primaryOnly, 'the edited file with the primary key'), expected, 'edited file');
    assert.equal(outcome(oldOnly), 'ActiveSupport::MessageEncryptor::InvalidMessage', 'the edited file must not be encrypted with the rotated key');
  } finally {
    tree.remove();
    unrotated.remove();
  }
});

// the committed demo tree ------------------------------------------------------------------------

test('the demo tree in examples/gitlab shows the SMTP secrets ActiveSupport encrypted', async (t) => {
  if (!requireRubyOrSkip(t)) return;
  const root = join(PROJECT_ROOT, 'examples', 'gitlab');
  const secrets = readFileSync(join(root, 'config', 'secrets.yml'), 'utf8');
  const keyBase = /^\s+encrypted_settings_key_base: ([0-9a-f]{128})$/m.exec(secrets)?.[1];
  assert.ok(keyBase, 'examples/gitlab/config/secrets.yml has no 128-hex-digit encrypted_settings_key_base');
  for (const [namespace, file, expected] of [
    ['smtp', 'smtp.yaml.enc', "user_name: 'smtp-relay@example.com'"],
    ['service-desk-email', 'service_desk_email.yaml.enc', "user: 'support@example.com'"],
  ] as const) {
    const fromRuby = rubyDecrypt(readFileSync(join(root, 'shared', 'encrypted_settings', file)), keyBase);
    assert.ok(fromRuby.toString('utf8').includes(expected), `${file} holds ${expected}`);
    const result = await runCli(['--gitlab-root', 'examples/gitlab', namespace, 'show'], { cwd: PROJECT_ROOT });
    assert.equal(result.exitCode, 0, describe(result));
    assert.equal(result.stderr, '');
    assertSameBytes(result.stdoutBytes, shown(fromRuby), namespace);
  }
});
