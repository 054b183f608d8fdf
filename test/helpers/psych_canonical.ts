/**
 * A loaded YAML value in the canonical JSON form test/unit/fixtures/psych_oracle.rb prints for Ruby's, so the
 * differential tests can compare the two: bigints, non-finite floats, times and binary tagged; cycles left out
 * as Ruby does.
 */
export function canonical(value: unknown, seen = new Set<unknown>()): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : { $int: value.toString() };
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return { $float: 'NaN' };
    return Number.isFinite(value) ? value : { $float: value > 0 ? 'Infinity' : '-Infinity' };
  }
  if (value instanceof Date) return { $time: value.toISOString() };
  if (value instanceof Uint8Array) return { $binary: Buffer.from(value).toString('base64') };
  if (typeof value !== 'object' || seen.has(value)) return { $cycle: true };
  seen.add(value);
  const result = Array.isArray(value)
    ? value.map((item) => canonical(item, seen))
    : Object.fromEntries(Object.entries(value).map(([key, item]) => [key, canonical(item, seen)]));
  seen.delete(value);
  return result;
}
