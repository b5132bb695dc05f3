import { AsyncLocalStorage } from 'node:async_hooks';
import OpenAI from 'openai';
import type { Logger } from 'pino';
import type { PortalStore } from '../portal/portal-store.ts';
import type { Lease } from '../store.ts';
import { type ErrorCallback, isPortalCallbackUrl, postCallback } from './callbacks.ts';
import type { CountJob } from './job-metrics.ts';
import { type Job, type JobStore, jobKey } from './jobs.ts';
import { buildMessages } from './messages.ts';

export interface WorkerOptions {
  jobs: JobStore;
  portals: PortalStore;
  gateway: OpenAI;
  logger: Logger;
  /** Jobs asking the model at the same time. */
  concurrency: number;
  /** First callback retry delay; doubles per attempt up to 5 minutes. */
  retryBaseMs: number;
  countJob: CountJob;
  /** A lease on a job for every instance sharing the store; undefined while another instance holds it. */
  lease(name: string, ttlMs: number): Promise<Lease | undefined>;
  /** Portal housekeeping run with each sweep of the store (uninstall.ts's pending uninstalls). */
  sweepPortals?: () => Promise<void>;
}

const MAX_RETRY_DELAY_MS = 5 * 60_000;
/** Longer than a model call (the gateway client's timeout); a dead holder's lease runs out after it. */
const LEASE_MS = 10 * 60_000;
/** How often the store is checked for jobs nobody works on (left by a dead instance) and old tombstones. */
const SWEEP_MS = 5 * 60_000;

/**
 * Runs accepted jobs: asks the gateway, then delivers the answer (or the error) to the portal,
 * retrying the callback with exponential backoff until the job's deadline. Every step is saved
 * first, so a restarted process picks each job up where it stopped (`resume`). Instances sharing
 * a Redis store take a lease per job, so one job runs in one instance at a time.
 */
export class JobWorker {
  readonly #options: WorkerOptions;
  readonly #waiting: Job[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #running = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  /** Jobs this instance has scheduled or is running. */
  readonly #known = new Set<string>();
  #sweep: NodeJS.Timeout | undefined;
  // Jobs run in the context the worker was made in, outside any HTTP request: their log lines carry
  // their own `job` and `memberId`, never the id of the request that happened to accept them.
  readonly #outsideRequests = AsyncLocalStorage.snapshot();

  constructor(options: WorkerOptions) {
    this.#options = options;
  }

  /** Picks up every job a previous process accepted but did not finish. */
  async resume(): Promise<number> {
    const count = await this.#adoptPending();
    if (count > 0) this.#options.logger.info({ jobs: count }, 'Bitrix24: resuming unfinished jobs');
    await this.#sweepPortals();
    this.#sweep = setInterval(() => {
      this.#adoptPending().catch((error: unknown) =>
        this.#options.logger.warn({ err: error }, 'Bitrix24: could not check the store for unfinished jobs'),
      );
      void this.#sweepPortals();
    }, SWEEP_MS);
    this.#sweep.unref();
    return count;
  }

  /** Schedules the unfinished jobs in the store that this instance does not handle yet. */
  async #adoptPending(): Promise<number> {
    const jobs = (await this.#options.jobs.pending()).filter((job) => !this.#known.has(jobKey(job)));
    for (const job of jobs) this.#schedule(job);
    return jobs.length;
  }

  async #sweepPortals(): Promise<void> {
    try {
      await this.#options.sweepPortals?.();
    } catch (error) {
      this.#options.logger.warn({ err: error }, 'Bitrix24: the sweep of the portals failed');
    }
  }

  /** Starts a job that was just stored. */
  enqueue(job: Job): void {
    this.#outsideRequests(() => this.#schedule(job));
  }

  /** Stops taking work and aborts model calls; their jobs stay queued in the store for the next start. */
  async stop(): Promise<void> {
    this.#abort.abort();
    clearInterval(this.#sweep);
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#waiting.length = 0;
    await Promise.allSettled([...this.#running]);
  }

  #schedule(job: Job): void {
    if (this.#abort.signal.aborted) return;
    this.#known.add(jobKey(job));
    const delay = job.nextAttemptAt - Date.now();
    if (delay <= 0) {
      this.#waiting.push(job);
      this.#pump();
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#waiting.push(job);
      this.#pump();
    }, delay);
    this.#timers.add(timer);
  }

  #pump(): void {
    while (this.#running.size < this.#options.concurrency && this.#waiting.length > 0) {
      const job = this.#waiting.shift() as Job;
      const run = this.#run(job).catch((error: unknown) => {
        this.#options.logger.error({ err: error, memberId: job.memberId, job: job.id }, 'Bitrix24: job failed');
      });
      this.#running.add(run);
      void run.finally(() => {
        this.#running.delete(run);
        this.#pump();
      });
    }
  }

  async #run(scheduled: Job): Promise<void> {
    const key = jobKey(scheduled);
    const lease = await this.#options.lease(key, LEASE_MS);
    if (lease === undefined) {
      this.#known.delete(key); // the sweep looks again later
      this.#options.logger.debug(
        { memberId: scheduled.memberId, job: scheduled.id },
        'Bitrix24: another instance has the job',
      );
      return;
    }
    let retrying = false;
    try {
      // The stored job, not the scheduled copy: another instance or an uninstall may have moved on.
      let job = await this.#options.jobs.get(scheduled.memberId, scheduled.id);
      if (job === undefined || job.state === 'done') return;
      if (Date.now() > job.deadline) {
        await this.#finish(job, 'expired');
        return;
      }
      if (job.state === 'queued') {
        job = await this.#ask(job);
        if (this.#abort.signal.aborted) return;
        // Uninstalled while the model was thinking: its data is gone and must stay gone.
        if ((await this.#options.portals.get(job.memberId)) === undefined) return this.#options.jobs.remove(job);
        await this.#options.jobs.save(job);
      }
      if (job.state === 'answered' || job.state === 'failed') retrying = await this.#deliver(job);
    } finally {
      if (!retrying) this.#known.delete(key);
      await lease.release();
    }
  }

  /** Asks the gateway; the job comes back answered or failed (with its error callback body). */
  async #ask(job: Job): Promise<Job> {
    const request = job.request;
    if (request === undefined)
      return { ...job, state: 'failed', error: errorBody(500, 'internal', 'job lost its request') };
    try {
      const completion = await this.#options.gateway.chat.completions.create(
        {
          model: job.model,
          messages: buildMessages(request),
          ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
          ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
        },
        // The gateway logs the call under this id, so its lines and the job's can be found together.
        { signal: this.#abort.signal, headers: { 'x-request-id': `b24-job:${job.id}` } },
      );
      const text = completion.choices[0]?.message.content ?? '';
      const usage = completion.usage;
      await this.#options.portals.addUsage(job.memberId, job.engineCode, {
        prompt: usage?.prompt_tokens ?? 0,
        completion: usage?.completion_tokens ?? 0,
      });
      // An empty result silently stops some Bitrix24 chains (CRM call transcription): report it as an error.
      if (text.trim() === '') {
        return {
          ...job,
          state: 'failed',
          error: errorBody(502, 'empty_answer', 'The model returned an empty answer.'),
        };
      }
      return { ...job, state: 'answered', result: text };
    } catch (error) {
      if (this.#abort.signal.aborted) return job;
      this.#options.logger.warn(
        { memberId: job.memberId, job: job.id, model: job.model, error: describe(error) },
        'Bitrix24: the gateway could not answer a job',
      );
      return { ...job, state: 'failed', error: errorFromGateway(error) };
    }
  }

  /** Sends the job's callback; true when a retry is scheduled. */
  async #deliver(job: Job): Promise<boolean> {
    const { jobs, portals, logger } = this.#options;
    const portal = await portals.get(job.memberId);
    const url = job.state === 'answered' ? job.request?.callbackUrl : job.request?.errorCallbackUrl;
    if (portal === undefined) {
      await jobs.remove(job);
      return false;
    }
    if (url === undefined || !isPortalCallbackUrl(url, portal.domain, job.state === 'answered' ? 'success' : 'error')) {
      await this.#finish(job, 'callback URL refused');
      return false;
    }
    const body = job.state === 'answered' ? { result: job.result ?? '' } : (job.error as ErrorCallback);
    const outcome = await postCallback(url, body);
    const log = { memberId: job.memberId, job: job.id, callback: job.state, attempt: job.attempts + 1 };
    if (outcome.kind === 'delivered') {
      logger.info(log, 'Bitrix24: callback delivered');
      await this.#finish(job, 'delivered');
      return false;
    }
    if (outcome.kind === 'refused') {
      logger.warn({ ...log, reason: outcome.reason }, 'Bitrix24: the portal refused the callback');
      await this.#finish(job, `refused: ${outcome.reason}`);
      return false;
    }
    const attempts = job.attempts + 1;
    const nextAttemptAt = Date.now() + Math.min(MAX_RETRY_DELAY_MS, this.#options.retryBaseMs * 2 ** (attempts - 1));
    if (nextAttemptAt > job.deadline) {
      logger.warn({ ...log, reason: outcome.reason }, 'Bitrix24: callback not delivered before the job expired');
      await this.#finish(job, 'expired');
      return false;
    }
    logger.warn(
      { ...log, reason: outcome.reason, retryInMs: nextAttemptAt - Date.now() },
      'Bitrix24: callback will be retried',
    );
    const next = { ...job, attempts, nextAttemptAt };
    await jobs.save(next);
    this.#schedule(next);
    return true;
  }

  /** Ends a job; only an answer the portal took counts as delivered (an error callback is a failed job). */
  async #finish(job: Job, outcome: string): Promise<void> {
    await this.#options.jobs.finish(job, outcome);
    this.#options.countJob(outcome === 'delivered' && job.state === 'answered' ? 'delivered' : 'failed');
  }
}

function errorBody(code: number, error: string, message: string): ErrorCallback {
  return { message, error, code, api_request_completed: false };
}

/** A failed gateway call → the error callback body; `code` ≥ 500 shows the user "provider error". */
function errorFromGateway(error: unknown): ErrorCallback {
  if (error instanceof OpenAI.APIError && error.status !== undefined) {
    return errorBody(error.status, String(error.code ?? error.type ?? 'gateway_error'), error.message);
  }
  if (error instanceof OpenAI.APIConnectionTimeoutError)
    return errorBody(504, 'timeout', 'The model did not answer in time.');
  return errorBody(503, 'gateway_unreachable', 'The gateway could not be reached.');
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
