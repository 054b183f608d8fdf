/** The ActiveSupport 6.1 test vectors (copied from the project's shared vectors into test/fixtures/). */
import { readFileSync } from 'node:fs';

export interface Vector {
  name: string;
  key_base: string;
  rotated_key_bases: string[];
  plaintext_hex: string;
  body: string;
  /** ok: decrypts to plaintext_hex; invalid: fails as a wrong key; either: a reader may do both. */
  expect: 'ok' | 'invalid' | 'either';
  note?: string;
}

export const VECTORS: readonly Vector[] = (
  JSON.parse(readFileSync(new URL('../fixtures/activesupport-6.1.json', import.meta.url), 'utf8')) as { vectors: Vector[] }
).vectors;
