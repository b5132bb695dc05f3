import type { UsageRow } from './usage-row.ts';

/** How old the month's totals may get before a budgeted request reads them again. */
const REFRESH_MS = 2000;
const DAY_MS = 86_400_000;

/** The UTC month of a time: `YYYY-MM`, its dates so far, and when the next one begins. */
export function utcMonth(time: number): { month: string; dates: string[]; resetsAt: string } {
  const now = new Date(time);
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const dates: string[] = [];
  for (let day = start; day <= time; day += DAY_MS) dates.push(new Date(day).toISOString().slice(0, 10));
  const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString();
  return { month: dates[0]?.slice(0, 7) ?? '', dates, resetsAt: next };
}

/** Prompt plus completion tokens per client, summed from usage rows. */
export function tokensByClient(rows: readonly UsageRow[]): Map<string, number> {
  const totals = new Map<string, number>();
  for (const row of rows) {
    if (row.client === null) continue;
    totals.set(row.client, (totals.get(row.client) ?? 0) + row.prompt_tokens + row.completion_tokens);
  }
  return totals;
}

/**
 * Each client's tokens this UTC month, for monthly budgets: read from the stored usage (every
 * instance's), kept in memory, and read again at most every REFRESH_MS while budgeted keys are in
 * use; what this process counts in between is added at once. A reading never counts an answer twice;
 * one made elsewhere shows up within a few seconds, so a key can overshoot by that much.
 */
export class MonthSpend {
  readonly #read: (dates: readonly string[]) => Promise<UsageRow[]>;
  readonly #now: () => number;
  #totals = new Map<string, number>();
  /** The month the totals are of ends then; before the first reading, at once. */
  #monthEndsAt = Number.NEGATIVE_INFINITY;
  #readAt = Number.NEGATIVE_INFINITY;
  #reading: Promise<void> | undefined;

  /** `read` returns the stored rows of these dates, every buffered answer included. */
  constructor(read: (dates: readonly string[]) => Promise<UsageRow[]>, now: () => number) {
    this.#read = read;
    this.#now = now;
  }

  /**
   * The client's tokens this month: a number from memory (a stale one starts a reading in the
   * background, for the next request), or a promise when there is no reading of this month yet.
   */
  spent(client: string): number | Promise<number> {
    const now = this.#now();
    if (now >= this.#monthEndsAt) return this.#refresh().then(() => this.#totals.get(client) ?? 0);
    if (now - this.#readAt > REFRESH_MS) void this.#refresh().catch(() => {});
    return this.#totals.get(client) ?? 0;
  }

  /** Tokens an answer used just now, counted before the store has them. */
  add(client: string, tokens: number): void {
    if (this.#now() < this.#monthEndsAt) this.#totals.set(client, (this.#totals.get(client) ?? 0) + tokens);
  }

  #refresh(): Promise<void> {
    this.#reading ??= (async () => {
      const { dates, resetsAt } = utcMonth(this.#now());
      try {
        const totals = tokensByClient(await this.#read(dates));
        this.#totals = totals;
        this.#monthEndsAt = Date.parse(resetsAt);
        this.#readAt = this.#now();
      } finally {
        this.#reading = undefined;
      }
    })();
    return this.#reading;
  }
}
