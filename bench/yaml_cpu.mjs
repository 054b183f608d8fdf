#!/usr/bin/env node
// Main-thread CPU of reading gitlab.yml in a fresh process, bundled and minified as the CLI ships it:
// `node bench/yaml_cpu.mjs [file] [rounds]`. Prints the median main-thread CPU milliseconds of
// loading the YAML code, ERB and the first and second load of the file, over fresh processes.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeGitlabYml } from './gitlab_yml.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'gitlab-secrets-yaml-cpu-'));
const file = process.argv[2] || join(work, 'gitlab.yml');
if (!process.argv[2]) writeFileSync(file, makeGitlabYml());
const rounds = Number(process.argv[3] ?? 15);
const bundle = join(work, 'yaml.cjs');
writeFileSync(
  join(work, 'entry.ts'),
  `export { loadConfigYaml } from ${JSON.stringify(join(ROOT, 'src/yaml/config_yaml.ts'))};\n` +
    `export { renderErb } from ${JSON.stringify(join(ROOT, 'src/config/erb.ts'))};\n`,
);
await build({ entryPoints: [join(work, 'entry.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', minify: true, outfile: bundle, logLevel: 'warning' });
const probe = `
// The main thread's own CPU time (Linux): process.cpuUsage() would add V8's background compiler and GC threads.
const cpu = () => Number(require('fs').readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
let t = cpu();
const m = require(${JSON.stringify(bundle)});
const load = cpu() - t;
const raw = require('fs').readFileSync(${JSON.stringify(file)}, 'utf8');
t = cpu(); const text = m.renderErb(raw, 'gitlab.yml', process.env); const erb = cpu() - t;
const all = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
t = cpu(); let a = all(); m.loadConfigYaml(text); const first = cpu() - t; const firstAllThreads = all() - a;
t = cpu(); m.loadConfigYaml(text); const second = cpu() - t;
process.stdout.write(JSON.stringify({ load, erb, first, firstAllThreads, second }));`;
const samples = [];
for (let i = 0; i < rounds; i++) {
  const result = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  samples.push(JSON.parse(result.stdout));
}
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
const out = Object.fromEntries(Object.keys(samples[0]).map((key) => [key, Number(median(samples.map((s) => s[key])).toFixed(2))]));
console.log(`${readFileSync(file).length} bytes, ${rounds} fresh processes, median main-thread CPU ms (Linux schedstat):`, out);
rmSync(work, { recursive: true, force: true });
