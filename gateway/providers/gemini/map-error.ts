import { ApiError } from '@google/genai';
import { HttpTimeoutError, isBodyTimeout } from '../../lib/http-request.ts';
import { ResponseTooLargeError } from '../../lib/response-body.ts';
import {
  BadRequestError,
  GatewayError,
  NotFoundError,
  RateLimitError,
  ServiceUnavailableError,
  UpstreamError,
  UpstreamTimeoutError,
} from '../../openai/errors.ts';
import type { GeminiErrorBody } from './wire-types.ts';

const NO_RETRY = { 'x-should-retry': 'false' };

/** The error body inside an ApiError's message (the SDK puts the JSON there, sometimes after a prefix). */
export function parseGeminiErrorBody(message: string): GeminiErrorBody {
  const start = message.indexOf('{');
  if (start === -1) return {};
  try {
    return JSON.parse(message.slice(start)) as GeminiErrorBody;
  } catch {
    return {};
  }
}

/** Seconds from a google.rpc.RetryInfo `retryDelay` ("34.4s"), rounded up. */
export function retryAfterSeconds(body: GeminiErrorBody): number | undefined {
  for (const detail of body.error?.details ?? []) {
    const match = /^(\d+(?:\.\d+)?)s$/.exec(detail.retryDelay ?? '');
    if (detail['@type']?.endsWith('google.rpc.RetryInfo') && match !== null) return Math.ceil(Number(match[1]));
  }
  return undefined;
}

/**
 * Maps a Gemini API error to what the client gets (gemini-and-openai.md, "Errors"). `retryAfter`
 * is the answer's Retry-After header, when the call saw one: RetryInfo in the body comes first.
 */
export function mapGeminiApiError(status: number, body: GeminiErrorBody, retryAfter?: string): GatewayError {
  const error = body.error ?? {};
  const detail = (error.message ?? 'no details').trim().slice(0, 500);
  const reasons = (error.details ?? []).map((entry) => entry.reason);
  if (
    reasons.includes('API_KEY_INVALID') ||
    status === 401 ||
    (status === 403 && error.status === 'PERMISSION_DENIED')
  ) {
    // Our key to Gemini, not the client's key to us: a 401 would blame the client.
    return new UpstreamError(`Gemini refused the gateway's API key (${detail}); check GEMINI_API_KEY.`, {
      code: 'upstream_auth_error',
      headers: NO_RETRY,
    });
  }
  if (error.status === 'FAILED_PRECONDITION' && /location is not supported/i.test(detail)) {
    return new UpstreamError(
      'Gemini is not available from the region this gateway runs in ("User location is not supported"). ' +
        'Send Gemini traffic through a proxy in a supported region: set HTTPS_PROXY (GigaChat stays direct).',
      { code: 'upstream_region_blocked', headers: NO_RETRY },
    );
  }
  switch (status) {
    case 400:
      if (error.status === 'FAILED_PRECONDITION') {
        return new UpstreamError(`Gemini cannot serve this gateway's account: ${detail}`, { headers: NO_RETRY });
      }
      return new BadRequestError(`Gemini rejected the request: ${detail}`);
    case 404:
      return new NotFoundError(`Gemini: ${detail} GET /v1/models lists the available models.`, {
        param: 'model',
        code: 'model_not_found',
      });
    case 429: {
      const seconds = retryAfterSeconds(body) ?? retryAfter;
      return new RateLimitError(`Gemini: rate limit or quota exceeded (${detail}).`, {
        headers: seconds === undefined ? {} : { 'retry-after': String(seconds) },
      });
    }
    case 503:
      return new ServiceUnavailableError(`Gemini is overloaded or unavailable: ${detail}`);
    case 504:
      return new UpstreamTimeoutError(`Gemini did not finish in time: ${detail}`);
    default:
      return new UpstreamError(`Gemini answered HTTP ${status}: ${detail}`);
  }
}

/**
 * Any failure of a Gemini call → a client error. `timedOut` tells our own deadline apart from the
 * client going away; an abort caused by the client is rethrown as is (nobody is left to answer).
 */
export function mapGeminiFailure(error: unknown, timedOut: boolean, timeoutMs: number): unknown {
  if (error instanceof GatewayError) return error;
  if (error instanceof ApiError) return mapGeminiApiError(error.status, parseGeminiErrorBody(error.message));
  if (timedOut || isTimeout(error)) return new UpstreamTimeoutError(`Gemini did not answer within ${timeoutMs} ms.`);
  if (error instanceof ResponseTooLargeError) return new UpstreamError(`Gemini: ${error.message}.`);
  if (error instanceof Error && error.name === 'AbortError') return error;
  const cause = error instanceof Error ? (error.cause as (Error & { code?: string }) | undefined) : undefined;
  if (error instanceof TypeError && cause !== undefined) {
    return new UpstreamError(`Gemini is unreachable (${cause.code ?? cause.message}).`, {
      code: 'upstream_unreachable',
    });
  }
  // Failures before the answer came are fetch's TypeError (above); a bare system error is a connection lost mid-answer.
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    return new UpstreamError(`The connection to Gemini broke before the answer was complete (${code}).`);
  }
  // Not the parser's message: V8 quotes the text it choked on, which is part of the answer.
  if (error instanceof SyntaxError) return new UpstreamError("Gemini's answer could not be read (not valid JSON).");
  if (error instanceof Error) return new UpstreamError(`Gemini's answer could not be read (${error.name}).`);
  return error;
}

// The pool's own limits (chat calls): no answer (fetch's TypeError around it), or a body that stopped arriving.
function isTimeout(error: unknown): boolean {
  return (error instanceof TypeError && error.cause instanceof HttpTimeoutError) || isBodyTimeout(error);
}
