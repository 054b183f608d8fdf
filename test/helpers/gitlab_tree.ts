/**
 * Temporary GitLab trees for CLI and interop tests: config/gitlab.yml, config/secrets.yml and
 * shared/encrypted_settings/, laid out as a source install (Rails root = the tree).
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encrypt, decrypt } from '../../src/index.ts';

export const KEY_BASE = 'a1b2c3d4e5f60718293a4b5c6d7e8f90'.repeat(4);
export const OTHER_KEY_BASE = '0f1e2d3c4b5a69788796a5b4c3d2e1f0'.repeat(4);

export interface TreeOptions {
  /** encrypted_settings_key_base in secrets.yml; null leaves it out. */
  keyBase?: string | null;
  rotatedKeyBases?: string[];
  /** Raw secrets.yml text, instead of the generated one. */
  secretsYml?: string;
  /** Raw gitlab.yml text; null writes no gitlab.yml at all. Default: a minimal production section. */
  gitlabYml?: string | null;
  /** Create shared/encrypted_settings (default true). */
  settingsDir?: boolean;
}

export interface GitlabTree {
  root: string;
  settingsDir: string;
  keyBase: string | null;
  /** Path of a file in the settings directory. */
  file(name: string): string;
  /** Encrypt plaintext into a settings file with the tree's key (or another key base). */
  writeEncrypted(name: string, plaintext: string | Buffer, keyBase?: string): string;
  /** Decrypt a settings file with the tree's key. */
  readPlaintext(name: string, keyBase?: string): Buffer;
  /** Files in the settings directory. */
  listSettings(): string[];
  remove(): void;
}

export function makeGitlabTree(options: TreeOptions = {}): GitlabTree {
  const root = mkdtempSync(join(tmpdir(), 'gitlab-secrets-tree-'));
  const keyBase = options.keyBase === undefined ? KEY_BASE : options.keyBase;
  mkdirSync(join(root, 'config'));
  const settingsDir = join(root, 'shared', 'encrypted_settings');
  if (options.settingsDir !== false) mkdirSync(settingsDir, { recursive: true });

  if (options.gitlabYml !== null) {
    writeFileSync(
      join(root, 'config', 'gitlab.yml'),
      options.gitlabYml ?? 'production: &base\n  gitlab:\n    host: gitlab.example.com\n',
    );
  }
  writeFileSync(join(root, 'config', 'secrets.yml'), options.secretsYml ?? secretsYml(keyBase, options.rotatedKeyBases));

  return {
    root,
    settingsDir,
    keyBase,
    file: (name) => join(settingsDir, name),
    writeEncrypted(name, plaintext, key = keyBase ?? KEY_BASE) {
      const path = join(settingsDir, name);
      writeFileSync(path, encrypt(Buffer.from(plaintext), key));
      return path;
    },
    readPlaintext(name, key = keyBase ?? KEY_BASE) {
      return decrypt(readFileSync(join(settingsDir, name), 'latin1'), key);
    },
    listSettings: () => (existsSync(settingsDir) ? readdirSync(settingsDir).sort() : []),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

function secretsYml(keyBase: string | null, rotated: string[] = []): string {
  const lines = ['production:', '  secret_key_base: 0123456789abcdef'];
  if (keyBase !== null) lines.push(`  encrypted_settings_key_base: ${JSON.stringify(keyBase)}`);
  if (rotated.length > 0) {
    lines.push('  rotated_encrypted_settings_key_base:');
    for (const key of rotated) lines.push(`    - ${JSON.stringify(key)}`);
  }
  return lines.join('\n') + '\n';
}
