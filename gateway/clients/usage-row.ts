/** One day's usage of one model by one client with one credential: a row of GET /admin/usage. */
export interface UsageRow {
  /** UTC date, YYYY-MM-DD. */
  date: string;
  /** The client key's name; null when the API is open (no keys configured). */
  client: string | null;
  provider: string;
  model: string;
  /** Whose credential paid: `operator:<name>` or `own`; null on rows stored before credentials were named. */
  credential: string | null;
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

/** Identifies a row within its day; rows stored before credentials were named have a key of three. */
export function usageKey(client: string | null, provider: string, model: string, credential: string | null): string {
  return JSON.stringify(credential === null ? [client, provider, model] : [client, provider, model, credential]);
}

/** The fields of a row's key (usageKey), a key of three having no credential. */
export function parseUsageKey(key: string): Pick<UsageRow, 'client' | 'provider' | 'model' | 'credential'> {
  const [client, provider, model, credential] = JSON.parse(key) as [string | null, string, string, string?];
  return { client, provider, model, credential: credential ?? null };
}

/** Sorts rows by date, client, provider, model, credential. */
export function compareUsageRows(a: UsageRow, b: UsageRow): number {
  return (
    a.date.localeCompare(b.date) ||
    (a.client ?? '').localeCompare(b.client ?? '') ||
    a.provider.localeCompare(b.provider) ||
    a.model.localeCompare(b.model) ||
    (a.credential ?? '').localeCompare(b.credential ?? '')
  );
}
