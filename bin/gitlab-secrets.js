#!/usr/bin/env node
// Start the key derivation first, then load the CLI while it runs (see src/prefetch.ts).
import { prefetchKey } from '../dist/prefetch.mjs';

prefetchKey(process.argv.slice(2));
const { main } = await import('../dist/gitlab-secrets.mjs');
process.exitCode = await main(process.argv.slice(2));
