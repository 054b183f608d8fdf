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

const isInstalled = new Map<string, boolean>();

function installed(shell: string): boolean {
  if (!isInstalled.has(shell)) isInstalled.set(shell, !spawnSync(shell, ['-c', 'exit 0']).error);
  return isInstalled.get(shell)!;
}

function run(shell: string, args: readonly string[], script: string): { stdout: string; stderr: string; status: number | null } {
  const result = spawnSync(shell, args, { encoding: 'utf8', env: { PATH: process.env['PATH'], HOME: work, SCRIPT: script }, timeout: 60_000 });
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

interface CaseRun {
  stdout: string;
  stderr: string;
  status: number;
}

/**
 * Run several commands in one shell that has loaded the script once (a shell start and zsh's compinit
 * are most of a case's cost), each in a subshell (bash, zsh) or block (fish) of its own, with its stdout,
 * stderr and exit status kept apart in files. Whatever the shell prints outside them (loading the
 * script) must be nothing. `args` are the shell's arguments before the script given to -c, `extra` those
 * after it ($1… or $argv).
 */
function runInOneShell(shell: 'bash' | 'zsh' | 'fish', args: readonly string[], load: string, commands: readonly string[], extra: readonly string[] = []): CaseRun[] {
  const dir = mkdtempSync(join(work, `${shell}-`));
  const body = commands.map((command, i) => {
    const out = `>${dir}/${i}.out 2>${dir}/${i}.err`;
    return shell === 'fish'
      ? `begin; ${command}; end ${out}; echo $status >${dir}/${i}.status`
      : `( ${command} ) ${out}; echo $? >${dir}/${i}.status`;
  });
  const result = run(shell, [...args, '-c', [load, ...body].join('\n'), ...(shell === 'fish' ? [] : [shell]), ...extra], completionScript(shell));
  assert.equal(result.stderr, '', `${shell}: loading the script printed this`);
  assert.equal(result.status, 0, `${shell} exited with ${result.status}`);
  const read = (i: number, ext: string): string => readFileSync(join(dir, `${i}.${ext}`), 'utf8');
  return commands.map((_, i) => ({ stdout: read(i, 'out'), stderr: read(i, 'err'), status: Number(read(i, 'status')) }));
}

/** The result of each command of `commands()`, run in one shell on first use. */
function batch(runAll: (commands: readonly string[]) => CaseRun[], commands: () => readonly string[]): (command: string) => CaseRun {
  let results: Map<string, CaseRun> | undefined;
  return (command) => {
    if (!results) {
      const all = [...new Set(commands())];
      const runs = runAll(all);
      results = new Map(all.map((each, i) => [each, runs[i]!]));
    }
    return results.get(command) ?? runAll([command])[0]!;
  };
}

/** A word quoted for bash and zsh. */
const quote = (word: string): string => `'${word.replace(/'/g, "'\\''")}'`;

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

/** What bash's readline does before it shows the candidates for `gitlab-secrets <words…>`. */
const bashCommand = (words: readonly string[]): string =>
  `COMP_WORDS=(gitlab-secrets ${words.map(quote).join(' ')}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _gitlab_secrets; printf '%s\\n' "\${COMPREPLY[@]}"`;
const BASH_REGISTERED = 'complete -p gitlab-secrets';

/** Every bash command line of this file, completed in one bash. */
const bashRun = batch(
  (commands) => runInOneShell('bash', ['--norc', '--noprofile'], BASH_LOAD, commands),
  () => [BASH_REGISTERED, ...bashCases.map(([, words]) => bashCommand(words)), ...namespaceWords().map(bashCommand)],
);

/** The words bash would offer for `gitlab-secrets <words…>`, the last word being the one completed. */
function bashComplete(...words: string[]): string[] {
  const result = bashRun(bashCommand(words));
  assert.equal(result.stderr, '');
  assert.equal(result.status, 0);
  return lines(result.stdout);
}

/** Each namespace name and alias, then the same with show: the lines the table-wide test completes. */
function namespaceWords(): string[][] {
  return NAMESPACES.flatMap((ns) => [ns.name, ...ns.aliases]).flatMap((name) => [[name, ''], [name, 'show', '']]);
}

test('the bash script loads with source <(…) and registers a completion for gitlab-secrets', () => {
  const result = bashRun(BASH_REGISTERED);
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

const ZSH_LOAD = `autoload -Uz compinit && compinit -u -D; source <(print -r -- "$SCRIPT"); ${ZSH_STUBS}`;
const zshCommand = (words: readonly string[]): string => `words=(gitlab-secrets ${words.map(quote).join(' ')}); CURRENT=$#words; _gitlab_secrets`;
const ZSH_REGISTERED = 'print -r -- $_comps[gitlab-secrets]';

/** Every zsh command line of this file, completed in one zsh: compinit (seconds on a busy machine) runs once. */
const zshRun = batch(
  (commands) => runInOneShell('zsh', ['-f'], ZSH_LOAD, commands),
  () => [ZSH_REGISTERED, ...zshCases.map(([, words]) => zshCommand(words))],
);

/** The candidates zsh would offer for `gitlab-secrets <words…>`: what the function adds, matching the last word. */
function zshComplete(...words: string[]): string[] {
  // Its exit status is not checked: a completion function's says whether it added matches, here to stubs.
  const { stdout, stderr } = zshRun(zshCommand(words));
  assert.equal(stderr, '');
  const prefix = words.at(-1)!;
  return lines(stdout).filter((candidate) => candidate.startsWith(prefix) || candidate.startsWith('<'));
}

test('the zsh script loads after compinit and registers _gitlab_secrets for gitlab-secrets', (t) => {
  if (!installed('zsh')) return t.skip('zsh is not installed (apt-get install -y zsh to run the zsh tests)');
  const result = zshRun(ZSH_REGISTERED);
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

/**
 * Every fish command line of this file, completed in one fish (`complete -C`, fish's own completion of
 * a command line). The lines are its arguments ($argv), so that none needs quoting.
 */
const fishRun = batch(
  (commands) => runInOneShell('fish', ['--no-config'], 'printf "%s" "$SCRIPT" | source', commands.map((_, i) => `complete -C $argv[${i + 1}]`), commands),
  () => fishCases.map(([, line]) => line),
);

/** What fish offers for the command line `line` (its `complete -C`), without descriptions. */
function fishComplete(line: string): string[] {
  const result = fishRun(line);
  assert.equal(result.stderr, '');
  assert.equal(result.status, 0);
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
