import { validateEmbeddingsRequest } from '../openai/embeddings-request.schema.ts';
import type { OpenAIEmbeddingResponse } from '../openai/types.ts';
import { answeredModel, type Dispatcher } from './dispatch.ts';
import { logPrompt } from './prompt-log.ts';
import type { GatewayMiddleware } from './state.ts';

/** A vector as OpenAI's base64 encoding: little-endian float32, whatever this machine's byte order. */
export function encodeFloat32Base64(vector: readonly number[]): string {
  const bytes = Buffer.allocUnsafe(vector.length * 4);
  for (const [index, value] of vector.entries()) bytes.writeFloatLE(value, index * 4);
  return bytes.toString('base64');
}

/**
 * `POST /v1/embeddings`: validate, route by model, answer in OpenAI's list shape. The official
 * SDKs ask for base64 unless told otherwise and decode it themselves, so both encodings matter.
 */
export function embeddings(dispatcher: Dispatcher): GatewayMiddleware {
  return async function createEmbeddings(ctx) {
    const request = validateEmbeddingsRequest(ctx.request.body);
    logPrompt({ model: request.model, input: request.input });
    const route = await dispatcher.open(ctx, request.model);
    const input = typeof request.input === 'string' ? [request.input] : request.input;
    const { value: result, target } = await dispatcher.call(ctx, route, (target, call) =>
      target.provider.embed({ ...request, model: target.model, input }, call),
    );
    const base64 = request.encoding_format === 'base64';
    const body: OpenAIEmbeddingResponse = {
      object: 'list',
      model: answeredModel(request.model, route, target),
      data: result.vectors.map((vector, index) => ({
        object: 'embedding',
        index,
        // Float32 either way, so both encodings give a client the very same numbers.
        embedding: base64 ? encodeFloat32Base64(vector) : vector.map(Math.fround),
      })),
      usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
    };
    ctx.body = body;
    dispatcher.record(ctx, target, {
      prompt_tokens: result.promptTokens,
      completion_tokens: 0,
      total_tokens: result.promptTokens,
    });
  };
}
