import type { Dispatcher } from 'undici';
import { UpstreamError } from '../../openai/errors.ts';
import type { ProviderCall } from '../provider.ts';
import {
  type HttpResponse,
  openUpstream,
  type RequestTarget,
  readEvents,
  readJson,
  requestTarget,
  type Upstream,
} from '../upstream.ts';
import { mapGigaChatError } from './map-error.ts';
import type { GigaChatChunk, GigaChatErrorBody } from './wire-types.ts';

/** Said when GigaChat's certificate cannot be verified. */
export const GIGACHAT_TLS_HINT =
  'GigaChat uses the Russian Trusted Root CA: download it from https://www.gosuslugi.ru/crt and set GIGACHAT_CA_FILE to its path.';

/** Where the client gets its bearer token, and forgets one GigaChat refused. */
export interface GigaChatTokens {
  get(): Promise<string>;
  invalidate(accessToken: string): Promise<void>;
}

/** A GigaChat stream event without `choices` is its error report. */
export function gigaChatEventError(event: unknown): UpstreamError | undefined {
  const parsed = event as GigaChatChunk & GigaChatErrorBody;
  if (Array.isArray(parsed?.choices)) return undefined;
  const detail = typeof parsed?.message === 'string' ? parsed.message : 'an event without choices';
  return new UpstreamError(`GigaChat reported an error mid-stream: ${detail}`);
}

/**
 * The GigaChat REST API at GIGACHAT_BASE_URL over the upstream seam: adds the bearer token, and
 * when GigaChat refuses it (401) forgets it, fetches a new one and tries exactly once more.
 */
export class GigaChatClient {
  readonly #base: string;
  readonly #upstream: Upstream;
  readonly #tokens: GigaChatTokens;
  readonly #targets = new Map<string, RequestTarget>();

  constructor(baseUrl: URL, agent: Dispatcher, tokens: GigaChatTokens, timeoutMs: number) {
    this.#base = baseUrl.href.replace(/\/+$/, '');
    this.#tokens = tokens;
    this.#upstream = {
      name: 'GigaChat',
      dispatcher: agent,
      timeoutMs,
      mapError: mapGigaChatError,
      requestId: { header: 'x-request-id' },
      tlsHint: GIGACHAT_TLS_HINT,
    };
  }

  /** A JSON call: the parsed answer, or the mapped error. */
  async json<T>(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    call: ProviderCall | undefined,
    headers?: Record<string, string>,
  ): Promise<T> {
    return readJson<T>(this.#upstream, await this.#send(method, path, body, call, headers), call);
  }

  /** A streamed call: GigaChat's chunks as they arrive. */
  events(
    path: string,
    body: unknown,
    call: ProviderCall,
    headers: Record<string, string>,
  ): AsyncGenerator<GigaChatChunk> {
    const response = this.#send('POST', path, body, call, { ...headers, accept: 'text/event-stream' });
    return readEvents<GigaChatChunk>(this.#upstream, response, call, gigaChatEventError);
  }

  async #send(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    call: ProviderCall | undefined,
    headers: Record<string, string> = {},
  ): Promise<HttpResponse> {
    let target = this.#targets.get(path);
    if (target === undefined) {
      target = requestTarget(new URL(this.#base + path));
      this.#targets.set(path, target);
    }
    const payload = body === undefined ? undefined : JSON.stringify(body);
    for (let attempt = 1; ; attempt++) {
      const token = await this.#tokens.get();
      const response = await openUpstream(
        this.#upstream,
        target,
        {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
            ...headers,
          },
          body: payload,
        },
        call,
      );
      if (response.statusCode !== 401 || attempt > 1) return response;
      await response.body.bytes().catch(() => Buffer.alloc(0));
      await this.#tokens.invalidate(token);
    }
  }
}
