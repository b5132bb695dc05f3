import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import OpenAI from 'openai';
import { apiError } from '../helpers/api-error.ts';
import { gigaChatChunks, gigaChatCompletion } from '../helpers/cassettes.ts';
import { startTestGateway, type TestGateway, tempDir } from '../helpers/gateway.ts';
import { GigaChatMock, sendJson, writeGigaChatStream } from '../helpers/gigachat-mock.ts';

const ADMIN_KEY = 'admin-key-for-tests-0123456789';

const CONFIG = {
  keys: {
    '1c-accounting': { key: 'key-1c-accounting', models: ['smart', 'GigaChat-*'], requestsPerMinute: 2 },
    bitrix24: { key: 'key-bitrix24', tokensPerMinute: 30 },
    reports: { key: 'key-reports-team' },
  },
};

describe('e2e: per-client-key models, limits and usage (GATEWAY_CONFIG keys, GET /admin/usage)', () => {
  let mock: GigaChatMock;
  let gateway: TestGateway | undefined;
  const clientFor = (apiKey: string) => new OpenAI({ baseURL: `${gateway?.url}/v1`, apiKey, maxRetries: 0 });
  const ask = (client: OpenAI, model = 'GigaChat-2-Max') =>
    client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Привет' }] });
  const usage = (query = '', key: string | null = ADMIN_KEY) =>
    fetch(`${gateway?.url}/admin/usage${query}`, {
      headers: key === null ? {} : { authorization: `Bearer ${key}` },
    });

  async function start(env: Record<string, string> = {}): Promise<void> {
    const dir = tempDir();
    writeFileSync(join(dir, 'gateway.json'), JSON.stringify(CONFIG));
    gateway = await startTestGateway(
      { ...mock.env(), GATEWAY_CONFIG: join(dir, 'gateway.json'), GATEWAY_ADMIN_KEY: ADMIN_KEY, ...env },
      { dir },
    );
  }

  beforeEach(async () => {
    mock = await GigaChatMock.start();
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    await mock.close();
  });

  it('refuses a model the key may not use with 403 model_not_allowed, before any upstream call', async () => {
    await start();
    const error = await apiError(ask(clientFor('key-1c-accounting'), 'GigaChat'));
    expect(error.status).to.equal(403);
    expect(error).to.be.instanceOf(OpenAI.PermissionDeniedError);
    expect(error.code).to.equal('model_not_allowed');
    expect(error.param).to.equal('model');
    expect(error.message).to.include('"gigachat/GigaChat"');
    expect(mock.requestsTo('/api/v1/chat/completions')).to.have.length(0);
    // The same key may use what its patterns allow.
    expect((await ask(clientFor('key-1c-accounting'), 'gigachat/GigaChat-2-Pro')).model).to.equal(
      'gigachat/GigaChat-2-Pro',
    );
  });

  it('answers 429 with Retry-After once the key used its requests per minute; other keys are unaffected', async () => {
    await start();
    const client = clientFor('key-1c-accounting');
    await ask(client);
    await ask(client);
    const error = await apiError(ask(client));
    expect(error).to.be.instanceOf(OpenAI.RateLimitError);
    expect(error.code).to.equal('rate_limit_exceeded');
    expect(error.message).to.match(/"1c-accounting": 2 requests per minute/);
    expect(Number(error.headers?.get('retry-after'))).to.be.within(1, 120);
    expect(mock.requestsTo('/api/v1/chat/completions')).to.have.length(2);
    await ask(clientFor('key-reports-team'));
  });

  it('answers 429 naming tokens per minute once the answers used the key’s tokens', async () => {
    await start();
    const client = clientFor('key-bitrix24');
    await ask(client); // 17 + 3 tokens
    await ask(client); // 40 of 30: still admitted, the size of an answer is unknown beforehand
    const error = await apiError(ask(client));
    expect(error.status).to.equal(429);
    expect(error.message).to.match(/30 tokens per minute/);
    expect(Number(error.headers?.get('retry-after'))).to.be.within(1, 120);
  });

  it('counts JSON and streamed answers at GET /admin/usage, per day, key and model', async () => {
    await start();
    await ask(clientFor('key-reports-team'));
    mock.chat = (_body, response) => writeGigaChatStream(response, gigaChatChunks(['Раз', ', два']));
    const stream = await clientFor('key-reports-team').chat.completions.create({
      model: 'GigaChat-2-Max',
      messages: [{ role: 'user', content: 'Считай' }],
      stream: true,
    });
    for await (const _chunk of stream);
    mock.chat = (_body, response) => sendJson(response, 200, gigaChatCompletion('Hello.'));
    await ask(clientFor('key-bitrix24'), 'GigaChat');
    const today = new Date().toISOString().slice(0, 10);
    const response = await usage();
    expect(response.status).to.equal(200);
    const body = (await response.json()) as any;
    expect(body.object).to.equal('list');
    expect(body.data).to.deep.equal([
      row(today, 'bitrix24', 'GigaChat', 1, 17, 3),
      row(today, 'reports', 'GigaChat-2-Max', 2, 17 + 17, 3 + 10),
    ]);
    // This month's tokens per key, beside the rows (no key here has a monthly budget).
    expect(body.month.keys).to.deep.equal([
      { client: 'bitrix24', used_tokens: 20 },
      { client: 'reports', used_tokens: 17 + 17 + 3 + 10 },
    ]);
    const filtered = (await (await usage(`?from=${today}&to=${today}&client=bitrix24`)).json()) as any;
    expect(filtered.data).to.deep.equal([row(today, 'bitrix24', 'GigaChat', 1, 17, 3)]);
    const none = (await (await usage('?from=2020-01-01&to=2020-01-31')).json()) as any;
    expect(none.data).to.deep.equal([]);
  });

  it('guards /admin/usage: 401 without the admin key or with a client key, 400 naming a bad param', async () => {
    await start();
    const cases: [string, string | null, number, string | null][] = [
      ['', null, 401, null],
      ['', 'wrong-admin-key-0123456789', 401, null],
      ['', 'key-1c-accounting', 401, null],
      ['?from=2026-13-01', ADMIN_KEY, 400, 'from'],
      ['?to=yesterday', ADMIN_KEY, 400, 'to'],
      ['?from=2026-02-30', ADMIN_KEY, 400, 'from'],
      ['?from=2026-03-02&to=2026-03-01', ADMIN_KEY, 400, 'from'],
      ['?from=2024-01-01&to=2025-12-31', ADMIN_KEY, 400, 'from'],
      ['?date=2026-01-01', ADMIN_KEY, 400, 'date'],
      ['?client=a&client=b', ADMIN_KEY, 400, 'client'],
      ['?model=', ADMIN_KEY, 400, 'model'],
    ];
    for (const [query, key, status, param] of cases) {
      const response = await usage(query, key);
      const body = (await response.json()) as any;
      expect(response.status, `${query} ${key}`).to.equal(status);
      expect(body.error).to.have.keys('message', 'type', 'param', 'code');
      expect(body.error.param, query).to.equal(param);
    }
    expect((await usage('?from=2025-01-01&to=2025-12-31')).status).to.equal(200);
  });

  it('answers 403 admin_disabled, saying to set GATEWAY_ADMIN_KEY, when it is not set', async () => {
    await start({ GATEWAY_ADMIN_KEY: '' });
    const response = await usage('', 'anything-at-all-0123456789');
    expect(response.status).to.equal(403);
    const { error } = (await response.json()) as any;
    expect(error.code).to.equal('admin_disabled');
    expect(error.message).to.include('GATEWAY_ADMIN_KEY');
  });
});

function row(
  date: string,
  client: string,
  model: string,
  requests: number,
  prompt_tokens: number,
  completion_tokens: number,
) {
  return {
    date,
    client,
    provider: 'gigachat',
    model,
    credential: 'operator:default',
    requests,
    prompt_tokens,
    completion_tokens,
  };
}
