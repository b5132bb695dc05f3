import type { IncomingMessage, ServerResponse } from 'node:http';
import Koa from 'koa';
import type { ClientPolicy } from './clients/policy.ts';
import type { Config } from './config.ts';
import type { ShutdownState } from './http/drain.ts';
import { createFastPath, type FastPath } from './http/fast-path.ts';
import type { StartingPart } from './http/health.ts';
import { accessLog } from './http/middleware/access-log.ts';
import { errorHandler, rejectUnrouted } from './http/middleware/error-handler.ts';
import { requestId } from './http/middleware/request-id.ts';
import { createPromptSink } from './http/prompt-log.ts';
import { createRouter } from './http/router.ts';
import type { GatewayState } from './http/state.ts';
import { unreadBody } from './http/unread-body.ts';
import type { Logger } from './lib/logger.ts';
import type { GatewayMetrics } from './lib/metrics.ts';
import type { Store } from './lib/store.ts';
import type { ProviderRegistry } from './providers/registry.ts';
import type { ModelRouter } from './routing/model-router.ts';

export interface AppDeps {
  config: Config;
  logger: Logger;
  store: Store;
  registry: ProviderRegistry;
  /** Model names and aliases → providers (wraps the registry). */
  models: ModelRouter;
  /** Each client key's allowed models, limits and usage. */
  policy: ClientPolicy;
  metrics: GatewayMetrics;
  /** Set once a shutdown begins (main.ts); `/readyz` then answers 503. */
  shutdown?: ShutdownState;
  /** Another app served on the same server (the Bitrix24 app, composed by main.ts). */
  mounted?: MountedApp;
}

/** An app whose routes follow the gateway's, and whose start `/readyz` waits for. */
export interface MountedApp extends StartingPart {
  middleware: Koa.Middleware;
}

/** Koa, whose request listener lets the fast path answer the hot route first (http/fast-path.ts). */
class GatewayApp extends Koa<GatewayState> {
  readonly #fastPath: FastPath;

  constructor(fastPath: FastPath) {
    super();
    this.#fastPath = fastPath;
  }

  override callback(): ReturnType<Koa['callback']> {
    const koa = super.callback();
    const fastPath = this.#fastPath;
    return (request, response) =>
      fastPath(request as IncomingMessage, response as ServerResponse) ? Promise.resolve() : koa(request, response);
  }
}

/** The Koa application, without listening: tests and main.ts start it on their own server. */
export function createApp(deps: AppDeps): Koa<GatewayState> {
  const app = new GatewayApp(createFastPath(deps));
  const router = createRouter(deps);
  app.use(unreadBody);
  app.use(requestId(createPromptSink(deps.logger, deps.config.logPrompts)));
  app.use(accessLog(deps.logger, deps.metrics));
  app.use(errorHandler(deps.logger));
  app.use(rejectUnrouted);
  app.use(router.routes());
  app.use(router.allowedMethods());
  if (deps.mounted !== undefined) app.use(deps.mounted.middleware);
  // Errors Koa itself sees after a response began (a socket error mid-body, say).
  app.on('error', (error: unknown) => deps.logger.warn({ err: error }, 'response error'));
  return app;
}
