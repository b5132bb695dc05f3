import { UpstreamError } from '../../openai/errors.ts';
import type { OpenAIChatChunk, OpenAIChunkDelta, OpenAIFinishReason, OpenAIUsage } from '../../openai/types.ts';
import { mapGeminiFinishReason } from './map-finish-reason.ts';
import { geminiCompletionId, mapGeminiUsage, toOpenAIToolCall } from './translate-response.ts';
import type { GeminiResponse } from './wire-types.ts';

export interface GeminiStreamContext {
  /** The upstream model id; the HTTP layer names the answer as the client asked (an alias, a `provider/` prefix). */
  model: string;
  includeUsage: boolean;
  /** Used when Gemini sends no response id. */
  fallbackId: string;
}

interface ChoiceState {
  started: boolean;
  finished: boolean;
  /** Tool-call `index`, counted over the whole stream: OpenAI accumulators key arguments by it. */
  toolCalls: number;
}

/**
 * Gemini stream events → OpenAI chunks, forwarded as they arrive. Per candidate: the role first,
 * text deltas, each function call as one complete tool_calls delta, the finish reason when
 * Gemini gives it (tool_calls when there were calls), then usage once at the end when asked for.
 * Gemini's usage is cumulative, so the last one counts; it is returned either way.
 */
export async function* translateGeminiStream(
  events: AsyncIterable<GeminiResponse>,
  context: GeminiStreamContext,
): AsyncGenerator<OpenAIChatChunk, OpenAIUsage | undefined> {
  const created = Math.floor(Date.now() / 1000);
  let id: string | undefined;
  let usage: OpenAIUsage | undefined;
  const choices = new Map<number, ChoiceState>();
  const chunk = (
    index: number,
    delta: OpenAIChunkDelta,
    finishReason: OpenAIFinishReason | null = null,
  ): OpenAIChatChunk => ({
    id: id ?? context.fallbackId,
    object: 'chat.completion.chunk',
    created,
    model: context.model,
    choices: [{ index, delta, logprobs: null, finish_reason: finishReason }],
    ...(context.includeUsage ? { usage: null } : {}),
  });

  for await (const event of events) {
    id ??= geminiCompletionId(event, context.fallbackId);
    if (event.usageMetadata !== undefined) usage = mapGeminiUsage(event.usageMetadata);
    const candidates = event.candidates ?? [];
    if (candidates.length === 0 && event.promptFeedback?.blockReason !== undefined && choices.size === 0) {
      choices.set(0, { started: true, finished: true, toolCalls: 0 });
      yield chunk(0, { role: 'assistant', content: null }, 'content_filter');
      continue;
    }
    for (const [position, candidate] of candidates.entries()) {
      const index = candidate.index ?? position;
      let state = choices.get(index);
      if (state === undefined) {
        state = { started: true, finished: false, toolCalls: 0 };
        choices.set(index, state);
        yield chunk(index, { role: 'assistant', content: '' });
      }
      if (state.finished) continue;
      for (const part of candidate.content?.parts ?? []) {
        if (part.functionCall !== undefined) {
          yield chunk(index, { tool_calls: [{ index: state.toolCalls++, ...toOpenAIToolCall(part) }] });
        } else if (part.text !== undefined && part.text !== '' && part.thought !== true) {
          yield chunk(index, { content: part.text });
        }
      }
      if (candidate.finishReason !== undefined) {
        state.finished = true;
        yield chunk(index, {}, mapGeminiFinishReason(candidate.finishReason, state.toolCalls > 0));
      }
    }
  }

  if (choices.size === 0 || [...choices.values()].some((state) => !state.finished)) {
    throw new UpstreamError("Gemini's stream ended before the answer was complete.");
  }
  if (context.includeUsage && usage !== undefined) {
    yield {
      id: id ?? context.fallbackId,
      object: 'chat.completion.chunk',
      created,
      model: context.model,
      choices: [],
      usage,
    };
  }
  return usage;
}
