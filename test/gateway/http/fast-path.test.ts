import { expect } from 'chai';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts';
import { GigaChatMock } from '../../helpers/gigachat-mock.ts';

// POST /v1/chat/completions is answered without Koa (gateway/http/fast-path.ts); the same path
// with a query string still goes through Koa's chain. Both must answer and log alike.
const FAST = '/v1/chat/completions';
const KOA = '/v1/chat/completions?via=koa';
const KEY = 'sk-fast-path-test';

interface Seen {
  status: number;
  headers: Record<string, string | null>;
  body: unknown;
  log: Record<string, unknown>;
}

/** Ids and timestamps differ on every call; everything else must not. */
function normalize(text: string): unknown {
  const scrub = (value: string) =>
    value.replace(/chatcmpl-[\w-]+/g, 'chatcmpl-ID').replace(/"created":\d+/g, '"created":0');
  if (text.startsWith('data: ')) return scrub(text);
  return JSON.parse(scrub(text));
}

describe('the fast path for POST /v1/chat/completions', () => {
  let mock: GigaChatMock;
  let gateway: TestGateway;

  beforeEach(async () => {
    mock = await GigaChatMock.start();
    gateway = await startTestGateway({ ...mock.env(), MAX_BODY_BYTES: '2048', GATEWAY_API_KEYS: `tester:${KEY}` });
  });
  afterEach(async () => {
    await gateway.close();
    await mock.close();
  });

  async function send(path: string, body: string, headers: Record<string, string>): Promise<Seen> {
    const logged = gateway.logs.length;
    const response = await fetch(`${gateway.url}${path}`, { method: 'POST', headers, body });
    const text = await response.text();
    // The line is written once the answer is out; wait for it rather than for a fixed time.
    const line = await gateway.waitForLog((entry) => entry.includes('"path"'), logged);
    const { time: _time, ms, requestId, ...log } = JSON.parse(line);
    expect(ms).to.be.a('number');
    expect(requestId).to.equal(response.headers.get('x-request-id'));
    const pick = ['content-type', 'connection', 'x-upstream-request-id', 'cache-control'];
    return {
      status: response.status,
      headers: Object.fromEntries(
        pick.map((name) => [
          name,
          name === 'x-upstream-request-id' ? String(response.headers.has(name)) : response.headers.get(name),
        ]),
      ),
      body: normalize(text),
      log,
    };
  }

  const authorized = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
  const cases: Array<{ name: string; body: string; headers: Record<string, string> }> = [
    {
      name: 'a JSON answer',
      body: JSON.stringify({ model: 'GigaChat', messages: [{ role: 'user', content: 'Hi' }] }),
      headers: authorized,
    },
    {
      name: 'a stream',
      body: JSON.stringify({ model: 'GigaChat', messages: [{ role: 'user', content: 'Hi' }], stream: true }),
      headers: authorized,
    },
    { name: 'no API key (401)', body: '{}', headers: { 'content-type': 'application/json' } },
    { name: 'malformed JSON (400)', body: '{"model": ', headers: authorized },
    { name: 'an invalid request (400)', body: JSON.stringify({ model: 'GigaChat' }), headers: authorized },
    {
      name: 'an unknown model (404)',
      body: JSON.stringify({ model: 'nope', messages: [{ role: 'user', content: 'Hi' }] }),
      headers: authorized,
    },
    { name: 'a body over MAX_BODY_BYTES (413)', body: `{"x":"${'a'.repeat(3000)}"}`, headers: authorized },
  ];

  for (const { name, body, headers } of cases) {
    it(`answers and logs ${name} as the Koa route does`, async () => {
      const fast = await send(FAST, body, headers);
      const koa = await send(KOA, body, headers);
      expect(fast).to.deep.equal(koa);
    });
  }

  it('keeps a sane X-Request-ID from the caller', async () => {
    const response = await fetch(`${gateway.url}${FAST}`, {
      method: 'POST',
      headers: { ...authorized, 'x-request-id': 'caller-42' },
      body: '{}',
    });
    expect(response.headers.get('x-request-id')).to.equal('caller-42');
  });
});
