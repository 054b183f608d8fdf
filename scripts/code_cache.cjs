// Writes <bundle>.cache: the bundle's SHA-256, then V8's code cache of the CLI bundle after a `write` and a `show` ran in it, so that
// the functions a run needs are in it too, not only the top level. Run by scripts/build.mjs in a process
// of its own: `node scripts/code_cache.cjs <bundle>`. The GitLab tree is a throwaway one, with a key made
// for it.
'use strict';
const { createHash, randomBytes } = require('node:crypto');
const fs = require('node:fs');
const Module = require('node:module');
const { tmpdir } = require('node:os');
const { dirname, join, resolve } = require('node:path');
const { Writable, Readable } = require('node:stream');
const vm = require('node:vm');

const bundle = resolve(process.argv[2]);
const source = fs.readFileSync(bundle);
const script = new vm.Script(Module.wrap(source.toString('utf8')), { filename: bundle });
const cli = new Module(bundle, module);
cli.filename = bundle;
script.runInThisContext().call(cli.exports, cli.exports, Module.createRequire(bundle), cli, bundle, dirname(bundle));

const root = fs.mkdtempSync(join(tmpdir(), 'gitlab-secrets-code-cache-'));
const run = async (args, input = '') => {
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  const io = { stdin: Readable.from([Buffer.from(input)]), stdout: discard, stderr: discard };
  const code = await cli.exports.main(['--gitlab-root', root, ...args], { io, env: {}, cwd: root });
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
    // The bundle's SHA-256 first: bin/ uses the cache only with the bundle it was made from.
    fs.writeFileSync(`${bundle}.cache`, Buffer.concat([createHash('sha256').update(source).digest(), script.createCachedData()]));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
})().catch((error) => {
  console.error(`code_cache: ${error.message}`);
  process.exitCode = 1;
});
