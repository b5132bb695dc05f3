import type { Logger } from '../lib/logger.ts';
import { validateChatRequest } from '../openai/chat-request.schema.ts';
import type { OpenAIChatChunk } from '../openai/types.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import { sendEventStream } from './event-stream.ts';
import { sendJson } from './send-json.ts';
import type { Exchange, GatewayMiddleware } from './state.ts';
import { exposeUpstreamRequestId, providerCall } from './upstream-call.ts';

/** Answers one exchange from its parsed body; throws, with nothing written yet, when it cannot. */
export type ChatCompletionHandler = (exchange: Exchange, body: unknown) => Promise<void>;

/**
 * `POST /v1/chat/completions`: validate, route by model, answer as JSON or as an event stream.
 * Writes the answer itself, so the Koa route and the fast path (fast-path.ts) share it.
 */
export function createChatCompletion(registry: ProviderRegistry, logger: Logger): ChatCompletionHandler {
  return async function answerChatCompletion(exchange, body) {
    const request = validateChatRequest(body);
    const { provider, model } = registry.resolve(request.model);
    exchange.state.model = request.model;
    exchange.state.provider = provider.name;
    const call = providerCall(exchange);
    const upstreamRequest = { ...request, model };

    if (request.stream !== true) {
      let completion: Awaited<ReturnType<typeof provider.complete>>;
      try {
        completion = await provider.complete(upstreamRequest, call);
      } finally {
        exposeUpstreamRequestId(exchange, call);
      }
      sendJson(exchange.res, 200, { ...completion, model: request.model });
      return;
    }
    const chunks = provider.stream(upstreamRequest, call)[Symbol.asyncIterator]();
    let first: IteratorResult<OpenAIChatChunk>;
    try {
      first = await chunks.next();
    } finally {
      exposeUpstreamRequestId(exchange, call);
    }
    const echoed = model === request.model ? chunks : renameModel(chunks, request.model);
    if (first.done !== true) first.value.model = request.model;
    await sendEventStream(exchange, first, echoed, logger);
  };
}

/** The Koa route: the body comes from the json-body middleware, and Koa leaves the written answer alone. */
export function chatCompletions(registry: ProviderRegistry, logger: Logger): GatewayMiddleware {
  const handle = createChatCompletion(registry, logger);
  return async function chatCompletionRoute(ctx) {
    await handle(ctx, ctx.request.body);
    ctx.respond = false;
  };
}

// With `provider/model` the client asked for a longer name than the upstream's; chunks echo it.
async function* renameModel(chunks: AsyncIterator<OpenAIChatChunk>, name: string): AsyncGenerator<OpenAIChatChunk> {
  for (let step = await chunks.next(); step.done !== true; step = await chunks.next()) {
    step.value.model = name;
    yield step.value;
  }
}
