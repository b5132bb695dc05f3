import { AsyncLocalStorage } from 'node:async_hooks';
import { EventEmitter, on } from 'node:events';
import type { Client } from '../config-file.ts';
import { answeredModel, type DetachedCall, type Dispatcher, openStream } from '../http/dispatch.ts';
import type { GatewayState } from '../http/state.ts';
import type { Logger } from '../lib/logger.ts';
import { type Store, tryLease } from '../lib/store.ts';
import { type GatewayError, ServiceUnavailableError, toGatewayError } from '../openai/errors.ts';
import type { ResponsesInputItem } from '../openai/responses-request.schema.ts';
import type { OpenAIResponseStreamEvent } from '../openai/types.ts';
import type { Route } from '../routing/model-router.ts';
import { ResponseBuilder } from './response-builder.ts';
import { isTerminal, type ResponseStore, type StoredResponse } from './response-store.ts';
import { renameChatParam, responsesToChat } from './responses-to-chat.ts';

/*
 * Background responses (background: true): accepted at once with status `queued`, run here, their
 * progress saved every FLUSH_MS (the partial output, and the stream events in batches a client can
 * follow from any sequence number). Like the Bitrix24 jobs, an accepted one is not lost: each is
 * indexed in the store until it ends, a restart runs the queued ones, and one found `in_progress`
 * with nobody running it (its process died) ends `failed`, saying so. Instances sharing Redis take
 * a lease per response, so one runs it.
 */

export interface BackgroundOptions {
  responses: ResponseStore;
  /** The shared store, for the leases. */
  store: Store;
  dispatcher: Dispatcher;
  /** The client key a response was made with, by name (a resumed response runs as its owner). */
  clientNamed: (name: string) => Client | undefined;
  logger: Logger;
  /** Responses run at once by this instance; the others wait, queued. */
  concurrency?: number;
}

const FLUSH_MS = 250;
/** A run's lease, renewed while it runs: a dead holder's runs out within this, and another instance ends its response. */
const LEASE_MS = 30_000;
/** How often the store is checked for responses nobody runs (left by a stopped instance). */
const ADOPT_EVERY_MS = 60_000;
/** How often a running response checks the store for a cancel asked of another instance. */
const CANCEL_CHECK_MS = 1000;
/** How often a follower on another instance than the runner's looks for new events. */
const POLL_MS = 500;

type StopReason = 'cancel' | 'shutdown';

interface Task {
  id: string;
  /** The route found when it was accepted; a resumed response routes again. */
  route?: Route;
}

export class BackgroundResponses {
  readonly #options: BackgroundOptions;
  readonly #running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  readonly #waiting: Task[] = [];
  readonly #known = new Set<string>();
  readonly #flushed = new EventEmitter();
  readonly #concurrency: number;
  #adopt: NodeJS.Timeout | undefined;
  #stopping = false;
  // Runs happen outside the request that accepted them: their log lines carry their own response id.
  readonly #outsideRequests = AsyncLocalStorage.snapshot();

  constructor(options: BackgroundOptions) {
    this.#options = options;
    this.#concurrency = options.concurrency ?? 8;
    this.#flushed.setMaxListeners(0);
  }

  /**
   * Saves a new background response (status queued) with its first events, indexes it, and
   * schedules it here. The record's request must be set; its input is the record's.
   */
  async accept(record: StoredResponse, route: Route): Promise<OpenAIResponseStreamEvent[]> {
    const { responses } = this.#options;
    const builder = new ResponseBuilder(record.response);
    const events = builder.created();
    // Indexed first: a crash before the save leaves an index entry the runner drops, never a queued response nobody runs.
    await responses.addPending({ id: record.response.id, queuedAt: Date.now() });
    await responses.appendEvents(record, lines(events));
    record.sequence = builder.sequence;
    await responses.save(record);
    this.#schedule({ id: record.response.id, route });
    return events;
  }

  /** Runs the responses a previous process left, then looks for such every minute. */
  async resume(): Promise<number> {
    const count = await this.#adoptPending();
    if (count > 0) this.#options.logger.info({ responses: count }, 'responses: resuming background responses');
    this.#adopt = setInterval(() => {
      this.#adoptPending().catch((error: unknown) =>
        this.#options.logger.warn({ err: error }, 'responses: could not check the store for background responses'),
      );
    }, ADOPT_EVERY_MS);
    this.#adopt.unref();
    return count;
  }

  /**
   * Stops taking work; running responses get `graceMs` to finish, then end `failed` (the gateway
   * stopped). Queued ones stay in the store for the next start.
   */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#adopt);
    this.#waiting.length = 0;
    const running = [...this.#running.values()];
    const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([Promise.all(running.map((run) => run.done)), grace]);
    for (const run of this.#running.values()) run.controller.abort('shutdown' satisfies StopReason);
    await Promise.all([...this.#running.values()].map((run) => run.done));
  }

  /** Stops a response this instance runs, at its client's request; false when it runs elsewhere (or not yet). */
  cancelHere(id: string): boolean {
    const run = this.#running.get(id);
    run?.controller.abort('cancel' satisfies StopReason);
    return run !== undefined;
  }

  /**
   * The events of a background response after `startingAfter`, as they are saved, until it ends or
   * `signal` fires. Reads the store, so it follows a response run by any instance.
   */
  async *follow(
    id: string,
    owner: string | undefined,
    startingAfter: number,
    signal: AbortSignal,
  ): AsyncGenerator<OpenAIResponseStreamEvent> {
    const { responses } = this.#options;
    let batch = 0;
    const wakeUps = on(this.#flushed, id, { signal });
    try {
      for (;;) {
        const record = await responses.get(id, owner);
        for (; batch < (record.batches ?? 0); batch++) {
          for (const line of ((await responses.events(id, batch)) ?? '').split('\n')) {
            if (line === '') continue;
            const event = JSON.parse(line) as OpenAIResponseStreamEvent;
            if (event.sequence_number > startingAfter) yield event;
          }
        }
        if (isTerminal(record.response)) return;
        await Promise.race([wakeUps.next(), new Promise((resolve) => setTimeout(resolve, POLL_MS).unref())]);
        if (signal.aborted) return;
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    } finally {
      await wakeUps.return?.();
    }
  }

  async #adoptPending(): Promise<number> {
    if (this.#stopping) return 0;
    const entries = (await this.#options.responses.pending()).filter((entry) => !this.#known.has(entry.id));
    for (const entry of entries) this.#schedule({ id: entry.id });
    return entries.length;
  }

  #schedule(task: Task): void {
    if (this.#stopping || this.#known.has(task.id)) return;
    this.#known.add(task.id);
    this.#waiting.push(task);
    this.#next();
  }

  #next(): void {
    while (!this.#stopping && this.#running.size < this.#concurrency) {
      const task = this.#waiting.shift();
      if (task === undefined) return;
      const controller = new AbortController();
      const done = this.#outsideRequests(() => this.#run(task, controller))
        .catch((error: unknown) => {
          this.#options.logger.warn(
            { err: error, response: task.id },
            'responses: a background response failed to run',
          );
        })
        .finally(() => {
          this.#running.delete(task.id);
          this.#known.delete(task.id);
          this.#next();
        });
      this.#running.set(task.id, { controller, done });
    }
  }

  async #run(task: Task, controller: AbortController): Promise<void> {
    const { responses, store, logger } = this.#options;
    const lease = await tryLease(store, `responses:run:${task.id}`, LEASE_MS);
    if (lease === undefined) return; // another instance runs it
    const renewal = setInterval(() => {
      lease.renew(LEASE_MS).then(
        (held) => held || controller.abort('shutdown' satisfies StopReason),
        () => {},
      );
    }, LEASE_MS / 3);
    try {
      const record = await responses.find(task.id);
      if (record === undefined || isTerminal(record.response) || record.request === undefined) {
        await responses.removePending(task.id);
        return;
      }
      const run = new Run(record, responses, this.#flushed);
      if (record.response.status === 'in_progress') {
        // Its run ended with the process that ran it; the partial output stays, the client is told.
        await run.end(
          'failed',
          new ServiceUnavailableError('The gateway restarted while this response was in progress; send it again.'),
        );
        return;
      }
      if (await responses.cancelRequested(task.id)) {
        await run.end('cancelled');
        return;
      }
      await this.#answer(task, record, run, controller);
      const { response } = run.builder;
      logger.info(
        { response: response.id, status: response.status, model: response.model, usage: response.usage },
        'responses: background response ended',
      );
    } finally {
      clearInterval(renewal);
      await lease.release().catch(() => {});
    }
  }

  async #answer(task: Task, record: StoredResponse, run: Run, controller: AbortController): Promise<void> {
    const { dispatcher, clientNamed } = this.#options;
    const request = record.request as NonNullable<StoredResponse['request']>;
    const client = record.owner === undefined ? undefined : clientNamed(record.owner);
    if (record.owner !== undefined && client === undefined) {
      await run.end('failed', new ServiceUnavailableError('The client key that made this response no longer exists.'));
      return;
    }
    const state: GatewayState = { requestId: record.response.id, client, clientName: record.owner };
    const releases: Array<() => void> = [];
    const caller: DetachedCall = {
      state,
      signal: controller.signal,
      whenOver: (release) => releases.push(release),
    };
    const translation = responsesToChat(
      { ...request, input: record.input as unknown as ResponsesInputItem[] },
      [],
      true,
    );
    let target: Awaited<ReturnType<Dispatcher['call']>>['target'] | undefined;
    let chunks: AsyncIterator<unknown> | undefined;
    // Another instance may have been asked to cancel it: the store says so.
    const cancelCheck = setInterval(() => {
      this.#options.responses.cancelRequested(record.response.id).then(
        (asked) => asked && controller.abort('cancel' satisfies StopReason),
        () => {},
      );
    }, CANCEL_CHECK_MS);
    // Counted before the end is saved: a client that reads `completed` finds the tokens in its usage.
    const count = () => {
      if (target !== undefined) dispatcher.record(caller, target, run.builder.usage);
      target = undefined;
    };
    try {
      await run.emit(run.builder.started());
      const route = task.route ?? (await dispatcher.open(caller, request.model));
      const opened = await dispatcher.call(caller, route, (sent, call) => openStream(sent, translation.request, call));
      target = opened.target;
      chunks = opened.value.chunks;
      run.builder.answeredBy(answeredModel(request.model, route, target));
      let step = opened.value.first;
      for (; step.done !== true; step = await opened.value.chunks.next()) {
        await run.emit(run.builder.chunk(step.value));
        if (controller.signal.aborted) throw new Error('stopped');
      }
      const end = run.builder.finish(step.value);
      count();
      await run.end('done', undefined, end);
    } catch (error) {
      count();
      const reason = controller.signal.reason as StopReason | undefined;
      if (controller.signal.aborted && reason === 'cancel') await run.end('cancelled');
      else if (controller.signal.aborted) {
        await run.end(
          'failed',
          new ServiceUnavailableError('The gateway stopped while this response was in progress.'),
        );
      } else await run.end('failed', toGatewayError(renameChatParam(error, translation)));
    } finally {
      clearInterval(cancelCheck);
      for (const release of releases) release();
      await chunks?.return?.();
    }
  }
}

/** One run of a background response: its builder, and the saving of its progress. */
class Run {
  readonly builder: ResponseBuilder;
  readonly #record: StoredResponse;
  readonly #responses: ResponseStore;
  readonly #flushed: EventEmitter;
  #pending = '';
  #lastFlush = 0;
  #timer: NodeJS.Timeout | undefined;
  #saving: Promise<void> = Promise.resolve();

  constructor(record: StoredResponse, responses: ResponseStore, flushed: EventEmitter) {
    this.#record = record;
    this.#responses = responses;
    this.#flushed = flushed;
    this.builder = new ResponseBuilder(record.response, record.sequence ?? 0);
  }

  /**
   * Adds events; saves the progress when the last save is FLUSH_MS old, or FLUSH_MS after it by a
   * timer when the model pauses, so a poll sees the text so far. Saves never overlap.
   */
  async emit(events: OpenAIResponseStreamEvent[]): Promise<void> {
    this.#pending += lines(events);
    const wait = this.#lastFlush + FLUSH_MS - Date.now();
    if (wait > 0) {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        void this.#save(false);
      }, wait);
      return;
    }
    await this.#save(false);
  }

  /** Ends the response: with its final events, cancelled, or failed with the error's message. */
  async end(
    how: 'done' | 'cancelled' | 'failed',
    error?: GatewayError,
    events: OpenAIResponseStreamEvent[] = [],
  ): Promise<void> {
    clearTimeout(this.#timer);
    if (how === 'cancelled') this.builder.cancel();
    else if (how === 'failed') events.push(...this.builder.fail(error ?? new ServiceUnavailableError('failed')));
    this.#pending += lines(events);
    await this.#save(true);
    await this.#responses.removePending(this.#record.response.id);
  }

  #save(final: boolean): Promise<void> {
    const next = this.#saving.then(() => this.#flush(final));
    this.#saving = next.catch(() => {});
    return next;
  }

  async #flush(final: boolean): Promise<void> {
    const record = this.#record;
    const id = record.response.id;
    // The final save may find a timer's save done already; the response still has to be written.
    if (this.#pending !== '') await this.#responses.appendEvents(record, this.#pending);
    this.#pending = '';
    record.response = final ? this.builder.response : this.builder.snapshot();
    record.sequence = this.builder.sequence;
    if (final) delete record.request;
    await this.#responses.save(record);
    this.#lastFlush = Date.now();
    this.#flushed.emit(id);
  }
}

function lines(events: readonly OpenAIResponseStreamEvent[]): string {
  let text = '';
  for (const event of events) text += `${JSON.stringify(event)}\n`;
  return text;
}
