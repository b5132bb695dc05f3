import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { type ClientPolicy, type ClientPolicyConfig, createClientPolicy } from '../../../gateway/clients/policy.ts';
import { createLogger } from '../../../gateway/lib/logger.ts';
import { openStore, type Store } from '../../../gateway/lib/store.ts';
import { GatewayError } from '../../../gateway/openai/errors.ts';
import { RedisServer } from '../../helpers/redis-server.ts';

const START = Date.parse('2026-11-21T10:00:00Z');

const CONFIG: ClientPolicyConfig = {
  clients: [
    { name: '1c-accounting', key: 'k1', models: ['smart', 'GigaChat-*'], requestsPerMinute: 3, tokensPerMinute: 1000 },
    { name: 'tokens-only', key: 'k2', tokensPerMinute: 100 },
    { name: 'bitrix24', key: 'k3' },
    { name: 'budgeted', key: 'k4', monthlyTokenBudget: 50 },
  ],
  defaultLimits: {},
};

/** The error a promise rejects with. */
async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(GatewayError);
    return error as GatewayError;
  }
  throw new Error('expected a rejection');
}

/** The same cases, against each store the policy can sit on. */
function behavesAsAPolicy(open: () => Promise<Store>) {
  let store: Store;
  let now: number;
  let policy: ClientPolicy;
  const create = () => createClientPolicy({ config: CONFIG, store, logger: createLogger('silent'), now: () => now });

  beforeEach(async () => {
    store = await open();
    now = START;
    policy = create();
  });
  afterEach(async () => {
    await policy.close();
    await store.disconnect();
  });

  it('refuses a model the key may not use with 403 model_not_allowed naming the model', async () => {
    expect(policy.allows('1c-accounting', 'GigaChat-2-Max')).to.equal(true);
    expect(policy.allows('1c-accounting', 'gemini-2.5-pro')).to.equal(false);
    expect(policy.allows('bitrix24', 'gemini-2.5-pro')).to.equal(true);
    const error = await rejection(policy.admit('1c-accounting', 'gemini-2.5-pro'));
    expect(error.status).to.equal(403);
    expect(error.toBody().error).to.deep.equal({
      message: 'The key "1c-accounting" may not use the model "gemini-2.5-pro".',
      type: 'permission_error',
      param: 'model',
      code: 'model_not_allowed',
    });
  });

  it('admits requests per minute up to the limit, then 429 with Retry-After, then again once the minute slid by', async () => {
    for (let index = 0; index < 3; index++) await policy.admit('1c-accounting', 'smart');
    now += 15_000;
    const error = await rejection(policy.admit('1c-accounting', 'smart'));
    expect(error.status).to.equal(429);
    expect(error.code).to.equal('rate_limit_exceeded');
    expect(error.message).to.match(/3 requests per minute/);
    // The current window ends in 45 s; then a third of its 3 requests must slide out: 20 s more.
    expect(error.headers['retry-after']).to.equal('65');
    now += 64_000;
    await rejection(policy.admit('1c-accounting', 'smart'));
    now += 1000;
    await policy.admit('1c-accounting', 'smart');
    // Other keys have budgets of their own.
    await policy.admit('bitrix24', 'smart');
  });

  it('does not count a refused request', async () => {
    for (let index = 0; index < 3; index++) await policy.admit('1c-accounting', 'smart');
    await rejection(policy.admit('1c-accounting', 'smart'));
    await rejection(policy.admit('1c-accounting', 'smart'));
    now += 61_000 + 20_000; // a third of the window slid out: one request's room, not less
    await policy.admit('1c-accounting', 'smart');
  });

  it('refuses once the recorded tokens reach tokens per minute, naming that limit', async () => {
    await policy.admit('tokens-only', 'GigaChat');
    policy.record(
      'tokens-only',
      'gigachat',
      'GigaChat',
      { prompt_tokens: 60, completion_tokens: 39 },
      'operator:default',
    );
    await policy.admit('tokens-only', 'GigaChat');
    policy.record(
      'tokens-only',
      'gigachat',
      'GigaChat',
      { prompt_tokens: 1, completion_tokens: 0 },
      'operator:default',
    );
    const error = await rejection(policy.admit('tokens-only', 'GigaChat'));
    expect(error.status).to.equal(429);
    expect(error.message).to.match(/100 tokens per minute/);
    expect(Number(error.headers['retry-after'])).to.be.greaterThan(60);
  });

  it("refuses a key whose UTC month's tokens reached its monthly budget, until the next month", async () => {
    await policy.admit('budgeted', 'GigaChat');
    policy.record('budgeted', 'gigachat', 'GigaChat', { prompt_tokens: 20, completion_tokens: 10 }, 'own');
    await policy.admit('budgeted', 'GigaChat');
    policy.record('budgeted', 'gigachat', 'GigaChat', { prompt_tokens: 15, completion_tokens: 5 }, 'operator:default');
    const error = await rejection(policy.admit('budgeted', 'GigaChat'));
    expect(error.status).to.equal(429);
    expect(error.toBody().error).to.deep.equal({
      message: 'The key "budgeted" has used its monthly budget of 50 tokens; it resets at 2026-12-01T00:00:00.000Z.',
      type: 'insufficient_quota',
      param: null,
      code: 'budget_exceeded',
    });
    expect(error.headers['x-should-retry']).to.equal('false');
    // Counted from the stored usage: a policy started afresh (a restart, another instance) refuses too.
    await policy.close();
    policy = create();
    await rejection(policy.admit('budgeted', 'GigaChat'));
    await policy.admit('bitrix24', 'GigaChat');
    expect(await policy.readMonth()).to.deep.equal({
      month: '2026-11',
      resets_at: '2026-12-01T00:00:00.000Z',
      keys: [{ client: 'budgeted', used_tokens: 50, monthly_token_budget: 50, remaining_tokens: 0 }],
    });
    now = Date.parse('2026-12-01T00:00:01Z');
    await policy.admit('budgeted', 'GigaChat');
  });

  it('counts usage per day, client, provider, model and credential, and reads it back sorted and filtered', async () => {
    policy.record(
      '1c-accounting',
      'gigachat',
      'GigaChat-2-Max',
      { prompt_tokens: 10, completion_tokens: 5 },
      'operator:default',
    );
    policy.record(
      '1c-accounting',
      'gigachat',
      'GigaChat-2-Max',
      { prompt_tokens: 1, completion_tokens: 2 },
      'operator:default',
    );
    policy.record('1c-accounting', 'gigachat', 'GigaChat-2-Max', undefined, 'operator:default');
    policy.record(
      'bitrix24',
      'gemini',
      'gemini-2.5-flash',
      { prompt_tokens: 3, completion_tokens: 4 },
      'operator:default',
    );
    policy.record(undefined, 'gigachat', 'GigaChat', { prompt_tokens: 1, completion_tokens: 1 }, 'operator:default');
    policy.record('1c-accounting', 'gigachat', 'GigaChat-2-Max', { prompt_tokens: 2, completion_tokens: 2 }, 'own');
    now += 24 * 60 * 60 * 1000;
    policy.record(
      'bitrix24',
      'gemini',
      'gemini-2.5-flash',
      { prompt_tokens: 1, completion_tokens: 1 },
      'operator:default',
    );
    const all = await policy.readUsage({ from: '2026-11-20', to: '2026-11-23' });
    expect(all).to.deep.equal([
      row('2026-11-21', null, 'gigachat', 'GigaChat', 1, 1, 1),
      row('2026-11-21', '1c-accounting', 'gigachat', 'GigaChat-2-Max', 3, 11, 7),
      row('2026-11-21', '1c-accounting', 'gigachat', 'GigaChat-2-Max', 1, 2, 2, 'own'),
      row('2026-11-21', 'bitrix24', 'gemini', 'gemini-2.5-flash', 1, 3, 4),
      row('2026-11-22', 'bitrix24', 'gemini', 'gemini-2.5-flash', 1, 1, 1),
    ]);
    expect(await policy.readUsage({ from: '2026-11-21', to: '2026-11-21', client: 'bitrix24' })).to.deep.equal([
      row('2026-11-21', 'bitrix24', 'gemini', 'gemini-2.5-flash', 1, 3, 4),
    ]);
    expect(
      await policy.readUsage({ from: '2026-11-21', to: '2026-11-22', model: 'gemini/gemini-2.5-flash' }),
    ).to.have.length(2);
    expect(await policy.readUsage({ from: '2026-11-23', to: '2026-11-23' })).to.deep.equal([]);
  });

  it('adds usage written in several batches, and keeps it across a restart (close flushes)', async () => {
    policy.record('bitrix24', 'gigachat', 'GigaChat', { prompt_tokens: 1, completion_tokens: 1 }, 'operator:default');
    await policy.readUsage({ from: '2026-11-21', to: '2026-11-21' }); // writes the first batch
    policy.record('bitrix24', 'gigachat', 'GigaChat', { prompt_tokens: 2, completion_tokens: 2 }, 'operator:default');
    await policy.close();
    policy = create();
    expect(await policy.readUsage({ from: '2026-11-21', to: '2026-11-21' })).to.deep.equal([
      row('2026-11-21', 'bitrix24', 'gigachat', 'GigaChat', 2, 3, 3),
    ]);
  });
}

function row(
  date: string,
  client: string | null,
  provider: string,
  model: string,
  requests: number,
  prompt_tokens: number,
  completion_tokens: number,
  credential: string | null = 'operator:default',
) {
  return { date, client, provider, model, credential, requests, prompt_tokens, completion_tokens };
}

describe('client policy', () => {
  describe('on a SQLite store (windows in memory, usage batched into keyv)', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'policy-test-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));
    let files = 0;
    behavesAsAPolicy(() => openStore({ kind: 'sqlite', path: join(dir, `store-${++files}.sqlite`) }));
  });

  describe('on a Redis store (windows and usage shared)', function () {
    this.timeout(20_000);
    let redis: RedisServer;
    before(async () => {
      redis = await RedisServer.start();
    });
    after(async () => {
      await redis.stop();
    });
    beforeEach(async () => {
      const store = await openStore({ kind: 'redis', url: redis.url });
      const client = await (store.store as { getClient(): Promise<{ flushAll(): Promise<unknown> }> }).getClient();
      await client.flushAll();
      await store.disconnect();
    });
    behavesAsAPolicy(() => openStore({ kind: 'redis', url: redis.url }));

    it('lets requests through uncounted when Redis is gone (asking it again only after a pause), logs it once, and still closes', async () => {
      const lost = await RedisServer.start();
      const store = await openStore({ kind: 'redis', url: lost.url });
      const lines: string[] = [];
      const logger = createLogger('warn', { write: (line: string) => lines.push(line) });
      const policy = createClientPolicy({ config: CONFIG, store, logger, now: () => START });
      try {
        await policy.admit('1c-accounting', 'smart');
        await lost.stop();
        for (let index = 0; index < 5; index++) await policy.admit('1c-accounting', 'smart');
        policy.record(
          '1c-accounting',
          'gigachat',
          'GigaChat',
          { prompt_tokens: 1, completion_tokens: 1 },
          'operator:default',
        );
        await policy.close();
        expect(lines.filter((line) => line.includes('requests are admitted uncounted'))).to.have.length(1);
        expect(lines.filter((line) => line.includes('cannot write to the store'))).to.have.length(1);
      } finally {
        await store.disconnect().catch(() => {});
      }
    });

    it('does not hold a request when Redis stays silent: after a second the check counts as an outage', async () => {
      const store = await openStore({ kind: 'redis', url: redis.url });
      const lines: string[] = [];
      const logger = createLogger('warn', { write: (line: string) => lines.push(line) });
      const policy = createClientPolicy({ config: CONFIG, store, logger, now: () => START });
      const other = await openStore({ kind: 'redis', url: redis.url });
      const admin = await (other.store as { getClient(): Promise<any> }).getClient();
      try {
        // Every other connection waits, far longer than the second the check allows, however late its timer.
        await admin.sendCommand(['CLIENT', 'PAUSE', '15000', 'ALL']);
        await policy.admit('1c-accounting', 'smart');
        expect(lines.filter((line) => line.includes('requests are admitted uncounted'))).to.have.length(1);
      } finally {
        await admin.sendCommand(['CLIENT', 'UNPAUSE']);
        await policy.close();
        await store.disconnect();
        await other.disconnect();
      }
    });

    it('gives two instances one budget and one usage count', async () => {
      const stores = [
        await openStore({ kind: 'redis', url: redis.url }),
        await openStore({ kind: 'redis', url: redis.url }),
      ];
      const now = () => START;
      const [first, second] = stores.map((store) =>
        createClientPolicy({ config: CONFIG, store, logger: createLogger('silent'), now }),
      ) as [ClientPolicy, ClientPolicy];
      try {
        const outcomes = await Promise.allSettled(
          [first, second, first, second, first, second].map((policy) => policy.admit('1c-accounting', 'smart')),
        );
        expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).to.have.length(3);
        first.record(
          '1c-accounting',
          'gigachat',
          'GigaChat',
          { prompt_tokens: 1, completion_tokens: 2 },
          'operator:default',
        );
        second.record(
          '1c-accounting',
          'gigachat',
          'GigaChat',
          { prompt_tokens: 10, completion_tokens: 20 },
          'operator:default',
        );
        await first.close();
        expect(await second.readUsage({ from: '2026-11-21', to: '2026-11-21' })).to.deep.equal([
          row('2026-11-21', '1c-accounting', 'gigachat', 'GigaChat', 2, 11, 22),
        ]);
      } finally {
        await Promise.all([first.close(), second.close()]);
        await Promise.all(stores.map((store) => store.disconnect()));
      }
    });
  });
});
