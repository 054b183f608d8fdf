#!/usr/bin/env node
/**
 * A scriptable $EDITOR for the safety tests, run as `EDITOR="node /abs/path/safety_editor.mjs"`. The file
 * to edit is the last argument. It is driven by one variable:
 *
 *   SAFETY_EDITOR_PLAN=<path of a JSON file> holding { "log": "<dir>", "runs": [Step, ...] }
 *
 * The editor counts its runs (1, 2, …) by the records already in `log` and follows `runs[n - 1]`, or the
 * last step when there are fewer steps than runs. A Step may hold, applied in this order:
 *
 *   write:  base64 bytes that replace the buffer (in place)
 *   sidecar: a file name: write the buffer's bytes to that file beside the buffer, as an editor's swap or
 *           backup file would be
 *   removeBuffer: true to delete the buffer, as a careless editor or a user's `:!rm %` would
 *   target: { path, mode: "rename" | "inplace" | "delete", body?: base64 bytes }: act as another writer on
 *           the ENCRYPTED file while the edit is open ("rename": write a sibling and rename it over the file,
 *           as gitlab-secrets and Rails do; "inplace": truncate and rewrite; "delete": remove it)
 *   sleepMs: wait, after acting and recording, so a test can interrupt an edit in progress
 *   exit:   the exit code (default 0)
 *
 * Before sleeping it writes `<log>/run-<n>.json` atomically (it appears last, so a test can poll for it to
 * know the editor is running): its pid and its parent's (the CLI), argv, the buffer path, the bytes it was given (base64), the buffer's
 * and its directory's lstat (mode, uid, gid, type) and the directory's entries.
 *
 * It never writes to stdout or stderr, so the CLI's streams stay the CLI's own.
 */
import { lstatSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const args = process.argv.slice(1);
const buffer = args.length > 1 ? args.at(-1) : undefined;
const planPath = process.env.SAFETY_EDITOR_PLAN;
if (buffer === undefined || !planPath) process.exit(64);

const plan = JSON.parse(readFileSync(planPath, 'utf8'));
const run = readdirSync(plan.log).filter((name) => /^run-\d+\.json$/.test(name)).length + 1;
const step = plan.runs[Math.min(run, plan.runs.length) - 1] ?? {};

const describe = (path) => {
  const stat = lstatSync(path);
  return {
    mode: stat.mode & 0o7777,
    uid: stat.uid,
    gid: stat.gid,
    isFile: stat.isFile(),
    isDirectory: stat.isDirectory(),
    isSymbolicLink: stat.isSymbolicLink(),
  };
};

const seen = readFileSync(buffer);
const record = {
  run,
  pid: process.pid,
  ppid: process.ppid,
  argv: args,
  buffer,
  seen: seen.toString('base64'),
  bufferStat: describe(buffer),
  dirStat: describe(dirname(buffer)),
  dirEntries: readdirSync(dirname(buffer)).sort(),
};

if (step.write !== undefined) writeFileSync(buffer, Buffer.from(step.write, 'base64'));
if (step.sidecar) writeFileSync(join(dirname(buffer), step.sidecar), readFileSync(buffer));
if (step.removeBuffer) rmSync(buffer);
if (step.target) {
  const { path, mode, body } = step.target;
  if (mode === 'delete') rmSync(path);
  else if (mode === 'inplace') writeFileSync(path, Buffer.from(body, 'base64'));
  else {
    const sibling = `${path}.other-writer`;
    writeFileSync(sibling, Buffer.from(body, 'base64'), { mode: 0o600 });
    renameSync(sibling, path);
  }
}

const recordPath = `${plan.log}/run-${run}.json`;
writeFileSync(`${recordPath}.partial`, JSON.stringify(record));
renameSync(`${recordPath}.partial`, recordPath);

if (step.sleepMs) await sleep(step.sleepMs);
process.exitCode = step.exit ?? 0;
