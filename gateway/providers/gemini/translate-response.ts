import { UpstreamError } from '../../openai/errors.ts';
import type { OpenAIChatCompletion, OpenAIResponseMessage, OpenAIToolCall, OpenAIUsage } from '../../openai/types.ts';
import { mapGeminiFinishReason } from './map-finish-reason.ts';
import { encodeGeminiToolCallId } from './tool-call-id.ts';
import type { GeminiCandidate, GeminiPart, GeminiResponse, GeminiUsage } from './wire-types.ts';

export interface GeminiResponseContext {
  /** The upstream model id; the HTTP layer names the answer as the client asked (an alias, a `provider/` prefix). */
  model: string;
}

/** `chatcmpl-` + Gemini's response id, so logs on both sides can be matched. */
export function geminiCompletionId(response: Pick<GeminiResponse, 'responseId'>, fallback: string): string {
  return response.responseId === undefined ? fallback : `chatcmpl-${response.responseId}`;
}

/**
 * Gemini usage → OpenAI usage. Gemini counts thoughts apart from the answer; OpenAI's completion
 * tokens include reasoning, which is also what the caller is billed for.
 */
export function mapGeminiUsage(usage: GeminiUsage): OpenAIUsage {
  const prompt = usage.promptTokenCount ?? 0;
  const thoughts = usage.thoughtsTokenCount ?? 0;
  const completion = (usage.candidatesTokenCount ?? 0) + thoughts;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: usage.totalTokenCount ?? prompt + completion,
    prompt_tokens_details: { cached_tokens: usage.cachedContentTokenCount ?? 0 },
    completion_tokens_details: { reasoning_tokens: thoughts },
  };
}

/** A Gemini functionCall part → an OpenAI tool call; the id carries Gemini's id and thought signature. */
export function toOpenAIToolCall(part: GeminiPart): OpenAIToolCall {
  const call = part.functionCall ?? {};
  return {
    id: encodeGeminiToolCallId({
      ...(call.id ? { geminiId: call.id } : {}),
      ...(part.thoughtSignature ? { signature: part.thoughtSignature } : {}),
    }),
    type: 'function',
    function: { name: call.name ?? '', arguments: JSON.stringify(call.args ?? {}) },
  };
}

/** The answer's text: every text part that is not a thought. */
export function answerText(parts: readonly GeminiPart[]): string {
  let text = '';
  for (const part of parts) if (part.text !== undefined && part.thought !== true) text += part.text;
  return text;
}

/** Gemini generateContent response → OpenAI chat completion. */
export function translateGeminiResponse(
  response: GeminiResponse,
  id: string,
  context: GeminiResponseContext,
): OpenAIChatCompletion {
  const candidates = response.candidates ?? [];
  const base = {
    id,
    object: 'chat.completion' as const,
    created: Math.floor(Date.now() / 1000),
    model: context.model,
    ...(response.usageMetadata === undefined ? {} : { usage: mapGeminiUsage(response.usageMetadata) }),
  };
  if (candidates.length === 0) {
    if (response.promptFeedback?.blockReason === undefined)
      throw new UpstreamError('Gemini answered without a candidate.');
    // A blocked prompt is an answer, not a failure: OpenAI clients know content_filter.
    const message: OpenAIResponseMessage = { role: 'assistant', content: null, refusal: null };
    return { ...base, choices: [{ index: 0, message, logprobs: null, finish_reason: 'content_filter' }] };
  }
  return { ...base, choices: candidates.map((candidate, position) => translateCandidate(candidate, position)) };
}

function translateCandidate(candidate: GeminiCandidate, position: number): OpenAIChatCompletion['choices'][number] {
  const parts = candidate.content?.parts ?? [];
  const toolCalls = parts.filter((part) => part.functionCall !== undefined).map(toOpenAIToolCall);
  const text = answerText(parts);
  const finishReason = mapGeminiFinishReason(candidate.finishReason, toolCalls.length > 0);
  const empty = toolCalls.length > 0 || finishReason === 'content_filter' ? null : '';
  const message: OpenAIResponseMessage = { role: 'assistant', content: text === '' ? empty : text, refusal: null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return { index: candidate.index ?? position, message, logprobs: null, finish_reason: finishReason };
}
