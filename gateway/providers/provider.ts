import type {
  OpenAIChatChunk,
  OpenAIChatCompletion,
  OpenAIChatRequest,
  OpenAIEmbeddingRequest,
  OpenAIModel,
  OpenAIUsage,
} from '../openai/types.ts';

/** What a provider needs to know about the HTTP exchange it serves, and what it reports back. */
export interface ProviderCall {
  /** Aborted when the client goes away; the provider aborts its upstream request with it. */
  signal: AbortSignal;
  /** Set by the provider once the upstream answered: the upstream's own request id. */
  upstreamRequestId?: string;
  /** Set by `stream` at the end of a stream: the tokens it used, whether or not the client asked for them. */
  usage?: OpenAIUsage;
}

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
  stream(request: OpenAIChatRequest, call: ProviderCall): AsyncIterable<OpenAIChatChunk>;
  /** The upstream's models (cached by the provider). */
  listModels(): Promise<OpenAIModel[]>;
  /** `request.input` is always an array here; encoding the vectors is the HTTP layer's job. */
  embed(request: OpenAIEmbeddingRequest & { input: string[] }, call: ProviderCall): Promise<EmbeddingResult>;
  /** Closes the provider's pooled upstream connections; called once the gateway has stopped serving. */
  close?(): Promise<void>;
}
