import { randomBytes } from 'node:crypto';
import { UpstreamError } from '../../openai/errors.ts';
import type { OpenAIChatCompletion, OpenAIResponseMessage, OpenAIToolCall, OpenAIUsage } from '../../openai/types.ts';
import { mapGigaChatFinishReason } from './map-finish-reason.ts';
import { findStopSequence } from './stop-sequences.ts';
import type { GigaChatCompletion, GigaChatFunctionCall, GigaChatUsage } from './wire-types.ts';

export interface GigaChatResponseContext {
  /** The `chatcmpl-…` id the client sees. */
  id: string;
  /** The upstream model id; the HTTP layer names the answer as the client asked (an alias, a `provider/` prefix). */
  model: string;
  stop: readonly string[];
}

/** GigaChat usage → OpenAI usage; `precached_prompt_tokens` are OpenAI's cached tokens. */
export function mapGigaChatUsage(usage: GigaChatUsage): OpenAIUsage {
  return {
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    total_tokens: usage.total_tokens,
    prompt_tokens_details: { cached_tokens: usage.precached_prompt_tokens ?? 0 },
  };
}

/** GigaChat's one function call → an OpenAI tool call with JSON-string arguments. */
export function toOpenAIToolCall(call: GigaChatFunctionCall, stateId: string | undefined): OpenAIToolCall {
  return {
    id: `call_${stateId ?? randomBytes(12).toString('hex')}`,
    type: 'function',
    function: { name: call.name, arguments: JSON.stringify(call.arguments ?? {}) },
  };
}

/** GigaChat chat completion → OpenAI chat completion. */
export function translateGigaChatResponse(
  completion: GigaChatCompletion,
  context: GigaChatResponseContext,
): OpenAIChatCompletion {
  const choice = completion.choices?.[0];
  if (choice === undefined) throw new UpstreamError('GigaChat answered without a choice.');
  const { content = '', function_call: functionCall, functions_state_id: stateId, reasoning_content } = choice.message;
  let finishReason = mapGigaChatFinishReason(choice.finish_reason);
  const message: OpenAIResponseMessage = { role: 'assistant', content, refusal: null };
  if (functionCall !== undefined) {
    message.tool_calls = [toOpenAIToolCall(functionCall, stateId)];
    if (content === '') message.content = null;
  } else {
    const stopAt = findStopSequence(content, context.stop);
    if (stopAt !== -1) {
      message.content = content.slice(0, stopAt);
      finishReason = 'stop';
    }
  }
  if (reasoning_content !== undefined) message.reasoning_content = reasoning_content;
  return {
    id: context.id,
    object: 'chat.completion',
    created: completion.created,
    model: context.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
    ...(completion.usage === undefined ? {} : { usage: mapGigaChatUsage(completion.usage) }),
  };
}
