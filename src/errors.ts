/**
 * Every failure gitlab-secrets reports, with its message and exit code.
 *
 * GitLab's rake tasks print most of these messages and exit 0 (lib/tasks/gitlab/*.rake rescue and
 * `warn`); we exit non-zero on every failure so scripts can tell (SPEC §4). The messages that GitLab
 * prints are kept word for word so that admins and their scripts recognise them.
 */

/** Exit codes, one per kind of failure. Documented in `--help` and the README. */
export const EXIT = {
  OK: 0,
  /** An unexpected internal error (a bug: please report it). */
  INTERNAL: 1,
  /** Bad command line: unknown namespace, command, option or Redis instance. */
  USAGE: 2,
  /** Configuration: no GitLab root, unreadable or invalid gitlab.yml / secrets.yml, unsupported ERB, bad key base. */
  CONFIG: 3,
  /** The settings directory does not exist. */
  NO_DIRECTORY: 4,
  /** No encrypted_settings_key_base. */
  MISSING_KEY: 5,
  /** The file cannot be decrypted: wrong key, or corrupt. */
  DECRYPT: 6,
  /** The new content was refused (invalid YAML, not UTF-8, empty over existing secrets): nothing saved. */
  INVALID_CONTENT: 7,
  /** No $EDITOR, or the editor failed: nothing saved. */
  EDITOR: 8,
  /** Reading or writing a file failed (permissions, disk full): the old file is intact. */
  IO: 9,
  /** The file changed on disk while it was being edited: nothing saved. */
  CONFLICT: 10,
  /** `get`: no such key; `rotate`: no such file. */
  NOT_FOUND: 11,
  /** `doctor` found a problem. */
  PROBLEMS: 12,
  /** `diff`: the documents differ (as diff(1) exits 1; 0 is "no differences"). */
  DIFFERENT: 1,
  /** `export`: stdout is a terminal, and a manifest of secrets on screen is a leak (--force overrides). */
  TERMINAL: 13,
  /** Interrupted by SIGHUP, SIGINT or SIGTERM (128 + signal number): nothing saved. */
  SIGHUP: 129,
  SIGINT: 130,
  SIGTERM: 143,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Base class: a failure the CLI reports as one line on stderr and an exit code. */
export class GitlabSecretsError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

export class UsageError extends GitlabSecretsError {
  constructor(message: string) {
    super(message, EXIT.USAGE);
  }
}

/**
 * GitLab: lib/gitlab/encrypted_configuration.rb `generate_key`. GitLab's line as it is; the config layer
 * adds a `hint:` line naming the key it checked (never the key).
 */
export class BaseKeyTooSmallError extends GitlabSecretsError {
  constructor(hint?: string) {
    super(`Base key too small${hint ? `\nhint: ${hint}` : ''}`, EXIT.CONFIG);
  }
}

export class ConfigError extends GitlabSecretsError {
  constructor(message: string) {
    super(message, EXIT.CONFIG);
  }
}

export class GitlabRootNotFoundError extends GitlabSecretsError {
  constructor(tried: readonly string[]) {
    super(
      `Cannot find the GitLab Rails root (tried ${tried.join(', ')}). ` +
        'Pass --gitlab-root <dir> or set GITLAB_ROOT.',
      EXIT.CONFIG,
    );
  }
}

/** GitLab issue 296646: say how to fix it, not only what is wrong. */
export class DirectoryMissingError extends GitlabSecretsError {
  constructor(dir: string) {
    super(`Directory ${dir} does not exist. Create the directory and try again.`, EXIT.NO_DIRECTORY);
  }
}

/** GitLab: EncryptedCommandBase#validate_config; `hint` (a line of ours) says where we looked. */
export class MissingKeyError extends GitlabSecretsError {
  constructor(hint?: string) {
    super(`Missing encryption key encrypted_settings_key_base.${hint ? `\nhint: ${hint}` : ''}`, EXIT.MISSING_KEY);
  }
}

/**
 * A body that does not decrypt with any key. Deliberately opaque, as Rails' MessageEncryptor::InvalidMessage:
 * a wrong key, a tampered tag and a truncated file look the same.
 */
export class InvalidMessageError extends GitlabSecretsError {
  constructor() {
    super('Invalid message: wrong key or corrupt data', EXIT.DECRYPT);
  }
}

/** GitLab: EncryptedCommandBase rescue of InvalidMessage. */
export class DecryptError extends GitlabSecretsError {
  constructor(path: string) {
    super(`Couldn't decrypt ${path}. Perhaps you passed the wrong key?`, EXIT.DECRYPT);
  }
}

export class InvalidContentError extends GitlabSecretsError {
  constructor(message: string) {
    super(message, EXIT.INVALID_CONTENT);
  }
}

/**
 * GitLab's line, word for word; the command GitLab prints on a second line of its own is ours to give, so
 * it is a `hint:` line (issue 10: one error line, help apart from it).
 */
export class NoEditorError extends GitlabSecretsError {
  constructor(command: string) {
    super(`No $EDITOR specified to open file. Please provide one when running the command:\nhint: ${command}`, EXIT.EDITOR);
  }
}

export class EditorFailedError extends GitlabSecretsError {
  constructor(editor: string) {
    super(`Unable to run $EDITOR: ${editor}`, EXIT.EDITOR);
  }
}

export class EditBufferLostError extends GitlabSecretsError {
  constructor() {
    super('The edited file is gone (did the editor delete or rename it?): nothing saved.', EXIT.EDITOR);
  }
}

export class FileAccessError extends GitlabSecretsError {
  constructor(message: string) {
    super(message, EXIT.IO);
  }
}

/** Writing the file (or its lock beside it) failed: `reason` as describeIoError gives it. */
export class WriteFailedError extends FileAccessError {
  constructor(path: string, reason: string) {
    super(`Cannot write ${path}: ${reason}. The old file is intact.`);
  }
}

export class ConcurrentChangeError extends GitlabSecretsError {
  constructor(path: string) {
    super(
      `${path} was changed by someone else while you were editing it: nothing saved. Run the edit again.`,
      EXIT.CONFLICT,
    );
  }
}

export class NotFoundError extends GitlabSecretsError {
  constructor(message: string) {
    super(message, EXIT.NOT_FOUND);
  }
}

const SIGNAL_EXIT = { SIGHUP: EXIT.SIGHUP, SIGINT: EXIT.SIGINT, SIGTERM: EXIT.SIGTERM } as const;
export type HandledSignal = keyof typeof SIGNAL_EXIT;
export const HANDLED_SIGNALS = Object.keys(SIGNAL_EXIT) as HandledSignal[];

/** GitLab: `rescue Interrupt` in EncryptedCommandBase#edit and #write. */
export class InterruptedError extends GitlabSecretsError {
  constructor(signal: HandledSignal) {
    super('Aborted changing file: nothing saved.', SIGNAL_EXIT[signal]);
  }
}

/**
 * Rails 7.1's JSON serializer cannot hold text that is not UTF-8 (the json gem raises): nothing is written.
 */
export class JsonSerializerError extends GitlabSecretsError {
  constructor(path: string) {
    super(
      `Cannot write ${path} with the JSON serializer: the text is not valid UTF-8. Nothing saved.\n` +
        'hint: pass --serializer marshal, which every GitLab reads.',
      EXIT.INVALID_CONTENT,
    );
  }
}

/**
 * `write` (or any command that replaces the file) over a file that no configured key decrypts: GitLab's
 * line, then one hint. Replacing it would destroy secrets that another key (another environment's, a lost
 * old one) may still open: a stale RAILS_ENV=development must not wipe production's SMTP password.
 */
export class WouldDestroyUndecryptableError extends GitlabSecretsError {
  /** `keys`: where the keys came from, e.g. `/…/secrets.yml (environment "production")` or `$GITLAB_ENCRYPTED_SETTINGS_KEY_BASE`. */
  constructor(path: string, keys: string) {
    super(
      `Couldn't decrypt ${path}. Perhaps you passed the wrong key?\n` +
        `hint: no key in ${keys} opens it, so it was not replaced; ` +
        'check RAILS_ENV / --environment and --secrets, or pass --force to replace it anyway (its old contents are lost)',
      EXIT.DECRYPT,
    );
  }
}

/** Another gitlab-secrets holds the file's lock for longer than we wait. */
export class LockHeldError extends GitlabSecretsError {
  constructor(path: string, lockPath: string, holder: string, seconds: number) {
    super(
      `${path} is being saved by ${holder} (lock ${lockPath} held for more than ${seconds}s): nothing saved. ` +
        `If no gitlab-secrets is running, remove ${lockPath} and try again.`,
      EXIT.CONFLICT,
    );
  }
}

/** Shown once while waiting for another gitlab-secrets to finish saving the same file. */
export function waitingForLockNote(lockPath: string, holder: string): string {
  return `note: waiting for ${holder} to finish saving (lock ${lockPath})`;
}

/** The file changed under an edit that could not ask what to do (no terminal). */
export class EditConflictError extends GitlabSecretsError {
  constructor(path: string) {
    super(
      `${path} was changed by someone else while you were editing it: nothing saved, your edit is discarded. ` +
        'Run the edit again.',
      EXIT.CONFLICT,
    );
  }
}

/** A save that failed after an edit that could not ask to retry (no terminal): the edit is gone. */
export class EditNotSavedError extends GitlabSecretsError {
  constructor(cause: GitlabSecretsError) {
    super(`${cause.message} Your edit is discarded.`, cause.exitCode);
  }
}

/** A signal that arrived while the file was being saved: the save happened, and the exit code says so. */
export function signalAfterSaveNote(signal: HandledSignal): string {
  return `note: ${signal} arrived while the file was being saved; the save completed`;
}

/** stdout failed for a reason other than a reader that stopped early (EPIPE). */
export class StdoutError extends GitlabSecretsError {
  constructor(reason: string) {
    super(`Cannot write to standard output: ${reason}`, EXIT.IO);
  }
}

/** The most `write` reads from stdin. GitLab's own loader holds the file several times over in memory. */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

export class InputTooLargeError extends GitlabSecretsError {
  constructor() {
    super(
      `The input is larger than ${MAX_INPUT_BYTES / 1024 / 1024} MiB, more than an encrypted settings file can sensibly hold: nothing saved.`,
      EXIT.INVALID_CONTENT,
    );
  }
}

/** The key bases from GITLAB_ENCRYPTED_SETTINGS_KEY_BASE(_ROTATED) cannot be used as they are. */
export class EnvironmentKeyError extends GitlabSecretsError {
  constructor(message: string) {
    super(message, EXIT.CONFIG);
  }
}

/**
 * A file we read (gitlab.yml, secrets.yml, redis.yml, the encrypted file) that is not a regular file: a
 * named pipe would hang the command, a device such as /dev/zero would never end. Configuration files exit
 * 3, the encrypted file 9.
 */
export class NotRegularFileError extends GitlabSecretsError {
  constructor(path: string, kind: string, role: 'config' | 'data') {
    super(`Cannot read ${path}: it is ${kind}, not a regular file.`, role === 'config' ? EXIT.CONFIG : EXIT.IO);
  }
}

/** A file larger than we read (16 MiB for a configuration file, 256 MiB for an encrypted file). */
export class FileTooLargeError extends GitlabSecretsError {
  constructor(path: string, limit: string, role: 'config' | 'data') {
    super(`Cannot read ${path}: it is larger than ${limit}, too large for ${role === 'config' ? 'a configuration file' : 'an encrypted settings file'}.`, role === 'config' ? EXIT.CONFIG : EXIT.IO);
  }
}

/** --config, $GITLAB_CONFIG, --secrets or --gitlab-root named something that is not there: no silent default. */
export class ExplicitPathMissingError extends GitlabSecretsError {
  constructor(path: string, source: string) {
    super(`${path} does not exist. Check ${source}.`, EXIT.CONFIG);
  }
}

/**
 * Running as root, a path led through a symlink that another user owns to something that user could not
 * write: following it would let them steer root's write (issue 10).
 */
export class UntrustedSymlinkError extends GitlabSecretsError {
  constructor(link: string, owner: string, target: string) {
    super(
      `Refusing to write through ${link}: the symlink belongs to ${owner}, who cannot write ${target} itself. ` +
        'Replace the link with the file, or make root own the link.',
      EXIT.IO,
    );
  }
}

/** A directory being created or written into was replaced while we used it (someone swapped in a symlink). */
export class PathSwappedError extends GitlabSecretsError {
  constructor(path: string) {
    super(`${path} was replaced while it was being used (a symlink or another directory was put there): nothing changed.`, EXIT.IO);
  }
}

/**
 * Running as root, the file's path comes from a configuration file another user owns (a source install's
 * gitlab.yml belongs to git) and leads where that user could not write: they would be choosing root's write.
 */
export class UntrustedPathError extends GitlabSecretsError {
  constructor(path: string, owner: string, source: string) {
    super(
      `Refusing to write ${path}: the path comes from ${source}, which belongs to ${owner}, who cannot write there itself. ` +
        'Point it into a directory that user owns, or make root own the configuration file.',
      EXIT.IO,
    );
  }
}

/**
 * The file a write would replace is a device, a named pipe, a directory or a socket: `--file /dev/null`
 * run as root must never swap /dev/null for a regular file.
 */
export class NotRegularTargetError extends GitlabSecretsError {
  constructor(path: string, kind: string) {
    super(`Refusing to replace ${path}: it is ${kind}, not a regular file. Nothing changed.`, EXIT.IO);
  }
}

/** `write` at a terminal reads one line, as GitLab does: say so, since nothing else shows it is waiting. */
export function terminalWriteHint(command: string, example: string): string {
  return `hint: reading one line of YAML from the terminal (Ctrl-D to cancel); pipe a file for more: ${command} < ${example}`;
}

/**
 * The exit codes as `--help` lists them, one row each: [codes, meaning]. The one place they are described
 * (cli.ts prints them under every command's help).
 */
export const EXIT_CODE_HELP: ReadonlyArray<readonly [string, string]> = [
  ['0', 'success (also: saved with a WARNING, contents unchanged, show of a missing file)'],
  ['1', 'internal error (a bug: please report it); diff: the documents differ'],
  ['2', 'bad command line (unknown namespace, command or option)'],
  ['3', 'configuration: no GitLab root, unreadable or invalid gitlab.yml/secrets.yml, unsupported ERB,\n"Base key too small"'],
  ['4', 'the encrypted settings directory does not exist'],
  ['5', 'missing encryption key (encrypted_settings_key_base)'],
  ['6', 'cannot decrypt: wrong key or corrupt file (write, edit and set replace it only with --force)'],
  ['7', 'content refused (invalid YAML, not UTF-8, empty input over secrets): nothing saved'],
  ['8', 'no $EDITOR, or the editor failed: nothing saved'],
  ['9', 'a file could not be read or written: the old file is intact'],
  ['10', 'the file changed on disk during the edit, or another gitlab-secrets kept it locked: nothing saved'],
  ['11', 'get, unset: no such key; rotate: no such file'],
  ['12', 'doctor found a problem'],
  ['13', 'export: stdout is a terminal (a manifest of secrets on screen is a leak; --force overrides)'],
  ['129, 130, 143', 'interrupted by SIGHUP, SIGINT (Ctrl-C) or SIGTERM: nothing saved. A signal during the\nfinal rename waits for it: the save completes, a note says so and the exit code is the save\'s\n(rotate --all then stops and exits 128 + the signal number)'],
];

/** The "Exit codes:" block of `--help`. */
export function exitCodesHelp(): string {
  const rows = EXIT_CODE_HELP.map(([codes, meaning]) => {
    const [first, ...rest] = meaning.split('\n');
    return [`  ${codes.length < 5 ? codes.padEnd(5) : `${codes}  `}${first}`, ...rest.map((line) => `       ${line}`)].join('\n');
  });
  return `\nExit codes:\n${rows.join('\n')}\n` + "GitLab's rake tasks exit 0 after most failures; gitlab-secrets does not, so scripts can tell.\n";
}

/** A line of our own help after a message: GitLab's lines stay as they are, ours start with `hint: `. */
export function hintLine(text: string): string {
  return `hint: ${text}`;
}

/** `set password hunter2`: the value would be in `ps` and the shell history, and is never echoed back. */
export class PositionalValueError extends UsageError {
  constructor(command: string) {
    super(
      `${command} takes the value from stdin or --value, not as an argument.\n` +
        hintLine(`printf '%s' \"$VALUE\" | ${command} <key>   (or type it at the prompt; --value is visible in ps and shell history)`),
    );
  }
}

/** `set --value` takes one YAML scalar, on one line. The value itself is never repeated. */
export class ValueNotScalarError extends UsageError {
  constructor() {
    super('--value takes one YAML scalar on one line (a string, number, true/false or null; no anchor or tag); for anything else use edit.');
  }
}

export class BadSettingPathError extends UsageError {
  constructor(path: string) {
    super(`'${path}' is not a dotted path of keys (like main.password).`);
  }
}

/** set/unset through a value that is not a mapping, or set on a whole mapping. */
export class SettingPathConflictError extends InvalidContentError {
  constructor(path: string, at: string, isMapping: boolean) {
    super(
      isMapping
        ? `Cannot set ${path}: it holds a mapping or a list, not one value: nothing saved. Use edit to change it.`
        : `Cannot set ${path}: ${at} holds a value that is not a mapping: nothing saved.`,
    );
  }
}

/** The file's text has a layout set/unset do not change in place (flow mapping, anchors, duplicate keys...). */
export class InPlaceEditRefusedError extends InvalidContentError {
  constructor(path: string, reason: string, editCommand: string) {
    super(`Cannot change ${path} in place (${reason}): nothing saved.\n${hintLine(`change it with ${editCommand}`)}`);
  }
}

export class EmptyValueError extends InvalidContentError {
  constructor() {
    super(
      'The value from stdin is empty: nothing saved. If the command before the pipe failed, fix it; ' +
        'to set an empty value on purpose, pass --allow-empty.',
    );
  }
}

export class ValueNotUtf8Error extends InvalidContentError {
  constructor() {
    super('The value from stdin is not valid UTF-8: nothing saved.');
  }
}

export class PromptMismatchError extends InvalidContentError {
  constructor() {
    super('The two values typed do not match: nothing saved.');
  }
}

/** The current text is not a block mapping of settings set/unset could add to. */
export class CurrentContentInvalidError extends InvalidContentError {
  constructor(path: string, editCommand: string) {
    super(`${path} does not hold valid YAML, so one value cannot be changed: nothing saved.\n${hintLine(`fix it with ${editCommand}`)}`);
  }
}

/** `get` or `unset` of a key the file does not hold. */
export class KeyNotFoundError extends NotFoundError {
  constructor(key: string, path: string) {
    super(`Key '${key}' not found in ${path}.`);
  }
}

/** Suggestions for a refused command line (src/suggest.ts), each printed as a `hint: ` line. */
export function didYouMean(command: string): string {
  return `did you mean \`${command}\`?`;
}

export function needsNamespace(verb: string, namespaces: readonly string[]): string {
  return `${verb} needs a namespace first: gitlab-secrets <namespace> ${verb} (namespaces: ${namespaces.join(', ')})`;
}

export function variablesAreUpperCase(assignment: string): string {
  return `variables are upper case: ${assignment}`;
}

/** `export` with stdout on a terminal. */
export class TerminalOutputError extends GitlabSecretsError {
  constructor(what: string, example: string) {
    super(
      `Refusing to print ${what} to a terminal: anyone who can see the screen (or its scrollback) sees the secrets.\n` +
        hintLine(`pipe or redirect it instead (${example}), or pass --force.`),
      EXIT.TERMINAL,
    );
  }
}
