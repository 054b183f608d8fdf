#!/usr/bin/env node
// gitlab-secrets start-up benchmark: `npm run bench` (BENCH_RUNS=n for more rounds).
//
// Every variant runs once per round, in a rotating order, and each ratio is taken pair by pair within
// a round before the median is taken: the machines are shared and their speed drifts between rounds.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeGitlabYml } from './gitlab_yml.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'gitlab-secrets.cjs');
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const MiB = 1024 * 1024;

spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit', cwd: ROOT });

// A demo tree of our own, so writes do not touch examples/.
const work = mkdtempSync(join(tmpdir(), 'gitlab-secrets-bench-'));
const tree = join(work, 'gitlab');
cpSync(join(ROOT, 'examples', 'gitlab'), tree, { recursive: true });
const settings = join(tree, 'shared', 'encrypted_settings');
const keyBase = /encrypted_settings_key_base:\s*(\S+)/.exec(readFileSync(join(tree, 'config', 'secrets.yml'), 'utf8'))[1];

/** A YAML plaintext of about `size` bytes. */
function plaintext(size) {
  const lines = [];
  let length = 0;
  for (let i = 0; length < size; i++) {
    const line = `key_${i}: '${'x'.repeat(60)}${i}'\n`;
    lines.push(line);
    length += line.length;
  }
  return lines.join('');
}

const sizes = { '1KB': 1024, '1MB': MiB, '4MB': 4 * MiB, '16MB': 16 * MiB };
const files = {};
for (const [label, size] of Object.entries(sizes)) {
  files[label] = join(work, `${label}.yaml.enc`);
  const made = spawnSync(process.execPath, [BIN, '--gitlab-root', tree, '--file', files[label], 'smtp', 'write'], { input: plaintext(size) });
  if (made.status !== 0) throw new Error(`cannot make the ${label} file: ${made.stderr}`);
}

// The same tree with a gitlab.yml the size and shape of gitlab.yml.example (~1,700 lines, ~70 kB),
// as source installs have: `show` should cost the same as with the demo tree's short one.
const bigTree = join(work, 'gitlab-big-yml');
cpSync(tree, bigTree, { recursive: true });
writeFileSync(join(bigTree, 'config', 'gitlab.yml'), makeGitlabYml());

const node = (args, options = {}) => ({ command: process.execPath, args, ...options });
const cli = (args, options = {}) => node([BIN, '--gitlab-root', tree, ...args], options);
const rubyDecrypt = `
  require "active_support"; require "active_support/message_encryptor"; require "active_support/key_generator"
  key = ActiveSupport::KeyGenerator.new(ARGV[0], iterations: 2**16).generate_key("GitLabEncryptedConfigSalt", 32)
  print ActiveSupport::MessageEncryptor.new(key, cipher: "aes-256-gcm").decrypt_and_verify(File.binread(ARGV[1]))`;
const hasRuby = spawnSync('ruby', ['-e', 'require "active_support"']).status === 0;

const variants = {
  floor: node(['-e', `require('node:crypto').pbkdf2Sync(${JSON.stringify(keyBase)}, 'GitLabEncryptedConfigSalt', 65536, 32, 'sha1')`]),
  show: cli(['smtp', 'show']),
  'show big yml': node([BIN, '--gitlab-root', bigTree, 'smtp', 'show']),
  'show 1MB': cli(['--file', files['1MB'], 'smtp', 'show']),
  'show 4MB': cli(['--file', files['4MB'], 'smtp', 'show']),
  'show 16MB': cli(['--file', files['16MB'], 'smtp', 'show']),
  write: cli(['--file', join(settings, 'bench_write.yaml.enc'), 'smtp', 'write'], { input: "password: 'x'\n" }),
  edit: cli(['--file', join(settings, 'bench_edit.yaml.enc'), 'smtp', 'edit'], { env: { ...process.env, EDITOR: 'true' } }),
  ...(hasRuby ? { ruby: { command: 'ruby', args: ['-e', rubyDecrypt, keyBase, join(settings, 'smtp.yaml.enc')] } } : {}),
};
const names = Object.keys(variants);

function run({ command, args, input, env }, extraEnv) {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { input, env: { ...(env ?? process.env), ...extraEnv }, maxBuffer: 64 * MiB });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
  return ms;
}

const times = Object.fromEntries(names.map((name) => [name, []]));
for (const name of names) run(variants[name]); // warm the file cache
for (let round = 0; round < RUNS; round++) {
  const order = names.map((_, i) => names[(i + round) % names.length]);
  for (const name of order) times[name].push(run(variants[name]));
}

// Peak memory: bare Node against `show` of the small and the 4 MB file, through a preloaded probe.
const rssFile = join(work, 'rss');
function peakRss(variant) {
  const samples = [];
  for (let i = 0; i < 5; i++) {
    writeFileSync(rssFile, '');
    run({ ...variant, args: ['--import', join(ROOT, 'bench', 'peak_rss.mjs'), ...variant.args] }, { BENCH_RSS_FILE: rssFile });
    samples.push(Number(readFileSync(rssFile, 'utf8').trim()));
  }
  return median(samples);
}
const memory = { node: peakRss(node(['-e', '0'])), show: peakRss(variants.show), 'show 4MB': peakRss(variants['show 4MB']) };

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
const pairwise = (a, b) => median(times[a].map((t, i) => t / times[b][i]));

const medians = Object.fromEntries(names.map((name) => [name, median(times[name])]));
const ratios = {
  'show/floor': { value: pairwise('show', 'floor'), target: 1.15 },
  ...(hasRuby ? { 'show/ruby': { value: pairwise('show', 'ruby'), target: 0.5 } } : {}),
  '4MB/small': { value: pairwise('show 4MB', 'show'), target: 1.5 },
  'show big yml/show': { value: pairwise('show big yml', 'show'), target: 1.03 },
  'show big yml/floor': { value: pairwise('show big yml', 'floor'), target: 1.05 },
  '4MB memory over node / file size': { value: (memory['show 4MB'] - memory.node) * 1024 / (4 * MiB), target: 3 },
};

console.log(`\ngitlab-secrets benchmark: ${RUNS} rounds, node ${process.version}\n`);
console.log('variant       median ms');
for (const name of names) console.log(`${name.padEnd(13)}  ${medians[name].toFixed(1).padStart(9)}`);
console.log('\nratio (pairwise median)            value  target');
for (const [name, { value, target }] of Object.entries(ratios)) {
  console.log(`${name.padEnd(33)}  ${value.toFixed(2).padStart(5)}  <= ${target}  ${value <= target ? 'ok' : 'OVER'}`);
}
console.log('\npeak RSS (MiB): ' + Object.entries(memory).map(([k, v]) => `${k} ${(v / 1024).toFixed(1)}`).join(', '));

const results = join(ROOT, 'bench', 'results');
mkdirSync(results, { recursive: true });
const out = join(results, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), node: process.version, runs: RUNS, medians, ratios, memoryKiB: memory, times }, null, 2));
console.log(`\nresults: ${out}`);
rmSync(work, { recursive: true, force: true });

