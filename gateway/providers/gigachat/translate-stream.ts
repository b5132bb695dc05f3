import { UpstreamError } from '../../openai/errors.ts';
import type { OpenAIChatChunk, OpenAIChunkDelta, OpenAIFinishReason, OpenAIUsage } from '../../openai/types.ts';
import { mapGigaChatFinishReason } from './map-finish-reason.ts';
import { StopSequenceFilter } from './stop-sequences.ts';
import { mapGigaChatUsage, toOpenAIToolCall } from './translate-response.ts';
import type { GigaChatChunk, GigaChatFinishReason } from './wire-types.ts';

export interface GigaChatStreamContext {
  id: string;
  model: string;
  includeUsage: boolean;
  stop: readonly string[];
}

/**
 * GigaChat stream chunks → OpenAI chunks, one out per piece in, as they arrive: the role first,
 * content deltas, a function call as one complete tool_calls delta (GigaChat does not stream
 * arguments), the finish reason last, then usage when asked for. Returns the usage either way
 * (none when a stop sequence ended the stream early and usage was not asked for).
 */
export async function* translateGigaChatStream(
  chunks: AsyncIterable<GigaChatChunk>,
  context: GigaChatStreamContext,
): AsyncGenerator<OpenAIChatChunk, OpenAIUsage | undefined> {
  let created = Math.floor(Date.now() / 1000);
  const chunk = (delta: OpenAIChunkDelta, finishReason: OpenAIFinishReason | null = null): OpenAIChatChunk => ({
    id: context.id,
    object: 'chat.completion.chunk',
    created,
    model: context.model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(context.includeUsage ? { usage: null } : {}),
  });
  const filter = context.stop.length > 0 ? new StopSequenceFilter(context.stop) : undefined;
  let started = false;
  let stopped = false;
  let finish: GigaChatFinishReason | undefined;
  let usage: OpenAIUsage | undefined;

  for await (const event of chunks) {
    created = event.created ?? created;
    if (event.usage !== undefined) usage = mapGigaChatUsage(event.usage);
    const choice = event.choices[0];
    if (choice === undefined) continue;
    if (choice.finish_reason !== undefined) finish = choice.finish_reason;
    if (stopped) continue; // reading on only for the usage the client asked for
    if (!started) {
      started = true;
      yield chunk({ role: 'assistant', content: '' });
    }
    const delta = choice.delta;
    if (delta.reasoning_content) yield chunk({ reasoning_content: delta.reasoning_content });
    if (delta.content) {
      const passed = filter === undefined ? { text: delta.content, stopped: false } : filter.push(delta.content);
      if (passed.text !== '') yield chunk({ content: passed.text });
      if (passed.stopped) {
        stopped = true;
        yield chunk({}, 'stop');
        if (!context.includeUsage) return undefined; // ends the upstream request too
      }
    }
    if (delta.function_call !== undefined) {
      const call = toOpenAIToolCall(delta.function_call, delta.functions_state_id);
      yield chunk({ tool_calls: [{ index: 0, ...call }] });
    }
  }

  if (!stopped) {
    if (finish === undefined) throw new UpstreamError("GigaChat's stream ended before the answer was complete.");
    const reason = mapGigaChatFinishReason(finish);
    const held = filter?.flush() ?? '';
    if (held !== '') yield chunk({ content: held });
    yield chunk({}, reason);
  }
  if (context.includeUsage && usage !== undefined) {
    yield { id: context.id, object: 'chat.completion.chunk', created, model: context.model, choices: [], usage };
  }
  return usage;
}
