import { createServer } from 'node:net';
import { expect } from 'chai';
import OpenAI, { type APIError } from 'openai';
import { gigaChatChunks, recordedExchange } from '../helpers/cassettes.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { GigaChatMock, sendJson, writeGigaChatStream } from '../helpers/gigachat-mock.ts';

type ErrorClass = abstract new (...args: never[]) => APIError;

/** Awaits a failing SDK call and checks the exception class and the OpenAI error fields. */
async function expectApiError(
  call: Promise<unknown>,
  errorClass: ErrorClass,
  expected: { status: number; code?: string | null; param?: string | null; type?: string },
): Promise<APIError> {
  const error = await call.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (failure: unknown) => failure,
  );
  expect(error).to.be.instanceOf(errorClass);
  const apiError = error as APIError;
  expect(apiError.status).to.equal(expected.status);
  if (expected.code !== undefined) expect(apiError.code).to.equal(expected.code);
  if (expected.param !== undefined) expect(apiError.param).to.equal(expected.param);
  if (expected.type !== undefined) expect(apiError.type).to.equal(expected.type);
  expect(apiError.message).to.be.a('string').and.not.equal('');
  return apiError;
}

const ask = { model: 'GigaChat', messages: [{ role: 'user' as const, content: 'Привет' }] };

describe('e2e: every error path surfaces as the SDK exception for its status', () => {
  let mock: GigaChatMock;
  let gateway: TestGateway;
  let client: OpenAI;

  beforeEach(async () => {
    mock = await GigaChatMock.start();
    gateway = await startTestGateway({ ...mock.env(), UPSTREAM_TIMEOUT_MS: '1000', MAX_BODY_BYTES: '4096' }); // every call races it: room for a busy machine
    client = gateway.client;
  });
  afterEach(async () => {
    await gateway.close();
    await mock.close();
  });
  /** GigaChat answers the next chat requests with this status and body. */
  const upstream = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    mock.chat = (_body, response) => sendJson(response, status, body, headers);
  };

  describe('requests the gateway refuses itself', () => {
    it('400 names the invalid parameter', async () => {
      await expectApiError(client.chat.completions.create({ ...ask, temperature: 5 }), OpenAI.BadRequestError, {
        status: 400,
        param: 'temperature',
        type: 'invalid_request_error',
      });
      await expectApiError(
        client.chat.completions.create({ model: 'GigaChat', messages: [{ role: 'user' } as never] }),
        OpenAI.BadRequestError,
        { status: 400, param: 'messages[0].content' },
      );
    });

    it('400 for an unknown argument, as OpenAI answers', async () => {
      const error = await expectApiError(
        client.chat.completions.create({ ...ask, colour: 'red' } as never),
        OpenAI.BadRequestError,
        { status: 400, param: 'colour' },
      );
      expect(error.message).to.contain('Unrecognized request argument supplied: colour');
    });

    it('400 for what GigaChat cannot do, never silently ignored', async () => {
      await expectApiError(client.chat.completions.create({ ...ask, n: 3 }), OpenAI.BadRequestError, {
        status: 400,
        param: 'n',
        code: 'unsupported_parameter',
      });
      await expectApiError(
        client.chat.completions.create({ ...ask, response_format: { type: 'json_object' } }),
        OpenAI.BadRequestError,
        { status: 400, param: 'response_format' },
      );
      expect(mock.requestsTo('/api/v1/chat/completions').length).to.equal(0);
    });

    it('404 model_not_found for a model no provider serves', async () => {
      await expectApiError(client.chat.completions.create({ ...ask, model: 'llama-3' }), OpenAI.NotFoundError, {
        status: 404,
        code: 'model_not_found',
        param: 'model',
      });
    });

    it('413 for a body over MAX_BODY_BYTES', async () => {
      const huge = 'я'.repeat(5000);
      await expectApiError(
        client.chat.completions.create({ ...ask, messages: [{ role: 'user', content: huge }] }),
        OpenAI.APIError,
        { status: 413, code: 'request_too_large' },
      );
    });
  });

  describe('GigaChat answers mapped to OpenAI errors (docs/api.md, Errors)', () => {
    it("400/422 → 400 with GigaChat's message", async () => {
      upstream(422, { status: 422, message: 'Invalid params: repetition_penalty must be in range (0, +inf)' });
      const error = await expectApiError(client.chat.completions.create(ask), OpenAI.BadRequestError, { status: 400 });
      expect(error.message).to.contain('repetition_penalty must be in range');
      upstream(400, { status: 400, message: 'Your request contains invalid JSON syntax.' });
      await expectApiError(client.chat.completions.create(ask), OpenAI.BadRequestError, { status: 400 });
    });

    it('402 → 402 insufficient_quota (not 429, which SDKs retry)', async () => {
      upstream(402, { status: 402, message: 'Payment Required' });
      const error = await expectApiError(client.chat.completions.create(ask), OpenAI.APIError, {
        status: 402,
        code: 'insufficient_quota',
        type: 'insufficient_quota',
      });
      expect(error).not.to.be.instanceOf(OpenAI.RateLimitError);
    });

    it('403 → PermissionDeniedError', async () => {
      upstream(403, { status: 403, message: 'Permission denied' });
      await expectApiError(client.chat.completions.create(ask), OpenAI.PermissionDeniedError, { status: 403 });
    });

    it('404 → model_not_found with the recorded body', async () => {
      const recorded = recordedExchange('model-not-found').response;
      upstream(404, recorded);
      const error = await expectApiError(
        client.chat.completions.create({ ...ask, model: 'GigaChat-Ultra-9000' }),
        OpenAI.NotFoundError,
        {
          status: 404,
          code: 'model_not_found',
          param: 'model',
        },
      );
      expect(error.message).to.contain('No such model');
    });

    it('413 → 400 context_length_exceeded', async () => {
      upstream(413, { status: 413, message: 'Payload too large' });
      await expectApiError(client.chat.completions.create(ask), OpenAI.BadRequestError, {
        status: 400,
        code: 'context_length_exceeded',
        param: 'messages',
      });
    });

    it('429 → RateLimitError carrying Retry-After', async () => {
      upstream(429, { status: 429, message: 'Too many requests' }, { 'retry-after': '7' });
      const error = await expectApiError(client.chat.completions.create(ask), OpenAI.RateLimitError, {
        status: 429,
        type: 'rate_limit_error',
      });
      expect(error.headers?.get('retry-after')).to.equal('7');
    });

    it('5xx → 502 with the upstream request id', async () => {
      upstream(503, { status: 503, message: 'Service Unavailable' }, { 'x-request-id': 'sber-503' });
      const error = await expectApiError(client.chat.completions.create(ask), OpenAI.InternalServerError, {
        status: 502,
        code: 'upstream_error',
      });
      expect(error.headers?.get('x-upstream-request-id')).to.equal('sber-503');
    });

    it("a 401 that survives one refresh → 502 upstream_auth_error (not the client's 401)", async () => {
      upstream(401, { status: 401, message: 'Token has expired' });
      const error = await expectApiError(client.chat.completions.create(ask), OpenAI.InternalServerError, {
        status: 502,
        code: 'upstream_auth_error',
      });
      expect(error.headers?.get('x-should-retry')).to.equal('false');
      expect(mock.oauthCalls).to.equal(2);
      expect(mock.requestsTo('/api/v1/chat/completions').length).to.equal(2);
    });

    it('refused credentials at OAuth → 502 upstream_auth_error naming the variables', async () => {
      await gateway.close();
      gateway = await startTestGateway({
        ...mock.env(),
        GIGACHAT_CREDENTIALS: Buffer.from('wrong:key').toString('base64'),
      });
      const error = await expectApiError(gateway.client.chat.completions.create(ask), OpenAI.InternalServerError, {
        status: 502,
        code: 'upstream_auth_error',
      });
      expect(error.message).to.contain('GIGACHAT_CREDENTIALS');
    });

    it('no answer in time → 504 upstream_timeout', async () => {
      mock.chat = () => undefined; // never answers
      await expectApiError(client.chat.completions.create(ask), OpenAI.InternalServerError, {
        status: 504,
        code: 'upstream_timeout',
      });
    });

    it('finish_reason "error" (invalid function arguments) → 502, not a silent stop', async () => {
      const body = recordedExchange('chat-function-call').response;
      upstream(200, { ...body, choices: [{ ...body.choices[0], finish_reason: 'error' }] });
      await expectApiError(client.chat.completions.create(ask), OpenAI.InternalServerError, {
        status: 502,
        code: 'upstream_invalid_function_call',
      });
    });

    it('an upstream error before the first chunk of a stream is a normal HTTP error', async () => {
      upstream(429, { status: 429, message: 'Too many requests' }, { 'retry-after': '3' });
      await expectApiError(client.chat.completions.create({ ...ask, stream: true }), OpenAI.RateLimitError, {
        status: 429,
      });
    });

    it('a stream that breaks after it began → one error event the SDK throws', async () => {
      mock.chat = async (_body, response) => {
        const [first] = gigaChatChunks(['Начало']);
        await writeGigaChatStream(response, [first], { done: false }); // ends without finish_reason or [DONE]
      };
      const stream = await client.chat.completions.create({ ...ask, stream: true });
      const received: string[] = [];
      const failure = await (async () => {
        for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? '');
      })().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(received.join('')).to.equal('Начало');
      expect(failure).to.be.instanceOf(OpenAI.APIError);
      expect((failure as APIError).message).to.contain('ended before the answer was complete');
    });
  });

  describe('upstream answers the gateway cannot use', () => {
    it('a streaming request answered without an event stream → 502', async () => {
      upstream(200, { status: 200, message: 'maintenance page' });
      const error = await expectApiError(
        client.chat.completions.create({ ...ask, stream: true }),
        OpenAI.InternalServerError,
        {
          status: 502,
          code: 'upstream_error',
        },
      );
      expect(error.message).to.contain('without an event stream');
    });

    it('a completion that is not JSON → 502', async () => {
      mock.chat = (_body, response) => {
        response.writeHead(200, { 'content-type': 'text/html' }).end('<html>proxy</html>');
      };
      await expectApiError(client.chat.completions.create(ask), OpenAI.InternalServerError, { status: 502 });
    });

    it('a model list without data → 502', async () => {
      mock.models = () => ({ object: 'list' });
      await expectApiError(client.models.list(), OpenAI.InternalServerError, { status: 502, code: 'upstream_error' });
    });

    it('OAuth answering 429 → 429 with its Retry-After', async () => {
      mock.oauth = (response) =>
        sendJson(response, 429, { code: 429, message: 'Too many requests' }, { 'retry-after': '2' });
      const error = await expectApiError(client.chat.completions.create(ask), OpenAI.RateLimitError, { status: 429 });
      expect(error.headers?.get('retry-after')).to.equal('2');
    });

    it('OAuth answering without a token, or with something that is not JSON → 502 upstream_auth_error', async () => {
      mock.oauth = (response) => sendJson(response, 200, { expires_at: Date.now() + 60_000 });
      await expectApiError(client.chat.completions.create(ask), OpenAI.InternalServerError, {
        status: 502,
        code: 'upstream_auth_error',
      });
      mock.oauth = (response) => {
        response.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
      };
      await expectApiError(client.chat.completions.create(ask), OpenAI.InternalServerError, {
        status: 502,
        code: 'upstream_auth_error',
      });
      expect(mock.requestsTo('/api/v1/chat/completions').length).to.equal(0);
    });
  });

  describe('upstream unreachable or not configured', () => {
    it('a refused connection → 502 upstream_unreachable', async () => {
      const closedPort = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const { port } = probe.address() as { port: number };
          probe.close(() => resolve(port));
        });
      });
      await gateway.close();
      gateway = await startTestGateway({
        ...mock.env(),
        GIGACHAT_AUTH_URL: `http://127.0.0.1:${closedPort}/api/v2/oauth`,
      });
      await expectApiError(gateway.client.chat.completions.create(ask), OpenAI.InternalServerError, {
        status: 502,
        code: 'upstream_unreachable',
      });
    });

    it('GigaChat not configured → 503 provider_not_configured that the SDK does not retry', async () => {
      await gateway.close();
      gateway = await startTestGateway({});
      const error = await expectApiError(gateway.client.chat.completions.create(ask), OpenAI.InternalServerError, {
        status: 503,
        code: 'provider_not_configured',
        param: 'model',
      });
      expect(error.message).to.contain('GIGACHAT_CREDENTIALS');
      expect(error.headers?.get('x-should-retry')).to.equal('false');
    });
  });

  describe('client keys', () => {
    beforeEach(async () => {
      await gateway.close();
      gateway = await startTestGateway({
        ...mock.env(),
        GATEWAY_API_KEYS: '1c-buh:key-for-1c-0123456789,b24:key-for-b24-9876543210',
      });
    });

    it('a valid key passes', async () => {
      const completion = await gateway.client.chat.completions.create(ask);
      expect(completion.choices[0]?.message.content).to.equal('Hello.');
      const second = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'key-for-b24-9876543210', maxRetries: 0 });
      expect((await second.chat.completions.create(ask)).object).to.equal('chat.completion');
    });

    it('a wrong key → AuthenticationError invalid_api_key, and the key is not echoed', async () => {
      const wrong = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'key-for-1c-012345678X', maxRetries: 0 });
      const error = await expectApiError(wrong.chat.completions.create(ask), OpenAI.AuthenticationError, {
        status: 401,
        code: 'invalid_api_key',
      });
      expect(error.message).not.to.contain('key-for-1c');
      await expectApiError(wrong.models.list(), OpenAI.AuthenticationError, { status: 401 });
    });

    it('no key → 401 missing_api_key', async () => {
      const response = await fetch(`${gateway.url}/v1/models`);
      expect(response.status).to.equal(401);
      expect(((await response.json()) as any).error.code).to.equal('missing_api_key');
    });
  });
});
