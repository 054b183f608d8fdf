import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { locateTarget } from '../config/locate.ts';
import type { LookupOptions, Target } from '../config/locate.ts';
import { ConfigError, DirectoryMissingError, MissingKeyError } from '../errors.ts';
import { EncryptedFile } from '../format/encrypted_file.ts';
import type { ReadResult } from '../format/encrypted_file.ts';
import type { Io } from '../io.ts';
import type { Namespace } from '../namespaces.ts';

/** What every command handler gets. */
export interface CommandContext {
  namespace: Namespace;
  lookup: LookupOptions;
  io: Io;
}

export interface Opened {
  target: Target;
  file: EncryptedFile;
}

/**
 * Resolve the file and key, then check in GitLab's order (EncryptedCommandBase#validate_config): the
 * key base's length while resolving, then the directory, then the key.
 */
export function openTarget(context: CommandContext): Opened {
  const target = locateTarget(context.namespace, context.lookup);
  const file =
    target.keyBase === null
      ? null
      : new EncryptedFile({ contentPath: target.path, keyBase: target.keyBase, rotatedKeyBases: target.rotated });
  const dir = dirname(target.path);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    throw new DirectoryMissingError(dir);
  }
  if (!isDirectory) throw new ConfigError(`${dir} is not a directory. It should hold the encrypted settings files.`);
  if (file === null) throw new MissingKeyError();
  return { target, file };
}

/** The CLI command a user runs to edit this namespace, for hints. */
export function editCommand(namespace: Namespace): string {
  return `gitlab-secrets ${namespace.name} edit`;
}

/** GitLab on Rails up to 7.2.1 cannot read a body with a trailing newline (strict base64). */
export function warnIfTrailingNewline(context: CommandContext, path: string, result: ReadResult | null): void {
  if (!result?.trailingNewline) return;
  context.io.stderr.write(
    `warning: ${path} ends with a newline, so GitLab may not read it. ` +
      `Rewrite it cleanly with: gitlab-secrets ${context.namespace.name} show | gitlab-secrets ${context.namespace.name} write\n`,
  );
}
