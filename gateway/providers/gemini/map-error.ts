import type { IncomingHttpHeaders } from 'node:http';
import { plainText } from '../../lib/plain-text.ts';
import {
  BadRequestError,
  type GatewayError,
  NotFoundError,
  RateLimitError,
  ServiceUnavailableError,
  UpstreamError,
  UpstreamTimeoutError,
} from '../../openai/errors.ts';
import type { GeminiErrorBody } from './wire-types.ts';

const NO_RETRY = { 'x-should-retry': 'false' };

/** Seconds from a google.rpc.RetryInfo `retryDelay` ("34.4s"), rounded up. */
export function retryAfterSeconds(body: GeminiErrorBody): number | undefined {
  for (const detail of body.error?.details ?? []) {
    const match = /^(\d+(?:\.\d+)?)s$/.exec(detail.retryDelay ?? '');
    if (detail['@type']?.endsWith('google.rpc.RetryInfo') && match !== null) return Math.ceil(Number(match[1]));
  }
  return undefined;
}

/**
 * Maps a Gemini API error (https://ai.google.dev/gemini-api/docs/troubleshooting) to what the client gets. `retryAfter`
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

/** Gemini's error body, or the raw text as its message when the answer is not JSON (a proxy's page). */
export function parseGeminiErrorBody(body: Buffer): GeminiErrorBody {
  const text = body.toString('utf8');
  try {
    const parsed = JSON.parse(text) as GeminiErrorBody;
    if (typeof parsed.error === 'object' && parsed.error !== null) return parsed;
  } catch {
    // Not JSON: its words below.
  }
  const plain = plainText(text);
  return { error: { message: plain === '' ? undefined : plain } };
}

/** A non-2xx Gemini answer (its status, body and Retry-After) → the client's error. */
export function mapGeminiError(status: number, body: Buffer, headers: IncomingHttpHeaders): GatewayError {
  const retryAfter = headers['retry-after'];
  return mapGeminiApiError(status, parseGeminiErrorBody(body), typeof retryAfter === 'string' ? retryAfter : undefined);
}
