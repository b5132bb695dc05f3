import { expect } from 'chai';
import { gigaChatChunks, gigaChatCompletion } from '../../helpers/cassettes.ts';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts';
import { GigaChatMock, sendJson, TEST_CREDENTIALS, writeGigaChatStream } from '../../helpers/gigachat-mock.ts';
import { type Sample, samplesOf, scrape, seriesValue } from '../../helpers/prometheus.ts';

const API_KEY = 'sk-metrics-test-0123456789';
const CHAT = '/v1/chat/completions';

/** The histogram's buckets are cumulative and end in +Inf = _count. */
function expectWellFormedHistogram(samples: Sample[], name: string, labels: Record<string, string>): number {
  const buckets = samplesOf(samples, `${name}_bucket`, labels);
  expect(buckets.length).to.be.greaterThan(2);
  const counts = buckets.map((bucket) => bucket.value);
  expect(counts).to.deep.equal([...counts].sort((a, b) => a - b));
  expect(buckets.at(-1)?.labels.le).to.equal('+Inf');
  const count = seriesValue(samples, `${name}_count`, labels) as number;
  expect(buckets.at(-1)?.value).to.equal(count);
  expect(seriesValue(samples, `${name}_sum`, labels))
    .to.be.a('number')
    .and.at.least(0);
  return count;
}

describe('GET /metrics: Prometheus metrics through the real gateway', () => {
  let mock: GigaChatMock;
  let gateway: TestGateway;

  beforeEach(async () => {
    mock = await GigaChatMock.start();
    gateway = await startTestGateway({ ...mock.env(), GATEWAY_API_KEYS: `team:${API_KEY}` });
  });
  afterEach(async () => {
    await gateway.close();
    await mock.close();
  });

  it('counts requests by route pattern, status, provider and model, with latency and first-byte histograms', async () => {
    mock.chat = (body, response) =>
      body.stream === true
        ? writeGigaChatStream(response, gigaChatChunks(['Раз', ', два']))
        : sendJson(response, 200, gigaChatCompletion('Привет!'));
    const completion = await gateway.client.chat.completions.create({
      model: 'GigaChat-2-Max',
      messages: [{ role: 'user', content: 'Скажи привет' }],
    });
    expect(completion.choices[0]?.message.content).to.equal('Привет!');
    const stream = await gateway.client.chat.completions.create({
      model: 'gigachat/GigaChat',
      messages: [{ role: 'user', content: 'Считай' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).to.equal('Раз, два');
    const notFound = await fetch(`${gateway.url}/no/such/route-with-a-secret-looking-part`);
    expect(notFound.status).to.equal(404);

    const { status, contentType, samples, text: exposition } = await scrape(gateway.url);
    expect(status).to.equal(200);
    expect(contentType).to.equal('text/plain; version=0.0.4; charset=utf-8');

    const json = { route: CHAT, method: 'POST', provider: 'gigachat', model: 'GigaChat-2-Max' };
    // The model that answered, whatever the client's spelling.
    const streamed = { route: CHAT, method: 'POST', provider: 'gigachat', model: 'GigaChat' };
    expect(seriesValue(samples, 'gigagate_http_requests_total', { ...json, status: '200' })).to.equal(1);
    expect(seriesValue(samples, 'gigagate_http_requests_total', { ...streamed, status: '200' })).to.equal(1);
    expect(expectWellFormedHistogram(samples, 'gigagate_http_request_duration_seconds', json)).to.equal(1);
    expect(expectWellFormedHistogram(samples, 'gigagate_http_request_duration_seconds', streamed)).to.equal(1);

    // Unknown paths collapse into one route value; the raw path is nowhere.
    expect(
      seriesValue(samples, 'gigagate_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' }),
    ).to.equal(1);
    expect(exposition).not.to.contain('route-with-a-secret-looking-part');

    // Time to first byte only for the stream.
    const firstByte = { provider: 'gigachat', model: 'GigaChat' };
    expect(expectWellFormedHistogram(samples, 'gigagate_http_time_to_first_byte_seconds', firstByte)).to.equal(1);
    expect(samplesOf(samples, 'gigagate_http_time_to_first_byte_seconds_count', { model: 'GigaChat-2-Max' })).to.be
      .empty;

    // Two chat requests, one OAuth call.
    expect(mock.oauthCalls).to.equal(1);
    expect(
      seriesValue(samples, 'gigagate_upstream_token_refreshes_total', { provider: 'gigachat', outcome: 'ok' }),
    ).to.equal(1);
    expect(samplesOf(samples, 'gigagate_upstream_token_refreshes_total', { outcome: 'failed' })).to.be.empty;

    // Tokens per client key name, never the key.
    const prompt = samplesOf(samples, 'gigagate_tokens_total', {
      provider: 'gigachat',
      client: 'team',
      type: 'prompt',
    });
    expect(prompt.reduce((sum, sample) => sum + sample.value, 0)).to.be.greaterThan(0);
    for (const secret of [API_KEY, TEST_CREDENTIALS, ...mock.issued]) expect(exposition).not.to.contain(secret);

    // The process's own metrics come along.
    expect(samplesOf(samples, 'process_cpu_user_seconds_total')).to.have.length(1);
    expect(samplesOf(samples, 'nodejs_eventloop_lag_seconds')).to.have.length(1);
  });

  it('counts the fast path and the Koa route under one route label, and the scrape itself', async () => {
    const ask = (path: string) =>
      fetch(`${gateway.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'GigaChat', messages: [{ role: 'user', content: 'Hi' }] }),
      });
    expect((await ask(CHAT)).status).to.equal(200); // the fast path
    expect((await ask(`${CHAT}?via=koa`)).status).to.equal(200); // another spelling: Koa
    expect((await ask(`${CHAT}?via=koa`)).status).to.equal(200);
    const refused = await fetch(`${gateway.url}${CHAT}`, { method: 'POST', body: '{}' });
    expect(refused.status).to.equal(401);
    const models = await fetch(`${gateway.url}/v1/models/GigaChat`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(models.status).to.equal(200);
    await scrape(gateway.url);

    const { samples } = await scrape(gateway.url);
    const labels = { route: CHAT, method: 'POST', provider: 'gigachat', model: 'GigaChat' };
    expect(seriesValue(samples, 'gigagate_http_requests_total', { ...labels, status: '200' })).to.equal(3);
    expect(seriesValue(samples, 'gigagate_http_request_duration_seconds_count', labels)).to.equal(3);
    expect(
      seriesValue(samples, 'gigagate_http_requests_total', { route: CHAT, method: 'POST', status: '401' }),
    ).to.equal(1);
    // The route pattern, not the model in the path.
    expect(
      seriesValue(samples, 'gigagate_http_requests_total', {
        route: '/v1/models/:model',
        method: 'GET',
        status: '200',
      }),
    ).to.equal(1);
    // The first scrape is counted by the second.
    expect(
      seriesValue(samples, 'gigagate_http_requests_total', { route: '/metrics', method: 'GET', status: '200' }),
    ).to.equal(1);
  });

  it('counts a failed GigaChat token fetch, once per OAuth call', async () => {
    mock.oauth = (response) => sendJson(response, 401, { code: 6, message: 'credentials doesnt match db data' });
    const failure = await gateway.client.chat.completions
      .create({ model: 'GigaChat', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((error: unknown) => error);
    expect(failure).to.be.instanceOf(Error);

    const { samples } = await scrape(gateway.url);
    expect(mock.oauthCalls).to.be.greaterThan(0);
    expect(
      seriesValue(samples, 'gigagate_upstream_token_refreshes_total', { provider: 'gigachat', outcome: 'failed' }),
    ).to.equal(mock.oauthCalls);
    expect(samplesOf(samples, 'gigagate_upstream_token_refreshes_total', { outcome: 'ok' })).to.be.empty;
  });

  it('keeps each gateway instance its own counts in one process', async () => {
    await gateway.client.chat.completions.create({ model: 'GigaChat', messages: [{ role: 'user', content: 'Hi' }] });
    const other = await startTestGateway({ ...mock.env(), GATEWAY_API_KEYS: `team:${API_KEY}` });
    try {
      const { samples } = await scrape(other.url);
      expect(samplesOf(samples, 'gigagate_http_requests_total', { route: CHAT })).to.be.empty;
      expect(samplesOf(samples, 'process_cpu_user_seconds_total')).to.have.length(1);
    } finally {
      await other.close();
    }
    const { samples } = await scrape(gateway.url);
    expect(samplesOf(samples, 'gigagate_http_requests_total', { route: CHAT })).to.have.length(1);
  });

  it('needs no API key, even when the API has keys', async () => {
    const response = await fetch(`${gateway.url}/metrics`);
    expect(response.status).to.equal(200);
    const chat = await fetch(`${gateway.url}/v1/models`);
    expect(chat.status).to.equal(401);
  });
});
