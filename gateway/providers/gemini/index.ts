import type { GeminiSettings } from '../../config.ts';
import { cached } from '../../lib/cached.ts';
import { createOutboundFetch } from '../../lib/outbound-fetch.ts';
import { randomId } from '../../lib/random-id.ts';
import { UpstreamError } from '../../openai/errors.ts';
import type { OpenAIChatChunk, OpenAIChatRequest, OpenAIEmbeddingRequest, OpenAIModel } from '../../openai/types.ts';
import type { EmbeddingResult, Provider, ProviderCall } from '../provider.ts';
import { createGeminiClient, type UpstreamWatchdog, upstreamWatchdog } from './client.ts';
import { type GeminiApi, geminiApiRoot, generateContent, streamGenerateContent } from './generate.ts';
import { mapGeminiFailure } from './map-error.ts';
import { type MediaFetchOptions, resolveGeminiMedia } from './resolve-media.ts';
import { translateGeminiRequest } from './translate-request.ts';
import { geminiCompletionId, translateGeminiResponse } from './translate-response.ts';
import { translateGeminiStream } from './translate-stream.ts';

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
/** Model actions that make a model usable through this gateway. */
const USABLE_ACTIONS = new Set(['generateContent', 'embedContent', 'batchEmbedContents']);

function completionId(): string {
  return `chatcmpl-${randomId()}`;
}

/**
 * Gemini (Developer API, v1beta) behind the provider interface: chat over the REST API directly
 * (generate.ts), models and embeddings through @google/genai, all through one proxy-aware pool.
 */
export function createGeminiProvider({ settings, timeoutMs, media }: GeminiProviderOptions): Provider {
  const pool = createOutboundFetch(settings.proxy);
  const ai = createGeminiClient(settings, pool);
  const api: GeminiApi = { pool, root: geminiApiRoot(settings.baseUrl), apiKey: settings.apiKey, timeoutMs };
  // The SDK's calls (models, embeddings) time out by a watchdog; chat calls by the pool's own timeouts.
  const fail = (error: unknown, watch?: UpstreamWatchdog) =>
    mapGeminiFailure(error, watch?.timedOut() ?? false, timeoutMs);

  const listModels = cached(async (): Promise<OpenAIModel[]> => {
    const watch = upstreamWatchdog(new AbortController().signal, timeoutMs);
    try {
      const models: OpenAIModel[] = [];
      const pager = await ai.models.list({ config: { pageSize: 1000, abortSignal: watch.signal } });
      for await (const model of pager) {
        if (model.name === undefined || !model.supportedActions?.some((action) => USABLE_ACTIONS.has(action))) continue;
        models.push({ id: model.name.replace(/^models\//, ''), object: 'model', created: 0, owned_by: 'google' });
      }
      return models;
    } catch (error) {
      throw fail(error, watch);
    } finally {
      watch.stop();
    }
  }, MODELS_TTL_MS);

  async function prepare(request: OpenAIChatRequest, call: ProviderCall) {
    const inline = await resolveGeminiMedia(request.messages, media, call.signal);
    return translateGeminiRequest(request, inline);
  }

  async function complete(request: OpenAIChatRequest, call: ProviderCall) {
    const plan = await prepare(request, call);
    try {
      const response = await generateContent(api, plan, call.signal);
      if (response.responseId !== undefined) call.upstreamRequestId = response.responseId;
      return translateGeminiResponse(response, geminiCompletionId(response, completionId()), { model: request.model });
    } catch (error) {
      throw fail(error);
    }
  }

  async function* stream(request: OpenAIChatRequest, call: ProviderCall): AsyncGenerator<OpenAIChatChunk> {
    const plan = await prepare(request, call);
    try {
      // Ending early (the client left) returns through every generator down to the body, which ends the upstream request.
      yield* translateGeminiStream(streamGenerateContent(api, plan, call.signal), {
        model: request.model,
        includeUsage: request.stream_options?.include_usage === true,
        reportUsage: (usage) => {
          call.usage = usage;
        },
        reportResponseId: (responseId) => {
          call.upstreamRequestId = responseId;
        },
        fallbackId: completionId(),
      });
    } catch (error) {
      throw fail(error);
    }
  }

  async function embed(
    request: OpenAIEmbeddingRequest & { input: string[] },
    call: ProviderCall,
  ): Promise<EmbeddingResult> {
    const result: EmbeddingResult = { vectors: [], promptTokens: 0 };
    for (let start = 0; start < request.input.length; start += EMBED_BATCH_SIZE) {
      const batch = request.input.slice(start, start + EMBED_BATCH_SIZE);
      const watch = upstreamWatchdog(call.signal, timeoutMs);
      try {
        const response = await ai.models.embedContent({
          model: request.model,
          contents: batch,
          config: {
            abortSignal: watch.signal,
            ...(request.dimensions === undefined ? {} : { outputDimensionality: request.dimensions }),
          },
        });
        const vectors = (response.embeddings ?? []).map((embedding) => embedding.values ?? []);
        if (vectors.length !== batch.length) {
          throw new UpstreamError(`Gemini answered with ${vectors.length} embeddings for ${batch.length} inputs.`);
        }
        // Google asks for vectors shortened by outputDimensionality to be normalised by the caller.
        result.vectors.push(...(request.dimensions === undefined ? vectors : vectors.map(normalize)));
        result.promptTokens += response.usageMetadata?.promptTokenCount ?? 0;
      } catch (error) {
        throw fail(error, watch);
      } finally {
        watch.stop();
      }
    }
    return result;
  }

  async function close() {
    await pool.close();
  }

  return { name: 'gemini', displayName: 'Gemini', complete, stream, listModels, embed, close };
}

function normalize(vector: number[]): number[] {
  const length = Math.hypot(...vector);
  return length === 0 ? vector : vector.map((value) => value / length);
}
