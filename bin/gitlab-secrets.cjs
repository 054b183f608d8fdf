#!/usr/bin/env node
// Start the key derivation on the thread pool first, then load the CLI while it runs (src/prefetch.ts).
// CommonJS on purpose: an ES module entry costs Node's module loader ~12 ms before any of our code runs.
'use strict';

if (require.main === module) {
  const argv = process.argv.slice(2);
  const prefetched = require('../dist/prefetch.cjs').prefetchKey(argv);
  const bundle = require('node:path').join(__dirname, '..', 'dist', 'gitlab-secrets.cjs');
  compileBundle(bundle, readCache(bundle))
    .exports.main(argv, { prefetched })
    .then((code) => {
      process.exitCode = code;
    });
}

/**
 * The V8 code cache `npm run build` writes beside the bundle (scripts/code_cache.cjs): the SHA-256 of the
 * bundle it was made from, then V8's data. With it V8 compiles almost nothing at start, ~10 ms less per run.
 */
function readCache(bundle) {
  try {
    return require('node:fs').readFileSync(`${bundle}.cache`);
  } catch {
    return undefined;
  }
}

function digest(source) {
  return require('node:crypto').createHash('sha256').update(source).digest();
}

/**
 * Compile and run the CLI bundle as require() would, with the code cache only when it was made from this
 * very bundle (V8 itself only compares the source's length). A Node whose V8 made a different cache
 * rejects it and compiles as usual.
 */
function compileBundle(bundle, cache) {
  const Module = require('node:module');
  const { dirname } = require('node:path');
  const source = require('node:fs').readFileSync(bundle);
  const cachedData = cache?.subarray(0, 32).equals(digest(source)) ? cache.subarray(32) : undefined;
  const script = new (require('node:vm').Script)(Module.wrap(source.toString('utf8')), { filename: bundle, cachedData });
  const cli = new Module(bundle, module);
  cli.filename = bundle;
  cli.paths = Module._nodeModulePaths(dirname(bundle));
  script.runInThisContext().call(cli.exports, cli.exports, Module.createRequire(bundle), cli, bundle, dirname(bundle));
  cli.loaded = true;
  return { exports: cli.exports, source, script };
}

/** The cache file for a bundle compiled and run by compileBundle: its digest, then V8's data. */
function makeCache({ source, script }) {
  return Buffer.concat([digest(source), script.createCachedData()]);
}

module.exports = { compileBundle, makeCache };
