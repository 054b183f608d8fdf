import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { FileAccessError, GitlabSecretsError, MissingKeyError, NotFoundError } from '../errors.ts';
import { environmentOf, expandHome, secretsPathOf } from '../config/paths.ts';
import type { LookupOptions } from '../config/paths.ts';
import { checkKeyBases, keyBasesFromEnvironment, missingKeyHint, readKeyBases } from '../config/secrets.ts';
import { EncryptedFile, describeIoError } from '../format/encrypted_file.ts';
import { ENCRYPTED_FILE_LIMIT, readRegularFile } from '../fs/safe_read.ts';
import type { Io } from '../io.ts';

export interface TextconvOptions {
  lookup: LookupOptions;
  io: Io;
}

/**
 * Print the plaintext of an encrypted settings file for `git diff` (`diff.<driver>.textconv`), exactly
 * as decrypted. The key comes from the usual lookup ($GITLAB_ENCRYPTED_SETTINGS_KEY_BASE, --secrets,
 * --gitlab-root, $GITLAB_ROOT, ...).
 *
 * A file that cannot be decrypted (wrong or missing key, corrupt, an old version under a retired key)
 * prints a placeholder line naming the ciphertext's hash and exits 0, with the reason on stderr. Git
 * aborts the whole `git diff` / `git log -p` ("fatal: unable to read files to diff") when a textconv
 * command fails, so one unreadable revision would hide every other change; the placeholder keeps the
 * rest of the diff, and its hash still shows whether the ciphertext changed.
 */
export async function textconv(options: TextconvOptions, path: string): Promise<void> {
  const { io, lookup } = options;
  const absolute = resolve(lookup.cwd, expandHome(path, lookup.env));
  let ciphertext: Buffer | null;
  try {
    // As every command reads an encrypted file: a regular file only (a FIFO must not hang git), bounded.
    ciphertext = readRegularFile(absolute, { limit: ENCRYPTED_FILE_LIMIT, role: 'data' });
  } catch (error) {
    if (error instanceof GitlabSecretsError) throw error;
    throw new FileAccessError(`Cannot read ${absolute}: ${describeIoError(error)}`);
  }
  if (ciphertext === null) throw new NotFoundError(`${absolute} does not exist.`);
  // An empty blob (a file added empty): nothing to show, as for any empty file.
  if (ciphertext.length === 0) return;

  let plaintext: Buffer;
  try {
    // The key as every command finds it: $GITLAB_ENCRYPTED_SETTINGS_KEY_BASE, else the key file.
    const keys = keyBasesFromEnvironment(lookup.env) ?? readKeyBases(secretsPathOf(lookup), environmentOf(lookup));
    if (keys.keyBase === null) throw new MissingKeyError(missingKeyHint(keys));
    checkKeyBases(keys);
    const file = new EncryptedFile({ contentPath: absolute, keyBase: keys.keyBase, rotatedKeyBases: keys.rotated });
    plaintext = (await file.read())?.plaintext ?? Buffer.alloc(0);
  } catch (error) {
    if (!(error instanceof GitlabSecretsError)) throw error;
    const hash = createHash('sha256').update(ciphertext).digest('hex').slice(0, 16);
    io.stderr.write(`gitlab-secrets textconv: ${error.message}\n`);
    io.stdout.write(`# gitlab-secrets: cannot decrypt this version (ciphertext sha256 ${hash}…); see the message on stderr\n`);
    return;
  }
  io.stdout.write(plaintext);
}
