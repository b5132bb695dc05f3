import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { MultipartBody } from '../../lib/multipart-body.ts';
import { type GatewayError, UpstreamError } from '../../openai/errors.ts';
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

/** Maps a non-2xx answer of one kind of call (a file upload, a chat with attachments) instead of mapGigaChatError. */
export type GigaChatErrorMapper = (status: number, body: Buffer, headers: IncomingHttpHeaders) => GatewayError;

/** One request's body and its headers, made anew for each attempt: a streamed body is read once. */
type Payload = () => { body?: string | Readable; headers: Record<string, string> };

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

  /** A JSON call: the parsed answer, or the mapped error (by `mapError` when given). */
  async json<T>(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    call: ProviderCall | undefined,
    headers?: Record<string, string>,
    mapError?: GigaChatErrorMapper,
  ): Promise<T> {
    const response = await this.#send(method, path, jsonPayload(body, headers), call);
    return readJson<T>(this.#mappedBy(mapError), response, call);
  }

  /** A multipart upload (a fresh body per attempt); its answer's JSON, or the error `mapError` makes of it. */
  async upload<T>(
    path: string,
    form: () => MultipartBody,
    call: ProviderCall | undefined,
    mapError: GigaChatErrorMapper,
  ): Promise<T> {
    const response = await this.#send('POST', path, form, call);
    return readJson<T>(this.#mappedBy(mapError), response, call);
  }

  /** A streamed call: GigaChat's chunks as they arrive. */
  events(
    path: string,
    body: unknown,
    call: ProviderCall,
    headers: Record<string, string>,
    mapError?: GigaChatErrorMapper,
  ): AsyncGenerator<GigaChatChunk> {
    const response = this.#send('POST', path, jsonPayload(body, { ...headers, accept: 'text/event-stream' }), call);
    return readEvents<GigaChatChunk>(this.#mappedBy(mapError), response, call, gigaChatEventError);
  }

  #mappedBy(mapError: GigaChatErrorMapper | undefined): Upstream {
    return mapError === undefined ? this.#upstream : { ...this.#upstream, mapError };
  }

  async #send(
    method: 'GET' | 'POST',
    path: string,
    payload: Payload,
    call: ProviderCall | undefined,
  ): Promise<HttpResponse> {
    let target = this.#targets.get(path);
    if (target === undefined) {
      target = requestTarget(new URL(this.#base + path));
      // Only fixed paths are kept: a file's own path (/files/<id>/delete) would grow the map without end.
      if (!path.startsWith('/files/')) this.#targets.set(path, target);
    }
    for (let attempt = 1; ; attempt++) {
      const token = await this.#tokens.get();
      const { body, headers } = payload();
      const response = await openUpstream(
        this.#upstream,
        target,
        { method, headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...headers }, body },
        call,
      );
      if (response.statusCode !== 401 || attempt > 1) return response;
      await response.body.bytes().catch(() => Buffer.alloc(0));
      await this.#tokens.invalidate(token);
    }
  }
}

/** A JSON body, serialised once for every attempt. */
function jsonPayload(body: unknown, headers: Record<string, string> = {}): Payload {
  if (body === undefined) return () => ({ headers });
  const text = JSON.stringify(body);
  const withType = { 'content-type': 'application/json', ...headers };
  return () => ({ body: text, headers: withType });
}
