/**
 * Shell completion scripts for `gitlab-secrets completion <shell>`. Everything about namespaces (names,
 * aliases, Redis instance names) comes from NAMESPACES and everything about commands (names, options)
 * from the command table (src/commands/table.ts), so neither needs a change here.
 */
import { NAMESPACES } from './namespaces.ts';
import { NAMESPACE_COMMANDS as NAMESPACE_ROWS, TOP_LEVEL_COMMANDS as TOP_LEVEL_ROWS } from './commands/table.ts';
import type { CommandRow } from './commands/table.ts';

import { COMPLETION_SHELLS } from './commands/table.ts';
import type { CompletionShell } from './commands/table.ts';

export { COMPLETION_SHELLS };
export type { CompletionShell };

interface Word {
  readonly name: string;
  readonly description: string;
}

/** The commands every namespace has, from the table. */
const NAMESPACE_COMMANDS: readonly Word[] = NAMESPACE_ROWS.map((row) => ({ name: row.name, description: row.summary }));

const TOP_LEVEL_COMMANDS: readonly Word[] = [
  ...TOP_LEVEL_ROWS.map((row) => ({ name: row.name, description: row.summary })),
  { name: 'help', description: 'display help for a command' },
];

const ENVIRONMENTS = ['production', 'development', 'test'];

type ValueKind = 'directory' | 'file' | 'environment';

/** Options accepted anywhere on the line; those with a value say how the value completes. */
const GLOBAL_OPTIONS: ReadonlyArray<{ long: string; short?: string; value?: ValueKind; description: string }> = [
  { long: '--gitlab-root', value: 'directory', description: 'the GitLab Rails root' },
  { long: '--environment', short: '-e', value: 'environment', description: 'the section of gitlab.yml and secrets.yml' },
  { long: '--config', value: 'file', description: 'gitlab.yml' },
  { long: '--secrets', value: 'file', description: 'the key file: secrets.yml or gitlab-secrets.json' },
  { long: '--file', value: 'file', description: 'the encrypted file itself' },
  { long: '--help', short: '-h', description: 'display help' },
  { long: '--version', short: '-V', description: 'print the version' },
];

const optionWords = (row: CommandRow): Word[] =>
  row.options.map((option) => ({ name: option.flags.split(/[ ,]/)[0]!, description: option.description }));

/** Options of one namespace command. */
const COMMAND_OPTIONS: Readonly<Record<string, readonly Word[]>> = Object.fromEntries(
  NAMESPACE_ROWS.filter((row) => row.options.length > 0).map((row) => [row.name, optionWords(row)]),
);

/** Options of the top-level commands (`rotate --all`). */
const TOP_LEVEL_OPTIONS: Readonly<Record<string, readonly Word[]>> = Object.fromEntries(
  TOP_LEVEL_ROWS.filter((row) => row.options.length > 0).map((row) => [row.name, optionWords(row)]),
);

const namespaceWords: readonly Word[] = NAMESPACES.map((ns) => ({ name: ns.name, description: `${ns.displayName} secrets (${ns.fileName})` }));
const allNamespaceNames: readonly string[] = NAMESPACES.flatMap((ns) => [ns.name, ...ns.aliases]);
const aliasNames: readonly string[] = NAMESPACES.flatMap((ns) => ns.aliases);
const valueOptionNames = (kind?: ValueKind): string[] =>
  GLOBAL_OPTIONS.filter((option) => (kind ? option.value === kind : option.value !== undefined)).flatMap((option) =>
    option.short ? [option.short, option.long] : [option.long],
  );
/** The commands an instance name follows (`redis show <instance>`)... */
const instanceCommands = NAMESPACE_ROWS.filter((row) => row.args.length === 0).map((row) => row.name);
/** ...and those that take it after one argument (`redis get <key> <instance>`). */
const keyedInstanceCommands = NAMESPACE_ROWS.filter((row) => row.args.length === 1).map((row) => row.name);

/** The completion script for `shell`, to be loaded by `source <(gitlab-secrets completion bash)` or the like. */
export function completionScript(shell: CompletionShell): string {
  switch (shell) {
    case 'bash':
      return bashScript();
    case 'zsh':
      return zshScript();
    case 'fish':
      return fishScript();
  }
}

const sh = (word: string): string => (/^[A-Za-z0-9_.:@%+=\/-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);
const shWords = (words: readonly string[]): string => sh(words.join(' '));
const pattern = (words: readonly string[]): string => words.map(sh).join('|');
const names = (words: readonly Word[]): string[] => words.map((word) => word.name);

function bashScript(): string {
  const instanceCases = NAMESPACES.filter((ns) => ns.instances).map(
    (ns) =>
      `      ${pattern([ns.name, ...ns.aliases])})\n` +
      `        if { ((n == 2)) && [[ " ${instanceCommands.join(' ')} " == *" $verb "* ]]; } || { ((n == 3)) && [[ " ${keyedInstanceCommands.join(' ')} " == *" $verb "* ]]; }; then\n` +
      `          words=${shWords(ns.instances!.names)}\n        fi ;;`,
  );
  const commandOptionCases = Object.entries(COMMAND_OPTIONS).map(
    ([command, options]) => `        ${sh(command)}) words+=${sh(` ${names(options).join(' ')}`)} ;;`,
  );
  return `# bash completion for gitlab-secrets. Load it with: source <(gitlab-secrets completion bash)
# or save it as /etc/bash_completion.d/gitlab-secrets.
_gitlab_secrets_reply() {
  local line
  COMPREPLY=()
  while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen "$@")
}

_gitlab_secrets() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} option
  # bash splits --option=value and NAME=value at '=': the option is the word before it.
  if [[ $cur == = ]]; then
    option=$prev cur=''
  elif [[ $prev == = ]]; then
    option=\${COMP_WORDS[COMP_CWORD-2]}
  else
    option=$prev
  fi
  case $option in
    ${pattern(valueOptionNames('directory'))})
      compopt -o filenames 2>/dev/null
      _gitlab_secrets_reply -d -- "$cur"; return ;;
    ${pattern(valueOptionNames('file'))})
      compopt -o filenames 2>/dev/null
      _gitlab_secrets_reply -f -- "$cur"; return ;;
    ${pattern(valueOptionNames('environment'))})
      _gitlab_secrets_reply -W ${shWords(ENVIRONMENTS)} -- "$cur"; return ;;
    *) [[ $cur == = || $prev == = ]] && return ;;  # the value of NAME=value
  esac

  # The words before the cursor that are not options, option values or NAME=value.
  local -a args=()
  local i word
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    if [[ \${COMP_WORDS[i+1]} == = ]]; then
      ((i += 2))
      continue
    fi
    case $word in
      ${pattern(valueOptionNames())}) ((i++)) ;;
      -*) ;;
      *) args+=("$word") ;;
    esac
  done
  local n=\${#args[@]} namespace='' verb=\${args[1]-} words='' fallback=''
  case \${args[0]-} in
    ${pattern(allNamespaceNames)}) namespace=\${args[0]} ;;
  esac

  if [[ $cur == -* ]]; then
    words=${shWords(GLOBAL_OPTIONS.map((option) => option.long))}
    if [[ -n $namespace ]]; then
      case $verb in
${commandOptionCases.join('\n')}
      esac
    else
      case \${args[0]-} in
${Object.entries(TOP_LEVEL_OPTIONS).map(([command, options]) => `        ${sh(command)}) words+=${sh(` ${names(options).join(' ')}`)} ;;`).join('\n')}
      esac
    fi
  elif ((n == 0)); then
    words=${shWords([...names(namespaceWords), ...names(TOP_LEVEL_COMMANDS)])}
    fallback=${shWords(aliasNames)}
  elif [[ -n $namespace ]]; then
    if ((n == 1)); then
      words=${shWords(names(NAMESPACE_COMMANDS))}
    fi
    case $namespace in
${instanceCases.join('\n')}
    esac
  elif ((n == 1)); then
    case \${args[0]} in
      completion) words=${shWords(COMPLETION_SHELLS)} ;;
      help) words=${shWords([...names(namespaceWords), ...names(TOP_LEVEL_COMMANDS)])} ;;
    esac
  fi
  _gitlab_secrets_reply -W "$words" -- "$cur"
  # Aliases (service_desk_email) only when no name matches, so they do not double every list.
  if ((\${#COMPREPLY[@]} == 0)) && [[ -n $fallback ]]; then
    _gitlab_secrets_reply -W "$fallback" -- "$cur"
  fi
}

complete -F _gitlab_secrets gitlab-secrets
`;
}

/** `name:description` for zsh's _describe. */
const zshDescribed = (words: readonly Word[]): string =>
  words.map((word) => sh(`${word.name.replace(/:/g, '\\:')}:${word.description}`)).join(' ');

function zshScript(): string {
  const instanceCases = NAMESPACES.filter((ns) => ns.instances).map(
    (ns) =>
      `      (${pattern([ns.name, ...ns.aliases])})\n` +
      `        if { (( n == 2 && \${instance_commands[(Ie)$verb]} )) } || { (( n == 3 && \${keyed_instance_commands[(Ie)$verb]} )) }; then\n` +
      `          local -a instances=(${ns.instances!.names.map(sh).join(' ')})\n` +
      `          _describe -t instances 'Redis instance' instances\n        fi ;;`,
  );
  const commandOptionCases = Object.entries(COMMAND_OPTIONS).map(
    ([command, options]) => `        (${sh(command)}) options+=(${zshDescribed(options)}) ;;`,
  );
  const globalOptions: Word[] = GLOBAL_OPTIONS.flatMap((option) => [
    { name: option.long, description: option.description },
    ...(option.short ? [{ name: option.short, description: option.description }] : []),
  ]);
  const valueGlob = (kind?: ValueKind): string => valueOptionNames(kind).filter((name) => name.startsWith('--')).map((name) => `${sh(name)}=*`).join('|');
  return `#compdef gitlab-secrets
# zsh completion for gitlab-secrets. Load it with: source <(gitlab-secrets completion zsh)
# (after compinit), or save it as _gitlab-secrets in a directory of $fpath.
_gitlab_secrets() {
  local cur=\${words[CURRENT]} prev=\${words[CURRENT-1]}
  case $cur in
    (${valueGlob('directory')}) compset -P '*='; _directories; return ;;
    (${valueGlob('file')}) compset -P '*='; _files; return ;;
    (${valueGlob('environment')}) compset -P '*='; compadd -- ${ENVIRONMENTS.map(sh).join(' ')}; return ;;
  esac
  case $prev in
    (${pattern(valueOptionNames('directory'))}) _directories; return ;;
    (${pattern(valueOptionNames('file'))}) _files; return ;;
    (${pattern(valueOptionNames('environment'))}) compadd -- ${ENVIRONMENTS.map(sh).join(' ')}; return ;;
  esac

  # The words before the cursor that are not options, option values or NAME=value.
  local -a args
  local i word
  for (( i = 2; i < CURRENT; i++ )); do
    word=\${words[i]}
    case $word in
      (${pattern(valueOptionNames())}) (( i++ )) ;;
      (-*|[A-Z]*=*) ;;
      (*) args+=("$word") ;;
    esac
  done
  local n=\${#args} namespace='' verb=\${args[2]-}
  local -a instance_commands=(${instanceCommands.map(sh).join(' ')}) keyed_instance_commands=(${keyedInstanceCommands.map(sh).join(' ')})
  case \${args[1]-} in
    (${pattern(allNamespaceNames)}) namespace=\${args[1]} ;;
  esac

  if [[ $cur == -* ]]; then
    local -a options=(${zshDescribed(globalOptions)})
    if [[ -n $namespace ]]; then
      case $verb in
${commandOptionCases.join('\n')}
      esac
    else
      case \${args[1]-} in
${Object.entries(TOP_LEVEL_OPTIONS).map(([command, options]) => `        (${sh(command)}) options+=(${zshDescribed(options)}) ;;`).join('\n')}
      esac
    fi
    _describe -t options 'option' options
  elif (( n == 0 )) || [[ $n == 1 && \${args[1]} == help ]]; then
    local -a namespaces=(${zshDescribed(namespaceWords)}) commands=(${zshDescribed(TOP_LEVEL_COMMANDS)})
    _describe -t namespaces 'namespace' namespaces
    _describe -t commands 'command' commands
    # Aliases (service_desk_email) only when typed, so they do not double every list.
    [[ $cur == *_* ]] && compadd -- ${aliasNames.map(sh).join(' ')}
  elif [[ -n $namespace ]]; then
    if (( n == 1 )); then
      local -a commands=(${zshDescribed(NAMESPACE_COMMANDS)})
      _describe -t commands 'command' commands
    fi
    case $namespace in
${instanceCases.join('\n')}
    esac
  elif (( n == 1 )) && [[ \${args[1]} == completion ]]; then
    compadd -- ${COMPLETION_SHELLS.join(' ')}
  fi
}

if [[ \${zsh_eval_context[-1]-} == loadautofunc ]]; then
  _gitlab_secrets "$@"
else
  compdef _gitlab_secrets gitlab-secrets
fi
`;
}

const fish = (word: string): string => `'${word.replace(/[\\']/g, '\\$&')}'`;

function fishScript(): string {
  const lines: string[] = [];
  const complete = (condition: string | null, rest: string): void => {
    lines.push(`complete -c gitlab-secrets${condition ? ` -n ${fish(condition)}` : ''} ${rest}`);
  };
  const namespaceList = allNamespaceNames.join(' ');

  for (const word of [...namespaceWords, ...TOP_LEVEL_COMMANDS]) complete('__gitlab_secrets_at 0', `-a ${fish(word.name)} -d ${fish(word.description)}`);
  for (const ns of NAMESPACES) {
    for (const alias of ns.aliases) complete('__gitlab_secrets_at 0', `-a ${fish(alias)} -d ${fish(`the same as ${ns.name}`)}`);
  }
  for (const word of [...namespaceWords, ...TOP_LEVEL_COMMANDS]) complete('__gitlab_secrets_at 1 help', `-a ${fish(word.name)} -d ${fish(word.description)}`);
  for (const word of NAMESPACE_COMMANDS) complete(`__gitlab_secrets_at 1 '${namespaceList}'`, `-a ${fish(word.name)} -d ${fish(word.description)}`);
  complete('__gitlab_secrets_at 1 completion', `-a ${fish(COMPLETION_SHELLS.join(' '))}`);
  for (const ns of NAMESPACES) {
    if (!ns.instances) continue;
    const nsNames = [ns.name, ...ns.aliases].join(' ');
    const instances = `-a ${fish(ns.instances.names.join(' '))} -d ${fish('Redis instance')}`;
    complete(`__gitlab_secrets_at 2 '${nsNames}' '${instanceCommands.join(' ')}'`, instances);
    complete(`__gitlab_secrets_at 3 '${nsNames}' '${keyedInstanceCommands.join(' ')}'`, instances);
  }

  for (const option of GLOBAL_OPTIONS) {
    const flags = `${option.short ? `-s ${option.short.slice(1)} ` : ''}-l ${option.long.slice(2)}`;
    const value =
      option.value === 'directory'
        ? ` -x -a ${fish('(__fish_complete_directories (commandline -ct))')}`
        : option.value === 'file'
          ? ' -r -F'
          : option.value === 'environment'
            ? ` -x -a ${fish(ENVIRONMENTS.join(' '))}`
            : '';
    complete(null, `${flags}${value} -d ${fish(option.description)}`);
  }
  for (const [command, options] of Object.entries(COMMAND_OPTIONS)) {
    for (const option of options) {
      complete(`__gitlab_secrets_command '${namespaceList}' ${command}`, `-l ${option.name.slice(2)} -d ${fish(option.description)}`);
    }
  }
  for (const [command, options] of Object.entries(TOP_LEVEL_OPTIONS)) {
    for (const option of options) complete(`__gitlab_secrets_command ${command}`, `-l ${option.name.slice(2)} -d ${fish(option.description)}`);
  }

  return `# fish completion for gitlab-secrets. Load it with: gitlab-secrets completion fish | source
# or save it as ~/.config/fish/completions/gitlab-secrets.fish.

# The words before the cursor that are not options, option values or NAME=value.
function __gitlab_secrets_args
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l skip 0
    for token in $tokens
        if test $skip -eq 1
            set skip 0
        else if contains -- $token ${valueOptionNames().join(' ')}
            set skip 1
        else if not string match -qr -- '^-|^[A-Z][A-Z0-9_]*=' $token
            echo $token
        end
    end
end

# True when there are <count> such words, the first is one of <firsts> and the second one of <seconds>.
function __gitlab_secrets_at --argument-names count firsts seconds
    set -l args (__gitlab_secrets_args)
    test (count $args) -eq $count; or return 1
    test -z "$firsts"; or contains -- $args[1] (string split ' ' -- $firsts); or return 1
    test -z "$seconds"; or contains -- $args[2] (string split ' ' -- $seconds)
end

# True when the first word is one of <firsts> and the second, if <command> is given, is <command>.
function __gitlab_secrets_command --argument-names firsts command
    set -l args (__gitlab_secrets_args)
    test (count $args) -ge 1; and contains -- $args[1] (string split ' ' -- $firsts); or return 1
    test -z "$command"; or test "$args[2]" = "$command"
end

complete -c gitlab-secrets -f
${lines.join('\n')}
`;
}
