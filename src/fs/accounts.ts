import { readFileSync } from 'node:fs';

/** A user or group name from /etc/passwd or /etc/group, or the number when it has none. */
export function accountName(database: '/etc/passwd' | '/etc/group', id: number): string {
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
