import { Argument, Command, CommanderError, Option } from 'commander';
import type { LookupOptions } from './config/locate.ts';
import type { CommandContext } from './commands/context.ts';
import type { EditOptions } from './commands/edit.ts';
import type { ShowOptions } from './commands/show.ts';
import type { WriteOptions } from './commands/write.ts';
import { EXIT, GitlabSecretsError } from './errors.ts';
import { SERIALIZERS } from './format/message_encryptor.ts';
import type { Serializer } from './format/message_encryptor.ts';
import { adoptKey } from './format/key_generator.ts';
import type { PrefetchedKey } from './prefetch.ts';
import { rewriteRakeArguments } from './argv.ts';
import { COMPLETION_SHELLS, completionScript } from './completion.ts';
import type { CompletionShell } from './completion.ts';
import { processIo } from './io.ts';
import type { Io } from './io.ts';
import { NAMESPACES, namespaceByName } from './namespaces.ts';
import { guardSignals, resetSignalState } from './signals.ts';
import { forgetAll } from './fs/cleanup.ts';

declare const PACKAGE_VERSION: string | undefined;
const VERSION = typeof PACKAGE_VERSION === 'string' ? PACKAGE_VERSION : '0.0.0-dev';

/** The command handlers; loaded on first use so `show` never loads the editor or its dependencies. */
export interface Handlers {
  show(context: CommandContext, options: ShowOptions): Promise<void>;
  edit(context: CommandContext, options: EditOptions): Promise<void>;
  write(context: CommandContext, options: WriteOptions): Promise<void>;
  get(context: CommandContext, key: string): Promise<void>;
  rotate(context: CommandContext): Promise<unknown>;
  /** Resolve with the exit code. */
  rotateAll(lookup: LookupOptions, io: Io): Promise<number>;
  doctor(lookup: LookupOptions, io: Io): Promise<number>;
}

const HANDLERS: Handlers = {
  show: async (context, options) => (await import('./commands/show.ts')).show(context, options),
  edit: async (context, options) => (await import('./commands/edit.ts')).edit(context, options),
  write: async (context, options) => (await import('./commands/write.ts')).write(context, options),
  get: async (context, key) => (await import('./commands/get.ts')).get(context, key),
  rotate: async (context) => (await import('./commands/rotate.ts')).rotate(context),
  rotateAll: async (lookup, io) => (await import('./commands/rotate.ts')).rotateAll(lookup, io),
  doctor: async (lookup, io) => (await import('./commands/doctor.ts')).doctor(lookup, io),
};

export interface MainOptions {
  /** The key derivation bin/ started before loading the CLI (src/prefetch.ts). */
  prefetched?: PrefetchedKey | undefined;
  io?: Io;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  handlers?: Partial<Handlers>;
}

const EXIT_CODES_HELP = `
Exit codes:
  0    success (also: saved with a WARNING, contents unchanged, show of a missing file)
  1    internal error (a bug: please report it)
  2    bad command line (unknown namespace, command or option)
  3    configuration: no GitLab root, unreadable or invalid gitlab.yml/secrets.yml, unsupported ERB,
       "Base key too small"
  4    the encrypted settings directory does not exist
  5    missing encryption key (encrypted_settings_key_base)
  6    cannot decrypt: wrong key or corrupt file (write/edit replace it only with --force)
  7    content refused (invalid YAML, not UTF-8, empty input over secrets): nothing saved
  8    no $EDITOR, or the editor failed: nothing saved
  9    a file could not be read or written: the old file is intact
  10   the file changed on disk during the edit, or another gitlab-secrets kept it locked: nothing saved
  11   get: no such key; rotate: no such file
  12   doctor found a problem
  129, 130, 143  interrupted by SIGHUP, SIGINT (Ctrl-C) or SIGTERM: nothing saved. A signal during the
       final rename waits for it: the save completes, a note says so and the exit code is the save's
       (rotate --all then stops and exits 128 + the signal number)
GitLab's rake tasks exit 0 after most failures; gitlab-secrets does not, so scripts can tell.
`;

const PROGRAM_HELP = `
Namespaces: ${NAMESPACES.map((ns) => ns.name).join(', ')}
Rake task names work too: gitlab-secrets gitlab:smtp:secret:show
Rake-style variables work too: gitlab-secrets smtp edit EDITOR=vim

Other commands:
  gitlab-secrets <namespace> get <key>     one value, for scripts: PASS=$(gitlab-secrets smtp get password)
  gitlab-secrets <namespace> show --json   the settings as JSON
  gitlab-secrets <namespace> rotate        re-encrypt with the primary key after a key rotation
  gitlab-secrets rotate --all              the same for every namespace file that exists
  gitlab-secrets doctor                    where everything is, what is wrong and how to fix it
  gitlab-secrets completion bash|zsh|fish  a shell completion script: source <(gitlab-secrets completion bash)

Examples:
  gitlab-secrets smtp show
  gitlab-secrets redis show shared_state                                               # Redis: instance, default cache
  EDITOR=vim gitlab-secrets service-desk-email edit
  EDITOR='code --wait' gitlab-secrets smtp edit
  gcloud kms decrypt --ciphertext-file=smtp.enc --plaintext-file=- --key=… | gitlab-secrets smtp write
  gitlab-secrets --gitlab-root /opt/gitlab/embedded/service/gitlab-rails smtp show     # Omnibus (the default)
  cd /home/git/gitlab && sudo -u git -H gitlab-secrets smtp show                      # source install

The Rails root is --gitlab-root, else $GITLAB_ROOT, else the current directory if it holds
config/gitlab.yml, else the first of /opt/gitlab/embedded/service/gitlab-rails, /srv/gitlab,
/home/git/gitlab that exists.
${EXIT_CODES_HELP}`;

/** Examples for `gitlab-secrets <namespace> --help`: the commands as GitLab's docs would run them. */
function namespaceHelp(namespace: (typeof NAMESPACES)[number]): string {
  const cli = `gitlab-secrets ${namespace.name}`;
  const instance = namespace.instances ? ' shared_state' : '';
  return (
    `\nExamples:\n  ${cli} show${instance}\n  EDITOR=vim ${cli} edit${instance}\n` +
    `  gcloud kms decrypt --ciphertext-file=${namespace.rakeName}.enc --plaintext-file=- --key=… | ${cli} write${instance}\n` +
    `  gitlab-rake gitlab:${namespace.rakeName}:secret:show  →  gitlab-secrets gitlab:${namespace.rakeName}:secret:show\n` +
    `  ${cli} show --gitlab-root /opt/gitlab/embedded/service/gitlab-rails     # Omnibus (found by default)\n` +
    `  cd /home/git/gitlab && sudo -u git -H ${cli} show                       # source install\n` +
    EXIT_CODES_HELP
  );
}

/** Run the CLI; resolves with the exit code. The only place that turns errors into output. */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  // Each run starts clean, also when tests run several in one process.
  resetSignalState();
  forgetAll();
  if (options.prefetched) adoptKey(options.prefetched.keyBase, options.prefetched.key);
  const io = options.io ?? processIo();
  const env = { ...(options.env ?? process.env) };
  const handlers = { ...HANDLERS, ...options.handlers };
  const args = rewriteRakeArguments(argv, env);
  let exitCode: number = EXIT.OK;
  const program = buildProgram(io, env, options.cwd ?? process.cwd(), handlers, (code) => (exitCode = code));
  try {
    await program.parseAsync(args, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has printed its message or the help already
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? EXIT.OK : EXIT.USAGE;
    }
    if (error instanceof GitlabSecretsError) {
      io.stderr.write(`${error.message}\n`);
      return error.exitCode;
    }
    io.stderr.write(`gitlab-secrets: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.INTERNAL;
  }
}

function buildProgram(
  io: Io,
  env: NodeJS.ProcessEnv,
  cwd: string,
  handlers: Handlers,
  setExitCode: (code: number) => void,
): Command {
  const program = new Command('gitlab-secrets')
    .description(
      "Show, edit and write GitLab's encrypted settings (shared/encrypted_settings/*.yaml.enc) without booting Rails.\n" +
        'A drop-in for gitlab-rake gitlab:<namespace>:secret:show|edit|write.',
    )
    .usage('[options] <namespace> <command>')
    .version(VERSION, '-V, --version')
    .option('--gitlab-root <dir>', 'the GitLab Rails root (default: $GITLAB_ROOT, the current directory, or the Omnibus root)')
    .option('-e, --environment <env>', 'the section of gitlab.yml and secrets.yml (default: $RAILS_ENV, else production)')
    .option('--config <file>', 'gitlab.yml (default: $GITLAB_CONFIG, else <root>/config/gitlab.yml)')
    .option('--secrets <file>', 'the key file: secrets.yml or Omnibus gitlab-secrets.json (default: <root>/config/secrets.yml)')
    .option('--file <path>', 'the encrypted file itself, overriding the lookup in gitlab.yml')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showSuggestionAfterError()
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', PROGRAM_HELP);

  const lookupOf = (command: Command): LookupOptions => {
    const options = command.optsWithGlobals<Record<string, string | undefined>>();
    return {
      gitlabRoot: options['gitlabRoot'],
      environment: options['environment'],
      config: options['config'],
      secrets: options['secrets'],
      file: options['file'],
      env,
      cwd,
    };
  };
  const guarded = async (run: () => Promise<void>): Promise<void> => {
    const release = guardSignals();
    try {
      await run();
    } finally {
      release();
    }
  };

  program
    .command('doctor')
    .description('check every namespace: where its file is, whether it exists and decrypts, and how to fix problems')
    .addHelpText('after', `\nExample:\n  gitlab-secrets doctor\n  gitlab-secrets --gitlab-root /home/git/gitlab doctor\n${EXIT_CODES_HELP}`)
    .action(async (_options: unknown, command: Command) => setExitCode(await handlers.doctor(lookupOf(command), io)));
  program
    .command('rotate')
    .description('re-encrypt every existing namespace file with the primary key (after a key rotation)')
    .requiredOption('--all', 'every namespace (to re-encrypt one: gitlab-secrets <namespace> rotate)')
    .addHelpText('after', `\nExample:\n  gitlab-secrets rotate --all\n${EXIT_CODES_HELP}`)
    .action((_options: unknown, command: Command) =>
      guarded(async () => setExitCode(await handlers.rotateAll(lookupOf(command), io))),
    );

  program
    .command('completion')
    .description('print a shell completion script for bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'the shell').choices(COMPLETION_SHELLS))
    .addHelpText(
      'after',
      '\nExamples:\n  source <(gitlab-secrets completion bash)     # in ~/.bashrc\n' +
        '  source <(gitlab-secrets completion zsh)      # in ~/.zshrc, after compinit\n' +
        '  gitlab-secrets completion fish > ~/.config/fish/completions/gitlab-secrets.fish',
    )
    .action((shell: CompletionShell) => void io.stdout.write(completionScript(shell)));

  for (const namespace of NAMESPACES) {
    const group = program
      .command(namespace.name)
      .aliases(namespace.aliases)
      .description(`${namespace.displayName} secrets (${namespace.fileName})`)
      .usage('<command> [options]')
      .addHelpText('after', () => namespaceHelp(namespace));

    const context = (command: Command): CommandContext => ({
      namespace: namespaceByName(namespace.name),
      instance: command.processedArgs.at(-1) as string | undefined,
      io,
      lookup: lookupOf(command),
      serializer: command.opts<{ serializer?: Serializer }>().serializer,
    });
    const verb = (name: string, description: string, help: string, argument?: string): Command => {
      const command = group.command(name).description(description);
      if (argument) command.argument(argument);
      if (namespace.instances) {
        command.argument('[instance]', `the Redis instance (default: ${namespace.instances.default})`);
      }
      return command.addHelpText('after', `${help}\n${EXIT_CODES_HELP}`);
    };
    const invocation = `gitlab-secrets ${namespace.name}`;
    const instance = namespace.instances ? ' shared_state' : '';
    const createDir = ['--create-dir', 'create the settings directory if it is missing'] as const;
    const serializer = (): Option => new Option('--serializer <format>', "write Marshal (every GitLab reads it) or Rails 7.1's JSON (default: as the file is, Marshal when new)").choices(SERIALIZERS);

    verb('show', `print the decrypted ${namespace.fileName}`, `\nExamples:\n  ${invocation} show${instance}\n  ${invocation} show${instance} --json | jq .`)
      .option('--json', 'print the settings as JSON')
      .action((...args: unknown[]) => {
        const command = args.at(-1) as Command;
        return handlers.show(context(command), { json: command.opts<{ json?: boolean }>().json === true });
      });
    verb(
      'edit',
      `open ${namespace.fileName} in $EDITOR, then encrypt and save it`,
      `\nThe editor is $EDITOR, split into words (quotes honoured), with the file appended. The plaintext lives in a\n` +
        `private RAM-backed temporary directory while you edit, never beside the encrypted file.\n\n` +
        `Examples:\n  EDITOR=vim ${invocation} edit${instance}\n  ${invocation} edit${instance} EDITOR='emacs -nw'\n` +
        `  EDITOR='code --wait' ${invocation} edit${instance}`,
    )
      .option(...createDir)
      .addOption(serializer())
      .option('--force', 'replace a file that no configured key decrypts (its old contents are lost)')
      .action((...args: unknown[]) => {
        const command = args.at(-1) as Command;
        const { createDir } = command.opts<{ createDir?: boolean }>();
        return guarded(() => handlers.edit(context(command), { createDir: createDir === true, force: command.opts().force === true }));
      });
    verb(
      'write',
      `encrypt stdin into ${namespace.fileName} (one line when stdin is a terminal)`,
      `\nExamples:\n  ${invocation} write${instance} < secrets.yml\n` +
        `  gcloud kms decrypt --ciphertext-file=${namespace.rakeName}.enc --plaintext-file=- --key=… | ${invocation} write${instance}\n` +
        `\nEmpty input never replaces existing secrets unless --allow-empty is given (a failed command before the pipe sends nothing).`,
    )
      .option('--allow-empty', 'let empty input replace a file that holds secrets')
      .option(...createDir)
      .addOption(serializer())
      .option('--force', 'replace a file that no configured key decrypts (its old contents are lost)')
      .action((...args: unknown[]) => {
        const command = args.at(-1) as Command;
        const { allowEmpty, createDir } = command.opts<{ allowEmpty?: boolean; createDir?: boolean }>();
        return guarded(() =>
          handlers.write(context(command), { allowEmpty: allowEmpty === true, createDir: createDir === true, force: command.opts().force === true }),
        );
      });
    verb(
      'get',
      `print one value of ${namespace.fileName}, for scripts`,
      `\nA dotted path reaches into nested settings. Scalars print raw, mappings and lists as JSON.\n\nExamples:\n` +
        `  PASSWORD=$(${invocation} get password${instance})\n  gitlab-secrets ldap get main.password`,
      '<key>',
    ).action((...args: unknown[]) => {
      const command = args.at(-1) as Command;
      const key = command.processedArgs[0] as string;
      const target = { ...context(command), instance: namespace.instances ? (command.processedArgs[1] as string | undefined) : undefined };
      return handlers.get(target, key);
    });
    verb(
      'rotate',
      `re-encrypt ${namespace.fileName} with the primary key, reading it with a rotated key if needed`,
      `\nAfter moving encrypted_settings_key_base to rotated_encrypted_settings_key_base and setting a new one.\n\nExamples:\n` +
        `  ${invocation} rotate${instance}\n  gitlab-secrets rotate --all`,
    )
      .addOption(serializer())
      .action((...args: unknown[]) => guarded(async () => void (await handlers.rotate(context(args.at(-1) as Command)))));
  }
  return program;
}
