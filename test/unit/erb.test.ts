import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderErb } from '../../src/config/erb.ts';
import { ConfigError } from '../../src/errors.ts';

const env = { SET: '/var/x', EMPTY: '' };

test('ENV lookups are replaced by the variable, or by nothing when it is unset', () => {
  assert.equal(renderErb(`a: <%= ENV['SET'] %>\nb: <%= ENV["UNSET"] %>`, 'g.yml', env), 'a: /var/x\nb: ');
});

test('ENV.fetch with a default and ENV[] || default use the default only when unset', () => {
  assert.equal(renderErb(`<%= ENV.fetch('UNSET', 'd1') %> <%= ENV.fetch("SET", "d2") %>`, 'g.yml', env), 'd1 /var/x');
  assert.equal(renderErb(`<%= ENV['UNSET'] || 'd' %>|<%= ENV['EMPTY'] || 'd' %>`, 'g.yml', env), 'd|');
});

test('ERB comments vanish and text without ERB is returned as is', () => {
  assert.equal(renderErb('a: 1 <%# note %>', 'g.yml', env), 'a: 1 ');
  assert.equal(renderErb('a: 1\n', 'g.yml', env), 'a: 1\n');
});

test('any other ERB stops with the file, the line and a hint about --file', () => {
  for (const tag of ['<%= 1 + 1 %>', '<% if true %>', "<%= ENV.fetch('X') %>", '<%= File.read("x") %>']) {
    assert.throws(
      () => renderErb(`a: 1\nb: 2\nc: ${tag}\n`, '/etc/gitlab.yml', env),
      (error: unknown) =>
        error instanceof ConfigError && error.message.startsWith('/etc/gitlab.yml:3: unsupported ERB') && error.message.includes('--file'),
      tag,
    );
  }
});

test('an unsupported ERB tag is named without its string literals, which may be secrets', () => {
  for (const [tag, shown] of [
    ["<%= 'hunter2-secret'.strip %>", "<%= '…'.strip %>"],
    ['<%= "hunter2-secret" + ENV["X"] %>', '<%= "…" + ENV["…"] %>'],
    ["<%= File.read('/run/secrets/hunter2-secret') %>", "<%= File.read('…') %>"],
    ["<%= 'it\\'s hunter2-secret' %>", "<%= '…' %>"],
    ["<%= 'unterminated hunter2-secret %>", "<%= '…'"], // the literal runs to the end of the tag
  ] as const) {
    assert.throws(
      () => renderErb(`a: ${tag}\n`, '/etc/gitlab.yml', env),
      (error: unknown) =>
        error instanceof ConfigError && !error.message.includes('hunter2') && error.message.includes(JSON.stringify(shown)),
      tag,
    );
  }
});
