import tls from 'node:tls';
import { Agent, type Dispatcher } from 'undici';

/** No byte came from the upstream for the configured time. */
export class HttpTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = 'HttpTimeoutError';
  }
}

export interface HttpRequestOptions {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  /** The keep-alive pool the request goes through (createAgent). */
  dispatcher: Dispatcher;
  /** Aborts the request (the client went away). */
  signal?: AbortSignal;
  /** Idle limit: waiting for the answer, and between two pieces of a streamed body. */
  timeoutMs: number;
}

/** An upstream's answer: its status and headers, and the body as a Node stream, not read yet. */
export type HttpResponse = Pick<Dispatcher.ResponseData, 'statusCode' | 'headers' | 'body'>;

/**
 * Sends one request through undici's pool and resolves with the response head; the body is left
 * to the caller to read or stream. undici rather than node:http: a call costs a third less CPU,
 * the largest single share of the gateway's own work (README, Performance). A body that pauses
 * for longer than `timeoutMs` fails with undici's `UND_ERR_BODY_TIMEOUT` (isBodyTimeout).
 */
export async function httpRequest(url: URL, options: HttpRequestOptions): Promise<HttpResponse> {
  const { timeoutMs } = options;
  try {
    return await options.dispatcher.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: options.method,
      headers: options.headers,
      body: options.body,
      signal: options.signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'UND_ERR_HEADERS_TIMEOUT') throw new HttpTimeoutError(timeoutMs);
    throw error;
  }
}

/** The body stopped arriving for longer than the request's `timeoutMs`. */
export function isBodyTimeout(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'UND_ERR_BODY_TIMEOUT';
}

/** What a stream that closed before its end throws (the code node:stream uses). */
export function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

/** Reads a whole response body, refusing bodies over `limitBytes`. */
export function readBody({ body }: HttpResponse, limitBytes = 16 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      chunks.push(chunk);
      if (size > limitBytes) {
        reject(new Error(`response body over ${limitBytes} bytes`));
        body.destroy();
      }
    });
    body.on('end', () => resolve(Buffer.concat(chunks, size)));
    body.on('error', reject);
  });
}

/**
 * A pool that keeps connections open, to any origin over http or https. `ca` is trusted in
 * addition to the default roots (which include NODE_EXTRA_CA_CERTS): passing `ca` alone would
 * replace them.
 */
export function createAgent(ca?: string): Agent {
  return new Agent(ca === undefined ? {} : { connect: { ca: [...tls.getCACertificates('default'), ca] } });
}
