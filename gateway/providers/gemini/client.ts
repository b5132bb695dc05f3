import type { Dispatcher } from 'undici';
import type { GeminiSettings } from '../../config.ts';
import type { ProviderCall } from '../provider.ts';
import { type RequestTarget, requestEvents, requestJson, type Upstream } from '../upstream.ts';
import { mapGeminiApiError, mapGeminiError } from './map-error.ts';
import type {
  GeminiBatchEmbedRequest,
  GeminiBatchEmbedResponse,
  GeminiErrorBody,
  GeminiGenerateRequest,
  GeminiModelPage,
  GeminiResponse,
} from './wire-types.ts';

/** The root of the API's `v1beta` paths under GEMINI_BASE_URL, made once per provider. */
export function geminiApiRoot(baseUrl: URL): RequestTarget {
  return { origin: baseUrl.origin, path: `${baseUrl.pathname.replace(/\/+$/, '')}/v1beta/` };
}

const TUNED = 'tunedModels/';

/** The most models one page of `GET models` may hold. */
const MODELS_PAGE_SIZE = 1000;

/** An error after the 200 comes as an event of its own (google.rpc.Status). */
function geminiEventError(event: unknown) {
  const failure = event as GeminiErrorBody;
  if (typeof failure?.error !== 'object' || failure.error === null) return undefined;
  return mapGeminiApiError(failure.error.code ?? 500, failure);
}

/**
 * The Gemini Developer API (`v1beta`) at GEMINI_BASE_URL over the upstream seam: the API key
 * header, and the four REST calls the provider makes. Gemini's `responseId` is its request id.
 */
export class GeminiClient {
  readonly #upstream: Upstream;
  readonly #root: RequestTarget;
  readonly #headers: Record<string, string>;

  constructor(settings: GeminiSettings, dispatcher: Dispatcher, timeoutMs: number) {
    this.#upstream = {
      name: 'Gemini',
      dispatcher,
      timeoutMs,
      mapError: mapGeminiError,
      requestId: { field: 'responseId' },
    };
    this.#root = geminiApiRoot(settings.baseUrl);
    this.#headers = { 'content-type': 'application/json', 'x-goog-api-key': settings.apiKey };
  }

  /** `models/{model}:generateContent`: the whole answer. */
  generateContent(model: string, body: GeminiGenerateRequest, call: ProviderCall): Promise<GeminiResponse> {
    return requestJson<GeminiResponse>(
      this.#upstream,
      this.#action(model, 'generateContent'),
      { method: 'POST', headers: this.#headers, body: JSON.stringify(body) },
      call,
    );
  }

  /** `models/{model}:streamGenerateContent?alt=sse`: each event as it arrives. */
  streamGenerateContent(
    model: string,
    body: GeminiGenerateRequest,
    call: ProviderCall,
  ): AsyncGenerator<GeminiResponse> {
    return requestEvents<GeminiResponse>(
      this.#upstream,
      this.#action(model, 'streamGenerateContent?alt=sse'),
      { method: 'POST', headers: this.#headers, body: JSON.stringify(body) },
      call,
      geminiEventError,
    );
  }

  /** `GET models`, page after page (`nextPageToken`), every model in the upstream's order. */
  async listModels(): Promise<NonNullable<GeminiModelPage['models']>> {
    const models: NonNullable<GeminiModelPage['models']> = [];
    let pageToken: string | undefined;
    do {
      const query = new URLSearchParams({ pageSize: String(MODELS_PAGE_SIZE) });
      if (pageToken !== undefined) query.set('pageToken', pageToken);
      const target = { origin: this.#root.origin, path: `${this.#root.path}models?${query}` };
      const page = await requestJson<GeminiModelPage>(
        this.#upstream,
        target,
        { method: 'GET', headers: this.#headers },
        undefined,
      );
      models.push(...(page.models ?? []));
      pageToken = page.nextPageToken === '' ? undefined : page.nextPageToken;
    } while (pageToken !== undefined);
    return models;
  }

  /** `models/{model}:batchEmbedContents`: one vector per request, in order. */
  batchEmbedContents(
    model: string,
    body: GeminiBatchEmbedRequest,
    call: ProviderCall,
  ): Promise<GeminiBatchEmbedResponse> {
    return requestJson<GeminiBatchEmbedResponse>(
      this.#upstream,
      this.#action(model, 'batchEmbedContents'),
      { method: 'POST', headers: this.#headers, body: JSON.stringify(body) },
      call,
    );
  }

  /**
   * `v1beta/models/{id}:{action}`, or `v1beta/tunedModels/{id}:{action}` for a tuned model. The
   * registry has checked the id against the model-name grammar; it goes in as one encoded segment.
   */
  #action(model: string, action: string): RequestTarget {
    return { origin: this.#root.origin, path: `${this.#root.path}${geminiModelPath(model)}:${action}` };
  }
}

/** A model id as its resource name: `models/{id}`, or `tunedModels/{id}`, the id encoded. */
export function geminiModelPath(model: string): string {
  return model.startsWith(TUNED)
    ? `${TUNED}${encodeURIComponent(model.slice(TUNED.length))}`
    : `models/${encodeURIComponent(model)}`;
}
