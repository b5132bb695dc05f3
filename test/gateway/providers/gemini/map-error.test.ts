import { ApiError } from '@google/genai';
import { expect } from 'chai';
import { HttpTimeoutError } from '../../../../gateway/lib/http-request.ts';
import {
  BadRequestError,
  type GatewayError,
  NotFoundError,
  RateLimitError,
  ServiceUnavailableError,
  UpstreamError,
  UpstreamTimeoutError,
} from '../../../../gateway/openai/errors.ts';
import {
  mapGeminiApiError,
  mapGeminiFailure,
  parseGeminiErrorBody,
  retryAfterSeconds,
} from '../../../../gateway/providers/gemini/map-error.ts';
import type { GeminiErrorBody } from '../../../../gateway/providers/gemini/wire-types.ts';
import { geminiFixture } from '../../../helpers/gemini-mock.ts';

const recorded = (name: string): GeminiErrorBody => geminiFixture<GeminiErrorBody>(name);

/** A Gemini error body with just a status, code and message. */
const body = (code: number, status: string, message: string): GeminiErrorBody => ({ error: { code, status, message } });

/** An ApiError as @google/genai throws it for a non-2xx answer: the JSON body is the message. */
const apiError = (status: number, errorBody: unknown) => new ApiError({ status, message: JSON.stringify(errorBody) });

describe('mapGeminiApiError', () => {
  it('the recorded bad key (error-api-key-invalid.json, HTTP 400) → 502 upstream_auth_error, never 401', () => {
    const error = mapGeminiApiError(400, recorded('error-api-key-invalid'));
    expect(error).to.be.instanceOf(UpstreamError);
    expect(error).to.include({ status: 502, type: 'api_error', code: 'upstream_auth_error' });
    expect(error.headers).to.deep.equal({ 'x-should-retry': 'false' });
    expect(error.message).to.contain('API key not valid').and.contain('GEMINI_API_KEY');
  });

  it('401 → 502 upstream_auth_error', () => {
    const error = mapGeminiApiError(
      401,
      body(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'),
    );
    expect(error).to.include({ status: 502, code: 'upstream_auth_error' });
    expect(error.headers).to.deep.equal({ 'x-should-retry': 'false' });
  });

  it('403 PERMISSION_DENIED → 502 upstream_auth_error', () => {
    const error = mapGeminiApiError(403, body(403, 'PERMISSION_DENIED', 'Generative Language API has not been used'));
    expect(error).to.include({ status: 502, code: 'upstream_auth_error' });
    expect(error.headers).to.deep.equal({ 'x-should-retry': 'false' });
  });

  it('the recorded 429 (error-429-retry-info.json) → 429 rate_limit_error, retry-after 35 from "34.4s"', () => {
    const error = mapGeminiApiError(429, recorded('error-429-retry-info'));
    expect(error).to.be.instanceOf(RateLimitError);
    expect(error).to.include({ status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect(error.headers).to.deep.equal({ 'retry-after': '35' });
    expect(error.message).to.contain('You exceeded your current quota');
  });

  it('a 429 without RetryInfo → no retry-after', () => {
    const error = mapGeminiApiError(429, body(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded'));
    expect(error.headers).to.deep.equal({});
  });

  it("a 429 without RetryInfo takes the answer's Retry-After header; RetryInfo wins over it", () => {
    const plain = mapGeminiApiError(429, body(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded'), '12');
    expect(plain.headers).to.deep.equal({ 'retry-after': '12' });
    expect(mapGeminiApiError(429, recorded('error-429-retry-info'), '12').headers).to.deep.equal({
      'retry-after': '35',
    });
  });

  it('the recorded 404 (error-model-not-found.json) → 404 model_not_found naming model', () => {
    const error = mapGeminiApiError(404, recorded('error-model-not-found'));
    expect(error).to.be.instanceOf(NotFoundError);
    expect(error).to.include({ status: 404, type: 'invalid_request_error', param: 'model', code: 'model_not_found' });
    expect(error.message).to.contain('models/gemini-1.5-flash is not found').and.contain('GET /v1/models');
  });

  it('the recorded region block (error-location.json) → 502 telling the operator to use HTTPS_PROXY', () => {
    const error = mapGeminiApiError(400, recorded('error-location'));
    expect(error).to.be.instanceOf(UpstreamError);
    expect(error).to.include({ status: 502, code: 'upstream_region_blocked' });
    expect(error.headers).to.deep.equal({ 'x-should-retry': 'false' });
    expect(error.message).to.contain('HTTPS_PROXY').and.contain('User location is not supported');
  });

  it('another FAILED_PRECONDITION (billing) → 502, not to be retried', () => {
    const error = mapGeminiApiError(400, body(400, 'FAILED_PRECONDITION', 'Gemini API free tier is not available.'));
    expect(error).to.include({ status: 502, code: 'upstream_error' });
    expect(error.headers).to.deep.equal({ 'x-should-retry': 'false' });
    expect(error.message).to.contain('free tier');
  });

  it("the recorded thinking-level refusal (error-thinking-level.json) → 400 with Gemini's words", () => {
    const error = mapGeminiApiError(400, recorded('error-thinking-level'));
    expect(error).to.be.instanceOf(BadRequestError);
    expect(error).to.include({ status: 400, type: 'invalid_request_error' });
    expect(error.message).to.equal(
      'Gemini rejected the request: Thinking level MINIMAL is not supported for this model. Please retry with other thinking level.',
    );
  });

  for (const [status, type, expectedStatus] of [
    [500, UpstreamError, 502],
    [503, ServiceUnavailableError, 503],
    [504, UpstreamTimeoutError, 504],
    [403, UpstreamError, 502],
  ] as const) {
    it(`${status} → ${expectedStatus}`, () => {
      const error = mapGeminiApiError(status, body(status, 'SOMETHING', 'went wrong'));
      expect(error).to.be.instanceOf(type);
      expect(error.status).to.equal(expectedStatus);
      expect(error.message).to.contain('went wrong');
      expect(error.headers).to.not.have.property('x-should-retry');
    });
  }

  it('an empty body still gives a message', () => {
    const error = mapGeminiApiError(500, {});
    expect(error.message).to.contain('no details');
  });

  it("cuts Gemini's message to 500 characters", () => {
    const error = mapGeminiApiError(400, body(400, 'INVALID_ARGUMENT', 'x'.repeat(5000)));
    expect(error.message.length).to.be.below(600);
  });
});

describe('parseGeminiErrorBody', () => {
  it('reads the JSON message @google/genai puts in ApiError', () => {
    const errorBody = recorded('error-429-retry-info');
    expect(parseGeminiErrorBody(JSON.stringify(errorBody))).to.deep.equal(errorBody);
  });

  it('reads it after the "got status: …" prefix of an error inside a stream', () => {
    const errorBody = recorded('error-429-retry-info');
    expect(parseGeminiErrorBody(`got status: RESOURCE_EXHAUSTED. ${JSON.stringify(errorBody)}`)).to.deep.equal(
      errorBody,
    );
  });

  for (const message of ['', 'got status: 502 Bad Gateway', 'got status: 500. {not json', '<html>{</html>']) {
    it(`${JSON.stringify(message)} → {}`, () => {
      expect(parseGeminiErrorBody(message)).to.deep.equal({});
    });
  }
});

describe('retryAfterSeconds', () => {
  for (const [delay, seconds] of [
    ['34.4s', 35],
    ['34s', 34],
    ['0.1s', 1],
    ['0s', 0],
    ['soon', undefined],
    ['34', undefined],
  ] as const) {
    it(`retryDelay ${delay} → ${seconds}`, () => {
      const errorBody = {
        error: { details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: delay }] },
      };
      expect(retryAfterSeconds(errorBody)).to.equal(seconds);
    });
  }

  it('only RetryInfo counts', () => {
    expect(
      retryAfterSeconds({
        error: { details: [{ '@type': 'type.googleapis.com/google.rpc.Other', retryDelay: '3s' }] },
      }),
    ).to.equal(undefined);
    expect(retryAfterSeconds({})).to.equal(undefined);
  });
});

describe('mapGeminiFailure', () => {
  it('an ApiError is mapped from its status and body', () => {
    const error = mapGeminiFailure(apiError(400, geminiFixture('error-api-key-invalid')), false, 1000) as GatewayError;
    expect(error).to.be.instanceOf(UpstreamError);
    expect(error.code).to.equal('upstream_auth_error');
  });

  it("an ApiError raised inside a stream ('got status: …' prefix) keeps its retry-after", () => {
    const errorBody = geminiFixture('error-429-retry-info');
    const failure = new ApiError({
      status: 429,
      message: `got status: RESOURCE_EXHAUSTED. ${JSON.stringify(errorBody)}`,
    });
    const error = mapGeminiFailure(failure, false, 1000) as GatewayError;
    expect(error).to.be.instanceOf(RateLimitError);
    expect(error.headers).to.deep.equal({ 'retry-after': '35' });
  });

  it('a GatewayError passes unchanged', () => {
    const original = new UpstreamError('already mapped');
    expect(mapGeminiFailure(original, true, 1000)).to.equal(original);
  });

  it('our deadline → 504 naming the limit', () => {
    const abort = new DOMException('This operation was aborted', 'AbortError');
    const error = mapGeminiFailure(abort, true, 1500) as GatewayError;
    expect(error).to.be.instanceOf(UpstreamTimeoutError);
    expect(error).to.include({ status: 504, code: 'upstream_timeout' });
    expect(error.message).to.contain('1500 ms');
  });

  it("the pool's own limits (chat calls) → 504 naming the limit: no answer, or a body that stopped", () => {
    const noAnswer = new TypeError('fetch failed', { cause: new HttpTimeoutError(1500) });
    const stalled = Object.assign(new Error('Body Timeout Error'), { code: 'UND_ERR_BODY_TIMEOUT' });
    for (const failure of [noAnswer, stalled]) {
      const error = mapGeminiFailure(failure, false, 1500) as GatewayError;
      expect(error).to.be.instanceOf(UpstreamTimeoutError);
      expect(error.message).to.equal('Gemini did not answer within 1500 ms.');
    }
  });

  it('the client leaving (an abort that is not our deadline) is rethrown as it is', () => {
    const abort = new DOMException('This operation was aborted', 'AbortError');
    expect(mapGeminiFailure(abort, false, 1000)).to.equal(abort);
  });

  it("fetch's network TypeError with a cause → 502 upstream_unreachable naming the code", () => {
    const failure = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
    });
    const error = mapGeminiFailure(failure, false, 1000) as GatewayError;
    expect(error).to.be.instanceOf(UpstreamError);
    expect(error).to.include({ status: 502, code: 'upstream_unreachable' });
    expect(error.message).to.contain('ECONNREFUSED');
  });

  it('a cause without a code is named by its message', () => {
    const failure = new TypeError('fetch failed', { cause: new Error('other side closed') });
    expect((mapGeminiFailure(failure, false, 1000) as GatewayError).message).to.contain('other side closed');
  });

  it('any other error → 502 that the answer could not be read', () => {
    const parse = new SyntaxError(`Unexpected token 'S', "Secret answer" is not valid JSON`);
    const error = mapGeminiFailure(parse, false, 1000) as GatewayError;
    expect(error).to.be.instanceOf(UpstreamError);
    expect(error).to.include({ status: 502, code: 'upstream_error' });
    expect(error.message).to.equal("Gemini's answer could not be read (not valid JSON).");
  });

  it('a connection lost mid-answer (a bare system error) → 502 upstream_error, not unreachable', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read' });
    const error = mapGeminiFailure(reset, false, 1000) as GatewayError;
    expect(error).to.include({ status: 502, code: 'upstream_error' });
    expect(error.message).to.contain('broke before the answer was complete (ECONNRESET)');
  });

  it('a TypeError without a cause is a read failure, not unreachable', () => {
    const error = mapGeminiFailure(new TypeError("Cannot read properties of undefined (reading 'x')"), false, 1000);
    expect((error as GatewayError).code).to.equal('upstream_error');
  });

  it('a thrown non-Error passes unchanged', () => {
    expect(mapGeminiFailure('weird', false, 1000)).to.equal('weird');
  });
});
