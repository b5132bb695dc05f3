import { Agent, type Dispatcher, EnvHttpProxyAgent, fetch as undiciFetch } from 'undici';
import type { ProxySettings } from '../config.ts';
import { type HttpResponse, httpRequest, type RequestTarget, requestTarget } from './http-request.ts';

/** `fetch` as the Web API declares it (what SDKs such as @google/genai accept). */
export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** One API call through the pool: a string body or none. */
export interface OutboundRequest {
  method: Dispatcher.HttpMethod;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Idle limit: waiting for the answer, and between two pieces of its body (undici's 300 s when unset). */
  timeoutMs?: number;
}

/** A `fetch` that owns its connection pool. */
export type OutboundFetch = Fetch & {
  /**
   * The same pool without the Response around the answer: its status, headers and body
   * (httpRequest). Failures are fetch's (see createOutboundFetch).
   */
  request(target: RequestTarget, init: OutboundRequest): Promise<HttpResponse>;
  /** Closes every pooled connection, ending requests still running. */
  close(): Promise<void>;
};

/** Statuses whose answer has no body (a Response refuses one). */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * A `fetch` with its own keep-alive pool that goes through the configured proxy, honouring
 * NO_PROXY. Only the settings passed in count: undici's own fallback to process.env is shut off,
 * so one provider can use a proxy while another stays direct.
 *
 * An API call (a URL, a method, headers, a string body, a signal) goes over the pool as
 * httpRequest (http-request.ts) rather than a full WHATWG fetch, which cost the Gemini path half
 * its CPU per call (README, Performance). It behaves as fetch does for such calls, except that redirects are not
 * followed (Google's APIs do not redirect) and no compression is asked for. Failures look like
 * fetch's: the signal's reason when aborted, else `TypeError('fetch failed')` with the cause.
 * Anything else (a Request object, a stream or form body) takes undici's fetch.
 */
export function createOutboundFetch(proxy: ProxySettings): OutboundFetch {
  const dispatcher: Dispatcher =
    proxy.httpsProxy === undefined && proxy.httpProxy === undefined
      ? new Agent({ keepAliveTimeout: 30_000 })
      : new EnvHttpProxyAgent({
          httpProxy: proxy.httpProxy ?? '',
          httpsProxy: proxy.httpsProxy ?? proxy.httpProxy ?? '',
          noProxy: proxy.noProxy ?? '',
          keepAliveTimeout: 30_000,
        });
  const request = async (target: RequestTarget, { method, headers, body, signal, timeoutMs }: OutboundRequest) => {
    try {
      return await httpRequest(target, { method, headers, body, signal, timeoutMs, dispatcher });
    } catch (error) {
      if (signal?.aborted === true) throw signal.reason;
      throw new TypeError('fetch failed', { cause: error });
    }
  };
  const outboundFetch: Fetch = async (input, init = {}) => {
    const body = init.body ?? undefined;
    if (input instanceof Request || (body !== undefined && typeof body !== 'string')) {
      return undiciFetch(input as never, { ...(init as object), dispatcher }) as unknown as Response;
    }
    const answer = await request(requestTarget(new URL(input)), {
      method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: Object.fromEntries(new Headers(init.headers)),
      body,
      signal: init.signal ?? undefined,
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(answer.headers)) {
      if (typeof value === 'string') headers.set(name, value);
      else for (const item of value ?? []) headers.append(name, item);
    }
    const status = answer.statusCode;
    if (NULL_BODY_STATUSES.has(status)) return new Response(null, { status, headers });
    // A Response reads any async iterable as it arrives.
    return new Response(answer.body as unknown as ConstructorParameters<typeof Response>[0], { status, headers });
  };
  return Object.assign(outboundFetch, { request, close: () => dispatcher.destroy() });
}
