import { createHash } from 'node:crypto';
import type { RedisClientConnectionType } from '@keyv/redis';
import { checkRate, type RateLimits, type RateRefusal } from './rate-check.ts';
import type { RateWindows } from './rate-windows.ts';
import { WINDOW_MS, windowAt } from './sliding-window.ts';

/*
 * Check and count in one step on the Redis server, so that instances sharing it share one budget
 * and two of them never both take the last request. KEYS: requests previous, requests current,
 * tokens previous, tokens current. ARGV: elapsed share of the window, requests limit, tokens limit
 * (-1 = none), this instance's tokens not yet written for the previous and current windows, TTL.
 * Same arithmetic, in the same order, as checkRate, which then explains a refusal from the counts.
 */
const TAKE_SCRIPT = `
local share = 1 - tonumber(ARGV[1])
local requestLimit = tonumber(ARGV[2])
local tokenLimit = tonumber(ARGV[3])
local function count(key) return tonumber(redis.call('GET', key) or '0') end
local rp, rc = count(KEYS[1]), count(KEYS[2])
local tp, tc = count(KEYS[3]) + tonumber(ARGV[4]), count(KEYS[4]) + tonumber(ARGV[5])
local allowed = (requestLimit < 0 or rp * share + rc + 1 <= requestLimit)
  and (tokenLimit < 0 or tp * share + tc + 1 <= tokenLimit)
if allowed and requestLimit >= 0 then
  redis.call('INCR', KEYS[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
end
return {allowed and 1 or 0, rp, rc, tp, tc}
`;
const TAKE_SHA = createHash('sha1').update(TAKE_SCRIPT).digest('hex');

/** A window's key outlives the minute after it, when it is the "previous" window. */
const KEY_TTL_MS = 2 * WINDOW_MS;

function key(client: string, limit: 'requests' | 'tokens', index: number): string {
  return `gateway:rate:${encodeURIComponent(client)}:${limit}:${index}`;
}

/**
 * Rate windows shared by every instance on one Redis. `take` is one script call; answers' tokens
 * are batched and written by `flush` (until then they count for this instance's own checks).
 */
export class RedisRateWindows implements RateWindows {
  readonly #client: () => Promise<RedisClientConnectionType>;
  readonly #now: () => number;
  /** Tokens not yet written: client → window index → tokens. */
  #pending = new Map<string, Map<number, number>>();

  constructor(client: () => Promise<RedisClientConnectionType>, now: () => number = Date.now) {
    this.#client = client;
    this.#now = now;
  }

  async take(client: string, limits: RateLimits): Promise<RateRefusal | undefined> {
    const { index, elapsedMs } = windowAt(this.#now());
    const pending = this.#pending.get(client);
    const options = {
      keys: [
        key(client, 'requests', index - 1),
        key(client, 'requests', index),
        key(client, 'tokens', index - 1),
        key(client, 'tokens', index),
      ],
      arguments: [
        String(elapsedMs / WINDOW_MS),
        String(limits.requestsPerMinute ?? -1),
        String(limits.tokensPerMinute ?? -1),
        String(pending?.get(index - 1) ?? 0),
        String(pending?.get(index) ?? 0),
        String(KEY_TTL_MS),
      ],
    };
    const redis = await this.#client();
    const reply = (await redis.evalSha(TAKE_SHA, options).catch((error: unknown) => {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      return redis.eval(TAKE_SCRIPT, options);
    })) as number[];
    const [allowed, rp = 0, rc = 0, tp = 0, tc = 0] = reply.map(Number);
    if (allowed === 1) return undefined;
    const counts = { requests: { previous: rp, current: rc }, tokens: { previous: tp, current: tc } };
    return checkRate(counts, elapsedMs, limits) ?? { limit: 'requests', perMinute: 0, waitMs: 1000 };
  }

  addTokens(client: string, tokens: number): void {
    const index = windowAt(this.#now()).index;
    let windows = this.#pending.get(client);
    if (windows === undefined) {
      windows = new Map();
      this.#pending.set(client, windows);
    }
    windows.set(index, (windows.get(index) ?? 0) + tokens);
  }

  async flush(): Promise<void> {
    if (this.#pending.size === 0) return;
    const pending = this.#pending;
    this.#pending = new Map();
    const redis = await this.#client();
    const writes: Promise<unknown>[] = [];
    for (const [client, windows] of pending) {
      for (const [index, tokens] of windows) {
        const name = key(client, 'tokens', index);
        // Issued in one tick, so the client pipelines them: one round trip for the batch.
        writes.push(redis.incrBy(name, tokens), redis.pExpire(name, KEY_TTL_MS));
      }
    }
    await Promise.all(writes);
  }
}
