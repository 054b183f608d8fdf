#!/usr/bin/env node
// Start the key derivation on the thread pool first, then load the CLI while it runs (src/prefetch.ts).
// CommonJS on purpose: an ES module entry costs Node's module loader ~12 ms before any of our code runs.
'use strict';

const argv = process.argv.slice(2);
const prefetched = require('../dist/prefetch.cjs').prefetchKey(argv);
require('../dist/gitlab-secrets.cjs')
  .main(argv, { prefetched })
  .then((code) => {
    process.exitCode = code;
  });
