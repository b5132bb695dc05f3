/**
 * A token bucket per portal: `perMinute` requests a minute, with bursts up to the same number.
 * Bitrix24 applies no quota to third-party engines, so this is what keeps one
 * portal from spending the whole upstream quota. Kept in memory: per instance, reset on restart.
 */
export class PortalRateLimit {
  readonly #perMinute: number;
  readonly #buckets = new Map<string, { tokens: number; updatedAt: number }>();
  readonly #now: () => number;

  constructor(perMinute: number, now: () => number = Date.now) {
    this.#perMinute = perMinute;
    this.#now = now;
  }

  /** Takes one request from the portal's bucket; returns the seconds to wait when it is empty, else 0. */
  take(memberId: string): number {
    const now = this.#now();
    const bucket = this.#buckets.get(memberId) ?? { tokens: this.#perMinute, updatedAt: now };
    const refilled = Math.min(this.#perMinute, bucket.tokens + ((now - bucket.updatedAt) * this.#perMinute) / 60_000);
    if (refilled < 1) {
      this.#buckets.set(memberId, { tokens: refilled, updatedAt: now });
      return Math.ceil(((1 - refilled) * 60) / this.#perMinute);
    }
    this.#buckets.set(memberId, { tokens: refilled - 1, updatedAt: now });
    return 0;
  }

  forget(memberId: string): void {
    this.#buckets.delete(memberId);
  }
}
