import type { PortalStore } from '../portal/portal-store.ts';
import { keysWithPrefix } from '../store.ts';
import type { ErrorCallback } from './callbacks.ts';
import type { EngineRequest } from './engine-request.ts';

/**
 * `queued`: accepted (answered 202), the model not asked yet. `answered` / `failed`: the callback
 * body is ready, delivery pending. `done`: delivered, refused or expired; only a tombstone remains.
 */
export type JobState = 'queued' | 'answered' | 'failed' | 'done';

/** One Bitrix24 engine request, kept in the store from the 202 until its callback is through. */
export interface Job {
  /** The portal's queue hash: one job per hash, so a repeated request is not answered twice. */
  id: string;
  memberId: string;
  engineCode: string;
  model: string;
  state: JobState;
  /** Dropped once the job is done: prompts are not kept longer than needed. */
  request: EngineRequest | undefined;
  result: string | undefined;
  error: ErrorCallback | undefined;
  /** Callback attempts so far. */
  attempts: number;
  receivedAt: number;
  /** After this (received + ttl) the portal has dropped the job; nothing is sent any more. */
  deadline: number;
  nextAttemptAt: number;
  outcome: string | undefined;
}

const JOB_PREFIX = 'job:';
/** The prefix of a portal's jobs in the store, so uninstalling finds them. */
export const jobKeyPrefix = (memberId: string) => `${JOB_PREFIX}${memberId}:`;
/** The one place a job's store key is made: `job:<member_id>:<hash>`. */
export const jobKey = (job: Pick<Job, 'memberId' | 'id'>) => `${jobKeyPrefix(job.memberId)}${job.id}`;

/** Jobs in the keyv store under `job:<member_id>:<hash>`. */
export class JobStore {
  readonly #portals: PortalStore;

  constructor(portals: PortalStore) {
    this.#portals = portals;
  }

  /** Stores a new job; false when a job with this hash exists already (a repeated request). */
  create(job: Job): Promise<boolean> {
    return this.#portals.withLock(jobKeyPrefix(job.memberId), async () => {
      const key = jobKey(job);
      if ((await this.#portals.store.get(key)) !== undefined) return false;
      await this.#portals.store.set(key, job);
      return true;
    });
  }

  async get(memberId: string, id: string): Promise<Job | undefined> {
    return (await this.#portals.store.get<Job>(jobKey({ memberId, id }))) ?? undefined;
  }

  async save(job: Job): Promise<void> {
    await this.#portals.store.set(jobKey(job), job);
  }

  async remove(job: Job): Promise<void> {
    await this.#portals.store.delete(jobKey(job));
  }

  /** Keeps only a tombstone of a finished job, until its deadline, so a repeat is still recognised. */
  async finish(job: Job, outcome: string): Promise<Job> {
    const done: Job = { ...job, state: 'done', request: undefined, result: undefined, error: undefined, outcome };
    await this.save(done);
    return done;
  }

  /** Every job not done yet, oldest first; tombstones past their deadline are deleted on the way. */
  async pending(now: number = Date.now()): Promise<Job[]> {
    const jobs: Job[] = [];
    for (const key of await keysWithPrefix(this.#portals.store, JOB_PREFIX)) {
      const job = await this.#portals.store.get<Job>(key);
      if (job === undefined) continue;
      if (job.state === 'done') {
        if (job.deadline < now) await this.#portals.store.delete(key);
      } else {
        jobs.push(job);
      }
    }
    return jobs.sort((a, b) => a.receivedAt - b.receivedAt);
  }
}
