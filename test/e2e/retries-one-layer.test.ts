import { writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { expect } from 'chai';
import OpenAI from 'openai';
import { gigaChatCompletion } from '../helpers/cassettes.ts';
import { startTestGateway, type TestGateway, tempDir } from '../helpers/gateway.ts';
import { GeminiMock } from '../helpers/gemini-mock.ts';
import { GigaChatMock, sendJson } from '../helpers/gigachat-mock.ts';

const RETRIES = 2;
const LIMITED_KEY = 'key-one-per-minute-0123';

async function failure(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const error = await call.then(
    () => expect.fail('expected the call to fail'),
    (caught: unknown) => caught,
  );
  expect(error).to.be.instanceOf(OpenAI.APIError);
  return error as InstanceType<typeof OpenAI.APIError>;
}

describe('e2e: retries happen in one layer (UPSTREAM_RETRIES + 1 attempts, whoever calls)', () => {
  let gigachat: GigaChatMock;
  let gemini: GeminiMock;
  let gateway: TestGateway;
  /** The openai SDK as applications use it: its default two retries. */
  let sdk: OpenAI;

  before(async () => {
    gigachat = await GigaChatMock.start();
    gemini = await GeminiMock.start();
    const dir = tempDir();
    const file = join(dir, 'gateway.json');
    writeFileSync(
      file,
      JSON.stringify({
        keys: { open: { key: 'key-no-limits-0123' }, limited: { key: LIMITED_KEY, requestsPerMinute: 1 } },
      }),
    );
    gateway = await startTestGateway(
      {
        ...gigachat.env(),
        ...gemini.env(),
        GATEWAY_CONFIG: file,
        UPSTREAM_RETRIES: String(RETRIES),
        UPSTREAM_RETRY_BASE_MS: '1',
      },
      { dir },
    );
    sdk = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'key-no-limits-0123' });
    expect(sdk.maxRetries).to.equal(2);
  });
  after(async () => {
    await gateway.close();
    await gigachat.close();
    await gemini.close();
  });
  beforeEach(() => {
    gigachat.requests.length = 0;
    gemini.requests.length = 0;
    const unavailable = (_body: unknown, response: ServerResponse) =>
      sendJson(response, 503, { status: 503, message: 'Service Unavailable' });
    gigachat.chat = unavailable;
    gigachat.embeddings = unavailable;
    // Gemini's answer when a model is overloaded (google.rpc.Status, as in the recorded errors).
    gemini.generate = (_body, response) =>
      sendJson(response, 503, {
        error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' },
      });
  });

  const messages = [{ role: 'user' as const, content: 'Привет' }];

  it('a GigaChat 503: the SDK sees x-should-retry: false and repeats nothing (chat, stream, embeddings)', async () => {
    for (const [call, path] of [
      [() => sdk.chat.completions.create({ model: 'GigaChat', messages }), '/api/v1/chat/completions'],
      [() => sdk.chat.completions.create({ model: 'GigaChat', messages, stream: true }), '/api/v1/chat/completions'],
      [() => sdk.embeddings.create({ model: 'Embeddings', input: 'x' }), '/api/v1/embeddings'],
    ] as const) {
      const before = gigachat.requestsTo(path).length;
      const error = await failure(call());
      expect(error.status).to.equal(502);
      expect(error.headers?.get('x-should-retry')).to.equal('false');
      expect(gigachat.requestsTo(path).length - before).to.equal(RETRIES + 1);
    }
  });

  it('a Gemini 503: the same number of attempts', async () => {
    const error = await failure(sdk.chat.completions.create({ model: 'gemini-2.5-flash', messages }));
    expect(error.headers?.get('x-should-retry')).to.equal('false');
    expect(gemini.requestsFor('generateContent')).to.have.length(RETRIES + 1);
  });

  it('leaves a client free to retry what the gateway did not try itself: its own per-key 429 with Retry-After', async () => {
    gigachat.chat = (_body, response) => sendJson(response, 200, gigaChatCompletion('Привет!'));
    const ask = () =>
      fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${LIMITED_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'GigaChat', messages }),
      });
    expect((await ask()).status).to.equal(200);
    const limited = await ask();
    expect(limited.status).to.equal(429);
    expect(limited.headers.get('retry-after')).to.match(/^\d+$/);
    expect(limited.headers.get('x-should-retry')).to.equal(null);
  });
});
