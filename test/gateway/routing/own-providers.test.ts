import { expect } from 'chai';
import type { OwnCredentials } from '../../../gateway/config.ts';
import type { Provider } from '../../../gateway/providers/provider.ts';
import { OwnProviders } from '../../../gateway/routing/own-providers.ts';

interface Built extends Provider {
  closed: number;
  own: OwnCredentials;
}

describe("OwnProviders: providers on keys' own credentials", () => {
  let built: Built[];
  const factory = (name: string, own: OwnCredentials): Provider | undefined => {
    const provider: Built = {
      name,
      displayName: name,
      own,
      closed: 0,
      complete: () => Promise.reject(new Error('not used')),
      stream: () => {
        throw new Error('not used');
      },
      embed: () => Promise.reject(new Error('not used')),
      listModels: () => Promise.resolve([]),
      async close() {
        this.closed += 1;
      },
    };
    built.push(provider);
    return provider;
  };
  const gemini = (apiKey: string): OwnCredentials => ({ gemini: { apiKey } });
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  beforeEach(() => {
    built = [];
  });

  it('builds one on first use and shares it between keys that bring the same credential', () => {
    const own = new OwnProviders(factory);
    const first = own.acquire('gemini', gemini('key-one'));
    const again = own.acquire('gemini', gemini('key-one'));
    expect(first?.provider).to.equal(again?.provider);
    expect(own.acquire('gemini', gemini('key-two'))?.provider).not.to.equal(first?.provider);
    expect(built).to.have.length(2);
  });

  it('builds nothing for a provider the key brings no credential for', () => {
    const own = new OwnProviders(factory);
    expect(own.acquire('gigachat', gemini('key-one'))).to.equal(undefined);
    expect(built).to.have.length(0);
  });

  it('keeps at most its bound, closing the least recently used once no request holds it', async () => {
    const own = new OwnProviders(factory, 2);
    const held = own.acquire('gemini', gemini('a'));
    own.acquire('gemini', gemini('b'))?.release();
    own.acquire('gemini', gemini('a'))?.release(); // a is now the most recent
    own.acquire('gemini', gemini('c'))?.release(); // b goes
    await settle();
    expect(own.size).to.equal(2);
    expect(built.map((provider) => provider.closed)).to.deep.equal([0, 1, 0]);
    own.acquire('gemini', gemini('d'))?.release(); // a goes, but a request still holds it
    await settle();
    expect(built[0]?.closed).to.equal(0);
    held?.release();
    held?.release(); // a second release changes nothing
    await settle();
    expect(built[0]?.closed).to.equal(1);
  });

  it('closes every provider it keeps at shutdown', async () => {
    const own = new OwnProviders(factory);
    own.acquire('gemini', gemini('a'));
    own.acquire('gigachat', { gigachat: { credentials: 'dGVzdDp0ZXN0', scope: 'GIGACHAT_API_PERS' } });
    await own.close();
    expect(built.map((provider) => provider.closed)).to.deep.equal([1, 1]);
    expect(own.size).to.equal(0);
  });
});
