/**
 * Every command of gitlab-secrets, one row each: its name, arguments, options, help, whether it changes a
 * file or needs the key, and its handler, loaded on first use. cli.ts wires commander from these rows,
 * completion.ts writes the shell scripts from them and prefetch.ts reads which commands need the key; a
 * new command is one new row here.
 *
 * Pure data: no commander, no handler code. Handlers are reached only through `import()`, so `show`
 * never loads the code of `edit` (the build keeps each a module initialized on first use).
 */
import type { LookupOptions } from '../config/locate.ts';
import type { Io } from '../io.ts';
import type { Serializer } from '../format/message_encryptor.ts';
import type { Namespace } from '../namespaces.ts';
import type { CommandContext } from './context.ts';

/** An option of one command. `flags` as commander takes them: `--json`, `--value <value>`. */
export interface OptionRow {
  readonly flags: string;
  readonly description: string;
  /** The command fails without it (`rotate --all`). */
  readonly required?: boolean;
  /** Only these values (`--serializer marshal|json`). */
  readonly choices?: readonly string[];
}

/** A positional argument, as commander writes it: `<key>`, `[instance]`. */
export interface ArgumentRow {
  readonly name: string;
  readonly description: string;
  /** Only these values (`completion <shell>`). */
  readonly choices?: readonly string[];
}

/** What a handler gets: the positional arguments (without a Redis instance) and the options by camelCase name. */
export interface Invocation {
  readonly args: readonly string[];
  readonly options: Readonly<Record<string, unknown>>;
  readonly lookup: LookupOptions;
  readonly io: Io;
}

/** A namespace command's call: the Invocation plus the namespace and instance it acts on. */
export interface NamespaceInvocation extends Invocation {
  readonly context: CommandContext;
}

interface CommandRowBase {
  readonly name: string;
  /** The one-line description in the completion scripts (shells show it beside the word). */
  readonly summary: string;
  /** Positional arguments before the Redis instance. */
  readonly args: readonly ArgumentRow[];
  readonly options: readonly OptionRow[];
  /** It may replace a file: runs with the signal guard (and the lock) and saves through commit(). */
  readonly changesFile: boolean;
  /** It needs the primary key: prefetch starts deriving it before the CLI loads. */
  readonly needsKey: boolean;
  /** An argument too many is a value typed on the command line (`set password hunter2`): refused, never echoed. */
  readonly valueNotInArguments?: boolean;
  /** Its line in the program's `--help` list of commands: [usage, what it is for]. */
  readonly overview?: readonly [string, string];
}

/** `gitlab-secrets <namespace> <name> …`: one handler shared by every namespace. */
export interface NamespaceCommandRow extends CommandRowBase {
  readonly scope: 'namespace';
  readonly description: (namespace: Namespace) => string;
  /** Help after the options (`--help`), before the exit codes. `cli` is `gitlab-secrets <namespace>`. */
  readonly help: (namespace: Namespace, cli: string, instance: string) => string;
  /** Resolves with the exit code, or nothing for 0. */
  readonly run: (call: NamespaceInvocation) => Promise<number | void>;
}

/** `gitlab-secrets <name> …`: not tied to one namespace. */
export interface TopLevelCommandRow extends CommandRowBase {
  readonly scope: 'top';
  readonly description: string;
  readonly help: string;
  /** Whether `--help` ends with the exit codes. */
  readonly exitCodes: boolean;
  readonly run: (call: Invocation) => Promise<number | void>;
}

export type CommandRow = NamespaceCommandRow | TopLevelCommandRow;

/** The shells `gitlab-secrets completion` writes a script for. */
export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

const on = (options: Invocation['options'], name: string): boolean => options[name] === true;

const FORCE: OptionRow = { flags: '--force', description: 'replace a file the key cannot read (its contents are lost)' };
/** format/message_encryptor.ts's SERIALIZERS, written out so that the prefetch bundle does not load the format code. */
const SERIALIZER_CHOICES: readonly Serializer[] = ['marshal', 'json'];
const SERIALIZER: OptionRow = {
  flags: '--serializer <format>',
  description: "write Marshal (every GitLab reads it) or Rails 7.1's JSON (default: as the file is, Marshal when new)",
  choices: SERIALIZER_CHOICES,
};
const CREATE_DIR: OptionRow = { flags: '--create-dir', description: 'create the settings directory if it is missing' };

export const NAMESPACE_COMMANDS: readonly NamespaceCommandRow[] = [
  {
    scope: 'namespace',
    name: 'show',
    summary: 'print the decrypted file',
    description: (ns) => `print the decrypted ${ns.fileName}`,
    args: [],
    options: [{ flags: '--json', description: 'print the settings as JSON' }],
    help: (_ns, cli, instance) => `\nExamples:\n  ${cli} show${instance}\n  ${cli} show${instance} --json | jq .`,
    overview: ['gitlab-secrets <namespace> show --json', 'the settings as JSON'],
    changesFile: false,
    needsKey: true,
    run: async ({ context, options }) => (await import('./show.ts')).show(context, { json: on(options, 'json') }),
  },
  {
    scope: 'namespace',
    name: 'edit',
    summary: 'open the file in $EDITOR, then encrypt and save it',
    description: (ns) => `open ${ns.fileName} in $EDITOR, then encrypt and save it`,
    args: [],
    options: [CREATE_DIR, SERIALIZER, FORCE],
    help: (_ns, cli, instance) =>
      `\nThe editor is $EDITOR, split into words (quotes honoured), with the file appended. The plaintext lives in a\n` +
      `private RAM-backed temporary directory while you edit, never beside the encrypted file.\n\n` +
      `Examples:\n  EDITOR=vim ${cli} edit${instance}\n  ${cli} edit${instance} EDITOR='emacs -nw'\n` +
      `  EDITOR='code --wait' ${cli} edit${instance}`,
    changesFile: true,
    needsKey: true,
    run: async ({ context, options }) => {
      const editOptions = { createDir: on(options, 'createDir'), force: on(options, 'force') };
      return (await import('./edit.ts')).edit(context, editOptions);
    },
  },
  {
    scope: 'namespace',
    name: 'write',
    summary: 'encrypt stdin into the file',
    description: (ns) => `encrypt stdin into ${ns.fileName} (one line when stdin is a terminal)`,
    args: [],
    options: [{ flags: '--allow-empty', description: 'let empty input replace a file that holds secrets' }, CREATE_DIR, SERIALIZER, FORCE],
    help: (ns, cli, instance) =>
      `\nExamples:\n  ${cli} write${instance} < ${ns.rakeName}.yml\n` +
      `  gcloud kms decrypt --ciphertext-file=${ns.rakeName}.enc --plaintext-file=- --key=… | ${cli} write${instance}\n` +
      `\nEmpty input never replaces existing secrets unless --allow-empty is given (a failed command before the pipe sends nothing).`,
    changesFile: true,
    needsKey: true,
    run: async ({ context, options }) => {
      const writeOptions = { allowEmpty: on(options, 'allowEmpty'), createDir: on(options, 'createDir'), force: on(options, 'force') };
      return (await import('./write.ts')).write(context, writeOptions);
    },
  },
  {
    scope: 'namespace',
    name: 'get',
    summary: 'print one value, for scripts',
    description: (ns) => `print one value of ${ns.fileName}, for scripts`,
    args: [{ name: '<key>', description: '' }],
    options: [],
    help: (_ns, cli, instance) =>
      `\nA dotted path reaches into nested settings. Scalars print raw, mappings and lists as JSON.\n\nExamples:\n` +
      `  PASSWORD=$(${cli} get password${instance})\n  gitlab-secrets ldap get main.password`,
    overview: ['gitlab-secrets <namespace> get <key>', 'one value, for scripts: PASS=$(gitlab-secrets smtp get password)'],
    changesFile: false,
    needsKey: true,
    run: async ({ context, args }) => (await import('./get.ts')).get(context, args[0]!),
  },
  {
    scope: 'namespace',
    name: 'set',
    summary: 'change one value, keeping the rest of the file as it is',
    description: (ns) => `change one value of ${ns.fileName}, read from stdin (or a prompt), keeping every other byte`,
    args: [{ name: '<key>', description: 'a dotted path: password, main.password' }],
    options: [
      { flags: '--value <value>', description: 'the value as a YAML scalar (587 is a number); visible in ps and shell history' },
      { flags: '--allow-empty', description: 'let an empty value from stdin be set' },
      CREATE_DIR,
      { flags: '--force', description: 'start from nothing if the key cannot read the file (its contents are lost)' },
    ],
    help: (ns, cli, instance) =>
      `\nThe value comes from stdin: a pipe gives all of it less one trailing newline; a terminal asks twice without\n` +
      `echoing. It is always a string (0777, yes, null stay strings). --value VALUE takes it from the command line\n` +
      `instead, read as YAML (--value 587 is a number), but the command line is visible in ps and shell history.\n` +
      `Missing mappings on the path are created; comments, order and quoting of everything else stay as they are.\n\n` +
      `Examples:\n  ${cli} set password${instance}                              # asks twice\n` +
      `  vault kv get -field=password secret/${ns.rakeName} | ${cli} set password${instance}\n` +
      `  ${cli} set port${instance} --value 587\n  gitlab-secrets ldap set main.password < /run/secrets/ldap_password`,
    valueNotInArguments: true,
    overview: ['gitlab-secrets <namespace> set <key>', 'change one value from stdin: vault … | gitlab-secrets smtp set password'],
    changesFile: true,
    needsKey: true,
    run: async ({ context, args, options }) => {
      const setOptions = {
        value: typeof options['value'] === 'string' ? options['value'] : undefined,
        allowEmpty: on(options, 'allowEmpty'),
        createDir: on(options, 'createDir'),
        force: on(options, 'force'),
      };
      return (await import('./set.ts')).set(context, args[0]!, setOptions);
    },
  },
  {
    scope: 'namespace',
    name: 'unset',
    summary: 'remove one value, keeping the rest of the file as it is',
    description: (ns) => `remove one value of ${ns.fileName}, keeping every other byte`,
    args: [{ name: '<key>', description: 'a dotted path: password, main.password' }],
    options: [],
    help: (_ns, cli, instance) =>
      `\nA missing key exits 11 and changes nothing.\n\nExamples:\n  ${cli} unset password${instance}\n  gitlab-secrets ldap unset main.bind_dn`,
    overview: ['gitlab-secrets <namespace> unset <key>', 'remove one value (exit 11 if it is not there)'],
    changesFile: true,
    needsKey: true,
    run: async ({ context, args }) => (await import('./unset.ts')).unset(context, args[0]!),
  },
  {
    scope: 'namespace',
    name: 'rotate',
    summary: 're-encrypt the file with the primary key',
    description: (ns) => `re-encrypt ${ns.fileName} with the primary key, reading it with a rotated key if needed`,
    args: [],
    options: [SERIALIZER, FORCE],
    help: (_ns, cli, instance) =>
      `\nAfter moving encrypted_settings_key_base to rotated_encrypted_settings_key_base and setting a new one.\n\nExamples:\n` +
      `  ${cli} rotate${instance}\n  gitlab-secrets rotate --all`,
    overview: ['gitlab-secrets <namespace> rotate', 're-encrypt with the primary key after a key rotation'],
    changesFile: true,
    needsKey: true,
    run: async ({ context }) => void (await (await import('./rotate.ts')).rotate(context)),
  },
  {
    scope: 'namespace',
    name: 'diff',
    summary: 'list the keys a proposed document adds, removes or changes',
    description: (ns) => `list the keys a proposed document (stdin) adds, removes or changes in ${ns.fileName}, values masked`,
    args: [],
    options: [
      { flags: '--against <file>', description: 'compare with another encrypted file (e.g. a backup), decrypted with the same keys' },
      { flags: '--show-values', description: 'print the values too (they are secrets)' },
    ],
    help: (ns, cli, instance) =>
      `\nPaths are dotted as get takes them: + added, - removed, ~ changed. Exit status as diff(1): 0 no differences,\n` +
      `1 differences, another code for an error. Invalid YAML gets GitLab's WARNING line and exit 7.\n\nExamples:\n` +
      `  ${cli} diff${instance} < proposed.yml\n  ${cli} diff${instance} --against /var/backups/${ns.fileName}\n` +
      `  ${cli} diff${instance} --show-values < proposed.yml`,
    overview: ['gitlab-secrets <namespace> diff < new.yml', 'which keys a new document adds, removes or changes (values masked)'],
    changesFile: false,
    needsKey: true,
    run: async ({ context, options }) => {
      const against = typeof options['against'] === 'string' ? options['against'] : undefined;
      return (await import('./diff.ts')).diff(context, { against, showValues: on(options, 'showValues') });
    },
  },
  {
    scope: 'namespace',
    name: 'export',
    summary: 'print the password as a Kubernetes Secret for the GitLab Helm chart',
    description: (ns) => `print the password(s) of ${ns.fileName} as a Kubernetes Secret for the GitLab Helm chart`,
    args: [],
    options: [
      { flags: '--format <format>', description: 'the output format: kubernetes', required: true },
      { flags: '--name <name>', description: "the Secret's name (default: the one the chart's documentation uses)" },
      { flags: '--namespace <namespace>', description: "the Kubernetes namespace (default: kubectl's current one)" },
      { flags: '--force', description: 'print to a terminal anyway' },
    ],
    help: (_ns, cli, instance) =>
      `\nThe manifest starts with the helm --set lines that point the chart at it. It holds the plaintext\n` +
      `password, so it is never printed to a terminal unless --force.\n\nExamples:\n` +
      `  ${cli} export${instance} --format kubernetes | kubectl apply -f -\n` +
      `  ${cli} export${instance} --format kubernetes --namespace gitlab | kubectl apply -f -`,
    overview: ['gitlab-secrets <namespace> export --format kubernetes', 'a Secret for the GitLab Helm chart: … | kubectl apply -f -'],
    changesFile: false,
    needsKey: true,
    run: async ({ context, options }) => {
      const text = (name: string): string | undefined => (typeof options[name] === 'string' ? (options[name] as string) : undefined);
      const exportOptions = { format: text('format') as 'kubernetes', name: text('name'), namespace: text('namespace'), force: on(options, 'force') };
      return (await import('./export.ts')).exportSettings(context, exportOptions);
    },
  },
];

export const TOP_LEVEL_COMMANDS: readonly TopLevelCommandRow[] = [
  {
    scope: 'top',
    name: 'doctor',
    summary: 'check every namespace and say how to fix problems',
    description: 'check every namespace: where its file is, whether it exists and decrypts, and how to fix problems',
    args: [],
    options: [],
    help: `\nExample:\n  gitlab-secrets doctor\n  gitlab-secrets --gitlab-root /home/git/gitlab doctor\n`,
    overview: ['gitlab-secrets doctor', 'where everything is, what is wrong and how to fix it'],
    exitCodes: true,
    changesFile: false,
    needsKey: false,
    run: async ({ lookup, io }) => (await import('./doctor.ts')).doctor(lookup, io),
  },
  {
    scope: 'top',
    name: 'rotate',
    summary: 're-encrypt every namespace file (rotate --all)',
    description: 're-encrypt every existing namespace file with the primary key (after a key rotation)',
    args: [],
    options: [{ flags: '--all', description: 'every namespace (to re-encrypt one: gitlab-secrets <namespace> rotate)', required: true }],
    help: `\nExample:\n  gitlab-secrets rotate --all\n`,
    overview: ['gitlab-secrets rotate --all', 'the same for every namespace file that exists'],
    exitCodes: true,
    changesFile: true,
    needsKey: true,
    run: async ({ lookup, io }) => (await import('./rotate.ts')).rotateAll(lookup, io),
  },
  {
    scope: 'top',
    name: 'completion',
    summary: 'print a shell completion script',
    description: 'print a shell completion script for bash, zsh or fish',
    args: [{ name: '<shell>', description: 'the shell', choices: COMPLETION_SHELLS }],
    options: [],
    help:
      '\nExamples:\n  source <(gitlab-secrets completion bash)     # in ~/.bashrc\n' +
      '  source <(gitlab-secrets completion zsh)      # in ~/.zshrc, after compinit\n' +
      '  gitlab-secrets completion fish > ~/.config/fish/completions/gitlab-secrets.fish',
    overview: ['gitlab-secrets completion bash|zsh|fish', 'a shell completion script: source <(gitlab-secrets completion bash)'],
    exitCodes: false,
    changesFile: false,
    needsKey: false,
    run: async ({ args, io }) => {
      const { completionScript } = await import('../completion.ts');
      io.stdout.write(completionScript(args[0] as CompletionShell));
    },
  },
  {
    scope: 'top',
    name: 'textconv',
    summary: 'print the plaintext of an encrypted file, for git diff',
    description: 'print the plaintext of an encrypted settings file, for git diff (diff.<driver>.textconv)',
    args: [{ name: '<file>', description: 'the encrypted file (git passes a temporary copy)' }],
    options: [],
    help:
      '\nA version that cannot be decrypted prints one placeholder line (with its ciphertext hash), the reason on\n' +
      'stderr, and exits 0: git aborts the whole diff when a textconv command fails.\n\n' +
      'Setup, in the repository that holds the .yaml.enc files:\n' +
      "  echo '*.yaml.enc diff=gitlab-secrets' >> .gitattributes\n" +
      '  git config diff.gitlab-secrets.textconv "gitlab-secrets --secrets /etc/gitlab/gitlab-secrets.json textconv"\n' +
      'Do not set diff.gitlab-secrets.cachetextconv: git would keep the plaintext in the repository (refs/notes/textconv).\n',
    overview: ['gitlab-secrets textconv <file>', 'the plaintext for git diff: see the README, GitOps'],
    exitCodes: true,
    changesFile: false,
    needsKey: true,
    run: async ({ args, lookup, io }) => (await import('./textconv.ts')).textconv({ lookup, io }, args[0]!),
  },
];

export const COMMANDS: readonly CommandRow[] = [...TOP_LEVEL_COMMANDS, ...NAMESPACE_COMMANDS];

/** Names of the commands that need the primary key, at either level. */
export function keyedCommandNames(): Set<string> {
  return new Set(COMMANDS.filter((row) => row.needsKey).map((row) => row.name));
}

/** The long option names (`--json`) of one command's row. */
export function optionNames(row: CommandRow): string[] {
  return row.options.map((option) => option.flags.split(/[ ,]/)[0]!);
}
