import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { createEditBuffer, splitCommand } from '../../src/editor.ts';
import { EditorFailedError } from '../../src/errors.ts';

test('splitCommand splits $EDITOR into words, honouring quotes and backslashes', () => {
  assert.deepEqual(splitCommand('vim'), ['vim']);
  assert.deepEqual(splitCommand('  emacs   -nw '), ['emacs', '-nw']);
  assert.deepEqual(splitCommand(`code --wait`), ['code', '--wait']);
  assert.deepEqual(splitCommand(`"/opt/My Editor/bin/ed" -f 'a b'`), ['/opt/My Editor/bin/ed', '-f', 'a b']);
  assert.deepEqual(splitCommand(`/path/with\\ space/ed`), ['/path/with space/ed']);
  assert.deepEqual(splitCommand(`ed "say \\"hi\\"" $HOME ''`), ['ed', 'say "hi"', '$HOME', '']);
});

test('splitCommand rejects an unterminated quote', () => {
  assert.throws(() => splitCommand(`vim 'oops`), EditorFailedError);
  assert.throws(() => splitCommand(`vim "oops`), EditorFailedError);
});

test('the edit buffer is a 0600 file in a private 0700 directory, named as YAML, and removable', async () => {
  const buffer = await createEditBuffer('/srv/x/shared/encrypted_settings/smtp.yaml.enc', {});
  try {
    buffer.write(Buffer.from('a: 1\n'));
    assert.match(buffer.path, /smtp\.yaml$/);
    assert.ok(!buffer.path.startsWith('/srv/x'));
    assert.equal(statSync(buffer.path).mode & 0o777, 0o600);
    assert.equal(statSync(buffer.path.replace(/\/[^/]+$/, '')).mode & 0o777, 0o700);
    assert.equal(buffer.read().toString(), 'a: 1\n');
  } finally {
    buffer.remove();
  }
  assert.equal(existsSync(buffer.path), false);
  assert.equal(existsSync(buffer.path.replace(/\/[^/]+$/, '')), false);
});

test('the edit buffer prefers $XDG_RUNTIME_DIR, then /dev/shm', async () => {
  const xdg = await createEditBuffer('/x/ldap.yaml.enc', { XDG_RUNTIME_DIR: '/tmp' });
  xdg.remove();
  assert.ok(xdg.path.startsWith('/tmp/gitlab-secrets-'));
  const fallback = await createEditBuffer('/x/ldap.yaml.enc', { XDG_RUNTIME_DIR: '/nonexistent' });
  fallback.remove();
  assert.ok(fallback.path.startsWith(existsSync('/dev/shm') ? '/dev/shm/' : '/tmp/'));
});
