import { expect } from 'chai';
import type { Client } from '../../../gateway/config-file.ts';
import {
  BadRequestError,
  InsufficientQuotaError,
  RateLimitError,
  UpstreamError,
} from '../../../gateway/openai/errors.ts';
import type { Provider } from '../../../gateway/providers/provider.ts';
import { AccountPool } from '../../../gateway/routing/account-pool.ts';
import { Accounts, type AccountTarget, type AttemptContext } from '../../../gateway/routing/accounts.ts';
import { OwnCredentialRefusedError } from '../../../gateway/routing/own-credential-refused.ts';
import { OwnProviders } from '../../../gateway/routing/own-providers.ts';
import { canFallBack } from '../../../gateway/routing/retry-policy.ts';

function provider(name: string, displayName = name): Provider {
  const unused = () => Promise.reject(new Error('not used'));
  return {
    name,
    displayName,
    complete: unused,
    stream: () => {
      throw new Error('not used');
    },
    embed: unused,
    listModels: unused,
  };
}

describe('Accounts: which account each attempt is sent with', () => {
  const first = provider('gigachat', 'GigaChat');
  const second = provider('gigachat', 'GigaChat');
  const own = provider('gigachat', 'GigaChat');
  const pools = () =>
    new Map([
      [
        'gigachat',
        new AccountPool(
          [
            { name: 'a', weight: 1, provider: first },
            { name: 'b', weight: 1, provider: second },
          ],
          { cooldownMs: 60_000, random: () => 0 },
        ),
      ],
    ]);
  const ownProviders = () => new OwnProviders((_name, credentials) => (credentials.gigachat ? own : undefined));
  const target = { provider: first, model: 'GigaChat-2-Max' };
  let resting: string[];
  /** What the exchange would release once its response is over. */
  let holds: (() => void)[];
  const context = (client?: Client): AttemptContext => ({
    client,
    signal: new AbortController().signal,
    hold: (release) => holds.push(release),
    hooks: {
      resting: (sent, error, restMs, next) => resting.push(`${sent.credential} ${error.status} ${restMs} ${next}`),
    },
  });
  const tenant: Client = {
    name: 'tenant',
    own: { gigachat: { credentials: 'dGVuYW50OnNlY3JldA==', scope: 'GIGACHAT_API_B2B' } },
  };

  beforeEach(() => {
    resting = [];
    holds = [];
  });

  it("sends with the operator's pool, naming the credential that answered", async () => {
    const accounts = new Accounts(pools());
    const answered = await accounts.attempt(target, context(), async (sent) => sent.provider);
    expect(answered.value).to.equal(first);
    expect(answered.target).to.deep.equal({ provider: first, model: 'GigaChat-2-Max', credential: 'operator:a' });
  });

  it('moves to the next credential at once when one answers 429 or 402, and rests the first', async () => {
    for (const refusal of [
      new RateLimitError('busy', { headers: { 'retry-after': '3' } }),
      new InsufficientQuotaError('empty'),
    ]) {
      const accounts = new Accounts(pools());
      resting = [];
      const sent: string[] = [];
      const answered = await accounts.attempt(target, context(), async (attempt: AccountTarget) => {
        sent.push(attempt.credential);
        if (attempt.provider === first) throw refusal;
        return 'served';
      });
      expect(answered.value).to.equal('served');
      expect(answered.target.credential).to.equal('operator:b');
      expect(sent).to.deep.equal(['operator:a', 'operator:b']);
      expect(resting).to.deep.equal([
        `operator:a ${refusal.status} ${refusal.status === 429 ? 3000 : 60_000} operator:b`,
      ]);
      // The next attempt does not try the resting one first.
      expect((await accounts.attempt(target, context(), async (attempt) => attempt.credential)).value).to.equal(
        'operator:b',
      );
    }
  });

  it('gives the failure back when every credential refused, and does not switch on other failures', async () => {
    const accounts = new Accounts(pools());
    const busy = new RateLimitError('busy');
    let error: unknown = await accounts
      .attempt(target, context(), async () => {
        throw busy;
      })
      .catch((failure: unknown) => failure);
    expect(error).to.equal(busy);
    expect(resting.map((line) => line.split(' ').at(-1))).to.deep.equal(['operator:b', 'undefined']);
    const broken = new UpstreamError('HTTP 500');
    const calls: string[] = [];
    error = await new Accounts(pools())
      .attempt(target, context(), async (attempt) => {
        calls.push(attempt.credential);
        throw broken;
      })
      .catch((failure: unknown) => failure);
    expect(error).to.equal(broken);
    expect(calls).to.deep.equal(['operator:a']);
  });

  it("sends a key's own credential alone: never the operator's, not even after a 429", async () => {
    const accounts = new Accounts(pools(), ownProviders());
    const sent: AccountTarget[] = [];
    const busy = new RateLimitError('busy');
    const error = await accounts
      .attempt(target, context(tenant), async (attempt) => {
        sent.push(attempt);
        throw busy;
      })
      .catch((failure: unknown) => failure);
    expect(error).to.equal(busy);
    expect(sent.map((attempt) => [attempt.provider, attempt.credential])).to.deep.equal([[own, 'own']]);
    expect(resting).to.deep.equal([]);
    const answered = await accounts.attempt(target, context(tenant), async () => 'ok');
    expect(answered.target.credential).to.equal('own');
    // Each attempt holds the own provider until its exchange ends (a stream outlives the attempt).
    expect(holds).to.have.length(2);
  });

  it("says a refused own credential is the key's own, without the operator's hints, and no alias falls back from it", async () => {
    const accounts = new Accounts(pools(), ownProviders());
    const refused = new UpstreamError(
      "GigaChat refused the gateway's access token even after a refresh (Unauthorized); check GIGACHAT_CREDENTIALS and GIGACHAT_SCOPE.",
      { code: 'upstream_auth_error', headers: { 'x-should-retry': 'false' } },
    );
    const error = (await accounts
      .attempt(target, context(tenant), async () => {
        throw refused;
      })
      .catch((failure: unknown) => failure)) as OwnCredentialRefusedError;
    expect(error).to.be.instanceOf(OwnCredentialRefusedError);
    expect(error.status).to.equal(502);
    expect(error.code).to.equal('upstream_auth_error');
    expect(error.headers['x-should-retry']).to.equal('false');
    expect(error.message).to.include("this key's own GigaChat credential").and.not.include('GIGACHAT_CREDENTIALS');
    expect(error.message).not.to.include('dGVuYW50OnNlY3JldA==');
    expect(canFallBack(error)).to.equal(false);
    expect(canFallBack(refused)).to.equal(true);
    // Other failures of an own credential go back as they are.
    const invalid = new BadRequestError('bad');
    expect(
      await accounts
        .attempt(target, context(tenant), async () => {
          throw invalid;
        })
        .catch((failure: unknown) => failure),
    ).to.equal(invalid);
  });

  it("refuses, rather than spending the operator's, when a key's own credential cannot be used", async () => {
    const accounts = new Accounts(pools()); // no factory for own credentials
    const error = (await accounts
      .attempt(target, context(tenant), async () => 'ok')
      .catch((failure: unknown) => failure)) as {
      status: number;
      code: string;
    };
    expect(error.status).to.equal(503);
    expect(error.code).to.equal('provider_not_configured');
  });

  it("serves a provider the operator has no credential for with the key's own, for routing", () => {
    const accounts = new Accounts(new Map(), ownProviders());
    expect(accounts.ownProvider('gigachat', tenant)).to.equal(own);
    expect(accounts.ownProvider('gigachat', { name: 'plain' })).to.equal(undefined);
    expect(accounts.ownProvider('gigachat', undefined)).to.equal(undefined);
  });
});
