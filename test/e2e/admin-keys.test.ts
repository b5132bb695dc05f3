import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import OpenAI from 'openai';
import { apiError } from '../helpers/api-error.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { GigaChatMock } from '../helpers/gigachat-mock.ts';

const ADMIN_KEY = 'admin-key-for-tests-0123456789';
const STATIC_KEY = 'static-key-from-env';
// Obviously fake upstream credentials, in the shapes the upstreams use.
const OWN_GIGACHAT = Buffer.from('tenant-client-id:tenant-client-secret-ZQ9X').toString('base64');
const OWN_GEMINI = 'AIzaFakeTenantKeyForTests-K7m2';

describe('e2e: client keys made at run time (/admin/keys) and monthly token budgets', () => {
  let mock: GigaChatMock;
  let gateway: TestGateway;

  const admin = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${gateway.url}/admin/keys${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_KEY}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  const json = async (response: Response) => ({ status: response.status, body: (await response.json()) as any });
  const clientFor = (apiKey: string) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 2 });
  const ask = (client: OpenAI, model = 'GigaChat-2-Max') =>
    client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Привет' }] });

  beforeEach(async () => {
    mock = await GigaChatMock.start();
    gateway = await startTestGateway({
      ...mock.env(),
      GATEWAY_ADMIN_KEY: ADMIN_KEY,
      GATEWAY_API_KEYS: `env-key:${STATIC_KEY}`,
    });
  });
  afterEach(async () => {
    await gateway.close();
    await mock.close();
  });

  it('makes a key that works at once, shows it only once, and lists keys without their secrets', async () => {
    const created = await json(
      await admin('POST', '', {
        name: '1c-warehouse',
        models: ['GigaChat-2-*'],
        requestsPerMinute: 100,
        metadata: { base: 'Склад' },
        gigachat: { credentials: OWN_GIGACHAT, scope: 'GIGACHAT_API_B2B' },
        gemini: { apiKey: OWN_GEMINI },
      }),
    );
    expect(created.status).to.equal(201);
    const { key } = created.body;
    expect(key).to.match(/^gg-[\w-]{43}$/);
    expect(created.body).to.include({ object: 'client_key', name: '1c-warehouse', source: 'admin' });
    expect(created.body.keyHint).to.equal(`…${key.slice(-4)}`);
    expect(created.body.gigachat).to.deep.equal({
      scope: 'GIGACHAT_API_B2B',
      credentialsHint: `…${OWN_GIGACHAT.slice(-4)}`,
    });
    expect(created.body.gemini).to.deep.equal({ apiKeyHint: '…K7m2' });
    expect(JSON.stringify(created.body)).not.to.include(OWN_GIGACHAT).and.not.to.include(OWN_GEMINI);

    const plain = await json(await admin('POST', '', { name: 'plain' }));
    expect((await ask(clientFor(plain.body.key))).choices[0]?.message.content).to.be.a('string');

    const listed = await json(await admin('GET', ''));
    expect(listed.body.object).to.equal('list');
    expect(listed.body.data.map((view: any) => [view.name, view.source])).to.deep.equal([
      ['env-key', 'startup'],
      ['1c-warehouse', 'admin'],
      ['plain', 'admin'],
    ]);
    const one = await json(await admin('GET', '/1c-warehouse'));
    expect(one.body).to.deep.include({ name: '1c-warehouse', models: ['GigaChat-2-*'], metadata: { base: 'Склад' } });
    for (const text of [JSON.stringify(listed.body), JSON.stringify(one.body)]) {
      expect(text).not.to.include(key);
      expect(text).not.to.include(OWN_GIGACHAT);
      expect(text).not.to.include(OWN_GEMINI);
      expect(text).not.to.include(STATIC_KEY);
    }
    // The store holds the key as a digest and the credentials sealed (the file and its write-ahead log).
    const file = ['store.sqlite', 'store.sqlite-wal']
      .map((name) => readFileSync(join(gateway.dir, name)).toString('latin1'))
      .join('');
    expect(file).to.include('1c-warehouse');
    expect(file).not.to.include(key);
    expect(file).not.to.include(OWN_GIGACHAT);
    expect(file).not.to.include(OWN_GEMINI);
  });

  it('sends the calls of a key made with its own GigaChat credentials with those, until PATCH removes them', async () => {
    mock.accepted.add(OWN_GIGACHAT);
    const { body } = await json(await admin('POST', '', { name: 'tenant', gigachat: { credentials: OWN_GIGACHAT } }));
    const client = clientFor(body.key);
    await ask(client);
    const owner = () => mock.ownerOf(mock.requestsTo('/api/v1/chat/completions').at(-1) as never)?.credentials;
    expect(owner()).to.equal(OWN_GIGACHAT);
    expect(mock.requestsTo('/api/v2/oauth').at(-1)?.body).to.equal('scope=GIGACHAT_API_PERS');
    await admin('PATCH', '/tenant', { gigachat: null });
    await ask(client);
    expect(owner()).not.to.equal(OWN_GIGACHAT);
    // Own credentials GigaChat refuses: the key's own, named as such, and never the operator's instead.
    await admin('PATCH', '/tenant', { gigachat: { credentials: Buffer.from('gone:revoked').toString('base64') } });
    const refused = await apiError(ask(client));
    expect(refused.status).to.equal(502);
    expect(refused.code).to.equal('upstream_auth_error');
    expect(refused.message).to.include("this key's own GigaChat credential");
  });

  it('changes a key with PATCH (null removes a field) and revokes it with DELETE', async () => {
    const { body } = await json(await admin('POST', '', { name: 'team', models: ['GigaChat'] }));
    const client = clientFor(body.key);
    const refused = await apiError(ask(client, 'GigaChat-2-Max'));
    expect(refused.status).to.equal(403);
    expect(refused.code).to.equal('model_not_allowed');

    const changed = await json(await admin('PATCH', '/team', { models: null, metadata: { owner: 'ops' } }));
    expect(changed.status).to.equal(200);
    expect(changed.body).not.to.have.property('models');
    expect(changed.body.metadata).to.deep.equal({ owner: 'ops' });
    await ask(client, 'GigaChat-2-Max');

    const revoked = await json(await admin('DELETE', '/team'));
    expect(revoked.body).to.deep.equal({ object: 'client_key.deleted', name: 'team', deleted: true });
    const gone = await apiError(ask(client));
    expect(gone.status).to.equal(401);
    expect((await admin('GET', '/team')).status).to.equal(404);
    // The fixed keys keep working beside the runtime ones.
    await ask(clientFor(STATIC_KEY));
  });

  it('refuses bad bodies with 400 naming the field, and never echoes a credential', async () => {
    const cases: [unknown, string][] = [
      [{}, 'name'],
      [{ name: 'bad name' }, 'name'],
      [{ name: 'x', requestsPerMinute: 0 }, 'requestsPerMinute'],
      [{ name: 'x', monthlyTokenBudget: '100' }, 'monthlyTokenBudget'],
      [{ name: 'x', models: 'GigaChat' }, 'models'],
      [{ name: 'x', color: 'red' }, 'color'],
      [{ name: 'x', expiresAt: 'tomorrow' }, 'expiresAt'],
      [{ name: 'x', expiresAt: '2001-01-01T00:00:00Z' }, 'expiresAt'],
      [{ name: 'x', metadata: { a: 1 } }, 'metadata.a'],
      [{ name: 'x', gigachat: { credentials: 'not-a-studio-key' } }, 'gigachat.credentials'],
      [{ name: 'x', gigachat: { credentials: OWN_GIGACHAT, scope: 'GIGACHAT_API_ANY' } }, 'gigachat.scope'],
      [{ name: 'x', gemini: { apiKey: `${OWN_GEMINI} spaced` } }, 'gemini.apiKey'],
      [{ name: 'x', gemini: { key: OWN_GEMINI } }, 'gemini.apiKey'],
    ];
    for (const [body, param] of cases) {
      const answer = await json(await admin('POST', '', body));
      expect(answer.status, JSON.stringify(body)).to.equal(400);
      expect(answer.body.error.param, JSON.stringify(body)).to.equal(param);
      expect(answer.body.error.type).to.equal('invalid_request_error');
      expect(JSON.stringify(answer.body)).not.to.include(OWN_GEMINI).and.not.to.include('not-a-studio-key');
    }
    const proto = await json(await admin('POST', '', '{"name":"x","__proto__":{"admin":true}}'));
    expect(proto.status).to.equal(400);
    expect(proto.body.error.param).to.equal('__proto__');
    const notJson = await json(await admin('POST', '', '{"name":', {}));
    expect(notJson.status).to.equal(400);
    expect(notJson.body.error.code).to.equal('invalid_json');
    const form = await json(await admin('POST', '', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' }));
    expect(form.status).to.equal(400);
    expect(form.body.error.code).to.equal('invalid_content_type');
    const huge = await json(await admin('POST', '', { name: 'x', metadata: { a: 'x'.repeat(70_000) } }));
    expect(huge.status).to.equal(413);
    const array = await json(await admin('POST', '', [1, 2]));
    expect(array.status).to.equal(400);
    const deep = `{"name":"deep","metadata":${'{"a":'.repeat(10_000)}"x"${'}'.repeat(10_000)}}`;
    const nested = await json(await admin('POST', '', deep));
    expect(nested.status).to.equal(400);
    expect(nested.body.error.param).to.equal('metadata.a');
    expect((await admin('POST', '', { name: 'x' })).status).to.equal(201);
    // Names that reach the path: traversal, encoded slashes, overlong, none of them a key.
    for (const path of ['/..%2F..%2Fetc%2Fpasswd', '/x%00', `/${'a'.repeat(300)}`, '/%E0%A4%A']) {
      const answer = await json(await admin('GET', path));
      expect(answer.status, path).to.be.oneOf([400, 404]);
      expect(answer.body.error.type, path).to.equal('invalid_request_error');
    }
  });

  it('answers 409 for a taken name or a key fixed at start-up, 404 for an unknown one, 401/403 without the admin key', async () => {
    await admin('POST', '', { name: 'dup' });
    const taken = await json(await admin('POST', '', { name: 'dup' }));
    expect(taken.status).to.equal(409);
    expect(taken.body.error.code).to.equal('key_exists');
    expect((await json(await admin('POST', '', { name: 'env-key' }))).status).to.equal(409);
    const fixed = await json(await admin('PATCH', '/env-key', { requestsPerMinute: 5 }));
    expect(fixed.status).to.equal(409);
    expect(fixed.body.error.code).to.equal('key_fixed_at_startup');
    expect((await json(await admin('DELETE', '/nobody'))).status).to.equal(404);
    expect((await json(await admin('PATCH', '/nobody', {}))).status).to.equal(404);
    const withClientKey = await fetch(`${gateway.url}/admin/keys`, {
      headers: { authorization: `Bearer ${STATIC_KEY}` },
    });
    expect(withClientKey.status).to.equal(401);
  });

  it('refuses a key past its expiresAt with 401 saying when it expired', async () => {
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const { body } = await json(await admin('POST', '', { name: 'short', expiresAt }));
    expect(body.expiresAt).to.equal(expiresAt);
    await ask(clientFor(body.key));
    await new Promise((resolve) => setTimeout(resolve, Date.parse(expiresAt) - Date.now() + 50));
    const expired = await apiError(ask(clientFor(body.key)));
    expect(expired.status).to.equal(401);
    expect(expired.code).to.equal('expired_api_key');
    expect(expired.message).to.include(expiresAt);
  });

  it("refuses a key whose month's tokens reached its budget, without SDK retries, and GET /admin/usage shows what is left", async () => {
    // Each recorded answer uses 20 tokens (17 prompt, 3 completion).
    const { body } = await json(await admin('POST', '', { name: 'budgeted', monthlyTokenBudget: 30 }));
    const client = clientFor(body.key); // maxRetries 2: a retried refusal would show as more upstream calls
    await ask(client);
    await ask(client);
    const calls = mock.requestsTo('/api/v1/chat/completions').length;
    const spent = await apiError(ask(client));
    expect(spent.status).to.equal(429);
    expect(spent.code).to.equal('budget_exceeded');
    expect(spent.type).to.equal('insufficient_quota');
    expect(spent.headers?.get('x-should-retry')).to.equal('false');
    const nextMonth = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 1, 1)).toISOString();
    expect(spent.message).to.include(`resets at ${nextMonth}`);
    expect(mock.requestsTo('/api/v1/chat/completions')).to.have.length(calls);
    // Other keys are not affected.
    await ask(clientFor(STATIC_KEY));

    const usage = await fetch(`${gateway.url}/admin/usage`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    const { month } = (await usage.json()) as any;
    expect(month.resets_at).to.equal(nextMonth);
    expect(month.keys).to.deep.equal([
      { client: 'budgeted', used_tokens: 40, monthly_token_budget: 30, remaining_tokens: 0 },
      { client: 'env-key', used_tokens: 20 },
    ]);
    // A larger budget lets the key in again at once.
    await admin('PATCH', '/budgeted', { monthlyTokenBudget: 1000 });
    await ask(client);
  });
});
