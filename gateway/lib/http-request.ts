import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import tls from 'node:tls';
import { Agent, type Dispatcher } from 'undici';
import { ResponseBody } from './response-body.ts';

/** No byte came from the upstream for the configured time. */
export class HttpTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = 'HttpTimeoutError';
  }
}

export interface HttpRequestOptions {
  method: Dispatcher.HttpMethod;
  headers: Record<string, string>;
  body?: string | Readable;
  /** The keep-alive pool the request goes through (createAgent). */
  dispatcher: Dispatcher;
  /** Aborts the request (the client went away); the request then fails with the signal's reason. */
  signal?: AbortSignal;
  /** Idle limit: waiting for the answer, and between two pieces of a streamed body (undici's 300 s when unset). */
  timeoutMs?: number;
}

/**
 * Where a request goes, split as undici takes it. Made once per upstream path where it can be: a
 * URL parsed per call, and even its `origin` getter, are measurable on the hot path (README, Performance).
 */
export interface RequestTarget {
  origin: string;
  /** The path and query. */
  path: string;
}

export function requestTarget(url: URL): RequestTarget {
  return { origin: url.origin, path: url.pathname + url.search };
}

/** An upstream's answer: its status and headers, and the body, not read yet. */
export interface HttpResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: ResponseBody;
}

/**
 * Sends one request through an undici pool and resolves with the response head; the body is left
 * to the caller to read or stream. undici rather than node:http, and its dispatch handler rather
 * than its `request` (whose body is a Node stream): both were measured dearer (README, Performance). A body that pauses for longer than `timeoutMs` fails with undici's
 * `UND_ERR_BODY_TIMEOUT` (isBodyTimeout).
 */
export function httpRequest(target: RequestTarget, options: HttpRequestOptions): Promise<HttpResponse> {
  const { signal, timeoutMs } = options;
  if (signal?.aborted === true) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let body: ResponseBody | undefined;
    const onAbort = () => controller?.abort(signal?.reason);
    const settled = () => signal?.removeEventListener('abort', onAbort);
    signal?.addEventListener('abort', onAbort);
    options.dispatcher.dispatch(
      {
        origin: target.origin,
        path: target.path,
        method: options.method,
        headers: options.headers,
        body: options.body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      },
      {
        onRequestStart(started) {
          controller = started;
          // Aborted while the request waited for a free connection.
          if (signal?.aborted === true) started.abort(signal.reason);
        },
        onResponseStart(started, statusCode, headers) {
          body = new ResponseBody(started);
          resolve({ statusCode, headers, body });
        },
        onResponseData(_, chunk) {
          body?.push(chunk);
        },
        onResponseEnd() {
          settled();
          body?.end();
        },
        onResponseError(_, error) {
          settled();
          if (body !== undefined) body.fail(error);
          else if (timeoutMs !== undefined && (error as { code?: unknown }).code === 'UND_ERR_HEADERS_TIMEOUT') {
            reject(new HttpTimeoutError(timeoutMs));
          } else reject(error);
        },
      },
    );
  });
}

/** The body stopped arriving for longer than the request's `timeoutMs`. */
export function isBodyTimeout(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'UND_ERR_BODY_TIMEOUT';
}

/** What a stream that closed before its end throws (the code node:stream uses). */
export function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

/**
 * A pool that keeps connections open, to any origin over http or https. `ca` is trusted in
 * addition to the default roots (which include NODE_EXTRA_CA_CERTS): passing `ca` alone would
 * replace them.
 */
export function createAgent(ca?: string): Agent {
  return new Agent(ca === undefined ? {} : { connect: { ca: [...tls.getCACertificates('default'), ca] } });
}
