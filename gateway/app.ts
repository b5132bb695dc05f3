import type { RequestListener } from 'node:http';
import Koa from 'koa';
import { staticKeyDirectory } from './clients/key-directory.ts';
import type { AppDeps, RouteDeps } from './http/app-deps.ts';
import { createChatEntrance } from './http/chat-entrance.ts';
import { createDispatcher, type Dispatcher } from './http/dispatch.ts';
import { accessLog, accessLogWriter } from './http/middleware/access-log.ts';
import { apiKeyCheck } from './http/middleware/auth.ts';
import { errorHandler, rejectUnrouted } from './http/middleware/error-handler.ts';
import { requestId } from './http/middleware/request-id.ts';
import { createPromptSink } from './http/prompt-log.ts';
import { createRouter } from './http/router.ts';
import type { GatewayState } from './http/state.ts';
import { unreadBody } from './http/unread-body.ts';
import { Accounts } from './routing/accounts.ts';

export type { AppDeps, MountedApp } from './http/app-deps.ts';

/** The dispatcher of an app's parts (main.ts makes it first when background responses need it too). */
export function dispatcherOf(deps: AppDeps & { accounts: Accounts }): Dispatcher {
  return createDispatcher({
    router: deps.models,
    accounts: deps.accounts,
    policy: deps.policy,
    metrics: deps.metrics,
    logger: deps.logger,
    retry: deps.config.retry,
    files: deps.files,
  });
}

/**
 * The gateway's request listener, without listening: tests and main.ts start it on their own
 * server. The chat entrance answers `POST /v1/chat/completions`; Koa answers everything else.
 */
export function createApp(deps: AppDeps): RequestListener {
  const { config, logger, metrics } = deps;
  const accounts = deps.accounts ?? Accounts.ofRegistry(deps.registry);
  const routeDeps: RouteDeps = {
    ...deps,
    accounts,
    dispatcher: deps.dispatcher ?? dispatcherOf({ ...deps, accounts }),
    checkApiKey: apiKeyCheck(deps.keyStore?.directory ?? staticKeyDirectory(config.clients)),
  };
  const logRequest = accessLogWriter(logger, metrics);
  const logPrompt = createPromptSink(logger, config.logPrompts);

  const koa = new Koa<GatewayState>();
  const router = createRouter(routeDeps);
  koa.use(unreadBody);
  koa.use(requestId(logPrompt));
  koa.use(accessLog(logRequest));
  koa.use(errorHandler(logger));
  koa.use(rejectUnrouted);
  koa.use(router.routes());
  koa.use(router.allowedMethods());
  if (deps.mounted !== undefined) koa.use(deps.mounted.middleware);
  // Errors Koa itself sees after a response began (a socket error mid-body, say).
  koa.on('error', (error: unknown) => logger.warn({ err: error }, 'response error'));

  const answerChat = createChatEntrance({
    ...routeDeps,
    logRequest,
    logPrompt,
    koaPath: (request, response) => koa.createContext(request, response).path,
  });
  const answerWithKoa = koa.callback();
  return function gateway(request, response) {
    if (!answerChat(request, response)) void answerWithKoa(request, response);
  };
}
