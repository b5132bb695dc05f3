import type { Logger } from '../lib/logger.ts';
import { validateChatRequest } from '../openai/chat-request.schema.ts';
import type { OpenAIChatChunk } from '../openai/types.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import { sendEventStream } from './event-stream.ts';
import type { GatewayMiddleware } from './state.ts';
import { exposeUpstreamRequestId, providerCall } from './upstream-call.ts';

/** `POST /v1/chat/completions`: validate, route by model, answer as JSON or as an event stream. */
export function chatCompletions(registry: ProviderRegistry, logger: Logger): GatewayMiddleware {
  return async function createChatCompletion(ctx) {
    const request = validateChatRequest(ctx.request.body);
    const { provider, model } = registry.resolve(request.model);
    ctx.state.model = request.model;
    ctx.state.provider = provider.name;
    const call = providerCall(ctx);
    const upstreamRequest = { ...request, model };

    if (request.stream !== true) {
      try {
        const completion = await provider.complete(upstreamRequest, call);
        ctx.body = { ...completion, model: request.model };
      } finally {
        exposeUpstreamRequestId(ctx, call);
      }
      return;
    }
    const chunks = provider.stream(upstreamRequest, call)[Symbol.asyncIterator]();
    let first: IteratorResult<OpenAIChatChunk>;
    try {
      first = await chunks.next();
    } finally {
      exposeUpstreamRequestId(ctx, call);
    }
    const echoed = model === request.model ? chunks : renameModel(chunks, request.model);
    if (first.done !== true) first.value.model = request.model;
    await sendEventStream(ctx, first, echoed, logger);
  };
}

// With `provider/model` the client asked for a longer name than the upstream's; chunks echo it.
async function* renameModel(chunks: AsyncIterator<OpenAIChatChunk>, name: string): AsyncGenerator<OpenAIChatChunk> {
  for (let step = await chunks.next(); step.done !== true; step = await chunks.next()) {
    step.value.model = name;
    yield step.value;
  }
}
