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
  #month = '';
  #totals = new Map<string, number>();
  #readAt = Number.NEGATIVE_INFINITY;
  #reading: Promise<void> | undefined;

  /** `read` returns the stored rows of these dates, every buffered answer included. */
  constructor(read: (dates: readonly string[]) => Promise<UsageRow[]>, now: () => number) {
    this.#read = read;
    this.#now = now;
  }

  /** The client's tokens this month: from memory when fresh enough, else after one read of the store. */
  async spent(client: string): Promise<number> {
    const now = this.#now();
    const { month } = utcMonth(now);
    if (month !== this.#month) {
      await this.#refresh();
    } else if (now - this.#readAt > REFRESH_MS) {
      // A stale total still answers; the fresh one serves the next request.
      void this.#refresh().catch(() => {});
    }
    return this.#totals.get(client) ?? 0;
  }

  /** Tokens an answer used just now, counted before the store has them. */
  add(client: string, tokens: number): void {
    if (this.#month !== '') this.#totals.set(client, (this.#totals.get(client) ?? 0) + tokens);
  }

  #refresh(): Promise<void> {
    this.#reading ??= (async () => {
      const { month, dates } = utcMonth(this.#now());
      try {
        const totals = tokensByClient(await this.#read(dates));
        this.#month = month;
        this.#totals = totals;
        this.#readAt = this.#now();
      } finally {
        this.#reading = undefined;
      }
    })();
    return this.#reading;
  }
}
