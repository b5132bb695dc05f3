import type { UsageRow } from './usage-row.ts';

type Level<T> = Map<string | null, T>;

/** Usage counted in memory between two writes to the store, one row per day, client and model. */
export class UsageBuffer {
  // Nested maps, one level per field: no key string is built and hashed per answer, as the metrics do (metric-series.ts).
  #index: Level<Level<Level<Level<UsageRow>>>> = new Map();
  #rows: UsageRow[] = [];

  get size(): number {
    return this.#rows.length;
  }

  /** Adds a row's counts to the buffered row of the same day, client, provider and model. */
  add(row: UsageRow): void {
    const models = level(level(level(this.#index, row.date), row.client), row.provider);
    const known = models.get(row.model);
    if (known === undefined) {
      const copy = { ...row };
      models.set(row.model, copy);
      this.#rows.push(copy);
      return;
    }
    known.requests += row.requests;
    known.prompt_tokens += row.prompt_tokens;
    known.completion_tokens += row.completion_tokens;
  }

  /** Takes every buffered row out, leaving the buffer empty. */
  drain(): UsageRow[] {
    const rows = this.#rows;
    this.#index = new Map();
    this.#rows = [];
    return rows;
  }
}

function level<T>(parent: Level<Level<T>>, key: string | null): Level<T> {
  let child = parent.get(key);
  if (child === undefined) {
    child = new Map();
    parent.set(key, child);
  }
  return child;
}
