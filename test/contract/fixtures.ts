/**
 * Data builders shared by the store contract suites (deterministic, no clock, no randomness
 * unless asked for).
 */
import type { Notification } from '../../core/types.ts';
import type { InboxEntry } from '../../stores/types.ts';

/** A fixed base time for test data: 2026-01-01T00:00:00.000Z, ms since the epoch. */
export const T0 = Date.UTC(2026, 0, 1);

/**
 * A syntactically valid UUIDv7 whose 48-bit timestamp is `ms` and whose remaining bits encode
 * `n` (0..2^32-1), so ids of the same ms sort by `n`.
 */
export function uuidV7At(ms: number, n = 0): string {
  const time = ms.toString(16).padStart(12, '0');
  const tail = n.toString(16).padStart(8, '0');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7000-8000-0000${tail}`;
}

/** A notification published at `ms` (id derived from `ms` and `n`). */
export function notificationAt(ms: number, n = 0, overrides: Partial<Notification> = {}): Notification {
  return { id: uuidV7At(ms, n), topic_id: 'topic-a', message: `message ${ms}/${n}`, published_at: new Date(ms).toISOString(), ...overrides };
}

/** An inbox entry for `userId` at delivery position `seq`. */
export function entry(userId: string, seq: number, notification: Notification): InboxEntry {
  return { user_id: userId, seq, notification };
}

/** Fisher-Yates shuffle with a seeded LCG, so failures reproduce. */
export function shuffled<T>(items: readonly T[], seed = 42): T[] {
  const out = [...items];
  let state = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Binary (UTF-16 code unit) string order, the order the stores promise for ids. */
export function binaryCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Runs `fn` over `items` with at most `width` calls in flight (network stores pipeline). */
export async function inWaves<T>(items: readonly T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(fn));
}
