import { request as httpRequest } from 'node:http';
import { expect } from 'chai';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts';
import { GigaChatMock } from '../../helpers/gigachat-mock.ts';

const JSON_TYPE = 'application/json; charset=utf-8';

function expectOpenAIError(body: any, code: string | null): void {
  expect(body).to.have.key('error');
  expect(body.error).to.have.keys(['message', 'type', 'param', 'code']);
  expect(body.error.message).to.be.a('string').and.not.equal('');
  expect(body.error.code).to.equal(code);
}

/** Sends raw bytes (fetch would not send a chunked body without a length, or a BOM as is). */
function rawPost(
  url: string,
  chunks: Buffer[],
  headers: Record<string, string>,
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', headers }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString('utf8')) }),
      );
    });
    request.on('error', reject);
    for (const chunk of chunks) request.write(chunk);
    request.end();
  });
}

describe('HTTP layer', () => {
  let mock: GigaChatMock;
  let gateway: TestGateway;
  const chat = () => `${gateway.url}/v1/chat/completions`;
  const lastUpstreamMessage = () =>
    JSON.parse(mock.requestsTo('/api/v1/chat/completions').at(-1)?.body ?? '').messages[0];

  beforeEach(async () => {
    mock = await GigaChatMock.start();
    gateway = await startTestGateway({ ...mock.env(), MAX_BODY_BYTES: '2048' });
  });
  afterEach(async () => {
    await gateway.close();
    await mock.close();
  });

  it('unknown route → 404 in OpenAI shape, JSON with charset, with a request id', async () => {
    const response = await fetch(`${gateway.url}/v1/completions-legacy`, { method: 'POST' });
    expect(response.status).to.equal(404);
    expect(response.headers.get('content-type')).to.equal(JSON_TYPE);
    expect(response.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
    const body = (await response.json()) as any;
    expectOpenAIError(body, 'unknown_route');
    expect(body.error.type).to.equal('invalid_request_error');
  });

  it('wrong method → 405 with Allow', async () => {
    const response = await fetch(chat());
    expect(response.status).to.equal(405);
    expect(response.headers.get('allow')).to.equal('POST');
    expect(response.headers.get('content-type')).to.equal(JSON_TYPE);
    expectOpenAIError((await response.json()) as any, 'method_not_allowed');
  });

  it('malformed JSON → 400 invalid_json', async () => {
    const response = await fetch(chat(), { method: 'POST', body: '{"model": "GigaChat", "messages": [' });
    expect(response.status).to.equal(400);
    expectOpenAIError((await response.json()) as any, 'invalid_json');
  });

  it('an empty body → 400, and a JSON array → 400 naming the body', async () => {
    const empty = await fetch(chat(), { method: 'POST' });
    expect(empty.status).to.equal(400);
    expectOpenAIError((await empty.json()) as any, 'invalid_json');
    const array = await fetch(chat(), { method: 'POST', body: '[]' });
    expect(array.status).to.equal(400);
    expect(((await array.json()) as any).error.message).to.contain('must be a JSON object');
  });

  it('accepts a UTF-8 BOM before the JSON (1C writes one)', async () => {
    const json = JSON.stringify({ model: 'GigaChat', messages: [{ role: 'user', content: 'Привет из 1С' }] });
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json)]);
    const response = await rawPost(chat(), [body], { 'content-type': 'application/json; charset=utf-8' });
    expect(response.status).to.equal(200);
    expect(lastUpstreamMessage().content).to.equal('Привет из 1С');
  });

  it('reads the declared charset (windows-1251) and bodies without a JSON content type', async () => {
    const json = JSON.stringify({ model: 'GigaChat', messages: [{ role: 'user', content: 'Тест' }] });
    // "Тест" in windows-1251 is D2 E5 F1 F2.
    const cp1251 = Buffer.from(json.replace('Тест', '\u0000'), 'latin1');
    const at = cp1251.indexOf(0);
    const body = Buffer.concat([
      cp1251.subarray(0, at),
      Buffer.from([0xd2, 0xe5, 0xf1, 0xf2]),
      cp1251.subarray(at + 1),
    ]);
    const response = await rawPost(chat(), [body], { 'content-type': 'application/json; charset=windows-1251' });
    expect(response.status).to.equal(200);
    expect(lastUpstreamMessage().content).to.equal('Тест');

    const curlStyle = await fetch(chat(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: json,
    });
    expect(curlStyle.status).to.equal(200);
  });

  it('an unknown charset → 400', async () => {
    const response = await rawPost(chat(), [Buffer.from('{}')], {
      'content-type': 'application/json; charset=klingon',
    });
    expect(response.status).to.equal(400);
    expectOpenAIError(response.body, 'unsupported_charset');
  });

  it('a chunked body that grows past MAX_BODY_BYTES → 413', async () => {
    const chunk = Buffer.alloc(1024, 0x20);
    const response = await rawPost(chat(), [chunk, chunk, chunk, chunk], { 'transfer-encoding': 'chunked' });
    expect(response.status).to.equal(413);
    expectOpenAIError(response.body, 'request_too_large');
  });

  it('echoes a sane incoming X-Request-ID and replaces an unsafe one', async () => {
    const sane = await fetch(`${gateway.url}/healthz`, { headers: { 'x-request-id': '1c-base-42.req:7' } });
    expect(sane.headers.get('x-request-id')).to.equal('1c-base-42.req:7');
    const unsafe = await fetch(`${gateway.url}/healthz`, { headers: { 'x-request-id': 'a b <script>' } });
    expect(unsafe.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
  });

  it('/healthz answers, HEAD too', async () => {
    const response = await fetch(`${gateway.url}/healthz`);
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.equal(JSON_TYPE);
    expect(await response.json()).to.deep.equal({ status: 'ok' });
    expect((await fetch(`${gateway.url}/healthz`, { method: 'HEAD' })).status).to.equal(200);
  });

  it('/readyz reports the store and providers; 503 in OpenAI shape when no provider is configured', async () => {
    const ready = await fetch(`${gateway.url}/readyz`);
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.deep.equal({
      status: 'ready',
      checks: { store: 'ok', providers: { gigachat: 'enabled', gemini: 'disabled: GEMINI_API_KEY is not set' } },
    });
    const bare = await startTestGateway({});
    try {
      const notReady = await fetch(`${bare.url}/readyz`);
      expect(notReady.status).to.equal(503);
      expect(notReady.headers.get('content-type')).to.equal(JSON_TYPE);
      const body = (await notReady.json()) as any;
      expectOpenAIError({ error: body.error }, 'not_ready');
      expect(body.checks.providers.gigachat).to.equal('disabled: GIGACHAT_CREDENTIALS is not set');
    } finally {
      await bare.close();
    }
  });

  it('GET /v1/models/<unknown> → 404 model_not_found', async () => {
    const response = await fetch(`${gateway.url}/v1/models/GigaChat-Ultra-9000`);
    expect(response.status).to.equal(404);
    expectOpenAIError((await response.json()) as any, 'model_not_found');
  });

  it('models listing fails with 502 when GigaChat cannot be reached and nothing is cached', async () => {
    await mock.close();
    const response = await fetch(`${gateway.url}/v1/models`);
    expect(response.status).to.equal(502);
    expect(response.headers.get('content-type')).to.equal(JSON_TYPE);
    expectOpenAIError((await response.json()) as any, 'upstream_unreachable');
    mock = await GigaChatMock.start();
  });
});
