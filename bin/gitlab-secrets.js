#!/usr/bin/env node
import { main } from '../dist/gitlab-secrets.mjs';

process.exitCode = await main(process.argv.slice(2));
