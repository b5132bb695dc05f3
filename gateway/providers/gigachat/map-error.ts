import type { IncomingHttpHeaders } from 'node:http';
import { HttpTimeoutError, isBodyTimeout } from '../../lib/http-request.ts';
import { plainText } from '../../lib/plain-text.ts';
import { ResponseTooLargeError } from '../../lib/response-body.ts';
import {
  BadRequestError,
  GatewayError,
  InsufficientQuotaError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  UpstreamError,
  UpstreamTimeoutError,
} from '../../openai/errors.ts';
import type { GigaChatErrorBody } from './wire-types.ts';

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

/** The upstream's own words from an error body, trimmed; never more than a short line. */
export function gigaChatErrorMessage(body: Buffer): string {
  const text = body.toString('utf8').trim();
  try {
    const parsed = JSON.parse(text) as GigaChatErrorBody;
    if (typeof parsed.message === 'string' && parsed.message !== '') return parsed.message.slice(0, 500);
  } catch {
    // Not JSON (a proxy's HTML page, say): fall through to the raw text.
  }
  // A proxy's HTML error page: keep its words, not its markup.
  const plain = plainText(text);
  return plain === '' ? 'no details' : plain.slice(0, 200);
}

/** Maps a non-2xx GigaChat answer to the error the client gets (gigachat.md, "Errors"). */
export function mapGigaChatError(status: number, body: Buffer, headers: IncomingHttpHeaders): GatewayError {
  const detail = gigaChatErrorMessage(body);
  switch (status) {
    case 400:
    case 422:
      return new BadRequestError(`GigaChat rejected the request: ${detail}`);
    case 401:
      return new UpstreamError(
        `GigaChat refused the gateway's access token even after a refresh (${detail}); check GIGACHAT_CREDENTIALS and GIGACHAT_SCOPE.`,
        { code: 'upstream_auth_error', headers: NO_RETRY },
      );
    case 402:
      return new InsufficientQuotaError(
        `GigaChat: the account has no tokens left for this model (402 ${detail}). Top up the package or choose another model.`,
      );
    case 403:
      return new PermissionDeniedError(`GigaChat denied the request: ${detail}`);
    case 404:
      return new NotFoundError(`GigaChat: ${detail}. GET /v1/models lists the available models.`, {
        param: 'model',
        code: 'model_not_found',
      });
    case 413:
      return new BadRequestError(`GigaChat: the prompt is longer than the model's context window (${detail}).`, {
        param: 'messages',
        code: 'context_length_exceeded',
      });
    case 429: {
      const retryAfter = headers['retry-after'];
      return new RateLimitError(`GigaChat: too many requests (${detail}).`, {
        headers: typeof retryAfter === 'string' ? { 'retry-after': retryAfter } : {},
      });
    }
    default:
      return new UpstreamError(`GigaChat answered HTTP ${status}: ${detail}`);
  }
}

/**
 * Maps a failure to reach GigaChat (timeout, network, TLS) to a client error. An abort caused by
 * the client going away is rethrown as is: there is nobody left to answer. `during` says whether
 * the answer had begun: a connection lost then is a broken answer, not an unreachable host.
 */
export function mapGigaChatFailure(error: unknown, what: string, during: 'request' | 'answer' = 'request'): unknown {
  if (error instanceof GatewayError) return error;
  if (error instanceof HttpTimeoutError) {
    return new UpstreamTimeoutError(`${what} did not answer in time (${error.message}).`);
  }
  if (error instanceof ResponseTooLargeError) return new UpstreamError(`${what}: ${error.message}.`);
  if (isBodyTimeout(error)) {
    return new UpstreamTimeoutError(`${what} stopped sending its answer for longer than UPSTREAM_TIMEOUT_MS.`);
  }
  if (error instanceof Error && error.name === 'AbortError') return error;
  const code = failureCode(error);
  if (code !== undefined && TLS_ERROR_CODES.has(code)) {
    return new UpstreamError(
      `${what}: the TLS certificate could not be verified (${code}). GigaChat uses the Russian Trusted Root CA: ` +
        'download it from https://www.gosuslugi.ru/crt and set GIGACHAT_CA_FILE to its path.',
      { code: 'upstream_tls_error', headers: NO_RETRY },
    );
  }
  if (code !== undefined && during === 'answer') {
    return new UpstreamError(`The connection to ${what} broke before the answer was complete (${code}).`);
  }
  if (code !== undefined) {
    return new UpstreamError(`${what} is unreachable (${code}).`, { code: 'upstream_unreachable' });
  }
  return error;
}

// undici's "other side closed" says only that the socket ended; the errno under it, when there is one, says how.
function failureCode(error: unknown): string | undefined {
  const failure = error as (Error & { code?: string; cause?: { code?: string } }) | undefined;
  if (failure?.code !== 'UND_ERR_SOCKET') return failure?.code;
  return failure.cause?.code ?? 'connection closed';
}
