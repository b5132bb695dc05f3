/*
 * The two-fixed-window approximation of a sliding minute: the count in the last minute is the
 * current fixed window's count plus the previous window's count weighted by how much of it the
 * sliding minute still covers. Two integers per limit, and an atomic increment is enough to share
 * them between instances.
 */

/** A limit's counts in the current fixed window and in the one before it. */
export interface WindowCounts {
  previous: number;
  current: number;
}

export const WINDOW_MS = 60_000;

/** Where `now` falls: the fixed window's number and the milliseconds since it began. */
export function windowAt(now: number, windowMs: number = WINDOW_MS): { index: number; elapsedMs: number } {
  const index = Math.floor(now / windowMs);
  return { index, elapsedMs: now - index * windowMs };
}

/** The sliding window's estimated count, `elapsedMs` into the current fixed window. */
export function slidingCount(counts: WindowCounts, elapsedMs: number, windowMs: number = WINDOW_MS): number {
  return counts.previous * (1 - elapsedMs / windowMs) + counts.current;
}

/** True when `cost` more still keeps the sliding count within `limit`. */
export function fits(
  counts: WindowCounts,
  elapsedMs: number,
  limit: number,
  cost: number,
  windowMs = WINDOW_MS,
): boolean {
  return slidingCount(counts, elapsedMs, windowMs) + cost <= limit;
}

/** Milliseconds until `cost` more fits within `limit` if nothing else is counted meanwhile; 0 when it fits now. */
export function waitMs(
  counts: WindowCounts,
  elapsedMs: number,
  limit: number,
  cost: number,
  windowMs = WINDOW_MS,
): number {
  if (fits(counts, elapsedMs, limit, cost, windowMs)) return 0;
  const room = limit - cost - counts.current;
  if (room >= 0) {
    // The previous window's share shrinks linearly until it has left the sliding minute.
    return Math.max(0, windowMs * (1 - room / counts.previous) - elapsedMs);
  }
  // The current window alone is too full: it must become the previous one and shrink in turn.
  const untilNext = windowMs - elapsedMs;
  const roomNext = limit - cost;
  if (roomNext < 0) return untilNext + windowMs;
  return untilNext + Math.max(0, windowMs * (1 - roomNext / counts.current));
}

/** The whole seconds a `Retry-After` header says for a wait: rounded up, at least 1. */
export function retryAfterSeconds(milliseconds: number): number {
  return Math.max(1, Math.ceil(milliseconds / 1000));
}

/** The counts as seen from window `index`, given counts last kept at window `keptIndex`. */
export function rollForward(counts: WindowCounts, keptIndex: number, index: number): WindowCounts {
  if (index === keptIndex) return counts;
  if (index === keptIndex + 1) return { previous: counts.current, current: 0 };
  return { previous: 0, current: 0 };
}
