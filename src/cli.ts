import { Command, CommanderError } from 'commander';
import type { CommandContext } from './commands/context.ts';
import type { WriteOptions } from './commands/write.ts';
import { EXIT, GitlabSecretsError } from './errors.ts';
import { processIo } from './io.ts';
import type { Io } from './io.ts';
import { NAMESPACES, namespaceByName } from './namespaces.ts';
import { guardSignals, lateSignalExitCode } from './signals.ts';

declare const PACKAGE_VERSION: string | undefined;
const VERSION = typeof PACKAGE_VERSION === 'string' ? PACKAGE_VERSION : '0.0.0-dev';

/** The command handlers; loaded on first use so `show` never loads the editor or its dependencies. */
export interface Handlers {
  show(context: CommandContext): Promise<void>;
  edit(context: CommandContext): Promise<void>;
  write(context: CommandContext, options: WriteOptions): Promise<void>;
}

const HANDLERS: Handlers = {
  show: async (context) => (await import('./commands/show.ts')).show(context),
  edit: async (context) => (await import('./commands/edit.ts')).edit(context),
  write: async (context, options) => (await import('./commands/write.ts')).write(context, options),
};

export interface MainOptions {
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
  6    cannot decrypt: wrong key or corrupt file
  7    content refused (invalid YAML, not UTF-8, empty input over secrets): nothing saved
  8    no $EDITOR, or the editor failed: nothing saved
  9    a file could not be read or written: the old file is intact
  10   the file changed on disk during the edit: nothing saved
  129, 130, 143  interrupted by SIGHUP, SIGINT (Ctrl-C) or SIGTERM: nothing saved
GitLab's rake tasks exit 0 after most failures; gitlab-secrets does not, so scripts can tell.
`;

const PROGRAM_HELP = `
Namespaces: ${NAMESPACES.map((ns) => ns.name).join(', ')}
Rake task names work too: gitlab-secrets gitlab:smtp:secret:show
Rake-style variables work too: gitlab-secrets smtp edit EDITOR=vim

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

/** Run the CLI; resolves with the exit code. The only place that turns errors into output. */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const io = options.io ?? processIo();
  const env = { ...(options.env ?? process.env) };
  const handlers = { ...HANDLERS, ...options.handlers };
  const args = rewriteRakeArguments(argv, env);
  const program = buildProgram(io, env, options.cwd ?? process.cwd(), handlers);
  try {
    await program.parseAsync(args, { from: 'user' });
    return lateSignalExitCode() ?? EXIT.OK;
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

/**
 * Make commands copied from GitLab's docs work: `gitlab:smtp:secret:edit` becomes `smtp edit`,
 * `gitlab:redis:secret:show[cache]` becomes `redis show cache`, and `EDITOR=vim` sets the variable.
 */
export function rewriteRakeArguments(argv: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const args: string[] = [];
  for (const arg of argv) {
    const assignment = /^([A-Z][A-Z0-9_]*)=(.*)$/s.exec(arg);
    const rake = /^gitlab:([a-z_]+):secret:([a-z]+)(?:\[([^\]]*)\])?$/.exec(arg);
    if (assignment) env[assignment[1]!] = assignment[2]!;
    else if (rake) args.push(rake[1]!, rake[2]!, ...(rake[3] ? [rake[3]] : []));
    else args.push(arg);
  }
  return args;
}

function buildProgram(io: Io, env: NodeJS.ProcessEnv, cwd: string, handlers: Handlers): Command {
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

  for (const namespace of NAMESPACES) {
    const group = program
      .command(namespace.name)
      .aliases(namespace.aliases)
      .description(`${namespace.displayName} secrets (${namespace.fileName})`)
      .usage('<command> [options]');

    const context = (command: Command): CommandContext => {
      const options = command.optsWithGlobals<Record<string, string | undefined>>();
      return {
        namespace: namespaceByName(namespace.name),
        instance: command.processedArgs[0] as string | undefined,
        io,
        lookup: {
          gitlabRoot: options['gitlabRoot'],
          environment: options['environment'],
          config: options['config'],
          secrets: options['secrets'],
          file: options['file'],
          env,
          cwd,
        },
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
    const verb = (name: string, description: string, help: string): Command => {
      const command = group.command(name).description(description);
      if (namespace.instances) {
        command.argument('[instance]', `the Redis instance (default: ${namespace.instances.default})`);
      }
      return command.addHelpText('after', `${help}\n${EXIT_CODES_HELP}`);
    };
    const invocation = `gitlab-secrets ${namespace.name}`;
    const instance = namespace.instances ? ' shared_state' : '';

    verb('show', `print the decrypted ${namespace.fileName}`, `\nExample:\n  ${invocation} show${instance}`).action(
      (...args: unknown[]) => handlers.show(context(args.at(-1) as Command)),
    );
    verb(
      'edit',
      `open ${namespace.fileName} in $EDITOR, then encrypt and save it`,
      `\nThe editor is $EDITOR, split into words (quotes honoured), with the file appended. The plaintext lives in a\n` +
        `private RAM-backed temporary directory while you edit, never beside the encrypted file.\n\n` +
        `Examples:\n  EDITOR=vim ${invocation} edit${instance}\n  ${invocation} edit${instance} EDITOR='emacs -nw'\n` +
        `  EDITOR='code --wait' ${invocation} edit${instance}`,
    ).action((...args: unknown[]) => guarded(() => handlers.edit(context(args.at(-1) as Command))));
    verb(
      'write',
      `encrypt stdin into ${namespace.fileName} (one line when stdin is a terminal)`,
      `\nExamples:\n  ${invocation} write${instance} < secrets.yml\n` +
        `  gcloud kms decrypt --ciphertext-file=${namespace.rakeName}.enc --plaintext-file=- --key=… | ${invocation} write${instance}\n` +
        `\nEmpty input never replaces existing secrets unless --allow-empty is given (a failed command before the pipe sends nothing).`,
    )
      .option('--allow-empty', 'let empty input replace a file that holds secrets')
      .action((...args: unknown[]) => {
        const command = args.at(-1) as Command;
        const { allowEmpty } = command.opts<{ allowEmpty?: boolean }>();
        return guarded(() => handlers.write(context(command), { allowEmpty: allowEmpty === true }));
      });
  }
  return program;
}
