import type { GigaChatSettings } from '../../config.ts';
import { cached } from '../../lib/cached.ts';
import type { Logger } from '../../lib/logger.ts';
import { randomId } from '../../lib/random-id.ts';
import type { SecretBox } from '../../lib/secrets/secret-box.ts';
import type { Store } from '../../lib/store.ts';
import { BadRequestError, UpstreamError } from '../../openai/errors.ts';
import type { OpenAIChatRequest, OpenAIEmbeddingRequest, OpenAIModel, OpenAIModelKind } from '../../openai/types.ts';
import type { BalanceItem, ChatStream, EmbeddingResult, Provider, ProviderCall, ReportsBalance } from '../provider.ts';
import { createAgent } from '../upstream.ts';
import {
  type AttachmentDownloadOptions,
  hasAttachments,
  NO_ATTACHMENTS,
  type ResolvedAttachments,
  resolveGigaChatAttachments,
} from './attachments.ts';
import { GigaChatClient } from './client.ts';
import { mapGigaChatAttachedChatError } from './map-error.ts';
import { GigaChatTokenCache, gigaChatTokenKey, requestGigaChatToken } from './token.ts';
import { translateGigaChatRequest } from './translate-request.ts';
import { translateGigaChatResponse } from './translate-response.ts';
import { translateGigaChatStream } from './translate-stream.ts';
import { GigaChatUploads } from './uploads.ts';
import type {
  GigaChatBalance,
  GigaChatCompletion,
  GigaChatEmbeddings,
  GigaChatEmbeddingsRequest,
  GigaChatModelList,
} from './wire-types.ts';

export interface GigaChatProviderOptions {
  settings: GigaChatSettings;
  store: Store;
  /** Seals the access token at rest. */
  box: SecretBox;
  logger: Logger;
  timeoutMs: number;
  /** How long a file uploaded to GigaChat for an attachment is reused before the gateway deletes it there. */
  fileRetentionMs: number;
  /** Limits for image URLs downloaded to be uploaded. */
  downloads: AttachmentDownloadOptions;
  /** Told of every OAuth call for a token (the gateway's metrics). */
  onTokenFetch?: (outcome: 'ok' | 'failed') => void;
}

/** How long GigaChat's model list is reused. */
const MODELS_TTL_MS = 5 * 60_000;

/**
 * Texts and characters per /embeddings call, as GigaChat's own LangChain integration sends them
 * (langchain-gigachat `MAX_BATCH_SIZE_PARTS`, `MAX_BATCH_SIZE_CHARS`). Also what keeps each answer
 * within the size the gateway reads: 90 vectors of 2,560 numbers (EmbeddingsGigaR) are about 6 MB.
 */
const EMBED_BATCH_TEXTS = 90;
const EMBED_BATCH_CHARACTERS = 1_000_000;

/** The inputs in order, cut into batches of at most EMBED_BATCH_TEXTS texts and EMBED_BATCH_CHARACTERS characters (a longer text goes alone). */
function embeddingBatches(input: readonly string[]): string[][] {
  const batches: string[][] = [];
  let batch: string[] = [];
  let characters = 0;
  for (const text of input) {
    if (batch.length === EMBED_BATCH_TEXTS || (batch.length > 0 && characters + text.length > EMBED_BATCH_CHARACTERS)) {
      batches.push(batch);
      batch = [];
      characters = 0;
    }
    batch.push(text);
    characters += text.length;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** GigaChat's model types that OpenAI-style clients can use, and their kinds. */
const LISTED_MODEL_KINDS: ReadonlyMap<string, OpenAIModelKind> = new Map([
  ['chat', 'chat'],
  ['embedder', 'embeddings'],
]);

function completionId(): string {
  return `chatcmpl-${randomId()}`;
}

/** GigaChat behind the provider interface, calling with one credential; it also reports that account's balance. */
export function createGigaChatProvider({
  settings,
  store,
  box,
  logger,
  timeoutMs,
  fileRetentionMs,
  downloads,
  onTokenFetch,
}: GigaChatProviderOptions): Provider & ReportsBalance {
  // One pool for the API and OAuth hosts, trusting GIGACHAT_CA_FILE when set.
  const agent = createAgent(settings.ca);
  const tokens = new GigaChatTokenCache({
    store,
    box,
    storeKey: gigaChatTokenKey(settings),
    fetchToken: () => requestGigaChatToken(settings, agent, timeoutMs),
    logger,
    onFetch: onTokenFetch,
  });
  const client = new GigaChatClient(settings.baseUrl, agent, tokens, timeoutMs);
  const uploads = new GigaChatUploads({ store, settings, client, retentionMs: fileRetentionMs, logger });
  uploads.start();

  const listModels = cached(async (): Promise<OpenAIModel[]> => {
    const list = await client.json<GigaChatModelList>('GET', '/models', undefined, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!Array.isArray(list.data)) throw new UpstreamError('GigaChat answered /models without a model list.');
    const models: OpenAIModel[] = [];
    for (const model of list.data) {
      const kind = LISTED_MODEL_KINDS.get(model.type);
      if (kind === undefined) continue;
      models.push({ id: model.id, object: 'model', created: 0, owned_by: model.owned_by ?? 'salutedevices', kind });
    }
    return models;
  }, MODELS_TTL_MS);

  /** The request's files uploaded (or found uploaded) under this account, and its GigaChat body that refers to them. */
  async function prepare(request: OpenAIChatRequest, call: ProviderCall) {
    // Most requests have no attachments, and no await for them either.
    const attached = hasAttachments(request.messages)
      ? await resolveGigaChatAttachments(request.messages, call, uploads, downloads)
      : NO_ATTACHMENTS;
    return {
      attached,
      plan: translateGigaChatRequest(request, attached.ids),
      mapError: attached.all.length > 0 ? mapGigaChatAttachedChatError : undefined,
    };
  }

  /** A refusal about an attached file: its ids are forgotten, so the next request uploads them again. */
  async function forgetRefused(attached: ResolvedAttachments, error: unknown): Promise<never> {
    if (attached.all.length > 0 && (error as { code?: unknown }).code === 'file_not_found') {
      await uploads.forget(attached.all).catch(() => {});
    }
    throw error;
  }

  async function complete(request: OpenAIChatRequest, call: ProviderCall) {
    const { attached, plan, mapError } = await prepare(request, call);
    let completion: GigaChatCompletion;
    try {
      completion = await client.json<GigaChatCompletion>(
        'POST',
        '/chat/completions',
        plan.body,
        call,
        plan.headers,
        mapError,
      );
    } catch (error) {
      return forgetRefused(attached, error);
    }
    return translateGigaChatResponse(completion, { id: completionId(), model: request.model, stop: plan.stop });
  }

  async function* stream(request: OpenAIChatRequest, call: ProviderCall): ChatStream {
    const { attached, plan, mapError } = await prepare(request, call);
    const events = client.events('/chat/completions', { ...plan.body, stream: true }, call, plan.headers, mapError);
    // Ending early (a stop sequence, the client left) returns through to the seam, which ends the upstream request.
    try {
      return yield* translateGigaChatStream(events, {
        id: completionId(),
        model: request.model,
        includeUsage: request.stream_options?.include_usage === true,
        stop: plan.stop,
      });
    } catch (error) {
      return forgetRefused(attached, error);
    }
  }

  async function embed(
    request: OpenAIEmbeddingRequest & { input: string[] },
    call: ProviderCall,
  ): Promise<EmbeddingResult> {
    if (request.dimensions !== undefined) {
      throw new BadRequestError("GigaChat's embedding models have a fixed size; leave out 'dimensions'.", {
        param: 'dimensions',
        code: 'unsupported_parameter',
      });
    }
    // One batch after the other (a personal key may run one request at a time). A failed batch
    // fails the whole call: an answer never mixes vectors of two attempts, or leaves inputs out.
    const result: EmbeddingResult = { vectors: [], promptTokens: 0 };
    for (const input of embeddingBatches(request.input)) {
      const body: GigaChatEmbeddingsRequest = { model: request.model, input };
      const answer = await client.json<GigaChatEmbeddings>('POST', '/embeddings', body, call);
      if (!Array.isArray(answer.data) || answer.data.length !== input.length) {
        throw new UpstreamError(
          `GigaChat answered /embeddings with ${answer.data?.length ?? 'no'} vectors for ${input.length} inputs.`,
        );
      }
      for (const item of [...answer.data].sort((left, right) => left.index - right.index)) {
        result.vectors.push(item.embedding);
        result.promptTokens += item.usage?.prompt_tokens ?? 0;
      }
    }
    return result;
  }

  async function balance(call: ProviderCall): Promise<BalanceItem[]> {
    const answer = await client.json<GigaChatBalance>('GET', '/balance', undefined, call);
    const valid = (item: unknown): item is BalanceItem =>
      typeof (item as BalanceItem)?.usage === 'string' && typeof (item as BalanceItem).value === 'number';
    if (!Array.isArray(answer?.balance) || !answer.balance.every(valid)) {
      throw new UpstreamError('GigaChat answered /balance without a list of packages.');
    }
    return answer.balance.map(({ usage, value }) => ({ usage, value }));
  }

  async function close() {
    uploads.close();
    await agent.destroy();
  }

  return { name: 'gigachat', displayName: 'GigaChat', complete, stream, listModels, embed, balance, close };
}
