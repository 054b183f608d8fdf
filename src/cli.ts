import { Argument, Command, CommanderError, Option } from 'commander';
import type { LookupOptions } from './config/locate.ts';
import type { CommandContext } from './commands/context.ts';
import { NAMESPACE_COMMANDS, TOP_LEVEL_COMMANDS } from './commands/table.ts';
import type { CommandRow, Invocation, NamespaceCommandRow } from './commands/table.ts';
import { EXIT, GitlabSecretsError, PositionalValueError, exitCodesHelp, hintLine } from './errors.ts';
import { adoptKey } from './format/key_generator.ts';
import type { PrefetchedKey } from './prefetch.ts';
import { rewriteRakeArguments } from './argv.ts';
import { processIo } from './io.ts';
import type { Io } from './io.ts';
import { NAMESPACES, namespaceByName } from './namespaces.ts';
import type { Namespace } from './namespaces.ts';
import type { Serializer } from './format/message_encryptor.ts';
import { guardSignals, resetSignalState } from './signals.ts';
import { forgetAll } from './fs/cleanup.ts';

declare const PACKAGE_VERSION: string | undefined;
const VERSION = typeof PACKAGE_VERSION === 'string' ? PACKAGE_VERSION : '0.0.0-dev';

export interface MainOptions {
  /** The key derivation bin/ started before loading the CLI (src/prefetch.ts). */
  prefetched?: PrefetchedKey | undefined;
  io?: Io;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const EXIT_CODES_HELP = exitCodesHelp();

/** The program's list of commands beyond show/edit/write, from the rows that have a line for it. */
function overview(): string {
  const lines = [...NAMESPACE_COMMANDS, ...TOP_LEVEL_COMMANDS].flatMap((row) => (row.overview ? [row.overview] : []));
  const width = Math.max(...lines.map(([usage]) => usage.length)) + 2;
  return lines.map(([usage, text]) => `  ${usage.padEnd(width)}${text}`).join('\n');
}

const PROGRAM_HELP = `
Namespaces: ${NAMESPACES.map((ns) => ns.name).join(', ')}
Commands of every namespace: ${NAMESPACE_COMMANDS.map((row) => row.name).join(', ')}
Rake task names work too: gitlab-secrets gitlab:smtp:secret:show
Rake-style variables work too: gitlab-secrets smtp edit EDITOR=vim

Other commands:
${overview()}

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
function namespaceHelp(namespace: Namespace): string {
  const cli = `gitlab-secrets ${namespace.name}`;
  const instance = namespace.instances ? ' shared_state' : '';
  return (
    `\nExamples:\n  ${cli} show${instance}\n  EDITOR=vim ${cli} edit${instance}\n` +
    `  gcloud kms decrypt --ciphertext-file=${namespace.rakeName}.enc --plaintext-file=- --key=… | ${cli} write${instance}\n` +
    `  vault kv get -field=password secret/${namespace.rakeName} | ${cli} set password${instance}\n` +
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
  const args = rewriteRakeArguments(argv, env);
  let exitCode: number = EXIT.OK;
  let commanderError = '';
  const program = buildProgram(io, env, options.cwd ?? process.cwd(), (code) => (exitCode = code), (text) => (commanderError += text));
  try {
    await program.parseAsync(args, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has printed the help already, or handed us its message
      if (error.exitCode === 0) return EXIT.OK;
      const { suggestionsFor } = await import('./suggest.ts');
      const hints = suggestionsFor(args, error.code, commanderError);
      // Our hint replaces commander's own guess, which knows nothing of namespaces.
      io.stderr.write(hints.length > 0 ? commanderError.replace(/\n\(Did you mean [^\n]*\?\)\n$/, '\n') : commanderError);
      for (const hint of hints) io.stderr.write(`${hintLine(hint)}\n`);
      return EXIT.USAGE;
    }
    if (error instanceof GitlabSecretsError) {
      io.stderr.write(`${error.message}\n`);
      if (error.exitCode === EXIT.USAGE) {
        const { suggestionsFor } = await import('./suggest.ts');
        for (const hint of suggestionsFor(args, '', '')) io.stderr.write(`${hintLine(hint)}\n`);
      }
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
  setExitCode: (code: number) => void,
  outputError: (text: string) => void,
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
      // Held until main() knows whether a hint of ours replaces commander's guess.
      outputError: (text) => outputError(text),
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
  /** Run a row's handler; a command that changes a file runs under the signal guard. */
  const run = async (row: CommandRow, handler: () => Promise<number | void>): Promise<void> => {
    const release = row.changesFile ? guardSignals() : undefined;
    try {
      const code = await handler();
      if (typeof code === 'number') setExitCode(code);
    } finally {
      release?.();
    }
  };
  const define = (parent: Command, row: CommandRow, description: string, instance: Namespace['instances']): Command => {
    const command = parent.command(row.name).description(description);
    for (const argument of row.args) {
      const arg = new Argument(argument.name, argument.description);
      command.addArgument(argument.choices ? arg.choices(argument.choices) : arg);
    }
    if (instance) command.argument('[instance]', `the Redis instance (default: ${instance.default})`);
    for (const option of row.options) {
      const added = new Option(option.flags, option.description);
      if (option.choices) added.choices(option.choices);
      command.addOption(option.required ? added.makeOptionMandatory() : added);
    }
    return command;
  };
  const invocation = (command: Command, row: CommandRow): Invocation => ({
    args: (command.processedArgs as Array<string | undefined>).slice(0, row.args.length).filter((arg) => arg !== undefined),
    options: command.opts(),
    lookup: lookupOf(command),
    io,
  });

  for (const row of TOP_LEVEL_COMMANDS) {
    define(program, row, row.description, null)
      .addHelpText('after', row.exitCodes ? `${row.help}${EXIT_CODES_HELP}` : row.help)
      .action((...args: unknown[]) => {
        const command = args.at(-1) as Command;
        return run(row, () => row.run(invocation(command, row)));
      });
  }

  for (const namespace of NAMESPACES) {
    const group = program
      .command(namespace.name)
      .aliases(namespace.aliases)
      .description(`${namespace.displayName} secrets (${namespace.fileName})`)
      .usage('<command> [options]')
      .addHelpText('after', () => namespaceHelp(namespace));
    const cli = `gitlab-secrets ${namespace.name}`;
    const instance = namespace.instances ? ' shared_state' : '';

    for (const row of NAMESPACE_COMMANDS) {
      const expected = row.args.length + (namespace.instances ? 1 : 0);
      define(group, row, row.description(namespace), namespace.instances)
        .allowExcessArguments(row.valueNotInArguments === true)
        .addHelpText('after', `${row.help(namespace, cli, instance)}\n${EXIT_CODES_HELP}`)
        .action((...args: unknown[]) => {
          const command = args.at(-1) as Command;
          if (command.args.length > expected) throw new PositionalValueError(`gitlab-secrets ${namespace.name} ${row.name}`);
          return run(row, () => row.run({ ...invocation(command, row), context: contextOf(command, row, namespace) }));
        });
    }
  }
  return program;

  function contextOf(command: Command, row: NamespaceCommandRow, namespace: Namespace): CommandContext {
    return {
      namespace: namespaceByName(namespace.name),
      instance: namespace.instances ? (command.processedArgs[row.args.length] as string | undefined) : undefined,
      io,
      lookup: lookupOf(command),
      serializer: command.opts<{ serializer?: Serializer }>().serializer,
    };
  }
}
