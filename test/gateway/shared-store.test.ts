import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.ts';
import { GigaChatMock } from '../helpers/gigachat-mock.ts';
import { RedisServer } from '../helpers/redis-server.ts';

describe('several gateway processes sharing one Redis store (STORE_URL=redis://…)', function () {
  this.timeout(60_000); // two processes start, which takes seconds on a busy machine
  let redis: RedisServer;
  let gigachat: GigaChatMock;
  const gateways: GatewayProcess[] = [];
  // A Redis store requires the key that seals secrets at rest, the same in every instance.
  const GATEWAY_SECRET_KEY = randomBytes(32).toString('base64');

  before(async () => {
    redis = await RedisServer.start();
  });
  after(async () => {
    await redis.stop();
  });
  beforeEach(async () => {
    gigachat = await GigaChatMock.start();
  });
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gateway) => gateway.stop()));
    await gigachat.close();
  });

  /** Two processes on one store; both are stopped after the test, even when one of them failed to start. */
  async function startTwo(env: Record<string, string>) {
    const start = async () => {
      const gateway = await startGatewayProcess(env);
      gateways.push(gateway);
      return gateway;
    };
    // Both settle before the test goes on: one still starting when afterEach has run would outlive the suite.
    const [first, second] = await Promise.allSettled([start(), start()]);
    if (first.status === 'rejected') throw first.reason;
    if (second.status === 'rejected') throw second.reason;
    return [first.value, second.value] as const;
  }

  it('share one GigaChat token: exactly one OAuth call between two cold processes under concurrent load', async () => {
    gigachat.oauthDelayMs = 200; // both processes ask while the first OAuth call is still out
    const env = { ...gigachat.env(), STORE_URL: redis.url, GATEWAY_SECRET_KEY, LOG_LEVEL: 'info' };
    const [first, second] = await startTwo(env);
    const ask = (url: string) =>
      fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'GigaChat', messages: [{ role: 'user', content: 'hi' }] }),
      }).then((response) => response.status);
    const statuses = await Promise.all(
      [first, second].flatMap((gateway) => Array.from({ length: 5 }, () => ask(gateway.url))),
    );
    expect(statuses).to.deep.equal(Array(10).fill(200));
    expect(gigachat.oauthCalls).to.equal(1);
    expect(gigachat.requestsTo('/api/v1/chat/completions')).to.have.length(10);
  });

  it('share one GigaChat token per credential: one OAuth call for each, operator and own, between two processes', async () => {
    // Obviously fake authorization keys (Base64 of client_id:client_secret).
    const projectB = Buffer.from('project-b-client-id:project-b-client-secret').toString('base64');
    const tenant = Buffer.from('tenant-client-id:tenant-client-secret').toString('base64');
    gigachat.accepted.add(projectB);
    gigachat.accepted.add(tenant);
    gigachat.oauthDelayMs = 200; // every process and credential asks while the first OAuth calls are still out
    const dir = mkdtempSync(join(tmpdir(), 'shared-credentials-'));
    try {
      const config = {
        keys: {
          plain: { key: 'key-plain-client' },
          tenant: { key: 'key-tenant-client', gigachat: { credentialsEnv: 'TENANT_GIGACHAT' } },
        },
        credentials: { gigachat: { 'project-b': { credentialsEnv: 'GIGACHAT_PROJECT_B' } } },
      };
      writeFileSync(join(dir, 'gateway.json'), JSON.stringify(config));
      const env = {
        ...gigachat.env(),
        STORE_URL: redis.url,
        GATEWAY_SECRET_KEY,
        GATEWAY_CONFIG: join(dir, 'gateway.json'),
        GIGACHAT_PROJECT_B: projectB,
        TENANT_GIGACHAT: tenant,
      };
      const [first, second] = await startTwo(env);
      const ask = (url: string, key: string) =>
        fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}` },
          body: JSON.stringify({ model: 'GigaChat', messages: [{ role: 'user', content: 'hi' }] }),
        }).then((response) => response.status);
      const statuses = await Promise.all(
        [first, second].flatMap(({ url }) => [
          ...Array.from({ length: 10 }, () => ask(url, 'key-plain-client')),
          ...Array.from({ length: 4 }, () => ask(url, 'key-tenant-client')),
        ]),
      );
      expect(statuses).to.deep.equal(Array(28).fill(200));
      const used = new Set(
        gigachat.requestsTo('/api/v1/chat/completions').map((request) => gigachat.ownerOf(request)?.credentials),
      );
      expect(used.has(tenant)).to.equal(true);
      const oauth = gigachat.requestsTo('/api/v2/oauth').map((request) => request.headers.authorization);
      expect(oauth.sort()).to.deep.equal([...used].map((credentials) => `Basic ${credentials}`).sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('share one rate-limit budget and one usage count per client key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shared-limits-'));
    try {
      const config = { keys: { '1c-accounting': { key: 'key-1c-accounting', requestsPerMinute: 4 } } };
      writeFileSync(join(dir, 'gateway.json'), JSON.stringify(config));
      const adminKey = 'admin-key-for-tests-0123456789';
      const env = {
        ...gigachat.env(),
        STORE_URL: redis.url,
        GATEWAY_SECRET_KEY,
        GATEWAY_CONFIG: join(dir, 'gateway.json'),
        GATEWAY_ADMIN_KEY: adminKey,
      };
      const [first, second] = await startTwo(env);
      const ask = (url: string) =>
        fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: 'Bearer key-1c-accounting' },
          body: JSON.stringify({ model: 'GigaChat', messages: [{ role: 'user', content: 'hi' }] }),
        });
      // Six at once, three on each: the budget of four is one, so exactly four get through.
      const answers = await Promise.all([first, second, first, second, first, second].map(({ url }) => ask(url)));
      const statuses = answers.map((answer) => answer.status).sort();
      expect(statuses).to.deep.equal([200, 200, 200, 200, 429, 429]);
      for (const answer of answers.filter(({ status }) => status === 429)) {
        expect(Number(answer.headers.get('retry-after'))).to.be.greaterThan(0);
        expect(((await answer.json()) as any).error.code).to.equal('rate_limit_exceeded');
      }
      for (const gateway of [first, second]) expect((await ask(gateway.url)).status).to.equal(429);
      expect(gigachat.requestsTo('/api/v1/chat/completions')).to.have.length(4);

      // Each process writes its usage to Redis every few seconds; either one reads the sum.
      const usage = async (url: string) => {
        const response = await fetch(`${url}/admin/usage?client=1c-accounting`, {
          headers: { authorization: `Bearer ${adminKey}` },
        });
        return ((await response.json()) as any).data;
      };
      const expected = [
        {
          date: new Date().toISOString().slice(0, 10),
          client: '1c-accounting',
          provider: 'gigachat',
          model: 'GigaChat',
          credential: 'operator:default',
          requests: 4,
          prompt_tokens: 4 * 17,
          completion_tokens: 4 * 3,
        },
      ];
      for (const gateway of [first, second])
        expect(await eventually(() => usage(gateway.url), expected)).to.deep.equal(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('see a key made at run time on one process, and its revoke or change, on the other within seconds', async () => {
    const adminKey = 'admin-key-for-tests-0123456789';
    const env = { ...gigachat.env(), STORE_URL: redis.url, GATEWAY_SECRET_KEY, GATEWAY_ADMIN_KEY: adminKey };
    const [first, second] = await startTwo(env);
    const admin = (url: string, method: string, path: string, body?: unknown) =>
      fetch(`${url}/admin/keys${path}`, {
        method,
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const created = await admin(first.url, 'POST', '', { name: '1c-base-7', models: ['GigaChat'] });
    const { key } = (await created.json()) as { key: string };
    const ask = (url: string, model = 'GigaChat') =>
      fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}` },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
      }).then((response) => response.status);
    expect(await ask(first.url)).to.equal(200);
    expect(await eventually(() => ask(second.url), 200, 5000)).to.equal(200);
    expect(await ask(second.url, 'GigaChat-2-Max')).to.equal(403);
    await admin(first.url, 'PATCH', '/1c-base-7', { models: ['GigaChat*'] });
    expect(await eventually(() => ask(second.url, 'GigaChat-2-Max'), 200, 5000)).to.equal(200);
    await admin(second.url, 'DELETE', '/1c-base-7');
    expect(await ask(second.url)).to.equal(401);
    expect(await eventually(() => ask(first.url), 401, 5000)).to.equal(401);
  });

  it('stops start-up with one line naming STORE_URL when Redis cannot be reached', async () => {
    const { spawnGateway, waitFor } = await import('../helpers/gateway-process.ts');
    const gateway = spawnGateway({ PORT: '0', STORE_URL: 'redis://127.0.0.1:1', GATEWAY_SECRET_KEY });
    gateways.push(gateway);
    const [line] = await waitFor(gateway.stderr, /gateway: .*\n/);
    expect(line).to.match(/STORE_URL/);
    // It exits by itself just after that line; a SIGTERM sent in between would end it by signal instead.
    const { code } = await gateway.exited;
    expect(code).to.equal(1);
  });
});

/**
 * Polls until `read` resolves to `expected` (deep-equal), or gives up after `timeoutMs` with the last
 * value. The usage reaches Redis on a timer in another process: there is no event to wait on here.
 */
async function eventually<T>(read: () => Promise<T>, expected: T, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (JSON.stringify(value) !== JSON.stringify(expected) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  return value;
}
