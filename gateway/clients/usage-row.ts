/** One day's usage of one model by one client: a row of GET /admin/usage. */
export interface UsageRow {
  /** UTC date, YYYY-MM-DD. */
  date: string;
  /** The client key's name; null when the API is open (no keys configured). */
  client: string | null;
  provider: string;
  model: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
}

/** What GET /admin/usage asks for: dates inclusive, optional filters. */
export interface UsageQuery {
  from: string;
  to: string;
  client?: string;
  model?: string;
}

/** The UTC date of a time, YYYY-MM-DD. */
export function utcDate(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

/** utcDate for a clock that moves forward: the string is made once a day, not once a call. */
export function dailyDate(): (time: number) => string {
  let day = Number.NaN;
  let date = '';
  return (time) => {
    const current = Math.floor(time / 86_400_000);
    if (current !== day) {
      day = current;
      date = utcDate(time);
    }
    return date;
  };
}

/** Identifies a row within its day. */
export function usageKey(client: string | null, provider: string, model: string): string {
  return JSON.stringify([client, provider, model]);
}

/** Sorts rows by date, client, provider, model. */
export function compareUsageRows(a: UsageRow, b: UsageRow): number {
  return (
    a.date.localeCompare(b.date) ||
    (a.client ?? '').localeCompare(b.client ?? '') ||
    a.provider.localeCompare(b.provider) ||
    a.model.localeCompare(b.model)
  );
}
