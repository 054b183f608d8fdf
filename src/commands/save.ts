import { accountName } from '../fs/accounts.ts';
import type { EncryptedFile } from '../format/encrypted_file.ts';
import { commit } from '../signals.ts';
import type { CommandContext } from './context.ts';

/** Encrypt and replace the file atomically, then say so in GitLab's words. */
export async function save(context: CommandContext, file: EncryptedFile, plaintext: Buffer): Promise<void> {
  const result = await commit(() => file.write(plaintext));
  if (result.chownedTo) {
    const { uid, gid } = result.chownedTo;
    context.io.stderr.write(
      `note: created ${result.path} owned by ${accountName('/etc/passwd', uid)}:${accountName('/etc/group', gid)}, ` +
        'like its directory, so that GitLab can read it\n',
    );
  }
  context.io.stdout.write('File encrypted and saved.\n');
}
