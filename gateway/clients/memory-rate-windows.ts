import { checkRate, type RateCounts, type RateLimits, type RateRefusal } from './rate-check.ts';
import type { RateWindows } from './rate-windows.ts';
import { rollForward, windowAt } from './sliding-window.ts';

interface ClientWindows extends RateCounts {
  index: number;
}

/** Rate windows in this process's memory: right for a SQLite store, which one instance owns. */
export class MemoryRateWindows implements RateWindows {
  readonly #clients = new Map<string, ClientWindows>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  take(client: string, limits: RateLimits): Promise<RateRefusal | undefined> {
    const { index, elapsedMs } = windowAt(this.#now());
    const windows = this.#windows(client, index);
    const refusal = checkRate(windows, elapsedMs, limits);
    if (refusal === undefined) windows.requests.current += 1;
    return Promise.resolve(refusal);
  }

  addTokens(client: string, tokens: number): void {
    this.#windows(client, windowAt(this.#now()).index).tokens.current += tokens;
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** The client's windows, moved on to window `index`. */
  #windows(client: string, index: number): ClientWindows {
    let windows = this.#clients.get(client);
    if (windows === undefined) {
      windows = { index, requests: { previous: 0, current: 0 }, tokens: { previous: 0, current: 0 } };
      this.#clients.set(client, windows);
    } else if (windows.index !== index) {
      windows.requests = rollForward(windows.requests, windows.index, index);
      windows.tokens = rollForward(windows.tokens, windows.index, index);
      windows.index = index;
    }
    return windows;
  }
}
