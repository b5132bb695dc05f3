import type { UsageRow } from './usage-row.ts';

/** Usage counted in memory between two writes to the store, one row per day, client and model. */
export class UsageBuffer {
  #rows = new Map<string, UsageRow>();

  get size(): number {
    return this.#rows.size;
  }

  /** Adds a row's counts to the buffered row of the same day, client, provider and model. */
  add(row: UsageRow): void {
    // Plain concatenation: this runs once per answer. No client name is empty (config.ts), so '' can stand for none.
    const key = `${row.date}\n${row.client ?? ''}\n${row.provider}\n${row.model}`;
    const known = this.#rows.get(key);
    if (known === undefined) {
      this.#rows.set(key, { ...row });
      return;
    }
    known.requests += row.requests;
    known.prompt_tokens += row.prompt_tokens;
    known.completion_tokens += row.completion_tokens;
  }

  /** Takes every buffered row out, leaving the buffer empty. */
  drain(): UsageRow[] {
    const rows = [...this.#rows.values()];
    this.#rows = new Map();
    return rows;
  }
}
