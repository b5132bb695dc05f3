import { expect } from 'chai';
import { InsufficientQuotaError, RateLimitError, UpstreamError } from '../../../gateway/openai/errors.ts';
import type { Provider } from '../../../gateway/providers/provider.ts';
import { type Account, AccountPool, type PoolMember } from '../../../gateway/routing/account-pool.ts';

function provider(name: string): Provider {
  const unused = () => Promise.reject(new Error('not used'));
  return {
    name,
    displayName: name,
    complete: unused,
    stream: () => {
      throw new Error('not used');
    },
    embed: unused,
    listModels: unused,
  };
}

const member = (name: string, weight = 1): PoolMember => ({ name, weight, provider: provider(name) });

describe('AccountPool: the operator credentials of one provider', () => {
  let now: number;
  let random: number;
  const pool = (members: PoolMember[], cooldownMs = 60_000) =>
    new AccountPool(members, { cooldownMs, now: () => now, random: () => random });
  const names = (accounts: (Account | undefined)[]) => accounts.map((account) => account?.credential);

  beforeEach(() => {
    now = 1_000_000;
    random = 0;
  });

  it('labels each account operator:<name> and keeps the configured order', () => {
    const accounts = pool([member('project-a'), member('project-b')]);
    expect(accounts.members.map(({ name, account }) => [name, account.credential])).to.deep.equal([
      ['project-a', 'operator:project-a'],
      ['project-b', 'operator:project-b'],
    ]);
    expect(accounts.primary.credential).to.equal('operator:project-a');
  });

  it('chooses by weight: a weight-2 credential gets two thirds of the draws', () => {
    const accounts = pool([member('a', 2), member('b', 1)]);
    const draws = [0, 0.3, 0.66, 0.67, 0.99].map((value) => {
      random = value;
      return accounts.pick();
    });
    expect(names(draws)).to.deep.equal(['operator:a', 'operator:a', 'operator:a', 'operator:b', 'operator:b']);
  });

  it('rests a credential that answered 429 for its Retry-After, then takes it back', () => {
    const accounts = pool([member('a'), member('b')]);
    const a = accounts.pick() as Account;
    const rest = accounts.rest(a, new RateLimitError('slow down', { headers: { 'retry-after': '7' } }));
    expect(rest).to.equal(7000);
    expect(names([accounts.pick(), accounts.pick()])).to.deep.equal(['operator:b', 'operator:b']);
    now += 6999;
    expect(accounts.pick()?.credential).to.equal('operator:b');
    now += 1;
    expect(accounts.pick()?.credential).to.equal('operator:a');
  });

  it('rests a credential that answered 402 (or 429 without Retry-After) for the configured cooldown', () => {
    const accounts = pool([member('a'), member('b')], 30_000);
    const [a, b] = accounts.members.map((entry) => entry.account) as [Account, Account];
    expect(accounts.rest(a, new InsufficientQuotaError('no tokens left'))).to.equal(30_000);
    expect(accounts.rest(b, new RateLimitError('slow down'))).to.equal(30_000);
    now += 29_999;
    expect(accounts.pick(new Set([a, b]))).to.equal(undefined);
    now += 1;
    expect(accounts.pick()?.credential).to.equal('operator:a');
  });

  it('does not rest a credential for other failures', () => {
    const accounts = pool([member('a'), member('b')]);
    const a = accounts.primary;
    expect(accounts.rest(a, new UpstreamError('GigaChat answered HTTP 500'))).to.equal(undefined);
    expect(accounts.pick()?.credential).to.equal('operator:a');
  });

  it('leaves out credentials this attempt already tried; none left is undefined', () => {
    const accounts = pool([member('a'), member('b')]);
    const [a, b] = accounts.members.map((entry) => entry.account) as [Account, Account];
    expect(accounts.pick(new Set([a]))).to.equal(b);
    expect(accounts.pick(new Set([a, b]))).to.equal(undefined);
  });

  it('when every credential rests, a first attempt goes to the one whose rest ends first', () => {
    const accounts = pool([member('a'), member('b'), member('c')]);
    const [a, b, c] = accounts.members.map((entry) => entry.account) as [Account, Account, Account];
    accounts.rest(a, new RateLimitError('x', { headers: { 'retry-after': '30' } }));
    accounts.rest(b, new RateLimitError('x', { headers: { 'retry-after': '5' } }));
    accounts.rest(c, new RateLimitError('x', { headers: { 'retry-after': '20' } }));
    expect(accounts.pick()).to.equal(b);
    // Within an attempt that already had one refuse, the resting ones are not tried.
    expect(accounts.pick(new Set([b]))).to.equal(undefined);
  });

  it('a standby (weight 0) serves only while no weighted credential is healthy', () => {
    const accounts = pool([member('main', 1), member('spare', 0)]);
    random = 0.99;
    expect(accounts.pick()?.credential).to.equal('operator:main');
    accounts.rest(accounts.primary, new InsufficientQuotaError('no tokens left'));
    expect(accounts.pick()?.credential).to.equal('operator:spare');
  });

  it('a longer rest is not shortened by a later, shorter one', () => {
    const accounts = pool([member('a'), member('b')]);
    const a = accounts.primary;
    accounts.rest(a, new RateLimitError('x', { headers: { 'retry-after': '60' } }));
    accounts.rest(a, new RateLimitError('x', { headers: { 'retry-after': '1' } }));
    now += 2000;
    expect(accounts.pick()?.credential).to.equal('operator:b');
  });
});
