import { expect } from 'chai';
import {
  BadRequestError,
  InsufficientQuotaError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  UpstreamError,
} from '../../../../gateway/openai/errors.ts';
import { mapGigaChatError } from '../../../../gateway/providers/gigachat/map-error.ts';
import { recordedExchange } from '../../../helpers/cassettes.ts';

/** A GigaChat API error body, as the API sends it: compact JSON. */
const body = (status: number, message: string) => Buffer.from(JSON.stringify({ status, message }));

/** The recorded 404 body; the server sent it with a trailing newline (SOURCES.md). */
const recordedNotFound = Buffer.from(`${JSON.stringify(recordedExchange('model-not-found').response)}\n`);

describe('mapGigaChatError', () => {
  for (const status of [400, 422]) {
    it(`${status} → 400 invalid_request_error with GigaChat's message`, () => {
      const error = mapGigaChatError(status, body(status, 'Invalid params: repetition_penalty must be in range'), {});
      expect(error).to.be.instanceOf(BadRequestError);
      expect(error).to.include({ status: 400, type: 'invalid_request_error', param: null, code: null });
      expect(error.message).to.equal(
        'GigaChat rejected the request: Invalid params: repetition_penalty must be in range',
      );
    });
  }

  it('401 → 502 upstream_auth_error, not to be retried', () => {
    const error = mapGigaChatError(401, body(401, 'Token has expired'), {});
    expect(error).to.be.instanceOf(UpstreamError);
    expect(error).to.include({ status: 502, type: 'api_error', code: 'upstream_auth_error' });
    expect(error.headers).to.deep.equal({ 'x-should-retry': 'false' });
    expect(error.message).to.contain('Token has expired').and.contain('GIGACHAT_CREDENTIALS');
  });

  it('402 → 402 insufficient_quota', () => {
    const error = mapGigaChatError(402, body(402, 'Payment Required'), {});
    expect(error).to.be.instanceOf(InsufficientQuotaError);
    expect(error).to.include({ status: 402, type: 'insufficient_quota', code: 'insufficient_quota' });
    expect(error.message).to.contain('Payment Required');
  });

  it('403 → 403 permission_error', () => {
    const error = mapGigaChatError(403, body(403, 'Permission denied'), {});
    expect(error).to.be.instanceOf(PermissionDeniedError);
    expect(error).to.include({ status: 403, type: 'permission_error' });
    expect(error.message).to.contain('Permission denied');
  });

  it('the recorded 404 (model-not-found) → 404 model_not_found naming model', () => {
    const error = mapGigaChatError(404, recordedNotFound, {});
    expect(error).to.be.instanceOf(NotFoundError);
    expect(error).to.include({
      status: 404,
      type: 'invalid_request_error',
      param: 'model',
      code: 'model_not_found',
    });
    expect(error.message).to.equal('GigaChat: No such model. GET /v1/models lists the available models.');
  });

  it('413 → 400 context_length_exceeded naming messages', () => {
    const error = mapGigaChatError(413, body(413, 'Payload too large'), {});
    expect(error).to.be.instanceOf(BadRequestError);
    expect(error).to.include({
      status: 400,
      type: 'invalid_request_error',
      param: 'messages',
      code: 'context_length_exceeded',
    });
  });

  it('429 → 429 rate_limit_error carrying Retry-After', () => {
    const error = mapGigaChatError(429, body(429, 'Too many requests'), { 'retry-after': '7' });
    expect(error).to.be.instanceOf(RateLimitError);
    expect(error).to.include({ status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect(error.headers).to.deep.equal({ 'retry-after': '7' });
  });

  it('429 without Retry-After carries no headers', () => {
    expect(mapGigaChatError(429, body(429, 'Too many requests'), {}).headers).to.deep.equal({});
  });

  for (const status of [500, 502, 503]) {
    it(`${status} → 502 upstream_error`, () => {
      const error = mapGigaChatError(status, body(status, 'Internal Server Error'), {});
      expect(error).to.be.instanceOf(UpstreamError);
      expect(error).to.include({ status: 502, type: 'api_error', code: 'upstream_error' });
      expect(error.message).to.equal(`GigaChat answered HTTP ${status}: Internal Server Error`);
    });
  }

  it('an HTML error page gives a short one-line message of its words, without markup', () => {
    const html = `<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n${'<p>proxy error</p>\n'.repeat(100)}</body>\n</html>\n`;
    const error = mapGigaChatError(502, Buffer.from(html), {});
    const prefix = 'GigaChat answered HTTP 502: ';
    expect(error.message.startsWith(`${prefix}502 Bad Gateway proxy error proxy error`)).to.equal(true);
    expect(error.message.length).to.equal(prefix.length + 200);
    expect(error.message).to.not.contain('\n');
    expect(error.message).to.not.contain('<');
  });
});
