import type { IncomingHttpHeaders } from 'node:http';
import {
  BadRequestError,
  type GatewayError,
  InsufficientQuotaError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  UpstreamError,
} from '../../openai/errors.ts';
import { bodyWords } from '../upstream.ts';

const NO_RETRY = { 'x-should-retry': 'false' };

/** Maps a non-2xx GigaChat answer (its status and body) to the error the client gets. */
export function mapGigaChatError(status: number, body: Buffer, headers: IncomingHttpHeaders): GatewayError {
  const detail = bodyWords(body);
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
