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

/** Words of GigaChat's answers that are about a file rather than the model or the prompt. */
const ABOUT_A_FILE = /file|attach|файл|влож/i;

/**
 * Maps GigaChat's refusal of an upload (POST /files) to an error naming the content part the
 * file came from: a type or content it does not take, a file too large, an account not allowed.
 */
export function mapGigaChatFileError(param: string) {
  return (status: number, body: Buffer, headers: IncomingHttpHeaders): GatewayError => {
    const detail = bodyWords(body);
    switch (status) {
      case 400:
      case 415:
      case 422:
        return new BadRequestError(`GigaChat did not take this file: ${detail}`, { param, code: 'unsupported_file' });
      case 413:
        return new BadRequestError(`GigaChat: the file is larger than it takes (${detail}).`, {
          param,
          code: 'file_too_large',
        });
      case 403:
        return new PermissionDeniedError(`GigaChat denied the upload of this file: ${detail}`, { param });
      default:
        return mapGigaChatError(status, body, headers);
    }
  };
}

/**
 * Maps a refused chat request that carried attachments: an answer about a file (an id GigaChat
 * does not know, or one this account may not read) is said as such, not as an unknown model.
 */
export function mapGigaChatAttachedChatError(status: number, body: Buffer, headers: IncomingHttpHeaders): GatewayError {
  const detail = bodyWords(body);
  if (ABOUT_A_FILE.test(detail)) {
    if (status === 404 || status === 400) {
      return new BadRequestError(
        `GigaChat does not have a file this request attaches (${detail}); the gateway uploads it again on the next request.`,
        { param: 'messages', code: 'file_not_found' },
      );
    }
    if (status === 403) {
      return new PermissionDeniedError(`GigaChat denied access to a file this request attaches: ${detail}`, {
        param: 'messages',
      });
    }
  }
  return mapGigaChatError(status, body, headers);
}
