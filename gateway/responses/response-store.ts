import type { Logger } from '../lib/logger.ts';
import { PeriodicSweep } from '../lib/periodic-sweep.ts';
import { removeExpired, type Store, storeEntries, storeNamespace } from '../lib/store.ts';
import { NotFoundError } from '../openai/errors.ts';
import type { ResponsesInputItem, ResponsesRequest } from '../openai/responses-request.schema.ts';
import type { OpenAIResponse, OpenAIResponseItem } from '../openai/types.ts';
import { responseOfItem } from './response-builder.ts';

/*
 * Stored responses (store: true, OpenAI's default): the response, the input items the model saw
 * (earlier turns included, for previous_response_id and GET …/input_items), and for a background
 * response its request until it has run, and its stream events in batches for a client that
 * reconnects. One namespace of the shared store; a record names its owner (the client key's name)
 * and any other key is told it does not exist. Records expire after RESPONSES_RETENTION_HOURS.
 */

export interface StoredResponse {
  /** The client key's name; undefined on an open gateway. */
  owner: string | undefined;
  response: OpenAIResponse;
  /** Every input item of this turn, earlier turns' items first, each with an id. */
  input: OpenAIResponseItem[];
  /** A background response's request, kept until it has run. */
  request?: ResponsesRequest;
  /** The stream events given so far: the next one's sequence_number. */
  sequence?: number;
  /** How many event batches a background response has written (events:<id>:<n>). */
  batches?: number;
  expiresAt: number;
}

/** A background response waiting for, or in, its run: the index the runner resumes from. */
export interface PendingEntry {
  id: string;
  queuedAt: number;
}

const TERMINAL = new Set(['completed', 'failed', 'incomplete', 'cancelled']);

export function isTerminal(response: OpenAIResponse): boolean {
  return TERMINAL.has(response.status ?? 'completed');
}

const SWEEP_EVERY_MS = 60 * 60_000;

export class ResponseStore {
  readonly #store: Store;
  readonly #pending: Store;
  readonly #retentionMs: number;
  readonly #now: () => number;
  readonly #sweep: PeriodicSweep;

  constructor(options: { store: Store; retentionMs: number; logger: Logger; now?: () => number }) {
    this.#store = storeNamespace(options.store, 'responses', { throwOnErrors: true, plainJson: true });
    this.#pending = storeNamespace(options.store, 'responses-pending', { throwOnErrors: true, plainJson: true });
    this.#retentionMs = options.retentionMs;
    this.#now = options.now ?? Date.now;
    this.#sweep = new PeriodicSweep({
      store: options.store,
      lease: 'responses:sweep',
      everyMs: SWEEP_EVERY_MS,
      logger: options.logger,
      label: 'responses: the retention sweep',
      sweep: (removed) => this.#removeExpired(removed),
    });
  }

  start(): void {
    this.#sweep.start();
  }

  close(): void {
    this.#sweep.close();
  }

  /** When a record written now expires. */
  expiry(): number {
    return this.#now() + this.#retentionMs;
  }

  async save(record: StoredResponse): Promise<void> {
    await this.#store.set(recordKey(record.response.id), record, Math.max(1, record.expiresAt - this.#now()));
  }

  /** The caller's response, or a 404 as OpenAI words it (another key's response does not exist for it). */
  async get(id: string, owner: string | undefined, param?: string): Promise<StoredResponse> {
    const record = await this.find(id);
    if (record === undefined || record.owner !== owner) {
      throw new NotFoundError(
        param === 'previous_response_id'
          ? `Previous response with id '${shortId(id)}' not found.`
          : `Response with id '${shortId(id)}' not found.`,
        { param: param ?? null, code: param === undefined ? null : 'previous_response_not_found' },
      );
    }
    return record;
  }

  async find(id: string): Promise<StoredResponse | undefined> {
    return (await this.#store.get<StoredResponse>(recordKey(id))) ?? undefined;
  }

  /**
   * The input with each `item_reference` replaced by the output item it names, found in the
   * caller's own stored response (the id says which: response-builder.ts); 404 naming the item otherwise.
   */
  async resolveReferences(items: ResponsesInputItem[], owner: string | undefined): Promise<ResponsesInputItem[]> {
    if (!items.some((item) => item.type === 'item_reference')) return items;
    const records = new Map<string, StoredResponse | undefined>();
    const resolved: ResponsesInputItem[] = [];
    for (const [index, item] of items.entries()) {
      if (item.type !== 'item_reference') {
        resolved.push(item);
        continue;
      }
      const responseId = responseOfItem(item.id);
      if (responseId !== undefined && !records.has(responseId)) records.set(responseId, await this.find(responseId));
      const record = responseId === undefined ? undefined : records.get(responseId);
      const found =
        record?.owner === owner ? record?.response.output.find((output) => output.id === item.id) : undefined;
      if (found === undefined) {
        throw new NotFoundError(`Item with id '${shortId(item.id)}' not found.`, { param: `input[${index}].id` });
      }
      resolved.push(found as unknown as ResponsesInputItem);
    }
    return resolved;
  }

  async remove(record: StoredResponse): Promise<void> {
    const { id } = record.response;
    await this.#store.delete(recordKey(id));
    await this.#removeEvents(id, record.batches ?? 0);
    await this.#store.delete(cancelKey(id));
  }

  /** Appends a batch of serialised stream events (one JSON object per line). */
  async appendEvents(record: StoredResponse, lines: string): Promise<void> {
    const batch = record.batches ?? 0;
    await this.#store.set(eventsKey(record.response.id, batch), lines, Math.max(1, record.expiresAt - this.#now()));
    record.batches = batch + 1;
  }

  async events(id: string, batch: number): Promise<string | undefined> {
    return (await this.#store.get<string>(eventsKey(id, batch))) ?? undefined;
  }

  /** Asks the instance running a background response to stop it. */
  async requestCancel(record: StoredResponse): Promise<void> {
    await this.#store.set(cancelKey(record.response.id), true, Math.max(1, record.expiresAt - this.#now()));
  }

  async cancelRequested(id: string): Promise<boolean> {
    return (await this.#store.get<boolean>(cancelKey(id))) === true;
  }

  async addPending(entry: PendingEntry): Promise<void> {
    await this.#pending.set(entry.id, entry);
  }

  async removePending(id: string): Promise<void> {
    await this.#pending.delete(id);
  }

  /** The background responses not finished yet, oldest first. */
  async pending(): Promise<PendingEntry[]> {
    const entries = (await storeEntries(this.#pending)).map(([, value]) => value as PendingEntry);
    return entries.filter((entry) => entry !== undefined).sort((a, b) => a.queuedAt - b.queuedAt);
  }

  /** Runs the retention sweep now (tests). */
  sweepNow(): Promise<number> {
    return this.#sweep.run();
  }

  async #removeExpired(removed: () => void): Promise<void> {
    // Every key of a response (record, events, cancel flag) carries its TTL; Redis drops them itself.
    const count = await removeExpired(this.#store, this.#now());
    for (let index = 0; index < count; index++) removed();
  }

  async #removeEvents(id: string, batches: number): Promise<void> {
    for (let batch = 0; batch < batches; batch++) await this.#store.delete(eventsKey(id, batch));
  }
}

const recordKey = (id: string) => `resp:${id}`;
const eventsKey = (id: string, batch: number) => `events:${id}:${batch}`;
const cancelKey = (id: string) => `cancel:${id}`;

/** An id as an error message may repeat it: a client's string, cut short. */
function shortId(id: string): string {
  return id.length > 80 ? `${id.slice(0, 80)}…` : id;
}

/** The conversation a response continues with: the items it saw, then what it answered. */
export function conversationOf(record: StoredResponse): OpenAIResponseItem[] {
  return [...record.input, ...(record.response.output as OpenAIResponseItem[])];
}
