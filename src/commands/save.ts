import { readFileSync } from 'node:fs';
import type { EncryptedFile } from '../format/encrypted_file.ts';
import { commit } from '../signals.ts';
import type { CommandContext } from './context.ts';

/** Encrypt and replace the file atomically, then say so in GitLab's words. */
export async function save(context: CommandContext, file: EncryptedFile, plaintext: Buffer): Promise<void> {
  const result = await commit(() => file.write(plaintext));
  if (result.chownedTo) {
    const { uid, gid } = result.chownedTo;
    context.io.stderr.write(
      `note: created ${result.path} owned by ${nameOf('/etc/passwd', uid)}:${nameOf('/etc/group', gid)}, ` +
        'like its directory, so that GitLab can read it\n',
    );
  }
  context.io.stdout.write('File encrypted and saved.\n');
}

/** A user or group name from /etc/passwd or /etc/group, or the number when it has none. */
function nameOf(database: string, id: number): string {
  try {
    for (const line of readFileSync(database, 'utf8').split('\n')) {
      const [name, , entryId] = line.split(':');
      if (name && Number(entryId) === id) return name;
    }
  } catch {
    // no database: the number will do
  }
  return String(id);
}
