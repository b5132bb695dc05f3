import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config.ts';
import type { Logger } from '../lib/logger.ts';
import { type PromptSink, runInRequest } from '../lib/request-context.ts';
import { createChatCompletion } from './chat-completions.ts';
import type { Dispatcher } from './dispatch.ts';
import type { AccessLogWriter } from './middleware/access-log.ts';
import type { ApiKeyCheck } from './middleware/auth.ts';
import { answerForFailure } from './middleware/error-handler.ts';
import { readJsonBody } from './middleware/json-body.ts';
import { requestIdFor } from './middleware/request-id.ts';
import { sendJson } from './send-json.ts';
import type { Exchange } from './state.ts';
import { dropUnreadBody } from './unread-body.ts';

/** The chat route's pattern, as the access log and the metrics name it. */
export const CHAT_COMPLETIONS_PATH = '/v1/chat/completions';

/** The paths @koa/router's defaults route to CHAT_COMPLETIONS_PATH: any letter case, one optional trailing slash. */
const CHAT_COMPLETIONS = /^\/v1\/chat\/completions\/?$/i;

/** Characters for which Koa's path parser (parseurl) leaves its quick cut at `?` for Node's full parser. */
const UNUSUAL_URL = /[\t\n\f\r #\u00a0\ufeff]/;

export interface ChatEntranceDeps {
  config: Config;
  logger: Logger;
  dispatcher: Dispatcher;
  checkApiKey: ApiKeyCheck;
  logRequest: AccessLogWriter;
  logPrompt: PromptSink | undefined;
  /** Koa's own reading of a request's path, for the rare request targets not cut here (absolute-form, say). */
  koaPath(request: IncomingMessage, response: ServerResponse): string;
}

/** Answers a request and returns true, or returns false to leave it to Koa. */
export type ChatEntrance = (request: IncomingMessage, response: ServerResponse) => boolean;

/**
 * The one entrance of `POST /v1/chat/completions`, in every spelling Koa's router would route there
 * (a query string, a trailing slash, other letter case), answered without Koa: its context, chain and
 * router cost more CPU per request than the rest of the gateway's own work. The steps, in order:
 * request id and context, API key, JSON body (413), the handler, OpenAI-shaped errors, an unread rest
 * of the body dropped, one access-log line. Other methods on the path go to Koa, whose router says 405.
 */
export function createChatEntrance(deps: ChatEntranceDeps): ChatEntrance {
  const { config, logger, checkApiKey, logRequest, logPrompt, koaPath } = deps;
  const chatCompletion = createChatCompletion(deps.dispatcher, logger);

  async function answer(exchange: Exchange, path: string): Promise<void> {
    const started = performance.now();
    const { req, res, state } = exchange;
    res.setHeader('x-request-id', state.requestId);
    try {
      const client = checkApiKey(req.headers.authorization);
      if (client !== undefined) {
        state.client = client;
        state.clientName = client.name;
      }
      await chatCompletion(exchange, await readJsonBody(req, config.maxBodyBytes));
    } catch (error) {
      const failure = answerForFailure(error, exchange, logger);
      if (failure !== undefined && !res.headersSent) sendJson(res, failure.status, failure.toBody(), failure.headers);
    } finally {
      dropUnreadBody(req);
      logRequest(exchange, path, CHAT_COMPLETIONS_PATH, started, res.statusCode);
    }
  }

  return function chatEntrance(req, res) {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const path = url === CHAT_COMPLETIONS_PATH ? url : pathOf(url, req, res, koaPath);
    if (path !== CHAT_COMPLETIONS_PATH && !CHAT_COMPLETIONS.test(path)) return false;
    const requestId = requestIdFor(req.headers['x-request-id'] as string | undefined);
    void runInRequest({ requestId, logPrompt }, () => answer({ req, res, state: { requestId } }, path));
    return true;
  };
}

/** A request's path as Koa reads it: the usual `/path?query` is cut at `?` here, any other target by Koa. */
function pathOf(url: string, request: IncomingMessage, response: ServerResponse, koaPath: ChatEntranceDeps['koaPath']) {
  if (url.charCodeAt(0) !== 0x2f || UNUSUAL_URL.test(url)) return koaPath(request, response);
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
