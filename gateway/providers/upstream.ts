import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import {
  type HttpResponse,
  HttpTimeoutError,
  httpRequest,
  isBodyTimeout,
  type RequestTarget,
} from '../lib/http-request.ts';
import { plainText } from '../lib/plain-text.ts';
import { readSseData } from '../lib/read-sse.ts';
import { ResponseTooLargeError } from '../lib/response-body.ts';
import { GatewayError, UpstreamError, UpstreamTimeoutError } from '../openai/errors.ts';
import type { ProviderCall } from './provider.ts';

/*
 * The one way the providers talk to their upstreams: JSON calls and event streams over the undici
 * pool (lib/http-request.ts), the upstream's request id, the size cap on answers read whole, and
 * transport failures mapped to the gateway's errors. Each provider's client.ts supplies its base
 * URL, auth and error mapper; its map-error.ts maps only status and body.
 */

/** One upstream API, as its provider's client describes it to the seam. */
export interface Upstream {
  /** For messages: `GigaChat`, `Gemini`. */
  readonly name: string;
  readonly dispatcher: Dispatcher;
  /** Idle limit of a call: waiting for the answer, and between two pieces of its body. */
  readonly timeoutMs: number;
  /** A non-2xx answer → the client's error (the provider's map-error.ts). */
  mapError(status: number, body: Buffer, headers: IncomingHttpHeaders): GatewayError;
  /** Where the upstream's own request id is: a response header, or a field of the JSON answer and of the first stream event carrying it. */
  readonly requestId?: { header: string } | { field: string };
  /** Said after "the TLS certificate could not be verified (CODE)." when one is not. */
  readonly tlsHint?: string;
}

/** One request: its method, headers and body (JSON text, or a stream such as a file upload). */
export interface UpstreamRequest {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string | Readable;
}

/** Whether a failure came before the answer began or while it was read. */
export type UpstreamPhase = 'request' | 'answer';

/** The pool and target helpers the providers' clients build on. */
export { createAgent, type HttpResponse, type RequestTarget, requestTarget } from '../lib/http-request.ts';

const TLS_ERROR_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_HAS_EXPIRED',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const NO_RETRY = { 'x-should-retry': 'false' };

/**
 * Sends a request and resolves with the answer's head, whatever its status; the body is left
 * unread. Records the upstream's request id from its header on `call`.
 */
export async function openUpstream(
  upstream: Upstream,
  target: RequestTarget,
  request: UpstreamRequest,
  call: ProviderCall | undefined,
): Promise<HttpResponse> {
  let response: HttpResponse;
  try {
    response = await httpRequest(target, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      dispatcher: upstream.dispatcher,
      signal: call?.signal,
      timeoutMs: upstream.timeoutMs,
    });
  } catch (error) {
    throw mapTransportFailure(error, upstream, 'request');
  }
  const where = upstream.requestId;
  if (call !== undefined && where !== undefined && 'header' in where) {
    const id = response.headers[where.header];
    if (typeof id === 'string') call.upstreamRequestId = id;
  }
  return response;
}

/** Whether the answer is a 2xx. */
export function succeeded(response: HttpResponse): boolean {
  return response.statusCode >= 200 && response.statusCode < 300;
}

/** Throws the upstream's mapped error for a non-2xx answer, having read its body. */
export async function rejectAnswer(upstream: Upstream, response: HttpResponse): Promise<never> {
  const body = await response.body.bytes().catch(() => Buffer.alloc(0));
  throw upstream.mapError(response.statusCode, body, response.headers);
}

/** Reads a 2xx answer's JSON (non-2xx → the mapped error); with `call`, records a request id carried in a field. */
export async function readJson<T>(
  upstream: Upstream,
  response: HttpResponse,
  call: ProviderCall | undefined,
): Promise<T> {
  if (!succeeded(response)) await rejectAnswer(upstream, response);
  let text: string;
  try {
    text = await response.body.text();
  } catch (error) {
    throw mapTransportFailure(error, upstream, 'answer');
  }
  const value = parseJson(upstream, text) as T;
  const where = upstream.requestId;
  if (call !== undefined && where !== undefined && 'field' in where) recordIdField(where.field, value, call);
  return value;
}

/** `openUpstream`, then `readJson`: one JSON call. */
export async function requestJson<T>(
  upstream: Upstream,
  target: RequestTarget,
  request: UpstreamRequest,
  call: ProviderCall | undefined,
): Promise<T> {
  return readJson<T>(upstream, await openUpstream(upstream, target, request, call), call);
}

/**
 * Says which parsed events are errors: the mapped error for one (it ends the stream), undefined
 * for an ordinary event.
 */
export type EventErrorCheck = (event: unknown) => GatewayError | undefined;

/**
 * The events of an answer (or of one on its way), parsed from JSON as they arrive, up to
 * `data: [DONE]`; the rest is read but ignored, so the connection goes back to the pool intact.
 * A non-2xx answer is the mapped error, a 2xx that is not an event stream an UpstreamError with
 * its words. Stopping early ends the upstream request. With `call`, records a request id carried
 * in a field of the first event that has it.
 */
export async function* readEvents<T>(
  upstream: Upstream,
  opened: HttpResponse | Promise<HttpResponse>,
  call: ProviderCall | undefined,
  errorOf: EventErrorCheck,
): AsyncGenerator<T> {
  const response = await opened;
  if (!succeeded(response)) await rejectAnswer(upstream, response);
  if (!String(response.headers['content-type']).startsWith('text/event-stream')) {
    const detail = bodyWords(await response.body.bytes().catch(() => Buffer.alloc(0)));
    throw new UpstreamError(`${upstream.name} answered a streaming request without an event stream: ${detail}`);
  }
  const where = upstream.requestId;
  const idField = call !== undefined && where !== undefined && 'field' in where ? where.field : undefined;
  let recorded = idField === undefined;
  let done = false;
  try {
    for await (const batch of readSseData(response.body)) {
      for (const data of batch) {
        if (done || data === '[DONE]') {
          done = true;
          continue;
        }
        const event = parseJson(upstream, data);
        const failure = errorOf(event);
        if (failure !== undefined) throw failure;
        if (!recorded) recorded = recordIdField(idField as string, event, call as ProviderCall);
        yield event as T;
      }
    }
  } catch (error) {
    throw mapTransportFailure(error, upstream, 'answer');
  } finally {
    response.body.destroy();
  }
}

/**
 * `openUpstream`, then `readEvents`: one streamed call. Not a generator of its own, so each event
 * passes through one generator less.
 */
export function requestEvents<T>(
  upstream: Upstream,
  target: RequestTarget,
  request: UpstreamRequest,
  call: ProviderCall | undefined,
  errorOf: EventErrorCheck,
): AsyncGenerator<T> {
  return readEvents<T>(upstream, openUpstream(upstream, target, request, call), call, errorOf);
}

/**
 * A failure to reach the upstream or to read its answer → the client's error: no answer in time,
 * a body that stalled, an answer too large, TLS, refused or reset connections. An abort (the
 * client went away) is rethrown as is: nobody is left to answer. Anything else passes unchanged.
 */
export function mapTransportFailure(
  error: unknown,
  upstream: Pick<Upstream, 'name' | 'tlsHint'>,
  phase: UpstreamPhase,
): unknown {
  const { name } = upstream;
  if (error instanceof GatewayError) return error;
  if (error instanceof HttpTimeoutError) {
    return new UpstreamTimeoutError(`${name} did not answer in time (${error.message}).`);
  }
  if (error instanceof ResponseTooLargeError) return new UpstreamError(`${name}: ${error.message}.`);
  if (isBodyTimeout(error)) {
    return new UpstreamTimeoutError(`${name} stopped sending its answer for longer than UPSTREAM_TIMEOUT_MS.`);
  }
  if (error instanceof Error && error.name === 'AbortError') return error;
  const code = failureCode(error);
  if (code !== undefined && TLS_ERROR_CODES.has(code)) {
    const hint = upstream.tlsHint === undefined ? '' : ` ${upstream.tlsHint}`;
    return new UpstreamError(`${name}: the TLS certificate could not be verified (${code}).${hint}`, {
      code: 'upstream_tls_error',
      headers: NO_RETRY,
    });
  }
  if (code !== undefined && phase === 'answer') {
    return new UpstreamError(`The connection to ${name} broke before the answer was complete (${code}).`);
  }
  if (code !== undefined)
    return new UpstreamError(`${name} is unreachable (${code}).`, { code: 'upstream_unreachable' });
  return error;
}

/** A short line of an error body's words: its JSON `message` (or `error.message`), else its text without markup. */
export function bodyWords(body: Buffer): string {
  const text = body.toString('utf8').trim();
  try {
    const parsed = JSON.parse(text) as { message?: unknown; error?: { message?: unknown } };
    const message = typeof parsed.message === 'string' ? parsed.message : parsed.error?.message;
    if (typeof message === 'string' && message !== '') return message.slice(0, 500);
  } catch {
    // Not JSON (a proxy's HTML page, say): its words, not its markup.
  }
  const plain = plainText(text);
  return plain === '' ? 'no details' : plain.slice(0, 200);
}

// Not the parser's message: V8 quotes the text it choked on, which is part of the answer.
function parseJson(upstream: Upstream, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UpstreamError(`${upstream.name}'s answer could not be read (not valid JSON).`);
  }
}

function recordIdField(field: string, value: unknown, call: ProviderCall): boolean {
  const id = (value as Record<string, unknown> | null)?.[field];
  if (typeof id !== 'string') return false;
  call.upstreamRequestId = id;
  return true;
}

// undici's "other side closed" says only that the socket ended; the errno under it, when there is one, says how.
function failureCode(error: unknown): string | undefined {
  const failure = error as (Error & { code?: string; cause?: { code?: string } }) | undefined;
  if (failure?.code !== 'UND_ERR_SOCKET') return failure?.code;
  return failure.cause?.code ?? 'connection closed';
}
