import type OpenAI from 'openai';
import type { Logger } from 'pino';
import type { B24Config } from './config.ts';
import type { CountJob } from './engine/job-metrics.ts';
import type { JobStore } from './engine/jobs.ts';
import type { PortalRateLimit } from './engine/rate-limit.ts';
import type { JobWorker } from './engine/worker.ts';
import type { PortalStore } from './portal/portal-store.ts';

/** What the app's request handlers share; built once by startB24App. */
export interface B24Deps {
  config: B24Config;
  logger: Logger;
  portals: PortalStore;
  jobs: JobStore;
  worker: JobWorker;
  countJob: CountJob;
  gateway: OpenAI;
  rateLimit: PortalRateLimit;
  /** HMAC key behind portal keys and page sessions (portal-key.ts). */
  signingKey: Buffer;
}

/** `<PUBLIC_URL>/b24/<path>`. */
export function publicUrl(config: B24Config, path: string): string {
  return `${config.publicUrl.toString().replace(/\/+$/, '')}/b24/${path}`;
}
