import { childMap } from '../lib/child-map.ts';
import type { UsageRow } from './usage-row.ts';

type Level<T> = Map<string | null, T>;

/** Usage counted in memory between two writes to the store, one row per day, client, model and credential. */
export class UsageBuffer {
  // One level per field (childMap): no key string is built and hashed per answer.
  #index: Level<Level<Level<Level<Level<UsageRow>>>>> = new Map();
  #rows: UsageRow[] = [];

  get size(): number {
    return this.#rows.length;
  }

  /** Adds a row's counts to the buffered row of the same day, client, provider, model and credential. */
  add(row: UsageRow): void {
    const providers = childMap(childMap(this.#index, row.date), row.client);
    const credentials = childMap(childMap(providers, row.provider), row.model);
    const known = credentials.get(row.credential);
    if (known === undefined) {
      const copy = { ...row };
      credentials.set(row.credential, copy);
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
