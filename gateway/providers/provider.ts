import type { FileReader } from '../files/stored-file.ts';
import type {
  OpenAIChatChunk,
  OpenAIChatCompletion,
  OpenAIChatRequest,
  OpenAIEmbeddingRequest,
  OpenAIModel,
  OpenAIUsage,
} from '../openai/types.ts';

/** What a provider needs to know about the HTTP exchange it serves. */
export interface ProviderCall {
  /** Aborted when the client goes away; the provider aborts its upstream request with it. */
  signal: AbortSignal;
  /** The upstream's own request id, once it answered; written only by the upstream seam (upstream.ts). */
  upstreamRequestId?: string;
  /** The calling client's files, for `file_id` content parts; undefined where the gateway keeps none. */
  files?: FileReader;
}

/**
 * A chat stream: OpenAI chunks in order (the usage chunk last only when the request asked for it),
 * returning the tokens the stream used whether or not the client asked for them.
 */
export type ChatStream = AsyncGenerator<OpenAIChatChunk, OpenAIUsage | undefined>;

/** Embedding vectors in input order, and the prompt tokens the upstream counted (0 when it does not say). */
export interface EmbeddingResult {
  vectors: number[][];
  promptTokens: number;
}

/**
 * One upstream API behind the OpenAI contract. Providers translate at their boundary: they take
 * and return OpenAI shapes and throw GatewayErrors. `request.model` is the upstream model id.
 */
export interface Provider {
  /** Routing name, as in `gigachat/GigaChat-2-Max`. */
  readonly name: string;
  /** Human name for messages and logs. */
  readonly displayName: string;
  complete(request: OpenAIChatRequest, call: ProviderCall): Promise<OpenAIChatCompletion>;
  /** Chunks in order; errors before the first chunk mean nothing was sent to the client yet. */
  stream(request: OpenAIChatRequest, call: ProviderCall): ChatStream;
  /** The upstream's models (cached by the provider). */
  listModels(): Promise<OpenAIModel[]>;
  /** `request.input` is always an array here; encoding the vectors is the HTTP layer's job. */
  embed(request: OpenAIEmbeddingRequest & { input: string[] }, call: ProviderCall): Promise<EmbeddingResult>;
  /** Closes the provider's pooled upstream connections; called once the gateway has stopped serving. */
  close?(): Promise<void>;
}

/** One prepaid package of an upstream account: what it pays for (a model, or `embeddings`) and the tokens left. */
export interface BalanceItem {
  usage: string;
  value: number;
}

/** A provider whose upstream reports the prepaid balance of the account it calls with (GigaChat's `GET /balance`). */
export interface ReportsBalance {
  /** Throws the upstream's error mapped as for any call (403 where the account has no prepaid balance). */
  balance(call: ProviderCall): Promise<BalanceItem[]>;
}

/** Whether a provider can report its account's balance. */
export function reportsBalance(provider: Provider): provider is Provider & ReportsBalance {
  return typeof (provider as Partial<ReportsBalance>).balance === 'function';
}
