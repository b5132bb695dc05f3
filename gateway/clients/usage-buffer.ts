import { childMap } from '../lib/child-map.ts';
import type { UsageRow } from './usage-row.ts';

type Level<T> = Map<string | null, T>;

/** Usage counted in memory between two writes to the store, one row per day, client and model. */
export class UsageBuffer {
  // One level per field (childMap): no key string is built and hashed per answer.
  #index: Level<Level<Level<Level<UsageRow>>>> = new Map();
  #rows: UsageRow[] = [];

  get size(): number {
    return this.#rows.length;
  }

  /** Adds a row's counts to the buffered row of the same day, client, provider and model. */
  add(row: UsageRow): void {
    const models = childMap(childMap(childMap(this.#index, row.date), row.client), row.provider);
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
