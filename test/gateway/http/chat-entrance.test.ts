import { request as httpRequest } from 'node:http';
import Router from '@koa/router';
import { expect } from 'chai';
import { CHAT_COMPLETIONS_PATH } from '../../../gateway/http/chat-entrance.ts';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts';
import { GigaChatMock } from '../../helpers/gigachat-mock.ts';

// POST /v1/chat/completions has one entrance (gateway/http/chat-entrance.ts), whichever way the
// path is spelled: every spelling @koa/router's defaults route there answers and logs as the plain path.
const PLAIN = '/v1/chat/completions';
const SPELLINGS = ['/v1/chat/completions?via=query', '/v1/chat/completions/', '/V1/Chat/COMPLETIONS'];
const KEY = 'sk-chat-entrance-test';

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

/** What a spelling's log line says as its path: the pathname as sent, never the query. */
const pathnameOf = (spelling: string) => spelling.split('?')[0];

/** Sends a request with the request target exactly as given (fetch would normalise an absolute-form one). */
function rawRequest(
  port: number,
  target: string,
  method: string,
  body: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port, method, path: target, headers: { authorization: `Bearer ${KEY}` } },
      (response) => {
        const parts: Buffer[] = [];
        response.on('data', (part: Buffer) => parts.push(part));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(parts).toString('utf8'),
          }),
        );
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

describe('the chat entrance for POST /v1/chat/completions', () => {
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
    const pick = ['content-type', 'connection', 'x-upstream-request-id', 'x-gigagate-model', 'x-should-retry'];
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
    it(`answers and logs ${name} alike however the path is spelled`, async () => {
      const plain = await send(PLAIN, body, headers);
      expect(plain.log.path).to.equal(PLAIN);
      for (const spelling of SPELLINGS) {
        const spelled = await send(spelling, body, headers);
        expect(spelled, spelling).to.deep.equal({ ...plain, log: { ...plain.log, path: pathnameOf(spelling) } });
      }
    });
  }

  it('counts every spelling under the one route pattern, and a query never reaches the log', async () => {
    const body = JSON.stringify({ model: 'GigaChat', messages: [{ role: 'user', content: 'Hi' }] });
    for (const spelling of [PLAIN, ...SPELLINGS]) await send(spelling, body, authorized);
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    const routes = [...metrics.matchAll(/gigagate_http_requests_total\{route="([^"]*)"/g)].map((match) => match[1]);
    expect(new Set(routes.filter((route) => /chat/i.test(route as string)))).to.deep.equal(
      new Set([CHAT_COMPLETIONS_PATH]),
    );
    expect(gateway.logs.join('')).not.to.contain('via=query');
  });

  it('takes an absolute-form request target, as Koa reads its path', async () => {
    const body = JSON.stringify({ model: 'GigaChat', messages: [{ role: 'user', content: 'Hi' }] });
    const { port } = new URL(gateway.url);
    const answer = await rawRequest(Number(port), `${gateway.url}/v1/chat/completions?via=proxy`, 'POST', body);
    expect(answer.status).to.equal(200);
    expect(JSON.parse(answer.text).choices[0].message.role).to.equal('assistant');
  });

  it('takes exactly the paths @koa/router would route to the chat route, and no other', async () => {
    // The router as the gateway configures it (its defaults), with the chat route alone.
    const router = new Router();
    router.post(CHAT_COMPLETIONS_PATH, () => {});
    const paths = [
      ...SPELLINGS,
      '/v1/Chat/Completions/?a=1',
      '/v1/chat/completions//',
      '/v1/chat/completions/x',
      '/v1//chat/completions',
      '/v1/chat/completion',
      '/v1/chat/completionss',
      '/v1/chat%2Fcompletions',
      '/v1/chat/completions%2F',
      '/x/v1/chat/completions',
    ];
    for (const path of paths) {
      const routed = router.match(pathnameOf(path) as string, 'POST').route;
      const response = await fetch(`${gateway.url}${path}`, { method: 'POST', headers: authorized, body: '{}' });
      const { code } = ((await response.json()) as any).error;
      // The entrance validates the body (no model: 400); Koa knows no such route (404).
      expect({ path, status: response.status, code }).to.deep.equal(
        routed ? { path, status: 400, code: null } : { path, status: 404, code: 'unknown_route' },
      );
    }
    expect(paths.filter((path) => router.match(pathnameOf(path) as string, 'POST').route)).to.have.length(4);
  });

  it('leaves other methods on the chat path to Koa: 405 with Allow', async () => {
    for (const spelling of [PLAIN, ...SPELLINGS]) {
      const response = await fetch(`${gateway.url}${spelling}`);
      expect(response.status, spelling).to.equal(405);
      expect(response.headers.get('allow'), spelling).to.equal('POST');
      expect(((await response.json()) as any).error.code).to.equal('method_not_allowed');
    }
  });

  it('keeps a sane X-Request-ID from the caller', async () => {
    const response = await fetch(`${gateway.url}${PLAIN}`, {
      method: 'POST',
      headers: { ...authorized, 'x-request-id': 'caller-42' },
      body: '{}',
    });
    expect(response.headers.get('x-request-id')).to.equal('caller-42');
  });
});
