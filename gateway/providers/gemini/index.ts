import type { GeminiSettings } from '../../config.ts';
import { cached } from '../../lib/cached.ts';
import { createProxyAgent } from '../../lib/proxy-agent.ts';
import { randomId } from '../../lib/random-id.ts';
import { UpstreamError } from '../../openai/errors.ts';
import type { OpenAIChatRequest, OpenAIEmbeddingRequest, OpenAIModel, OpenAIModelKind } from '../../openai/types.ts';
import type { ChatStream, EmbeddingResult, Provider, ProviderCall } from '../provider.ts';
import { GeminiClient, geminiModelPath } from './client.ts';
import { type MediaFetchOptions, resolveGeminiMedia } from './resolve-media.ts';
import { translateGeminiRequest } from './translate-request.ts';
import { geminiCompletionId, translateGeminiResponse } from './translate-response.ts';
import { translateGeminiStream } from './translate-stream.ts';
import type { GeminiModel } from './wire-types.ts';

export interface GeminiProviderOptions {
  settings: GeminiSettings;
  /** Idle limit of one upstream call: waiting for the answer, and between two stream events. */
  timeoutMs: number;
  /** Limits for downloading https image URLs. */
  media: MediaFetchOptions;
}

/** How long Gemini's model list is reused. */
const MODELS_TTL_MS = 5 * 60_000;
/** batchEmbedContents takes at most 100 texts per call. */
const EMBED_BATCH_SIZE = 100;

function completionId(): string {
  return `chatcmpl-${randomId()}`;
}

/** A model's kind from the methods it supports; undefined for one this gateway cannot use. */
function modelKind(model: GeminiModel): OpenAIModelKind | undefined {
  const methods = model.supportedGenerationMethods ?? [];
  if (methods.includes('generateContent')) return 'chat';
  if (methods.includes('embedContent') || methods.includes('batchEmbedContents')) return 'embeddings';
  return undefined;
}

/** Gemini (Developer API, v1beta) behind the provider interface: chat, models and embeddings over its REST API. */
export function createGeminiProvider({ settings, timeoutMs, media }: GeminiProviderOptions): Provider {
  const agent = createProxyAgent(settings.proxy);
  const client = new GeminiClient(settings, agent, timeoutMs);

  const listModels = cached(async (): Promise<OpenAIModel[]> => {
    const models: OpenAIModel[] = [];
    for (const model of await client.listModels()) {
      const kind = modelKind(model);
      if (model.name === undefined || kind === undefined) continue;
      models.push({ id: model.name.replace(/^models\//, ''), object: 'model', created: 0, owned_by: 'google', kind });
    }
    return models;
  }, MODELS_TTL_MS);

  async function prepare(request: OpenAIChatRequest, call: ProviderCall) {
    const inline = await resolveGeminiMedia(request.messages, media, call);
    return translateGeminiRequest(request, inline);
  }

  async function complete(request: OpenAIChatRequest, call: ProviderCall) {
    const body = await prepare(request, call);
    const response = await client.generateContent(request.model, body, call);
    return translateGeminiResponse(response, geminiCompletionId(response, completionId()), { model: request.model });
  }

  async function* stream(request: OpenAIChatRequest, call: ProviderCall): ChatStream {
    const body = await prepare(request, call);
    // Ending early (the client left) returns through every generator down to the body, which ends the upstream request.
    return yield* translateGeminiStream(client.streamGenerateContent(request.model, body, call), {
      model: request.model,
      includeUsage: request.stream_options?.include_usage === true,
      fallbackId: completionId(),
    });
  }

  async function embed(
    request: OpenAIEmbeddingRequest & { input: string[] },
    call: ProviderCall,
  ): Promise<EmbeddingResult> {
    const result: EmbeddingResult = { vectors: [], promptTokens: 0 };
    const name = geminiModelPath(request.model);
    const input: readonly string[] = request.input;
    for (let start = 0; start < input.length; start += EMBED_BATCH_SIZE) {
      const batch = input.slice(start, start + EMBED_BATCH_SIZE);
      const response = await client.batchEmbedContents(
        request.model,
        {
          requests: batch.map((text) => ({
            model: name,
            content: { parts: [{ text }], role: 'user' },
            ...(request.dimensions === undefined ? {} : { outputDimensionality: request.dimensions }),
          })),
        },
        call,
      );
      const vectors = (response.embeddings ?? []).map((embedding) => embedding.values ?? []);
      if (vectors.length !== batch.length) {
        throw new UpstreamError(`Gemini answered with ${vectors.length} embeddings for ${batch.length} inputs.`);
      }
      // Google asks for vectors shortened by outputDimensionality to be normalised by the caller.
      result.vectors.push(...(request.dimensions === undefined ? vectors : vectors.map(normalize)));
      result.promptTokens += response.usageMetadata?.promptTokenCount ?? 0;
    }
    return result;
  }

  async function close() {
    await agent.destroy();
  }

  return { name: 'gemini', displayName: 'Gemini', complete, stream, listModels, embed, close };
}

function normalize(vector: number[]): number[] {
  const length = Math.hypot(...vector);
  return length === 0 ? vector : vector.map((value) => value / length);
}
