#!/usr/bin/env node
// Start the key derivation on the thread pool first, then load the CLI while it runs (src/prefetch.ts).
// CommonJS on purpose: an ES module entry costs Node's module loader ~12 ms before any of our code runs.
'use strict';

const argv = process.argv.slice(2);
const prefetched = require('../dist/prefetch.cjs').prefetchKey(argv);
loadCli(require('node:path').join(__dirname, '..', 'dist', 'gitlab-secrets.cjs'))
  .main(argv, { prefetched })
  .then((code) => {
    process.exitCode = code;
  });

/**
 * The CLI bundle, compiled with the V8 code cache `npm run build` wrote beside it (scripts/code_cache.cjs):
 * V8 then compiles almost nothing at start, ~10 ms less per run. The cache file starts with the SHA-256 of
 * the bundle it was made from, so a cache left from another build is never used (V8 itself only compares
 * the source's length). A Node whose V8 made a different cache rejects it and compiles as usual; without a
 * matching cache, a plain require().
 */
function loadCli(bundle) {
  const fs = require('node:fs');
  let source;
  let cachedData;
  try {
    source = fs.readFileSync(bundle);
    const cache = fs.readFileSync(`${bundle}.cache`);
    if (!cache.subarray(0, 32).equals(require('node:crypto').createHash('sha256').update(source).digest())) return require(bundle);
    cachedData = cache.subarray(32);
  } catch {
    return require(bundle);
  }
  const Module = require('node:module');
  const { dirname } = require('node:path');
  const script = new (require('node:vm').Script)(Module.wrap(source.toString('utf8')), { filename: bundle, cachedData });
  const cli = new Module(bundle, module);
  cli.filename = bundle;
  cli.paths = Module._nodeModulePaths(dirname(bundle));
  script.runInThisContext().call(cli.exports, cli.exports, Module.createRequire(bundle), cli, bundle, dirname(bundle));
  cli.loaded = true;
  return cli.exports;
}
