import { expect } from 'chai';
import {
  BadRequestError,
  NotFoundError,
  RateLimitError,
  ServiceUnavailableError,
  UpstreamError,
  UpstreamTimeoutError,
} from '../../../../gateway/openai/errors.ts';
import {
  mapGeminiApiError,
  mapGeminiError,
  parseGeminiErrorBody,
  retryAfterSeconds,
} from '../../../../gateway/providers/gemini/map-error.ts';
import type { GeminiErrorBody } from '../../../../gateway/providers/gemini/wire-types.ts';
import { geminiFixture } from '../../../helpers/gemini-mock.ts';

const recorded = (name: string): GeminiErrorBody => geminiFixture<GeminiErrorBody>(name);

/** A Gemini error body with just a status, code and message. */
const body = (code: number, status: string, message: string): GeminiErrorBody => ({ error: { code, status, message } });

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
  it('reads the recorded google.rpc.Status body', () => {
    const errorBody = recorded('error-429-retry-info');
    expect(parseGeminiErrorBody(Buffer.from(JSON.stringify(errorBody)))).to.deep.equal(errorBody);
  });

  it("a page that is not JSON (a proxy's) → its words as the message, without markup", () => {
    expect(parseGeminiErrorBody(Buffer.from('<h1>Bad Gateway</h1>'))).to.deep.equal({
      error: { message: 'Bad Gateway' },
    });
  });

  for (const text of ['', '{"other":1}']) {
    it(`${JSON.stringify(text)} → no message`, () => {
      const parsed = parseGeminiErrorBody(Buffer.from(text));
      expect(parsed.error?.message).to.equal(text === '' ? undefined : '{"other":1}');
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

describe('mapGeminiError', () => {
  it('maps the status and the body bytes: the recorded bad key → 502 upstream_auth_error', () => {
    const error = mapGeminiError(400, Buffer.from(JSON.stringify(recorded('error-api-key-invalid'))), {});
    expect(error).to.be.instanceOf(UpstreamError);
    expect(error.code).to.equal('upstream_auth_error');
  });

  it("a 429 without RetryInfo takes the answer's Retry-After header", () => {
    const error = mapGeminiError(429, Buffer.from(JSON.stringify(body(429, 'RESOURCE_EXHAUSTED', 'slow'))), {
      'retry-after': '9',
    });
    expect(error).to.be.instanceOf(RateLimitError);
    expect(error.headers).to.deep.equal({ 'retry-after': '9' });
  });

  it("a proxy's HTML page → 502 with its words", () => {
    const error = mapGeminiError(502, Buffer.from('<h1>Bad Gateway</h1>'), {});
    expect(error).to.include({ status: 502 });
    expect(error.message).to.contain('Bad Gateway');
  });
});
