import type OpenAI from 'openai';
import type { Logger } from 'pino';
import type { B24Config } from './config.ts';
import type { CountJob } from './job-metrics.ts';
import type { JobStore } from './jobs.ts';
import type { PortalStore } from './portal-store.ts';
import type { PortalRateLimit } from './rate-limit.ts';
import type { JobWorker } from './worker.ts';

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
