/**
 * Shell completion: the scripts are built from the namespace table, load in their shell, and complete what
 * a user would type. bash is simulated as readline calls it (COMP_WORDS, COMP_CWORD, then COMPREPLY); fish
 * answers `complete -C` itself; zsh's completion builtins only work inside the line editor, so its function
 * is run with them replaced by stubs that print their candidates, filtered here by prefix as zsh would.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMPLETION_SHELLS, completionScript } from '../../src/completion.ts';
import { NAMESPACES } from '../../src/namespaces.ts';

const COMMANDS = ['show', 'edit', 'write', 'get', 'set', 'unset', 'rotate', 'diff', 'export'];
const TOP_LEVEL = ['doctor', 'rotate', 'completion', 'textconv'];
const OPTIONS = ['--gitlab-root', '--environment', '--config', '--secrets', '--file', '--json', '--allow-empty', '--create-dir', '--value', '--force', '--all', '--help', '--version'];
const NAMES = NAMESPACES.map((ns) => ns.name);
const REDIS_INSTANCES = NAMESPACES.find((ns) => ns.name === 'redis')!.instances!.names;

const work = mkdtempSync(join(tmpdir(), 'gitlab-secrets-completion-'));
after(() => rmSync(work, { recursive: true, force: true }));
// For path completion: a directory and a file that share a prefix.
mkdirSync(join(work, 'abc'));
writeFileSync(join(work, 'abd.yml'), '');

function installed(shell: string): boolean {
  return !spawnSync(shell, ['-c', 'exit 0']).error;
}

function run(shell: string, args: readonly string[], script: string): { stdout: string; stderr: string; status: number | null } {
  const result = spawnSync(shell, args, { encoding: 'utf8', env: { PATH: process.env['PATH'], HOME: work, SCRIPT: script }, timeout: 20_000 });
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');
const sorted = (words: readonly string[]): string[] => [...words].sort();

// --- every shell: built from the table --------------------------------------------------------------

for (const shell of COMPLETION_SHELLS) {
  test(`the ${shell} script names every namespace, alias, command, Redis instance and option`, () => {
    const script = completionScript(shell);
    const words = [
      ...NAMESPACES.flatMap((ns) => [ns.name, ...ns.aliases, ...(ns.instances?.names ?? [])]),
      ...COMMANDS,
      ...TOP_LEVEL,
      ...OPTIONS.map((option) => (shell === 'fish' ? option.slice(2) : option)),
    ];
    for (const word of words) assert.match(script, new RegExp(`(^|[\\s'(|=])${word}([\\s'):|]|$)`, 'm'), `${shell}: ${word} is missing`);
  });
}

// --- bash -----------------------------------------------------------------------------------------

const BASH_LOAD = 'source <(printf "%s" "$SCRIPT")';

/** The words bash would offer for `gitlab-secrets <words…>`, the last word being the one completed. */
function bashComplete(...words: string[]): string[] {
  const result = run(
    'bash',
    ['--norc', '--noprofile', '-c', `${BASH_LOAD}; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _gitlab_secrets; printf '%s\\n' "\${COMPREPLY[@]}"`, 'bash', 'gitlab-secrets', ...words],
    completionScript('bash'),
  );
  assert.equal(result.stderr, '');
  assert.equal(result.status, 0);
  return lines(result.stdout);
}

test('the bash script loads with source <(…) and registers a completion for gitlab-secrets', () => {
  const result = run('bash', ['--norc', '--noprofile', '-c', `${BASH_LOAD}; complete -p gitlab-secrets`], completionScript('bash'));
  assert.equal(result.stderr, '');
  assert.equal(result.stdout, 'complete -F _gitlab_secrets gitlab-secrets\n');
});

const bashCases: Array<[string, string[], string[]]> = [
  ['a namespace from its first letters', ['sm'], ['smtp']],
  ['namespaces and top-level commands on an empty word', [''], [...NAMES, 'doctor', 'rotate', 'completion', 'textconv', 'help']],
  ['an alias when no name matches', ['service_'], ['service_desk_email']],
  ['the commands after a namespace', ['smtp', ''], COMMANDS],
  ['the commands after an alias', ['incoming_email', 'w'], ['write']],
  ['a Redis instance after redis show', ['redis', 'show', 'sh'], ['shared_state']],
  ['every Redis instance after redis edit', ['redis', 'edit', ''], [...REDIS_INSTANCES]],
  ['a Redis instance after the key of redis get', ['redis', 'get', 'password', 'ca'], ['cache']],
  ['a Redis instance after the key of redis unset', ['redis', 'unset', 'password', 'ca'], ['cache']],
  ['a Redis instance after the key of redis set and unset', ['redis', 'set', 'password', 'ca'], ['cache']],
  ['nothing for the key of redis get', ['redis', 'get', ''], []],
  ['nothing for the key of redis set', ['redis', 'set', ''], []],
  ['--value for set', ['smtp', 'set', 'password', '--va'], ['--value']],
  ['no instance for a namespace without instances', ['smtp', 'show', ''], []],
  ['the shells after completion', ['completion', ''], ['bash', 'zsh', 'fish']],
  ['--json for show', ['smtp', 'show', '--j'], ['--json']],
  ['--create-dir for edit, beside --config', ['smtp', 'edit', '--c'], ['--config', '--create-dir']],
  ['--allow-empty and --create-dir for write', ['ldap', 'write', '--a'], ['--allow-empty']],
  ['no --json for write', ['ldap', 'write', '--j'], []],
  ['--all for rotate', ['rotate', '--a'], ['--all']],
  ['--version and --help at the top', ['--ver'], ['--version']],
  ['an environment after -e', ['-e', 'pr'], ['production']],
  ['commands after options with values', ['--gitlab-root', '/srv/gitlab', '-e', 'production', 'smtp', 'sh'], ['show']],
  ['commands after a rake-style EDITOR=vim (split at = by bash)', ['EDITOR', '=', 'vim', 'smtp', 'e'], ['edit', 'export']],
  ['directories only after --gitlab-root', ['--gitlab-root', join(work, 'ab')], [join(work, 'abc')]],
  ['directories after --gitlab-root= (split at = by bash)', ['--gitlab-root', '=', join(work, 'ab')], [join(work, 'abc')]],
  ['files after --secrets', ['--secrets', join(work, 'ab')], [join(work, 'abc'), join(work, 'abd.yml')]],
  ['files after --config', ['--config', join(work, 'abd')], [join(work, 'abd.yml')]],
  ['files after --file', ['smtp', 'show', '--file', join(work, 'abd')], [join(work, 'abd.yml')]],
];

for (const [name, words, expected] of bashCases) {
  test(`bash completes ${name}`, () => {
    assert.deepEqual(sorted(bashComplete(...words)), sorted(expected));
  });
}

test('bash completes the commands and instances of every namespace in the table', () => {
  for (const ns of NAMESPACES) {
    for (const name of [ns.name, ...ns.aliases]) {
      assert.deepEqual(sorted(bashComplete(name, '')), sorted(COMMANDS), name);
      assert.deepEqual(sorted(bashComplete(name, 'show', '')), sorted(ns.instances?.names ?? []), `${name} show`);
    }
  }
});

// --- zsh ------------------------------------------------------------------------------------------

const ZSH_STUBS = `
_describe() { local -a items=("\${(@P)\${@[-1]}}"); print -rl -- "\${items[@]%%:*}"; }
compadd() { while [[ $1 == -* && $1 != -- ]]; do shift; done; [[ $1 == -- ]] && shift; print -rl -- "$@"; }
_files() { print -r -- '<files>'; }
_directories() { print -r -- '<directories>'; }
compset() { :; }
`;

/** The candidates zsh would offer for `gitlab-secrets <words…>`: what the function adds, matching the last word. */
function zshComplete(...words: string[]): string[] {
  const { stdout, stderr } = zshBatch().get(JSON.stringify(words)) ?? zshRun([words])[0]!;
  assert.equal(stderr, '');
  const prefix = words.at(-1)!;
  return lines(stdout).filter((candidate) => candidate.startsWith(prefix) || candidate.startsWith('<'));
}

/**
 * Complete several command lines in one zsh: compinit (seconds on a busy machine) runs once, then each
 * line in a subshell of its own, its stdout and stderr kept apart in files.
 */
function zshRun(cases: ReadonlyArray<readonly string[]>): Array<{ stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(work, 'zsh-'));
  const body = cases
    .map((words, i) => {
      const quoted = words.map((word) => `'${word.replace(/'/g, "'\\''")}'`).join(' ');
      return `( words=(gitlab-secrets ${quoted}); CURRENT=$#words; _gitlab_secrets ) >${dir}/${i}.out 2>${dir}/${i}.err`;
    })
    .join('\n');
  const result = run('zsh', ['-f', '-c', `autoload -Uz compinit && compinit -u -D; source <(print -r -- "$SCRIPT"); ${ZSH_STUBS}\n${body}`], completionScript('zsh'));
  assert.equal(result.stderr, '');
  return cases.map((_, i) => ({ stdout: readFileSync(join(dir, `${i}.out`), 'utf8'), stderr: readFileSync(join(dir, `${i}.err`), 'utf8') }));
}

let zshResults: Map<string, { stdout: string; stderr: string }> | undefined;

/** Every zshCases line, completed in one zsh on first use. */
function zshBatch(): Map<string, { stdout: string; stderr: string }> {
  if (!zshResults) {
    const cases = zshCases.map(([, words]) => words);
    const results = zshRun(cases);
    zshResults = new Map(cases.map((words, i) => [JSON.stringify(words), results[i]!]));
  }
  return zshResults;
}

test('the zsh script loads after compinit and registers _gitlab_secrets for gitlab-secrets', (t) => {
  if (!installed('zsh')) return t.skip('zsh is not installed (apt-get install -y zsh to run the zsh tests)');
  const result = run('zsh', ['-f', '-c', 'autoload -Uz compinit && compinit -u -D; source <(print -r -- "$SCRIPT"); print -r -- $_comps[gitlab-secrets]'], completionScript('zsh'));
  assert.equal(result.stderr, '');
  assert.equal(result.stdout, '_gitlab_secrets\n');
});

const zshCases: Array<[string, string[], string[]]> = [
  ['a namespace from its first letters', ['sm'], ['smtp']],
  ['an alias once an underscore is typed', ['service_'], ['service_desk_email']],
  ['the commands after a namespace', ['smtp', ''], COMMANDS],
  ['a Redis instance after redis show', ['redis', 'show', 'sh'], ['shared_state']],
  ['a Redis instance after the key of redis get', ['redis', 'get', 'password', 'ca'], ['cache']],
  ['a Redis instance after the key of redis unset', ['redis', 'unset', 'password', 'ca'], ['cache']],
  ['no instance for a namespace without instances', ['smtp', 'show', ''], []],
  ['the shells after completion', ['completion', ''], ['bash', 'zsh', 'fish']],
  ['--json for show', ['smtp', 'show', '--j'], ['--json']],
  ['--allow-empty for write', ['ldap', 'write', '--a'], ['--allow-empty']],
  ['--all for rotate', ['rotate', '--a'], ['--all']],
  ['commands after options with values and EDITOR=vim', ['--gitlab-root', '/srv/gitlab', 'EDITOR=vim', 'smtp', 'e'], ['edit', 'export']],
  ['directories after --gitlab-root', ['--gitlab-root', ''], ['<directories>']],
  ['directories after --gitlab-root=', ['--gitlab-root=/srv'], ['<directories>']],
  ['files after --secrets', ['--secrets', ''], ['<files>']],
];

for (const [name, words, expected] of zshCases) {
  test(`zsh completes ${name}`, (t) => {
    if (!installed('zsh')) return t.skip('zsh is not installed (apt-get install -y zsh to run the zsh tests)');
    assert.deepEqual(sorted(zshComplete(...words)), sorted(expected));
  });
}

// --- fish -----------------------------------------------------------------------------------------

/** What fish offers for the command line `line` (its `complete -C`), without descriptions. */
function fishComplete(line: string): string[] {
  const result = run('fish', ['--no-config', '-c', 'printf "%s" "$SCRIPT" | source; complete -C $argv[1]', line], completionScript('fish'));
  assert.equal(result.stderr, '');
  return lines(result.stdout).map((candidate) => candidate.split('\t')[0]!);
}

const fishCases: Array<[string, string, string[]]> = [
  ['a namespace from its first letters', 'gitlab-secrets sm', ['smtp']],
  ['the commands after a namespace', 'gitlab-secrets smtp ', COMMANDS],
  ['a Redis instance after redis show', 'gitlab-secrets redis show sh', ['shared_state']],
  ['a Redis instance after the key of redis get', 'gitlab-secrets redis get password ca', ['cache']],
  ['a Redis instance after the key of redis set', 'gitlab-secrets redis set password ca', ['cache']],
  ['no instance for a namespace without instances', 'gitlab-secrets smtp show ', []],
  ['the shells after completion', 'gitlab-secrets completion ', ['bash', 'zsh', 'fish']],
  ['--json for show', 'gitlab-secrets smtp show --j', ['--json']],
  ['--all for rotate', 'gitlab-secrets rotate --a', ['--all']],
  ['commands after options with values and EDITOR=vim', 'gitlab-secrets --gitlab-root /srv/gitlab EDITOR=vim smtp e', ['edit', 'export']],
  ['directories only after --gitlab-root', `gitlab-secrets --gitlab-root ${join(work, 'ab')}`, [`${join(work, 'abc')}/`]],
  ['files after --secrets', `gitlab-secrets --secrets ${join(work, 'abd')}`, [join(work, 'abd.yml')]],
];

for (const [name, line, expected] of fishCases) {
  test(`fish completes ${name}`, (t) => {
    if (!installed('fish')) return t.skip('fish is not installed (apt-get install -y fish to run the fish tests)');
    assert.deepEqual(sorted(fishComplete(line)), sorted(expected));
  });
}
