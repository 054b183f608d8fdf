import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NAMESPACE_COMMANDS } from '../../src/commands/table.ts';
import { prefetchKey, sniffKeyBase } from '../../src/prefetch.ts';

test('sniffKeyBase reads the key line of the environment section, else of the shared section', () => {
  const yml = [
    '---',
    'shared: &shared',
    '  encrypted_settings_key_base: from-shared',
    'production:',
    '  secret_key_base: abc',
    '  encrypted_settings_key_base: "from-production" # comment',
    'staging:',
    "  encrypted_settings_key_base: 'from-staging'",
    '',
  ].join('\n');
  assert.equal(sniffKeyBase(yml, 'production'), 'from-production');
  assert.equal(sniffKeyBase(yml, 'staging'), 'from-staging');
  assert.equal(sniffKeyBase(yml, 'development'), 'from-shared');
});

test('sniffKeyBase reads Omnibus gitlab-secrets.json', () => {
  assert.equal(sniffKeyBase('{"gitlab_rails": {"encrypted_settings_key_base": "k"}}', 'production'), 'k');
  assert.equal(sniffKeyBase('{"gitlab_rails": {}}', 'production'), undefined);
});

test('sniffKeyBase gives up on layouts it does not know rather than guessing', () => {
  assert.equal(sniffKeyBase('production:\n  <<: *base\n', 'production'), undefined);
  assert.equal(sniffKeyBase('production: {encrypted_settings_key_base: k}\n', 'production'), undefined);
  assert.equal(sniffKeyBase('production:\n  encrypted_settings_key_base: |\n    k\n', 'production'), undefined);
});

test('prefetchKey never throws, whatever the arguments and files', () => {
  prefetchKey(['smtp', 'show', '--gitlab-root', '/nonexistent'], {}, '/');
  prefetchKey(['smtp', 'show', '--secrets'], {}, '/');
  prefetchKey(['--help'], {}, '/');
  prefetchKey(['gitlab:smtp:secret:show', 'RAILS_ENV=x', '--secrets=/etc/passwd'], {}, '/');
});

test('prefetchKey starts for every command of the table that needs the key, and not for the others', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'gitlab-secrets-prefetch-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'config'));
  writeFileSync(join(root, 'config', 'secrets.yml'), `production:\n  encrypted_settings_key_base: ${'k'.repeat(64)}\n`);
  for (const row of NAMESPACE_COMMANDS) {
    const prefetched = prefetchKey(['--gitlab-root', root, 'smtp', row.name], {}, '/');
    assert.equal(prefetched !== undefined, row.needsKey, row.name);
    prefetched?.key.catch(() => undefined);
  }
  assert.ok(NAMESPACE_COMMANDS.some((row) => row.name === 'set' && row.needsKey));
  assert.equal(prefetchKey(['--gitlab-root', root, 'doctor'], {}, '/'), undefined);
  assert.equal(prefetchKey(['--gitlab-root', root, 'completion', 'bash'], {}, '/'), undefined);
});

test('prefetchKey expands `~` in --secrets with the HOME it was given, as the command does', (t) => {
  const home = mkdtempSync(join(tmpdir(), 'gitlab-secrets-prefetch-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  writeFileSync(join(home, 's.yml'), `production:\n  encrypted_settings_key_base: ${'h'.repeat(64)}\n`);
  const prefetched = prefetchKey(['--secrets', '~/s.yml', 'smtp', 'show'], { HOME: home }, '/');
  assert.equal(prefetched?.keyBase, 'h'.repeat(64));
  prefetched?.key.catch(() => undefined);
});
