import { validateEmbeddingsRequest } from '../openai/embeddings-request.schema.ts';
import type { OpenAIEmbeddingResponse } from '../openai/types.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { GatewayMiddleware } from './state.ts';
import { exposeUpstreamRequestId, providerCall } from './upstream-call.ts';

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
export function embeddings(registry: ProviderRegistry): GatewayMiddleware {
  return async function createEmbeddings(ctx) {
    const request = validateEmbeddingsRequest(ctx.request.body);
    const { provider, model } = registry.resolve(request.model);
    ctx.state.model = request.model;
    ctx.state.provider = provider.name;
    const input = typeof request.input === 'string' ? [request.input] : request.input;
    const call = providerCall(ctx);
    let result: Awaited<ReturnType<typeof provider.embed>>;
    try {
      result = await provider.embed({ ...request, model, input }, call);
    } finally {
      exposeUpstreamRequestId(ctx, call);
    }
    const base64 = request.encoding_format === 'base64';
    const body: OpenAIEmbeddingResponse = {
      object: 'list',
      model: request.model,
      data: result.vectors.map((vector, index) => ({
        object: 'embedding',
        index,
        // Float32 either way, so both encodings give a client the very same numbers.
        embedding: base64 ? encodeFloat32Base64(vector) : vector.map(Math.fround),
      })),
      usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
    };
    ctx.body = body;
  };
}
