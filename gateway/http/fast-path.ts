import type { IncomingMessage, ServerResponse } from 'node:http';
import { runInRequest } from '../lib/request-context.ts';
import { createChatCompletion } from './chat-completions.ts';
import { accessLogWriter } from './middleware/access-log.ts';
import { apiKeyCheck } from './middleware/auth.ts';
import { answerForFailure } from './middleware/error-handler.ts';
import { readJsonBody } from './middleware/json-body.ts';
import { requestIdFor } from './middleware/request-id.ts';
import { createPromptSink } from './prompt-log.ts';
import { dispatcherFor, type RouterDeps } from './router.ts';
import { sendJson } from './send-json.ts';
import type { Exchange } from './state.ts';
import { dropUnreadBody } from './unread-body.ts';

const CHAT_PATH = '/v1/chat/completions';

/** Answers a request and returns true, or returns false to leave it to Koa. */
export type FastPath = (request: IncomingMessage, response: ServerResponse) => boolean;

/**
 * `POST /v1/chat/completions` without Koa: Koa's context, middleware chain and router cost more
 * CPU per request than the rest of the gateway's own work (README, Performance). The steps are
 * the Koa chain's, from the same functions and in the same order: an unread body dropped, request
 * id, one access-log line, API key, JSON body (413), the handler, OpenAI-shaped errors. Every other
 * request, and this path spelled any other way, goes through Koa.
 */
export function createFastPath(deps: RouterDeps): FastPath {
  const { config, logger, metrics } = deps;
  const checkApiKey = apiKeyCheck(config.apiKeys);
  const logRequest = accessLogWriter(logger, metrics);
  const chatCompletion = createChatCompletion(dispatcherFor(deps), logger);
  const logPrompt = createPromptSink(logger, config.logPrompts);

  async function answer(exchange: Exchange): Promise<void> {
    const started = performance.now();
    const { req, res, state } = exchange;
    res.setHeader('x-request-id', state.requestId);
    try {
      const clientName = checkApiKey(req.headers.authorization);
      if (clientName !== undefined) state.clientName = clientName;
      await chatCompletion(exchange, await readJsonBody(req, config.maxBodyBytes));
    } catch (error) {
      const failure = answerForFailure(error, exchange, logger);
      if (failure !== undefined && !res.headersSent) sendJson(res, failure.status, failure.toBody(), failure.headers);
    } finally {
      dropUnreadBody(req);
      logRequest(exchange, CHAT_PATH, CHAT_PATH, started, res.statusCode);
    }
  }

  return function fastPath(req, res) {
    if (req.method !== 'POST' || req.url !== CHAT_PATH) return false;
    const requestId = requestIdFor(req.headers['x-request-id'] as string | undefined);
    void runInRequest({ requestId, logPrompt }, () => answer({ req, res, state: { requestId } }));
    return true;
  };
}
