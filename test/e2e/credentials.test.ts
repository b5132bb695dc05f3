import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import nock from 'nock';
import OpenAI from 'openai';
import { apiError } from '../helpers/api-error.ts';
import { gigaChatCompletion } from '../helpers/cassettes.ts';
import { startTestGateway, type TestGateway, tempDir } from '../helpers/gateway.ts';
import { GeminiMock, geminiFixture, geminiStreamFixture } from '../helpers/gemini-mock.ts';
import { GigaChatMock, gigaChatFixture, sendJson, TEST_CREDENTIALS } from '../helpers/gigachat-mock.ts';
import { parsePrometheus } from '../helpers/prometheus.ts';

// Issue 18, points 4, 5, 6: the operator's several credentials per provider, keys that bring their
// own, and GigaChat's balance per credential. The real gateway, the openai SDK, local mocks and nock.

/** Obviously fake authorization keys (Base64 of client_id:client_secret) and API keys. */
const PROJECT_B = Buffer.from('project-b-client-id:project-b-client-secret').toString('base64');
const TENANT_GIGACHAT = Buffer.from('tenant-client-id:tenant-client-secret').toString('base64');
const REVOKED = Buffer.from('revoked-client-id:revoked-client-secret').toString('base64');
const OPERATOR_GEMINI = 'operator-gemini-key-not-real';
const TENANT_GEMINI = 'tenant-gemini-key-not-real';
const ADMIN_KEY = 'admin-key-for-credential-tests-0123';
const TENANT_KEY = 'sk-tenant-client-key-not-real';
const PLAIN_KEY = 'sk-plain-client-key-not-real';
/** Every secret of these tests: none may reach a log line, an error or a usage row. */
const SECRETS = [
  TEST_CREDENTIALS,
  PROJECT_B,
  TENANT_GIGACHAT,
  REVOKED,
  OPERATOR_GEMINI,
  TENANT_GEMINI,
  'test-client-secret',
  'project-b-client-secret',
  'tenant-client-secret',
  'revoked-client-secret',
  TENANT_KEY,
  PLAIN_KEY,
  ADMIN_KEY,
];

/** The Gemini host nock answers for: the gateway's default GEMINI_BASE_URL. */
const GEMINI = 'https://generativelanguage.googleapis.com';

describe('e2e: upstream credentials — several per provider, keys with their own, GigaChat balance', () => {
  let gigachat: GigaChatMock;
  let gateway: TestGateway | undefined;
  const clientFor = (apiKey: string) => new OpenAI({ baseURL: `${gateway?.url}/v1`, apiKey, maxRetries: 0 });
  const hello = (client: OpenAI, model = 'GigaChat-2-Max') =>
    client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Привет' }] });
  const admin = (path: string, key: string | null = ADMIN_KEY) =>
    fetch(`${gateway?.url}${path}`, { headers: key === null ? {} : { authorization: `Bearer ${key}` } });
  const today = () => new Date().toISOString().slice(0, 10);
  const usage = async () => ((await (await admin(`/admin/usage?from=${today()}`)).json()) as any).data;
  const samples = async (name: string) =>
    parsePrometheus(await (await fetch(`${gateway?.url}/metrics`)).text()).filter((sample) => sample.name === name);

  async function start(file: unknown, env: Record<string, string> = {}): Promise<void> {
    const dir = tempDir();
    writeFileSync(join(dir, 'gateway.json'), JSON.stringify(file));
    gateway = await startTestGateway(
      {
        ...gigachat.env(),
        GATEWAY_CONFIG: join(dir, 'gateway.json'),
        GATEWAY_ADMIN_KEY: ADMIN_KEY,
        GIGACHAT_PROJECT_B: PROJECT_B,
        TENANT_GIGACHAT,
        ...env,
      },
      { dir },
    );
  }

  beforeEach(async () => {
    gigachat = await GigaChatMock.start();
    gigachat.accepted.add(PROJECT_B);
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    await gigachat.close();
  });

  describe('several operator GigaChat credentials', () => {
    // `default` is GIGACHAT_CREDENTIALS; project-b a standby, so the first attempt always goes to `default`.
    const FILE = {
      keys: { plain: { key: PLAIN_KEY } },
      credentials: {
        gigachat: { 'project-b': { credentialsEnv: 'GIGACHAT_PROJECT_B', weight: 0 } },
        cooldownSeconds: 120,
      },
    };
    const answerWith = (refuse: Set<string>, status: number, headers: Record<string, string> = {}) => {
      gigachat.chat = (_body, response, request) => {
        const owner = gigachat.ownerOf(request)?.credentials ?? '';
        if (refuse.has(owner)) return sendJson(response, status, { status, message: 'Too many requests' }, headers);
        sendJson(response, 200, gigaChatCompletion(owner === PROJECT_B ? 'from project-b' : 'from default'));
      };
    };
    const chatCallers = () =>
      gigachat.requestsTo('/api/v1/chat/completions').map((request) => gigachat.ownerOf(request)?.credentials);

    it('the first answers 429, the second serves within the same request (no retry needed); the first rests', async () => {
      await start(FILE); // UPSTREAM_RETRIES=0: the switch is not a retry
      answerWith(new Set([TEST_CREDENTIALS]), 429, { 'retry-after': '30' });
      const { data: completion, response } = await hello(clientFor(PLAIN_KEY)).withResponse();
      expect(completion.choices[0]?.message.content).to.equal('from project-b');
      expect(response.headers.get('x-gigagate-model')).to.equal('gigachat/GigaChat-2-Max');
      expect(chatCallers()).to.deep.equal([TEST_CREDENTIALS, PROJECT_B]);
      // While `default` rests (Retry-After: 30), the next request goes to project-b at once.
      expect((await hello(clientFor(PLAIN_KEY))).choices[0]?.message.content).to.equal('from project-b');
      expect(chatCallers()).to.deep.equal([TEST_CREDENTIALS, PROJECT_B, PROJECT_B]);

      const line = await (gateway as TestGateway).waitForLog((text) => text.includes('upstream credential rests'));
      expect(JSON.parse(line)).to.include({
        provider: 'gigachat',
        credential: 'operator:default',
        next: 'operator:project-b',
        status: 429,
        restMs: 30_000,
        msg: 'upstream credential rests; the next one serves',
      });
      expect(await usage()).to.deep.equal([
        {
          date: today(),
          client: 'plain',
          provider: 'gigachat',
          model: 'GigaChat-2-Max',
          credential: 'operator:project-b',
          requests: 2,
          prompt_tokens: 34,
          completion_tokens: 6,
        },
      ]);
      const cooldowns = await samples('gigagate_upstream_credential_cooldowns_total');
      expect(cooldowns.map(({ labels, value }) => [labels, value])).to.deep.equal([
        [{ provider: 'gigachat', credential: 'operator:default' }, 1],
      ]);
      const tokens = await samples('gigagate_tokens_total');
      expect(new Set(tokens.map((sample) => sample.labels.credential))).to.deep.equal(new Set(['operator:project-b']));
    });

    it('402 (tokens used up) rests a credential for the configured cooldown, and the next serves', async () => {
      await start(FILE);
      answerWith(new Set([TEST_CREDENTIALS]), 402);
      expect((await hello(clientFor(PLAIN_KEY))).choices[0]?.message.content).to.equal('from project-b');
      const line = await (gateway as TestGateway).waitForLog((text) => text.includes('upstream credential rests'));
      expect(JSON.parse(line)).to.include({ credential: 'operator:default', status: 402, restMs: 120_000 });
    });

    it('when every credential is refused, the 429 goes back as with one credential, Retry-After included', async () => {
      await start(FILE);
      answerWith(new Set([TEST_CREDENTIALS, PROJECT_B]), 429, { 'retry-after': '12' });
      const error = await apiError(hello(clientFor(PLAIN_KEY)));
      expect(error.status).to.equal(429);
      expect(error.headers?.get('retry-after')).to.equal('12');
      expect(error.headers?.get('x-should-retry')).to.equal('false');
      expect(chatCallers()).to.deep.equal([TEST_CREDENTIALS, PROJECT_B]);
      const line = await (gateway as TestGateway).waitForLog((text) => text.includes('no other credential is ready'));
      expect(JSON.parse(line)).to.include({ credential: 'operator:project-b' });
    });

    it('with retries on, the retry after Retry-After goes to the credential whose rest ends first', async () => {
      await start(FILE, { UPSTREAM_RETRIES: '1' });
      let refusals = 2;
      gigachat.chat = (_body, response) => {
        if (refusals-- > 0)
          return sendJson(response, 429, { status: 429, message: 'Too many requests' }, { 'retry-after': '1' });
        sendJson(response, 200, gigaChatCompletion('after the wait'));
      };
      expect((await hello(clientFor(PLAIN_KEY))).choices[0]?.message.content).to.equal('after the wait');
      expect(chatCallers()).to.deep.equal([TEST_CREDENTIALS, PROJECT_B, TEST_CREDENTIALS]);
      const retry = await (gateway as TestGateway).waitForLog((text) => text.includes('retrying'));
      expect(JSON.parse(retry)).to.include({ credential: 'operator:project-b', waitMs: 1000 });
    });
  });

  describe('a key with its own Gemini key', () => {
    const FILE = {
      keys: {
        tenant: { key: TENANT_KEY, gemini: { apiKeyEnv: 'TENANT_GEMINI' } },
        plain: { key: PLAIN_KEY },
      },
    };
    const generate = '/v1beta/models/gemini-2.5-flash:generateContent';

    it("sends its calls with that key (JSON and streams), never the operator's; others use the operator's", async () => {
      await start(FILE, { GEMINI_API_KEY: OPERATOR_GEMINI, TENANT_GEMINI });
      const stream = geminiStreamFixture('stream-text')
        .map((event) => `data: ${JSON.stringify(event)}\r\n\r\n`)
        .join('');
      const tenant = nock(GEMINI, { reqheaders: { 'x-goog-api-key': TENANT_GEMINI } })
        .post(generate)
        .reply(200, geminiFixture('generate-text'))
        .post('/v1beta/models/gemini-2.5-flash:streamGenerateContent')
        .query({ alt: 'sse' })
        .reply(200, stream, { 'content-type': 'text/event-stream' });
      const operator = nock(GEMINI, { reqheaders: { 'x-goog-api-key': OPERATOR_GEMINI } })
        .post(generate)
        .reply(200, geminiFixture('generate-text'));

      const own = clientFor(TENANT_KEY);
      expect((await hello(own, 'gemini-2.5-flash')).choices[0]?.message.content).to.be.a('string');
      const chunks = await own.chat.completions.create({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'How many r in strawberry?' }],
        stream: true,
      });
      let text = '';
      for await (const chunk of chunks) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).to.include('strawberry');
      expect(tenant.isDone()).to.equal(true);
      expect(operator.isDone()).to.equal(false);

      await hello(clientFor(PLAIN_KEY), 'gemini-2.5-flash');
      expect(operator.isDone()).to.equal(true);
      const rows = (await usage()) as { client: string; credential: string; requests: number }[];
      expect(rows.map(({ client, credential, requests }) => [client, credential, requests])).to.deep.equal([
        ['plain', 'operator:default', 1],
        ['tenant', 'own', 2],
      ]);
      const tokens = await samples('gigagate_tokens_total');
      expect(tokens.find((sample) => sample.labels.client === 'tenant')?.labels.credential).to.equal('own');
    });

    it('works where the operator has no Gemini at all; other keys still get 503 provider_not_configured', async () => {
      await start(FILE, { TENANT_GEMINI });
      const tenant = nock(GEMINI, { reqheaders: { 'x-goog-api-key': TENANT_GEMINI } })
        .post(generate)
        .reply(200, geminiFixture('generate-text'));
      expect((await hello(clientFor(TENANT_KEY), 'gemini-2.5-flash')).model).to.equal('gemini-2.5-flash');
      expect(tenant.isDone()).to.equal(true);
      const error = await apiError(hello(clientFor(PLAIN_KEY), 'gemini-2.5-flash'));
      expect(error.status).to.equal(503);
      expect(error.code).to.equal('provider_not_configured');
    });

    it("a refused own Gemini key is 502 upstream_auth_error naming the key's own credential", async () => {
      await start(FILE, { GEMINI_API_KEY: OPERATOR_GEMINI, TENANT_GEMINI });
      nock(GEMINI).post(generate).reply(400, geminiFixture('error-api-key-invalid'));
      const error = await apiError(hello(clientFor(TENANT_KEY), 'gemini-2.5-flash'));
      expect(error.status).to.equal(502);
      expect(error.code).to.equal('upstream_auth_error');
      expect(error.message).to.include("this key's own Gemini credential").and.not.include('GEMINI_API_KEY');
      expect(error.headers?.get('x-should-retry')).to.equal('false');
    });
  });

  describe('a key with its own GigaChat credentials', () => {
    let gemini: GeminiMock;
    beforeEach(async () => {
      gemini = await GeminiMock.start();
    });
    afterEach(async () => {
      await gemini.close();
    });

    it("that OAuth refuses: 502 upstream_auth_error naming the key's own credential; no operator account, no fallback", async () => {
      await start(
        {
          aliases: { smart: { model: 'GigaChat-2-Max', fallbacks: ['gemini-2.5-flash'] } },
          keys: {
            tenant: { key: TENANT_KEY, gigachat: { credentialsEnv: 'TENANT_GIGACHAT', scope: 'GIGACHAT_API_B2B' } },
          },
        },
        { ...gemini.env(), UPSTREAM_RETRIES: '2' },
      );
      for (const model of ['GigaChat-2-Max', 'smart']) {
        const error = await apiError(hello(clientFor(TENANT_KEY), model));
        expect(error.status, model).to.equal(502);
        expect(error.code).to.equal('upstream_auth_error');
        expect(error.message).to.include("this key's own GigaChat credential");
        expect(error.message).not.to.include('GIGACHAT_CREDENTIALS');
        expect(error.headers?.get('x-should-retry')).to.equal('false');
      }
      const oauth = gigachat.requestsTo('/api/v2/oauth');
      expect(oauth.map((request) => request.headers.authorization)).to.deep.equal([
        `Basic ${TENANT_GIGACHAT}`,
        `Basic ${TENANT_GIGACHAT}`,
      ]);
      expect(oauth.map((request) => request.body)).to.deep.equal(['scope=GIGACHAT_API_B2B', 'scope=GIGACHAT_API_B2B']);
      expect(gigachat.requestsTo('/api/v1/chat/completions')).to.have.length(0);
      expect(gemini.requests).to.have.length(0);
    });

    it('that GigaChat accepts: its calls carry its own token, cached apart from the operator’s', async () => {
      gigachat.accepted.add(TENANT_GIGACHAT);
      await start({
        keys: {
          tenant: { key: TENANT_KEY, gigachat: { credentialsEnv: 'TENANT_GIGACHAT' } },
          plain: { key: PLAIN_KEY },
        },
      });
      await Promise.all([hello(clientFor(TENANT_KEY)), hello(clientFor(TENANT_KEY)), hello(clientFor(PLAIN_KEY))]);
      await hello(clientFor(TENANT_KEY));
      const owners = gigachat
        .requestsTo('/api/v1/chat/completions')
        .map((request) => gigachat.ownerOf(request)?.credentials);
      expect(owners.filter((owner) => owner === TENANT_GIGACHAT)).to.have.length(3);
      expect(owners.filter((owner) => owner === TEST_CREDENTIALS)).to.have.length(1);
      // One OAuth call per credential: the concurrent ones shared it.
      const oauth = gigachat.requestsTo('/api/v2/oauth').map((request) => request.headers.authorization);
      expect(oauth.sort()).to.deep.equal([`Basic ${TENANT_GIGACHAT}`, `Basic ${TEST_CREDENTIALS}`].sort());
    });
  });

  describe('GET /admin/gigachat/balance', () => {
    it("answers GigaChat's balance per credential, or the error where the scope has none", async () => {
      await start(
        {
          credentials: {
            gigachat: {
              postpaid: { credentialsEnv: 'GIGACHAT_PROJECT_B', scope: 'GIGACHAT_API_CORP' },
              revoked: { credentials: REVOKED },
            },
          },
        },
        { GIGACHAT_SCOPE: 'GIGACHAT_API_B2B' },
      );
      const response = await admin('/admin/gigachat/balance');
      expect(response.status).to.equal(200);
      const body = (await response.json()) as any;
      expect(body.object).to.equal('list');
      expect(body.data[0]).to.deep.equal({
        credential: 'default',
        scope: 'GIGACHAT_API_B2B',
        balance: gigaChatFixture('balance').balance,
      });
      expect(body.data[1]).to.deep.include({ credential: 'postpaid', scope: 'GIGACHAT_API_CORP' });
      expect(body.data[1].error.code).to.equal('no_prepaid_balance');
      expect(body.data[1].error.message).to.include('pay-as-you-go');
      expect(body.data[2]).to.deep.include({ credential: 'revoked', scope: 'GIGACHAT_API_B2B' });
      expect(body.data[2].error.code).to.equal('upstream_auth_error');
      expect(body.data).to.have.length(3);
      const balances = gigachat.requestsTo('/api/v1/balance');
      expect(balances.map((request) => request.method)).to.deep.equal(['GET', 'GET']);
      expect(JSON.stringify(body)).not.to.match(/client-secret|client-id/);
    });

    it('is an admin route: 401 without the admin key or with a client key; 503 without GigaChat', async () => {
      await start({ keys: { plain: { key: PLAIN_KEY } } });
      expect((await admin('/admin/gigachat/balance', null)).status).to.equal(401);
      expect((await admin('/admin/gigachat/balance', PLAIN_KEY)).status).to.equal(401);
      await gateway?.close();
      gateway = undefined;
      await start({ keys: { plain: { key: PLAIN_KEY } } }, { GIGACHAT_CREDENTIALS: '' });
      const response = await admin('/admin/gigachat/balance');
      expect(response.status).to.equal(503);
      expect(((await response.json()) as any).error.code).to.equal('provider_not_configured');
    });
  });

  it('never logs a credential: operator, own, refused or not; lines name the credential instead', async () => {
    gigachat.accepted.add(TENANT_GIGACHAT);
    await start(
      {
        keys: {
          tenant: { key: TENANT_KEY, gigachat: { credentials: TENANT_GIGACHAT }, gemini: { apiKey: TENANT_GEMINI } },
          plain: { key: PLAIN_KEY },
        },
        credentials: {
          gigachat: { 'project-b': { credentialsEnv: 'GIGACHAT_PROJECT_B' }, revoked: { credentials: REVOKED } },
        },
      },
      { GEMINI_API_KEY: OPERATOR_GEMINI, LOG_LEVEL: 'debug' },
    );
    gigachat.chat = (_body, response, request) =>
      gigachat.ownerOf(request)?.credentials === TEST_CREDENTIALS
        ? sendJson(response, 429, { status: 429, message: 'Too many requests' })
        : sendJson(response, 200, gigaChatCompletion('Hello.'));
    nock(GEMINI)
      .post('/v1beta/models/gemini-2.5-flash:generateContent')
      .times(2)
      .reply(400, geminiFixture('error-api-key-invalid'));
    for (let index = 0; index < 6; index++) await hello(clientFor(PLAIN_KEY)).catch(() => {});
    await hello(clientFor(TENANT_KEY));
    await apiError(hello(clientFor(TENANT_KEY), 'gemini-2.5-flash'));
    await apiError(hello(clientFor(PLAIN_KEY), 'gemini-2.5-flash'));
    await admin('/admin/gigachat/balance');
    const logs = (gateway as TestGateway).logs;
    expect(logs.filter((line) => SECRETS.some((secret) => line.includes(secret)))).to.deep.equal([]);
    const credentials = new Set(logs.map((line) => JSON.parse(line).credential).filter(Boolean));
    expect([...credentials]).to.include.members(['operator:default', 'own']);
  });
});
