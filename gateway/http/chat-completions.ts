import type { Logger } from '../lib/logger.ts';
import { validateChatRequest } from '../openai/chat-request.schema.ts';
import type { OpenAIUsage } from '../openai/types.ts';
import type { ChatStream } from '../providers/provider.ts';
import { answeredModel, type Dispatcher, openStream } from './dispatch.ts';
import { sendEventStream } from './event-stream.ts';
import { logPrompt } from './prompt-log.ts';
import { sendJson } from './send-json.ts';
import type { Exchange } from './state.ts';

/** Answers one exchange from its parsed body; throws, with nothing written yet, when it cannot. */
export type ChatCompletionHandler = (exchange: Exchange, body: unknown) => Promise<void>;

/**
 * `POST /v1/chat/completions`: validate, route by model (dispatch.ts), answer as JSON or as an
 * event stream. Writes the answer itself: the chat entrance (chat-entrance.ts) runs it without Koa.
 */
export function createChatCompletion(dispatcher: Dispatcher, logger: Logger): ChatCompletionHandler {
  return async function answerChatCompletion(exchange, body) {
    const request = validateChatRequest(body);
    logPrompt({ model: request.model, messages: request.messages });
    const route = await dispatcher.open(exchange, request.model);

    if (request.stream !== true) {
      const { value: completion, target } = await dispatcher.call(exchange, route, (target, call) =>
        target.provider.complete({ ...request, model: target.model }, call),
      );
      sendJson(exchange.res, 200, { ...completion, model: answeredModel(request.model, route, target) });
      dispatcher.record(exchange, target, completion.usage);
      return;
    }
    // Retries and fallbacks end with the first chunk: after it, bytes are on their way to the client.
    const { value: opened, target } = await dispatcher.call(exchange, route, (target, call) =>
      openStream(target, request, call),
    );
    const { chunks, first } = opened;
    const name = answeredModel(request.model, route, target);
    const echoed = target.model === name ? chunks : renameModel(chunks, name);
    if (first.done !== true) first.value.model = name;
    const usage = await sendEventStream(exchange, first, echoed, logger);
    dispatcher.record(exchange, target, usage as OpenAIUsage | undefined);
  };
}

// The client asked for another name than the upstream's (`provider/model`); chunks echo it, and the stream's usage comes back.
async function* renameModel(chunks: ChatStream, name: string): ChatStream {
  let step = await chunks.next();
  for (; step.done !== true; step = await chunks.next()) {
    step.value.model = name;
    yield step.value;
  }
  return step.value;
}
