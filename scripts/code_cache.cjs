// Writes <bundle>.cache, the code cache bin/ compiles the bundle with, taken after a `write` and a `show`
// ran in it, so that the functions a run needs are in it too, not only the top level. The bundle is
// compiled and the file made by bin/'s own functions. Run by scripts/build.mjs in a process of its own:
// `node scripts/code_cache.cjs <bundle>`. The GitLab tree is a throwaway one, with a key made for it.
'use strict';
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');
const { Writable, Readable } = require('node:stream');
const { compileBundle, makeCache } = require('../bin/gitlab-secrets.cjs');

const bundle = resolve(process.argv[2]);
const compiled = compileBundle(bundle, undefined);

const root = fs.mkdtempSync(join(tmpdir(), 'gitlab-secrets-code-cache-'));
const run = async (args, input = '') => {
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  const io = { stdin: Readable.from([Buffer.from(input)]), stdout: discard, stderr: discard };
  const code = await compiled.exports.main(['--gitlab-root', root, ...args], { io, env: {}, cwd: root });
  if (code !== 0) throw new Error(`gitlab-secrets ${args.join(' ')} exited ${code} in ${root}`);
};
(async () => {
  try {
    fs.mkdirSync(join(root, 'config'));
    fs.mkdirSync(join(root, 'shared', 'encrypted_settings'), { recursive: true });
    // The shapes a real gitlab.yml has (anchors, merges, lists, flow collections, quoting), so that reading
    // one is compiled code too.
    fs.writeFileSync(
      join(root, 'config', 'gitlab.yml'),
      [
        'production: &base',
        '  # a comment',
        '  gitlab:',
        '    host: localhost',
        '    port: 80 # a comment',
        "    email_from: 'gitlab@example.com'",
        '    email_display_name: "GitLab"',
        '    trusted_proxies: []',
        '    https: false',
        '    timeout: 6.5',
        '  ldap:',
        '    servers:',
        '      main: &main',
        "        attributes: { username: ['uid', 'userid'], name: cn }",
        '      secondary:',
        '        <<: *main',
        '  cron_jobs:',
        '    - { name: a, cron: "0 * * * *" }',
        '    - name: b',
        '  shared:',
        '    path: shared',
        'development:',
        '  <<: *base',
        '',
      ].join('\n'),
    );
    const keyBase = randomBytes(64).toString('hex');
    fs.writeFileSync(join(root, 'config', 'secrets.yml'), `production:\n  encrypted_settings_key_base: ${keyBase}\n`, { mode: 0o600 });
    await run(['smtp', 'write'], "user_name: 'smtp'\npassword: 'x'\n");
    await run(['smtp', 'show']);
    fs.writeFileSync(`${bundle}.cache`, makeCache(compiled));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
})().catch((error) => {
  console.error(`code_cache: ${error.message}`);
  process.exitCode = 1;
});
