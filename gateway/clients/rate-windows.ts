import type { RateLimits, RateRefusal } from './rate-check.ts';

/** Per-client rate windows, kept in this process or shared through Redis. */
export interface RateWindows {
  /** Counts one request for `client` when its limits allow it now; otherwise says which limit refused. */
  take(client: string, limits: RateLimits): Promise<RateRefusal | undefined>;
  /** Adds an answer's tokens to the client's current window. */
  addTokens(client: string, tokens: number): void;
  /** Writes counts kept back for batching to where the other instances see them. */
  flush(): Promise<void>;
}
