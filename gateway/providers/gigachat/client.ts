import type { Dispatcher } from 'undici';
import { type HttpResponse, httpRequest, type RequestTarget, requestTarget } from '../../lib/http-request.ts';
import { UpstreamError } from '../../openai/errors.ts';
import type { ProviderCall } from '../provider.ts';
import { mapGigaChatError, mapGigaChatFailure } from './map-error.ts';
import type { GigaChatTokenCache } from './token.ts';

/**
 * Authenticated calls to the GigaChat REST API. Adds the bearer token, and when GigaChat refuses
 * it (401) forgets it, fetches a new one and tries exactly once more.
 */
export class GigaChatClient {
  readonly #base: string;
  readonly #agent: Dispatcher;
  readonly #tokens: GigaChatTokenCache;
  readonly #timeoutMs: number;
  readonly #targets = new Map<string, RequestTarget>();

  constructor(baseUrl: URL, agent: Dispatcher, tokens: GigaChatTokenCache, timeoutMs: number) {
    this.#base = baseUrl.href.replace(/\/+$/, '');
    this.#agent = agent;
    this.#tokens = tokens;
    this.#timeoutMs = timeoutMs;
  }

  /** Sends a request and resolves with a 2xx response whose body is not read yet. */
  async send(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    call: ProviderCall,
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
      let response: HttpResponse;
      try {
        response = await httpRequest(target, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
            ...headers,
          },
          body: payload,
          dispatcher: this.#agent,
          signal: call.signal,
          timeoutMs: this.#timeoutMs,
        });
      } catch (error) {
        throw mapGigaChatFailure(error, 'GigaChat');
      }
      const upstreamId = response.headers['x-request-id'];
      if (typeof upstreamId === 'string') call.upstreamRequestId = upstreamId;
      const status = response.statusCode;
      if (status >= 200 && status < 300) return response;
      const errorBody = await response.body.bytes().catch(() => Buffer.alloc(0));
      if (status === 401 && attempt === 1) {
        await this.#tokens.invalidate(token);
        continue;
      }
      throw mapGigaChatError(status, errorBody, response.headers);
    }
  }

  /** Sends a request and parses the JSON answer. */
  async json<T>(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    call: ProviderCall,
    headers?: Record<string, string>,
  ): Promise<T> {
    const response = await this.send(method, path, body, call, headers);
    let text: string;
    try {
      text = await response.body.text();
    } catch (error) {
      throw mapGigaChatFailure(error, 'GigaChat', 'answer');
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new UpstreamError(`GigaChat answered ${path} with something that is not JSON.`);
    }
  }
}
