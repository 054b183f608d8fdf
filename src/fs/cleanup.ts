import { rmSync } from 'node:fs';

/**
 * Paths to remove however the process ends: normally, on an error, or on a signal (the CLI's signal
 * handler calls removeAllNow before exiting). Removal is synchronous so it can run in a signal handler.
 */
const pending = new Set<string>();

/** Remember `path` for removal; the returned function removes it now and forgets it. */
export function removeOnExit(path: string): () => void {
  pending.add(path);
  return () => {
    pending.delete(path);
    rmSync(path, { recursive: true, force: true });
  };
}

export function removeAllNow(): void {
  for (const path of pending) {
    try {
      rmSync(path, { recursive: true, force: true });
    } catch {
      // keep removing the others
    }
  }
  pending.clear();
}

/** Forget every path without removing it: a new `main()` in the same process starts with none (tests). */
export function forgetAll(): void {
  pending.clear();
}
