import Router from '@koa/router';
import type { Middleware } from 'koa';
import type OpenAI from 'openai';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { SecretBox } from '../gateway/lib/secrets/secret-box.ts';
import type { B24Config } from './config.ts';
import type { B24Deps } from './deps.ts';
import { engineEndpoint } from './engine/engine-endpoint.ts';
import { createJobCounter } from './engine/job-metrics.ts';
import { JobStore } from './engine/jobs.ts';
import { PortalRateLimit } from './engine/rate-limit.ts';
import { JobWorker } from './engine/worker.ts';
import { createGatewayClient } from './gateway-client.ts';
import { answerUnreadableSecrets } from './http/sealed-secret-answer.ts';
import { eventsEndpoint } from './install/events-endpoint.ts';
import { installEndpoint } from './install/install-endpoint.ts';
import { sweepPendingUninstalls } from './install/uninstall.ts';
import { appPage } from './page/app-page-endpoint.ts';
import { serveAsset } from './page/assets-endpoint.ts';
import { pageSession, readState, reregister, rotateEngineUrls, tryPrompt } from './page/page-api-endpoint.ts';
import { PortalStore } from './portal/portal-store.ts';
import { loadSigningKey } from './portal/signing-key.ts';
import type { B24StoreAccess } from './store.ts';

export interface B24AppOptions {
  config: B24Config;
  logger: Logger;
  /** Seals the portals' tokens and the stored signing key (GATEWAY_SECRET_KEY). */
  secrets: SecretBox;
  /** The process's store connection (STORE_URL); its owner closes it after close(). */
  store: B24StoreAccess;
  /**
   * Where the gateway answers when B24_GATEWAY_URL is not set: this same process. Asked when the
   * app first calls the gateway, which is after the gateway listens (with PORT=0 its URL is known
   * only then).
   */
  localGatewayUrl: () => string;
  /** A client key of the local gateway, when GATEWAY_API_KEYS is set. */
  localGatewayApiKey: string | undefined;
  /** First callback retry delay (tests shorten it). */
  retryBaseMs?: number;
  /** Where `gigagate_b24_jobs_total` is registered (the gateway's metrics); none counts nothing. */
  metricsRegistry?: Registry;
}

export interface B24App {
  /** The app's routes, to mount on a Koa application; they answer from the start. */
  middleware: Middleware;
  deps: B24Deps;
  /** `starting` until start() has resumed the jobs, then `ready`. */
  state(): 'starting' | 'ready';
  /**
   * Seals stored secrets that need it (plaintext, or an older key), then resumes the jobs a previous
   * process accepted: call it once the gateway they ask answers.
   */
  start(): Promise<void>;
  /** Stops the worker, aborting model calls (their jobs resume on the next start); routes keep answering. */
  stop(): Promise<void>;
  /** Stops the worker; the store stays open for its owner to close. */
  close(): Promise<void>;
}

/** The app's routes, all under /b24/. */
export function createB24Router(deps: B24Deps): Router {
  const router = new Router();
  const session = pageSession(deps);
  router.post('/b24/install', installEndpoint(deps));
  router.get('/b24/app', appPage(deps));
  router.post('/b24/app', appPage(deps));
  router.get('/b24/app/api/state', session, readState(deps));
  router.post('/b24/app/api/engines', session, reregister(deps));
  router.post('/b24/app/api/rotate', session, rotateEngineUrls(deps));
  router.post('/b24/app/api/try', session, tryPrompt(deps));
  router.post('/b24/events', eventsEndpoint(deps));
  router.get('/b24/engine/:key/:code', engineEndpoint(deps));
  router.post('/b24/engine/:key/:code', engineEndpoint(deps));
  router.get('/b24/assets/:name', serveAsset);
  return router;
}

/**
 * Creates the Bitrix24 app on the store it is handed: loads the signing key and builds its routes,
 * which answer at once. It reaches the gateway only through the OpenAI SDK; start() then resumes
 * the unfinished jobs.
 */
export async function createB24App(options: B24AppOptions): Promise<B24App> {
  const { config, logger, secrets } = options;
  const store = options.store.keyv;
  const portals = new PortalStore(store, secrets);
  const jobs = new JobStore(portals);
  const countJob = createJobCounter(options.metricsRegistry);
  let client: OpenAI | undefined;
  // Made on first use, which comes after the gateway listens (with PORT=0 its URL is known only
  // then); the worker and the handlers get it through a getter.
  const gateway = () =>
    (client ??= createGatewayClient(
      config.gatewayUrl?.toString() ?? options.localGatewayUrl(),
      config.gatewayApiKey ?? options.localGatewayApiKey,
    ));
  const worker = new JobWorker({
    jobs,
    portals,
    get gateway() {
      return gateway();
    },
    logger,
    concurrency: 4,
    retryBaseMs: options.retryBaseMs ?? 2_000,
    countJob,
    lease: options.store.lease,
    sweepPortals: () => sweepPendingUninstalls(deps),
  });
  const deps: B24Deps = {
    config,
    logger,
    portals,
    jobs,
    worker,
    countJob,
    get gateway() {
      return gateway();
    },
    rateLimit: new PortalRateLimit(config.rateLimitPerMinute),
    signingKey: await loadSigningKey(store, secrets, config.signingKey),
  };
  if (config.publicUrl.protocol !== 'https:') {
    logger.warn('PUBLIC_URL is plain http: fine for local tests, but Bitrix24 needs https in production');
  }
  if (config.oauth === undefined) {
    logger.warn('Bitrix24 app: B24_CLIENT_ID is not set, so installs are refused; webhook engines still work');
  }
  const router = createB24Router(deps);
  const routes = router.routes() as Middleware;
  const allowed = router.allowedMethods() as Middleware;
  const unreadable = answerUnreadableSecrets(logger);
  let state: 'starting' | 'ready' = 'starting';
  logger.info(`Bitrix24 app: enabled at ${config.publicUrl.toString().replace(/\/+$/, '')}/b24/`);
  return {
    middleware: (ctx, next) => unreadable(ctx, () => routes(ctx, () => allowed(ctx, next))),
    deps,
    state: () => state,
    async start() {
      const resealed = await portals.resealAll((memberId, error) =>
        logger.error({ memberId, problem: error.message }, 'Bitrix24: stored secrets cannot be opened'),
      );
      if (resealed > 0) {
        logger.info({ portals: resealed }, `Bitrix24: sealed the portals' secrets with key ${secrets.keyIds[0]}`);
        await options.store
          .compact()
          .catch((error: unknown) =>
            logger.warn(
              { err: error },
              'Bitrix24: could not compact the store file; replaced values stay in it a while',
            ),
          );
      }
      await worker.resume();
      state = 'ready';
      logger.info('Bitrix24 app: ready');
    },
    stop: () => worker.stop(),
    close: () => worker.stop(),
  };
}
