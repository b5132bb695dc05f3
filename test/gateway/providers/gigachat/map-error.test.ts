import { expect } from 'chai';
import { HttpTimeoutError } from '../../../../gateway/lib/http-request.ts';
import { ResponseTooLargeError } from '../../../../gateway/lib/response-body.ts';
import {
  BadRequestError,
  type GatewayError,
  InsufficientQuotaError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  UpstreamError,
  UpstreamTimeoutError,
} from '../../../../gateway/openai/errors.ts';
import {
  gigaChatErrorMessage,
  mapGigaChatError,
  mapGigaChatFailure,
} from '../../../../gateway/providers/gigachat/map-error.ts';
import { recordedExchange } from '../../../helpers/cassettes.ts';

/** A GigaChat API error body, as the API sends it: compact JSON. */
const body = (status: number, message: string) => Buffer.from(JSON.stringify({ status, message }));

/** The recorded 404 body; the server sent it with a trailing newline (SOURCES.md). */
const recordedNotFound = Buffer.from(`${JSON.stringify(recordedExchange('model-not-found').response)}\n`);

function errnoError(code: string, message = code): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

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

describe('gigaChatErrorMessage', () => {
  it("takes the message of a {status, message} body and of OAuth's {code, message}", () => {
    expect(gigaChatErrorMessage(recordedNotFound)).to.equal('No such model');
    expect(
      gigaChatErrorMessage(Buffer.from('{"code":7,"message":"scope from db not fully includes consumed scope"}')),
    ).to.equal('scope from db not fully includes consumed scope');
  });

  it('says so for an empty body', () => {
    expect(gigaChatErrorMessage(Buffer.alloc(0))).to.equal('no details');
    expect(gigaChatErrorMessage(Buffer.from('  \n'))).to.equal('no details');
  });

  it('caps a long JSON message at 500 characters', () => {
    expect(gigaChatErrorMessage(body(400, 'x'.repeat(1000)))).to.have.length(500);
  });

  it('falls back to the raw text for JSON without a message', () => {
    expect(gigaChatErrorMessage(Buffer.from('{"status":500}'))).to.equal('{"status":500}');
  });
});

describe('mapGigaChatFailure', () => {
  it('a timeout → 504 upstream_timeout', () => {
    const error = mapGigaChatFailure(new HttpTimeoutError(30_000), 'GigaChat') as GatewayError;
    expect(error).to.be.instanceOf(UpstreamTimeoutError);
    expect(error).to.include({ status: 504, type: 'api_error', code: 'upstream_timeout' });
    expect(error.message).to.equal('GigaChat did not answer in time (no answer within 30000 ms).');
  });

  for (const code of ['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']) {
    it(`a TLS failure (${code}) → 502 upstream_tls_error pointing at GIGACHAT_CA_FILE`, () => {
      const error = mapGigaChatFailure(
        errnoError(code, 'self-signed certificate in certificate chain'),
        'GigaChat OAuth',
      ) as GatewayError;
      expect(error).to.be.instanceOf(UpstreamError);
      expect(error).to.include({ status: 502, code: 'upstream_tls_error' });
      expect(error.headers).to.deep.equal({ 'x-should-retry': 'false' });
      expect(error.message).to.contain(code).and.contain('GIGACHAT_CA_FILE').and.contain('GigaChat OAuth');
    });
  }

  for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'ECONNRESET']) {
    it(`${code} → 502 upstream_unreachable`, () => {
      const error = mapGigaChatFailure(errnoError(code), 'GigaChat') as GatewayError;
      expect(error).to.be.instanceOf(UpstreamError);
      expect(error).to.include({ status: 502, code: 'upstream_unreachable' });
      expect(error.message).to.equal(`GigaChat is unreachable (${code}).`);
    });
  }

  for (const code of ['ECONNRESET', 'ERR_STREAM_PREMATURE_CLOSE']) {
    it(`${code} once the answer began → 502 upstream_error: a broken answer, not an unreachable host`, () => {
      const error = mapGigaChatFailure(errnoError(code), 'GigaChat', 'answer') as GatewayError;
      expect(error).to.include({ status: 502, code: 'upstream_error' });
      expect(error.message).to.equal(`The connection to GigaChat broke before the answer was complete (${code}).`);
    });
  }

  it('a timeout once the answer began is still 504 upstream_timeout', () => {
    const error = mapGigaChatFailure(new HttpTimeoutError(300), 'GigaChat', 'answer') as GatewayError;
    expect(error).to.include({ status: 504, code: 'upstream_timeout' });
  });

  it('an answer over the size the gateway reads → 502 upstream_error saying so', () => {
    const error = mapGigaChatFailure(new ResponseTooLargeError(1024), 'GigaChat', 'answer') as GatewayError;
    expect(error).to.include({ status: 502, code: 'upstream_error' });
    expect(error.message).to.equal('GigaChat: the answer is larger than 1024 bytes, the most the gateway reads.');
  });

  it("undici's body timeout (the answer paused too long) → 504 upstream_timeout naming UPSTREAM_TIMEOUT_MS", () => {
    const error = mapGigaChatFailure(errnoError('UND_ERR_BODY_TIMEOUT', 'Body Timeout Error'), 'GigaChat', 'answer');
    expect(error).to.include({ status: 504, code: 'upstream_timeout' });
    expect((error as GatewayError).message).to.contain('UPSTREAM_TIMEOUT_MS');
  });

  it("undici's 'other side closed' names the errno under it, or says the connection closed", () => {
    const closed = errnoError('UND_ERR_SOCKET', 'other side closed');
    expect((mapGigaChatFailure(closed, 'GigaChat') as GatewayError).message).to.equal(
      'GigaChat is unreachable (connection closed).',
    );
    const reset = Object.assign(errnoError('UND_ERR_SOCKET', 'other side closed'), { cause: errnoError('ECONNRESET') });
    expect((mapGigaChatFailure(reset, 'GigaChat', 'answer') as GatewayError).message).to.equal(
      'The connection to GigaChat broke before the answer was complete (ECONNRESET).',
    );
  });

  it('an AbortError (the client went away) is rethrown unchanged', () => {
    const abort = new DOMException('This operation was aborted', 'AbortError');
    expect(mapGigaChatFailure(abort, 'GigaChat')).to.equal(abort);
    const nodeAbort = Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
    expect(mapGigaChatFailure(nodeAbort, 'GigaChat')).to.equal(nodeAbort);
  });

  it('a GatewayError passes through unchanged', () => {
    const upstream = new UpstreamError('already mapped');
    expect(mapGigaChatFailure(upstream, 'GigaChat')).to.equal(upstream);
  });

  it('an error without a code is returned as it is', () => {
    const bug = new TypeError('x is undefined');
    expect(mapGigaChatFailure(bug, 'GigaChat')).to.equal(bug);
  });
});
