import { pbkdf2, pbkdf2Sync } from 'node:crypto';
import { BaseKeyTooSmallError } from '../errors.ts';
import { isBlank } from '../text.ts';

/**
 * Key derivation of GitLab's Gitlab::EncryptedConfiguration.generate_key: ActiveSupport::KeyGenerator
 * (PBKDF2-HMAC-SHA1, 2**16 iterations in Rails 6.1, which GitLab pins) with a fixed salt.
 */
export const SALT = 'GitLabEncryptedConfigSalt';
export const ITERATIONS = 65536;
export const KEY_LENGTH = 32; // MessageEncryptor.key_len('aes-256-gcm')
const DIGEST = 'sha1';

/**
 * Derive the AES key from a key base. The key base's UTF-8 bytes are the PBKDF2 password as they are: a
 * 128-character hex string is not hex-decoded (GitLab never does).
 */
export function deriveKey(keyBase: string): Buffer {
  checkKeyBase(keyBase);
  const known = derived.get(keyBase);
  if (known instanceof Buffer) return known;
  const key = pbkdf2Sync(Buffer.from(keyBase, 'utf8'), SALT, ITERATIONS, KEY_LENGTH, DIGEST);
  derived.set(keyBase, key);
  return key;
}

/**
 * The same key, derived on libuv's thread pool so the CLI can load and parse while PBKDF2 runs (it is
 * most of a `show`). Started early by the CLI's prefetch; a later call for the same key base shares it.
 */
export function deriveKeyAsync(keyBase: string): Promise<Buffer> {
  checkKeyBase(keyBase);
  const known = derived.get(keyBase);
  if (known) return Promise.resolve(known);
  const pending = new Promise<Buffer>((resolve, reject) =>
    pbkdf2(Buffer.from(keyBase, 'utf8'), SALT, ITERATIONS, KEY_LENGTH, DIGEST, (error, key) => (error ? reject(error) : resolve(key))),
  );
  adoptKey(keyBase, pending);
  return pending;
}

/** Use a derivation started elsewhere (the CLI's prefetch) for this key base, unless one is known. */
export function adoptKey(keyBase: string, key: Promise<Buffer>): void {
  if (derived.has(keyBase)) return;
  derived.set(keyBase, key);
  key.then(
    (value) => derived.set(keyBase, value),
    () => derived.delete(keyBase),
  );
}

/** Keys derived in this process, by key base: each at most once, whoever asks. */
const derived = new Map<string, Buffer | Promise<Buffer>>();

/**
 * The primary key base and the rotated ones, each derived at most once and only when asked for: a file
 * written with the primary key never pays for deriving the rotated keys.
 */
export class KeyRing {
  private readonly bases: readonly string[];

  constructor(primary: string, rotated: readonly string[] = []) {
    // Check every base up front, as GitLab does when it builds the encryptor, so a bad rotated base is
    // reported even when the primary key would have worked.
    for (const base of [primary, ...rotated]) checkKeyBase(base);
    this.bases = [primary, ...rotated];
  }

  get size(): number {
    return this.bases.length;
  }

  /** Key `i`: 0 is the primary, 1.. the rotated keys in order. */
  key(i: number): Buffer {
    return deriveKey(this.base(i));
  }

  keyAsync(i: number): Promise<Buffer> {
    return deriveKeyAsync(this.base(i));
  }

  private base(i: number): string {
    const base = this.bases[i];
    if (base === undefined) throw new RangeError(`no key ${i}`);
    return base;
  }
}

/**
 * "Because the salt is static, we want uniqueness to be coming from the base_key" (GitLab's
 * encrypted_configuration.rb): a blank key base or one under 16 characters is refused. Ruby's
 * String#length counts characters, not UTF-16 units.
 */
function checkKeyBase(keyBase: string): void {
  if (isBlank(keyBase) || [...keyBase].length < 16) throw new BaseKeyTooSmallError();
}
