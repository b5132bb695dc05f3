import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { urlToHttpOptions } from 'node:url';

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
  agent: http.Agent;
  /** Aborts the request (the client went away). */
  signal?: AbortSignal;
  /** Idle limit: waiting for the answer, and between two pieces of a streamed body. */
  timeoutMs: number;
}

/**
 * Sends one request and resolves with the response head; the body is left to the caller to read
 * or stream. Uses node:http(s) so keep-alive agents, per-host CAs and nock all work.
 */
export function httpRequest(url: URL, options: HttpRequestOptions): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const { signal } = options;
    if (signal?.aborted === true) return reject(signal.reason);
    const transport = url.protocol === 'https:' ? https : http;
    let response: http.IncomingMessage | undefined;
    const request = transport.request(
      { ...requestTarget(url), method: options.method, headers: options.headers, agent: options.agent },
      (answer) => {
        response = answer;
        resolve(answer);
      },
    );
    request.setTimeout(options.timeoutMs, () => {
      const timeout = new HttpTimeoutError(options.timeoutMs);
      // A body still arriving fails with the timeout, not with the reset that closing the socket gives it.
      if (response?.complete === false) response.destroy(timeout);
      request.destroy(timeout);
    });
    request.on('error', reject);
    // A listener of our own rather than the `signal` option, which watches the request with
    // node:stream's end-of-stream helper: several listeners per call.
    if (signal !== undefined) {
      const abort = () => request.destroy(signal.reason);
      signal.addEventListener('abort', abort, { once: true });
      request.once('close', () => signal.removeEventListener('abort', abort));
    }
    request.end(options.body);
  });
}

const targets = new WeakMap<URL, http.RequestOptions>();

// Where a URL points, as request options: worked out once per URL object (callers keep theirs).
function requestTarget(url: URL): http.RequestOptions {
  let target = targets.get(url);
  if (target === undefined) {
    target = urlToHttpOptions(url);
    targets.set(url, target);
  }
  return target;
}

/** What a stream that closed before its end throws (the code node:stream uses). */
export function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

/** Reads a whole response body, refusing bodies over `limitBytes`. */
export function readBody(response: http.IncomingMessage, limitBytes = 16 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      chunks.push(chunk);
      if (size > limitBytes) {
        reject(new Error(`response body over ${limitBytes} bytes`));
        response.destroy();
      }
    });
    response.on('end', () => resolve(Buffer.concat(chunks, size)));
    response.on('error', reject);
    response.on('close', () => {
      if (!response.complete) reject(prematureClose());
    });
  });
}

/**
 * An agent that keeps connections open. `ca` is trusted in addition to the default roots (which
 * include NODE_EXTRA_CA_CERTS): passing `ca` alone would replace them.
 */
export function createAgent(protocol: string, ca?: string): http.Agent {
  if (protocol !== 'https:') return new http.Agent({ keepAlive: true });
  return new https.Agent({
    keepAlive: true,
    ca: ca === undefined ? undefined : [...tls.getCACertificates('default'), ca],
  });
}
