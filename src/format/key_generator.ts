import { pbkdf2, pbkdf2Sync } from 'node:crypto';
import { BaseKeyTooSmallError } from '../errors.ts';
import { isBlank } from '../text.ts';

/**
 * Key derivation of GitLab's Gitlab::EncryptedConfiguration.generate_key: ActiveSupport::KeyGenerator
 * (PBKDF2-HMAC, 2**16 iterations) with a fixed salt. The digest is SHA1 while GitLab keeps its
 * `key_generator_hash_digest_class = nil` line (Rails 6.1 behaviour); Rails 7's `load_defaults` without it
 * derives with SHA256 (`OpenSSL::PKCS5.pbkdf2_hmac(base, salt, 65536, 32, SHA256)`).
 */
export const SALT = 'GitLabEncryptedConfigSalt';
export const ITERATIONS = 65536;
export const KEY_LENGTH = 32; // MessageEncryptor.key_len('aes-256-gcm')

/** The PBKDF2 digest of a key: SHA1 (GitLab today, and every new file) or SHA256 (Rails 7 defaults). */
export type KeyDigest = 'sha1' | 'sha256';
/** The order decryption tries them in: SHA256 only once SHA1 has failed. */
export const KEY_DIGESTS: readonly KeyDigest[] = ['sha1', 'sha256'];
export const DEFAULT_DIGEST: KeyDigest = 'sha1';

/**
 * Derive the AES key from a key base. The key base's UTF-8 bytes are the PBKDF2 password as they are: a
 * 128-character hex string is not hex-decoded (GitLab never does).
 */
export function deriveKey(keyBase: string, digest: KeyDigest = DEFAULT_DIGEST): Buffer {
  checkKeyBase(keyBase);
  const id = cacheId(keyBase, digest);
  const known = derived.get(id);
  if (known instanceof Buffer) return known;
  derivations++;
  const key = pbkdf2Sync(Buffer.from(keyBase, 'utf8'), SALT, ITERATIONS, KEY_LENGTH, digest);
  derived.set(id, key);
  return key;
}

/**
 * The same key, derived on libuv's thread pool so the CLI can load and parse while PBKDF2 runs (it is
 * most of a `show`). Started early by the CLI's prefetch; a later call for the same key base shares it.
 */
export function deriveKeyAsync(keyBase: string, digest: KeyDigest = DEFAULT_DIGEST): Promise<Buffer> {
  checkKeyBase(keyBase);
  const known = derived.get(cacheId(keyBase, digest));
  if (known) return Promise.resolve(known);
  derivations++;
  const pending = new Promise<Buffer>((resolve, reject) =>
    pbkdf2(Buffer.from(keyBase, 'utf8'), SALT, ITERATIONS, KEY_LENGTH, digest, (error, key) => (error ? reject(error) : resolve(key))),
  );
  adoptKey(keyBase, pending, digest);
  return pending;
}

/** Use a derivation started elsewhere (the CLI's prefetch) for this key base, unless one is known. */
export function adoptKey(keyBase: string, key: Promise<Buffer>, digest: KeyDigest = DEFAULT_DIGEST): void {
  const id = cacheId(keyBase, digest);
  if (derived.has(id)) return;
  derived.set(id, key);
  key.then(
    (value) => derived.set(id, value),
    () => derived.delete(id),
  );
}

let derivations = 0;

/** How many PBKDF2 derivations this process has started (not counting adopted ones): for tests. */
export function derivationCount(): number {
  return derivations;
}

/** Keys derived in this process, by digest and key base: each at most once, whoever asks. */
const derived = new Map<string, Buffer | Promise<Buffer>>();

function cacheId(keyBase: string, digest: KeyDigest): string {
  return `${digest}:${keyBase}`;
}

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
  key(i: number, digest: KeyDigest = DEFAULT_DIGEST): Buffer {
    return deriveKey(this.base(i), digest);
  }

  keyAsync(i: number, digest: KeyDigest = DEFAULT_DIGEST): Promise<Buffer> {
    return deriveKeyAsync(this.base(i), digest);
  }

  /**
   * The keys decryption tries, in order: every key base with SHA1 (GitLab's digest), then every key base
   * with SHA256. A file GitLab wrote never pays for a SHA256 derivation.
   */
  *attempts(): Generator<{ index: number; digest: KeyDigest }> {
    for (const digest of KEY_DIGESTS) for (let index = 0; index < this.bases.length; index++) yield { index, digest };
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
