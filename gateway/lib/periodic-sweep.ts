import type { Logger } from './logger.ts';
import { type Store, tryLease } from './store.ts';

/*
 * Clean-up that runs now and then in the background, by one instance at a time when several share
 * a Redis store (under a lease as long as the interval). A failure part-way is logged, and the next
 * run picks up what was left.
 */

export interface PeriodicSweepOptions {
  store: Store;
  /** The lease's name, unique to this sweep. */
  lease: string;
  everyMs: number;
  logger: Logger;
  /** Says which sweep stopped, in the log line. */
  label: string;
  /** Removes what is due, calling removed() for each thing removed. */
  sweep: (removed: () => void) => Promise<void>;
}

export class PeriodicSweep {
  readonly #options: PeriodicSweepOptions;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: PeriodicSweepOptions) {
    this.#options = options;
  }

  /** Runs every `everyMs` until close(). */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.run(), this.#options.everyMs);
    this.#timer.unref();
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One run now; how many things it removed (0 when another instance holds the lease). */
  async run(): Promise<number> {
    const { store, lease: name, everyMs, logger, label, sweep } = this.#options;
    const lease = await tryLease(store, name, everyMs).catch(() => undefined);
    if (lease === undefined) return 0;
    let count = 0;
    try {
      await sweep(() => {
        count += 1;
      });
    } catch (error) {
      logger.warn({ err: error }, `${label} stopped early`);
    } finally {
      await lease.release().catch(() => {});
    }
    return count;
  }
}
