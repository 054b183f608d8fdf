import { statSync } from 'node:fs';
import { createDirectory } from '../fs/directory.ts';
import { dirname } from 'node:path';
import { locateTarget } from '../config/locate.ts';
import { checkKeyBases, missingKeyHint } from '../config/secrets.ts';
import type { LookupOptions, Target } from '../config/locate.ts';
import { ConfigError, DirectoryMissingError, MissingKeyError } from '../errors.ts';
import { EncryptedFile } from '../format/encrypted_file.ts';
import type { ReadResult } from '../format/encrypted_file.ts';
import type { Serializer } from '../format/message_encryptor.ts';
import type { Io } from '../io.ts';
import { instanceByName } from '../namespaces.ts';
import type { Namespace } from '../namespaces.ts';

/** What every command handler gets. */
export interface CommandContext {
  namespace: Namespace;
  /** The Redis instance as the user typed it, if any. */
  instance?: string | undefined;
  lookup: LookupOptions;
  io: Io;
  /** --serializer: how edit, write and rotate encrypt (default: as the file is, Marshal when new). */
  serializer?: Serializer | undefined;
}

export interface Opened {
  target: Target;
  file: EncryptedFile;
}

/**
 * Resolve the file and key, then check in GitLab's order (EncryptedCommandBase#validate_config): the
 * key base's length while resolving, then the directory, then the key.
 */
export function openTarget(context: CommandContext, options: { createDir?: boolean } = {}): Opened {
  const instance = instanceByName(context.namespace, context.instance);
  const target = locateTarget(context.namespace, context.lookup, instance);
  checkKeyBases(target);
  const file =
    target.keyBase === null
      ? null
      : new EncryptedFile({
          contentPath: target.path,
          keyBase: target.keyBase,
          rotatedKeyBases: target.rotated,
          serializer: context.serializer,
        });
  const dir = dirname(target.path);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    if (!options.createDir) throw new DirectoryMissingError(dir);
    if (file === null) throw new MissingKeyError(missingKeyHint(target));
    const owner = createDirectory(dir);
    context.io.stderr.write(`note: created ${dir}${owner ? ` owned by ${owner}` : ''}\n`);
    isDirectory = true;
  }
  if (!isDirectory) throw new ConfigError(`${dir} is not a directory. It should hold the encrypted settings files.`);
  if (file === null) throw new MissingKeyError(missingKeyHint(target));
  return { target, file };
}

/** The CLI command a user runs to edit this namespace (and instance), for hints. */
export function editCommand(context: CommandContext): string {
  const instance = context.instance === undefined ? '' : ` ${context.instance}`;
  return `gitlab-secrets ${context.namespace.name} edit${instance}`;
}

/** GitLab on Rails up to 7.2.1 cannot read a body with a trailing newline (strict base64). */
export function warnIfTrailingNewline(context: CommandContext, path: string, result: ReadResult | null): void {
  if (!result?.trailingNewline) return;
  context.io.stderr.write(
    `warning: ${path} ends with a newline, so GitLab may not read it. ` +
      `Rewrite it cleanly with: ${rewriteCommand(context)}\n`,
  );
}

function rewriteCommand(context: CommandContext): string {
  const edit = editCommand(context);
  return `${edit.replace(/ edit/, ' show')} | ${edit.replace(/ edit/, ' write')}`;
}
