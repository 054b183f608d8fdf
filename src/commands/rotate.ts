import { existsSync } from 'node:fs';
import type { LookupOptions } from '../config/locate.ts';
import {
  BaseKeyTooSmallError,
  ConfigError,
  DirectoryMissingError,
  EXIT,
  GitlabSecretsError,
  InterruptedError,
  MissingKeyError,
  NotFoundError,
} from '../errors.ts';
import type { Io } from '../io.ts';
import { NAMESPACES } from '../namespaces.ts';
import { openTarget } from './context.ts';
import type { CommandContext } from './context.ts';
import { prepareChange, reportSignalDuringSave, saveChange } from './save.ts';
import { signalDuringSave } from '../signals.ts';

export interface Rotated {
  path: string;
  /** 0: it was already readable with the primary key; n: with rotated key n. */
  keyIndex: number;
}

/**
 * Re-encrypt a file with the primary key after a key rotation: decrypt with the primary or a rotated
 * key, write the same plaintext bytes back, atomically. Also rewrites a body an editor left a trailing
 * newline on, which GitLab may not read.
 */
export async function rotate(context: CommandContext): Promise<Rotated> {
  // No --force: a file that no key decrypts has no plaintext to re-encrypt.
  const change = await prepareChange(context);
  const { target, current: result } = change;
  if (!result) throw new NotFoundError(`File '${target.path}' does not exist: nothing to re-encrypt.`);
  // Another writer's newer file must not be replaced by the plaintext read before it.
  await saveChange(context, change, result.plaintext, { onChanged: 'conflict', quiet: true });
  const readBy = result.keyIndex === 0 ? 'the primary key' : `rotated key ${result.keyIndex}`;
  context.io.stdout.write(`Re-encrypted ${target.path} with the primary key (it was readable with ${readBy}).\n`);
  reportSignalDuringSave(context);
  return { path: target.path, keyIndex: result.keyIndex };
}

/**
 * `rotate --all`: re-encrypt every namespace file that exists (every Redis instance's file once).
 * A failure on one file does not stop the others; the exit code is the first failure's.
 */
export async function rotateAll(lookup: LookupOptions, io: Io): Promise<number> {
  const seen = new Set<string>();
  let exitCode: number = EXIT.OK;
  let rotated = 0;
  for (const namespace of NAMESPACES) {
    for (const instance of namespace.instances?.names ?? [undefined]) {
      // A signal waited for the last save: stop here, with the files re-encrypted so far reported.
      const late = signalDuringSave();
      if (late) {
        exitCode = new InterruptedError(late.signal).exitCode;
        break;
      }
      const context: CommandContext = { namespace, instance, lookup, io };
      try {
        const { target } = openTarget(context);
        if (seen.has(target.path) || !existsSync(target.path)) continue;
        seen.add(target.path);
        await rotate(context);
        rotated++;
      } catch (error) {
        if (!(error instanceof GitlabSecretsError)) throw error;
        if (error instanceof DirectoryMissingError) continue; // nothing of this namespace to re-encrypt
        // No key or a broken config is the same for every file: say it once.
        if (error instanceof MissingKeyError || error instanceof ConfigError || error instanceof BaseKeyTooSmallError) throw error;
        if (error.exitCode === EXIT.CONFIG) throw error; // no GitLab root: the same for every file too
        io.stderr.write(`${namespace.name}${instance ? ` ${instance}` : ''}: ${error.message}\n`);
        if (exitCode === EXIT.OK) exitCode = error.exitCode;
      }
    }
  }
  io.stdout.write(`Re-encrypted ${rotated} file${rotated === 1 ? '' : 's'}.\n`);
  return exitCode;
}
