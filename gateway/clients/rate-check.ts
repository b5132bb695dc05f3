import { fits, type WindowCounts, waitMs } from './sliding-window.ts';

/** A client's per-minute limits; an absent one is not enforced. */
export interface RateLimits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

/** A client's counts for both limits, in the current and previous fixed windows. */
export interface RateCounts {
  requests: WindowCounts;
  tokens: WindowCounts;
}

/** Which limit refused a request, and how long until it would let one through. */
export interface RateRefusal {
  limit: 'requests' | 'tokens';
  perMinute: number;
  waitMs: number;
}

/** True when the limits ask for any counting at all. */
export function hasRateLimits(limits: RateLimits): boolean {
  return limits.requestsPerMinute !== undefined || limits.tokensPerMinute !== undefined;
}

/**
 * May one more request start now? Requests need room for one more. Tokens need room for at least
 * one more token: an answer's size is unknown beforehand, so a request is refused only once the
 * tokens already counted reach the limit. When both refuse, the longer wait is the one to report.
 */
export function checkRate(counts: RateCounts, elapsedMs: number, limits: RateLimits): RateRefusal | undefined {
  let refusal: RateRefusal | undefined;
  const { requestsPerMinute, tokensPerMinute } = limits;
  if (requestsPerMinute !== undefined && !fits(counts.requests, elapsedMs, requestsPerMinute, 1)) {
    refusal = {
      limit: 'requests',
      perMinute: requestsPerMinute,
      waitMs: waitMs(counts.requests, elapsedMs, requestsPerMinute, 1),
    };
  }
  if (tokensPerMinute !== undefined && !fits(counts.tokens, elapsedMs, tokensPerMinute, 1)) {
    const wait = waitMs(counts.tokens, elapsedMs, tokensPerMinute, 1);
    if (refusal === undefined || wait > refusal.waitMs) {
      refusal = { limit: 'tokens', perMinute: tokensPerMinute, waitMs: wait };
    }
  }
  return refusal;
}
