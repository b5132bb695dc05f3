import { expect } from 'chai';
import { loadConfig } from '../../../gateway/config.ts';
import { createLogger } from '../../../gateway/lib/logger.ts';
import { createMetrics } from '../../../gateway/lib/metrics.ts';
import { BadRequestError, NotFoundError, ServiceUnavailableError } from '../../../gateway/openai/errors.ts';
import type { Provider } from '../../../gateway/providers/provider.ts';
import { PROVIDERS, type ProviderDeps, ProviderRegistry } from '../../../gateway/providers/registry.ts';

function fakeProvider(name: string, models: string[] | Error): Provider {
  return {
    name,
    displayName: name,
    complete: () => Promise.reject(new Error('not used')),
    stream: () => {
      throw new Error('not used');
    },
    embed: () => Promise.reject(new Error('not used')),
    listModels: async () => {
      if (models instanceof Error) throw models;
      return models.map((id) => ({ id, object: 'model' as const, created: 0, owned_by: name }));
    },
  };
}

describe('ProviderRegistry', () => {
  const gigachat = fakeProvider('gigachat', ['GigaChat-2-Max', 'Embeddings']);
  const registry = new ProviderRegistry([gigachat], []);

  it('routes Gemini, Gemma and Gemini embedding models by name', () => {
    const gemini = fakeProvider('gemini', []);
    const both = new ProviderRegistry([gigachat, gemini], []);
    for (const model of ['gemini-2.5-flash', 'Gemini-3-Pro-Preview', 'gemma-3-27b-it', 'text-embedding-004']) {
      expect(both.resolve(model).provider, model).to.equal(gemini);
    }
    expect(both.resolve('gemini/gemini-2.5-pro')).to.deep.equal({ provider: gemini, model: 'gemini-2.5-pro' });
    expect(() => both.resolve('geminiX')).to.throw(NotFoundError);
  });

  it('routes GigaChat chat and embedding models by name', () => {
    for (const model of [
      'GigaChat',
      'GigaChat-2-Max',
      'gigachat-2-pro',
      'Embeddings',
      'EmbeddingsGigaR',
      'GigaEmbeddings-3B-2025-09',
    ]) {
      const resolved = registry.resolve(model);
      expect(resolved.provider, model).to.equal(gigachat);
      expect(resolved.model).to.equal(model);
    }
  });

  it('always honours the explicit provider/model form', () => {
    expect(registry.resolve('gigachat/GigaChat-2-Max')).to.deep.equal({ provider: gigachat, model: 'GigaChat-2-Max' });
    expect(registry.resolve('GigaChat/some-new-model').model).to.equal('some-new-model');
  });

  it('takes real model ids and the qualified forms the Gemini SDK accepts, and calls the id', () => {
    const gemini = fakeProvider('gemini', []);
    const both = new ProviderRegistry([gigachat, gemini], []);
    const cases: Array<[string, Provider, string]> = [
      ['GigaChat-2-Max', gigachat, 'GigaChat-2-Max'],
      ['EmbeddingsGigaR', gigachat, 'EmbeddingsGigaR'],
      ['GigaEmbeddings-3B-2025-09', gigachat, 'GigaEmbeddings-3B-2025-09'],
      ['gemini-2.5-flash-preview-09-2025', gemini, 'gemini-2.5-flash-preview-09-2025'],
      ['gemma-3-27b-it', gemini, 'gemma-3-27b-it'],
      ['text-embedding-004', gemini, 'text-embedding-004'],
      ['models/gemini-2.5-flash', gemini, 'gemini-2.5-flash'],
      ['gemini/models/gemini-2.5-pro', gemini, 'gemini-2.5-pro'],
      ['tunedModels/my-tuned-model-x7', gemini, 'tunedModels/my-tuned-model-x7'],
      ['Gemini/tunedModels/abc_1', gemini, 'tunedModels/abc_1'],
    ];
    for (const [name, provider, model] of cases) {
      expect(both.resolve(name), name).to.deep.equal({ provider, model });
    }
  });

  it('400 invalid_model_name naming model for a name outside the grammar, before any provider is chosen', () => {
    for (const model of [
      'gemini/gemini-2.5-flash/../../../v1beta/models/gemini-2.5-pro',
      'gemini/../../x',
      'gigachat/',
      '/GigaChat',
      'gemini-2.5-flash%2F..%2Fgemini-2.5-pro',
      'gemini-2.5-flash?key=x',
      'gemini-2.5-flash#x',
      'gemini-2.5-flash:countTokens',
      'GigaChat\r\nX-Injected: 1',
      'GigaChat\u0000',
      'GigaChat\ud800',
      'GigaChat Max',
      'models/models/gemini-2.5-flash',
      `GigaChat-${'x'.repeat(128)}`,
      '',
    ]) {
      expect(() => registry.resolve(model), JSON.stringify(model))
        .to.throw(BadRequestError)
        .that.includes({ param: 'model', code: 'invalid_model_name' });
    }
  });

  it('404 model_not_found for names no provider serves', () => {
    for (const model of ['gpt-4o', 'openai/gpt-4o', 'llama', 'tunedModels/my-model']) {
      expect(() => registry.resolve(model), model)
        .to.throw(NotFoundError)
        .with.property('code', 'model_not_found');
    }
  });

  it('503 naming the reason for a provider that is not configured', () => {
    const disabled = new ProviderRegistry(
      [],
      [{ name: 'gigachat', displayName: 'GigaChat', reason: 'GIGACHAT_CREDENTIALS is not set' }],
    );
    expect(() => disabled.resolve('GigaChat-2'))
      .to.throw(ServiceUnavailableError, 'GIGACHAT_CREDENTIALS is not set')
      .with.property('code', 'provider_not_configured');
  });

  it("serves a provider that is not configured with a key's own one, and only such a provider", () => {
    const own = fakeProvider('gigachat', []);
    const disabled = new ProviderRegistry(
      [],
      [{ name: 'gigachat', displayName: 'GigaChat', reason: 'GIGACHAT_CREDENTIALS is not set' }],
    );
    expect(disabled.resolve('GigaChat-2', () => own)).to.deep.equal({ provider: own, model: 'GigaChat-2' });
    expect(() => disabled.resolve('GigaChat-2', () => undefined)).to.throw(ServiceUnavailableError);
    // A configured provider is the registry's own; an unknown one stays unknown.
    expect(registry.resolve('GigaChat-2', () => own).provider).to.equal(gigachat);
    expect(() => disabled.resolve('unknown/model-1', () => own)).to.throw(NotFoundError);
  });

  it('merges the model lists of every enabled provider', async () => {
    const both = new ProviderRegistry([gigachat, fakeProvider('other', ['x-1'])], []);
    expect((await both.listModels()).map((model) => model.id)).to.deep.equal(['GigaChat-2-Max', 'Embeddings', 'x-1']);
  });

  it('lists the models it can when one provider fails, and reports the failure', async () => {
    const failure = new Error('upstream down');
    const broken = fakeProvider('broken', failure);
    const failures: unknown[] = [];
    const mixed = new ProviderRegistry([broken, gigachat], []);
    const ids = (await mixed.listModels((_provider, error) => failures.push(error))).map((model) => model.id);
    expect(ids).to.deep.equal(['GigaChat-2-Max', 'Embeddings']);
    expect(failures).to.deep.equal([failure]);
    const onlyBroken = new ProviderRegistry([broken], []);
    await onlyBroken.listModels().then(
      () => expect.fail('should have thrown'),
      (error: unknown) => expect(error).to.equal(failure),
    );
  });
});

describe('PROVIDERS', () => {
  const deps = (env: Record<string, string>): ProviderDeps => ({
    config: loadConfig(env),
    box: undefined as never,
    store: undefined as never,
    logger: createLogger('silent'),
    metrics: createMetrics(),
  });

  it('knows GigaChat and Gemini, in that order, each with why it is off', () => {
    expect(PROVIDERS.map((entry) => [entry.name, entry.displayName, entry.disabledReason])).to.deep.equal([
      ['gigachat', 'GigaChat', 'GIGACHAT_CREDENTIALS is not set'],
      ['gemini', 'Gemini', 'GEMINI_API_KEY is not set'],
    ]);
  });

  it('lists no operator credential without the settings that enable a provider', () => {
    for (const entry of PROVIDERS) expect(entry.credentials(loadConfig({})), entry.name).to.deep.equal([]);
  });

  it('creates Gemini from GEMINI_API_KEY, and says which proxy it goes through without its password', async () => {
    const env = { GEMINI_API_KEY: 'test-key', HTTPS_PROXY: 'http://user:secret@proxy.internal:3128' };
    const entry = PROVIDERS.find((candidate) => candidate.name === 'gemini');
    const [credential] = entry?.credentials(loadConfig(env)) ?? [];
    expect(credential?.name).to.equal('default');
    const provider = credential === undefined ? undefined : entry?.create(deps(env), credential.settings);
    try {
      expect(provider?.name).to.equal('gemini');
      expect(entry?.notice?.(loadConfig(env))).to.equal(
        'Gemini: calls go through the proxy http://proxy.internal:3128/',
      );
      expect(entry?.notice?.(loadConfig({ GEMINI_API_KEY: 'test-key' }))).to.equal(undefined);
    } finally {
      await provider?.close?.();
    }
  });
});
