#!/usr/bin/env node
/**
 * A scriptable $EDITOR for the CLI tests, run as `EDITOR="node /abs/path/fake_editor.mjs"` so every edit
 * test also proves that an EDITOR with arguments works (GitLab issue 431339). The file to edit is the
 * last argument. It acts in this order, each step only when its variable is set:
 *
 * 1. FAKE_EDITOR_RECORD=<path>: copy the buffer it was given to <path>, then write its own argv as a
 *    JSON array (this script's path, its arguments, the buffer path last) to `<path>.argv.json`. That
 *    file appears last and atomically, so a test can poll for it to know the editor is running.
 * 2. FAKE_EDITOR_WRITE=<path>: replace the buffer's bytes with that file's bytes (in place).
 * 3. FAKE_EDITOR_APPEND=<text>: append the text to the buffer.
 * 4. FAKE_EDITOR_SLEEP_MS=<n>: wait, after acting, so a test can interrupt an edit in progress.
 * 5. FAKE_EDITOR_EXIT=<code>: the exit code (default 0).
 *
 * With none of them set it leaves the buffer unchanged, like `:q` in vim.
 */
import { appendFileSync, copyFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

// process.argv[0] is node; [1] is this script, as the CLI's word splitting passed it.
const args = process.argv.slice(1);
const buffer = args.length > 1 ? args.at(-1) : undefined;
if (buffer === undefined) {
  process.stderr.write('fake_editor: no file to edit\n');
  process.exit(64);
}
const env = process.env;

if (env.FAKE_EDITOR_RECORD) {
  copyFileSync(buffer, env.FAKE_EDITOR_RECORD);
  const argvFile = `${env.FAKE_EDITOR_RECORD}.argv.json`;
  writeFileSync(`${argvFile}.tmp`, JSON.stringify(args));
  renameSync(`${argvFile}.tmp`, argvFile);
}
if (env.FAKE_EDITOR_WRITE) writeFileSync(buffer, readFileSync(env.FAKE_EDITOR_WRITE));
if (env.FAKE_EDITOR_APPEND) appendFileSync(buffer, env.FAKE_EDITOR_APPEND);
if (env.FAKE_EDITOR_SLEEP_MS) await sleep(Number(env.FAKE_EDITOR_SLEEP_MS));

process.exitCode = Number(env.FAKE_EDITOR_EXIT ?? 0);
