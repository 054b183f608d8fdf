import { ConcurrentChangeError, DecryptError, WouldDestroyUndecryptableError } from '../errors.ts';
import { accountName } from '../fs/accounts.ts';
import type { Target } from '../config/locate.ts';
import type { EncryptedFile, ReadResult } from '../format/encrypted_file.ts';
import { acquireLock } from '../lock.ts';
import { resolveForWrite } from '../fs/trusted_path.ts';
import { commit, takeSignalDuringSaveNote } from '../signals.ts';
import { openTarget } from './context.ts';
import type { CommandContext, Opened } from './context.ts';

/**
 * The one way a command replaces an encrypted file. Every file-changing command (write, edit, rotate,
 * set, unset, …) calls the pair:
 *
 *   const change = await prepareChange(context, { force });      // before deciding what to write
 *   … compute the new plaintext from change.current …
 *   await saveChange(context, change, plaintext, { onChanged });  // replace it
 *
 * prepareChange(context, options)
 *   - resolves the file and key (openTarget: GitLab's checks and messages; createDir creates the directory);
 *   - reads and decrypts the current file: `current` is its plaintext (null when there is no file);
 *   - a file that no configured key decrypts is refused (exit 6: GitLab's "Couldn't decrypt …", plus a
 *     hint naming the key file, the environment and --force when `hint` is set) unless `force`, in which
 *     case `current` is null and `undecryptable` is true: the caller starts from nothing;
 *   - records the file's identity (`version`) for saveChange.
 *
 * saveChange(context, change, plaintext, options)
 *   - takes the file's lock (src/lock.ts: bounded wait, clear error when another gitlab-secrets holds it);
 *   - under the lock, checks that the file is still the one prepareChange read. If it is not:
 *       onChanged 'conflict' (edit, set, unset: the new text was made from the old one) throws
 *       ConcurrentChangeError and nothing is saved;
 *       onChanged 'replace' (write: last writer wins) reads it again and still refuses to replace a file
 *       that no key decrypts unless `force`;
 *   - encrypts, replaces the file atomically (a signal waits for the rename), releases the lock, prints
 *     GitLab's "File encrypted and saved." (unless `quiet`) and a note if a signal waited for the save;
 *   - on failure throws a GitlabSecretsError (FileAccessError: the old file is intact; LockHeldError;
 *     ConcurrentChangeError) with the lock released and nothing saved.
 * After a successful saveChange, `change` describes the saved file, so it can be saved again.
 */
export interface Change {
  target: Target;
  file: EncryptedFile;
  /** The current file's plaintext and identity; null when there is none (or it is undecryptable and forced). */
  current: ReadResult | null;
  /** A file exists that no key decrypts, and `force` was given. */
  undecryptable: boolean;
  /** The identity of the file the change is based on (null: no file). */
  version: string | null;
  force: boolean;
  hint: boolean;
}

export interface PrepareOptions {
  /** Replace a file that no configured key decrypts. */
  force?: boolean;
  /** Create a missing settings directory. */
  createDir?: boolean;
  /** Add the hint line (key file, environment, --force) to the refusal. */
  hint?: boolean;
  /** The file and key, if the caller resolved them already (openTarget). */
  opened?: Opened;
}

export async function prepareChange(context: CommandContext, options: PrepareOptions = {}): Promise<Change> {
  const { target, file } = options.opened ?? openTarget(context, { createDir: options.createDir === true });
  // A path git steered (a planted link, a path from git's gitlab.yml) is refused before anything is read
  // or an editor opened: that, not the key, is what is wrong with it.
  resolveForWrite(file.contentPath);
  const change: Change = {
    target,
    file,
    current: null,
    undecryptable: false,
    version: null,
    force: options.force === true,
    hint: options.hint === true,
  };
  await readCurrent(change);
  return change;
}

async function readCurrent(change: Change): Promise<void> {
  const { file, target } = change;
  try {
    change.current = await file.read();
    change.undecryptable = false;
    change.version = change.current?.version ?? null;
  } catch (error) {
    if (!(error instanceof DecryptError)) throw error;
    if (!change.force) {
      if (!change.hint) throw error;
      const keys = target.keySource === 'environment' ? target.keyWhere : `${target.sources.secrets} (environment "${target.environment}")`;
      throw new WouldDestroyUndecryptableError(target.path, keys);
    }
    change.current = null;
    change.undecryptable = true;
    change.version = file.version();
  }
}

export interface SaveOptions {
  /** What to do when the file is no longer the one prepareChange read (see above). */
  onChanged: 'conflict' | 'replace';
  /** Print nothing: the command reports the save itself, then calls reportSignalDuringSave (e.g. rotate). */
  quiet?: boolean;
}

export async function saveChange(context: CommandContext, change: Change, plaintext: Uint8Array, options: SaveOptions): Promise<void> {
  const { file } = change;
  const lock = await acquireLock(file.contentPath, {
    env: context.lookup.env,
    note: (line) => context.io.stderr.write(`${line}\n`),
  });
  let result;
  try {
    if (file.version() !== change.version) {
      if (options.onChanged === 'conflict') throw new ConcurrentChangeError(file.contentPath);
      await readCurrent(change);
    }
    result = await commit(() => file.write(plaintext));
    change.version = file.version();
  } finally {
    lock.release();
  }
  if (result.chownedTo) {
    const { uid, gid } = result.chownedTo;
    context.io.stderr.write(
      `note: created ${result.path} owned by ${accountName('/etc/passwd', uid)}:${accountName('/etc/group', gid)}, ` +
        'like its directory, so that GitLab can read it\n',
    );
  }
  if (options.quiet) return;
  context.io.stdout.write('File encrypted and saved.\n');
  reportSignalDuringSave(context);
}

/** After a save's own report: a signal that waited for the save is noted (once); the exit code stays 0. */
export function reportSignalDuringSave(context: CommandContext): void {
  const note = takeSignalDuringSaveNote();
  if (note) context.io.stderr.write(`${note}\n`);
}
