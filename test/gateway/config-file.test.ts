import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../gateway/config.ts';
import type { Provider } from '../../gateway/providers/provider.ts';
import { ProviderRegistry } from '../../gateway/providers/registry.ts';
import { ModelRouter } from '../../gateway/routing/model-router.ts';
import { tempDir } from '../helpers/gateway.ts';

function writeConfig(content: unknown): string {
  const path = join(tempDir(), 'gateway.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function fileError(content: unknown, env: Record<string, string> = {}): string {
  try {
    loadConfig({ GATEWAY_CONFIG: writeConfig(content), ...env });
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).variable).to.equal('GATEWAY_CONFIG');
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('config file (GATEWAY_CONFIG)', () => {
  it('reads aliases, keys and defaults; keys get the defaults they do not set', () => {
    const config = loadConfig({
      GATEWAY_API_KEYS: 'simple:simple-key-1',
      TEAM_KEY: 'team-key-from-env',
      GATEWAY_CONFIG: writeConfig({
        aliases: { smart: { model: 'GigaChat-2-Max', fallbacks: ['gemini-2.5-pro'], description: 'best' } },
        defaults: { requestsPerMinute: 100, tokensPerMinute: 5000 },
        keys: {
          '1c-accounting': { key: 'accounting-key', models: ['smart', 'GigaChat-*'], requestsPerMinute: 10 },
          team: { keyEnv: 'TEAM_KEY', monthlyTokenBudget: 2_000_000 },
        },
      }),
    });
    expect(config.aliases).to.deep.equal([
      { name: 'smart', model: 'GigaChat-2-Max', fallbacks: ['gemini-2.5-pro'], description: 'best' },
    ]);
    expect(config.clients).to.deep.equal([
      { name: 'simple', key: 'simple-key-1', requestsPerMinute: 100, tokensPerMinute: 5000 },
      {
        name: '1c-accounting',
        key: 'accounting-key',
        models: ['smart', 'GigaChat-*'],
        requestsPerMinute: 10,
        tokensPerMinute: 5000,
      },
      {
        name: 'team',
        key: 'team-key-from-env',
        requestsPerMinute: 100,
        tokensPerMinute: 5000,
        monthlyTokenBudget: 2_000_000,
      },
    ]);
    expect(config.apiKeys.map((key) => key.name)).to.deep.equal(['simple', '1c-accounting', 'team']);
    expect(config.defaultLimits).to.deep.equal({ requestsPerMinute: 100, tokensPerMinute: 5000 });
  });

  it('the shipped example (gateway.config.example.json) loads, and its aliases route', () => {
    const config = loadConfig({
      GATEWAY_CONFIG: new URL('../../gateway.config.example.json', import.meta.url).pathname,
      ONEC_ACCOUNTING_KEY: 'accounting-key-1',
      ONEC_WAREHOUSE_KEY: 'warehouse-key-1',
      B24_GATEWAY_API_KEY: 'bitrix24-key-1',
    });
    expect(config.clients.map((client) => client.name)).to.deep.equal(['1c-accounting', '1c-warehouse', 'bitrix24']);
    const providers = ['gigachat', 'gemini'].map((name) => ({ name, displayName: name }) as Provider);
    const router = new ModelRouter(new ProviderRegistry(providers, []), config.aliases);
    expect(router.route('smart').targets.map((target) => `${target.provider.name}/${target.model}`)).to.deep.equal([
      'gigachat/GigaChat-2-Max',
      'gemini/gemini-2.5-pro',
    ]);
  });

  it('keys from the file alone allow a non-loopback HOST', () => {
    const path = writeConfig({ keys: { a: { key: 'abcdefgh-1' } } });
    expect(loadConfig({ HOST: '0.0.0.0', GATEWAY_CONFIG: path }).host).to.equal('0.0.0.0');
  });

  it('accepts a UTF-8 BOM (Windows editors write one)', () => {
    expect(
      loadConfig({ GATEWAY_CONFIG: writeConfig('\uFEFF{"aliases":{"a":{"model":"GigaChat"}}}') }).aliases,
    ).to.have.length(1);
  });

  it('stops start-up with one line naming the problem, never the key', () => {
    expect(fileError('{ not json')).to.match(/^GATEWAY_CONFIG: ".*gateway\.json" is not valid JSON/);
    expect(fileError({ aliasez: {} })).to.include('unknown field "aliasez" at the top level');
    expect(fileError({ aliases: { smart: { fallbacks: [] } } })).to.include(
      "aliases.smart must have required property 'model'",
    );
    expect(fileError({ aliases: { smart: { model: 'smart' } } })).to.include('alias "smart" names itself');
    expect(fileError({ aliases: { s: { model: 'a', fallbacks: ['a'] } } })).to.include('lists a model twice');
    expect(fileError({ keys: { a: { key: 'abcdefgh', keyEnv: 'X' } } })).to.include(
      'exactly one of "key" and "keyEnv"',
    );
    expect(fileError({ keys: { a: { keyEnv: 'MISSING_KEY' } } })).to.include('reads MISSING_KEY, which is not set');
    expect(fileError({ keys: { a: { key: 'short' } } })).to.include('keys.a.key must be at least 8 characters');
    expect(fileError({ keys: { a: { key: 'abcdefgh-1', requestsPerMinute: 0 } } })).to.include(
      'keys.a.requestsPerMinute must be >= 1',
    );
    expect(fileError({ keys: { a: { key: 'abcdefgh-1', monthlyTokenBudget: 1.5 } } })).to.include(
      'keys.a.monthlyTokenBudget must be integer',
    );
    expect(fileError({ keys: { 'bad name': { key: 'abcdefgh-1' } } })).to.include('bad name "bad name" at keys');
    const reused = fileError({ keys: { a: { key: 'secret-value-1' }, b: { key: 'secret-value-1' } } });
    expect(reused).to.include('the key of "b" is the same as another client\'s').and.not.include('secret-value-1');
    expect(fileError({ keys: { simple: { key: 'abcdefgh-1' } } }, { GATEWAY_API_KEYS: 'simple:k1' })).to.include(
      'the key name "simple" is also in GATEWAY_API_KEYS',
    );
    expect(() => loadConfig({ GATEWAY_CONFIG: '/nonexistent/gateway.json' })).to.throw(
      ConfigError,
      'GATEWAY_CONFIG: cannot read "/nonexistent/gateway.json": ENOENT',
    );
  });

  it('GATEWAY_ADMIN_KEY must be long and differ from every client key', () => {
    expect(loadConfig({ GATEWAY_ADMIN_KEY: 'admin-key-0123456789' }).adminKey).to.equal('admin-key-0123456789');
    expect(() => loadConfig({ GATEWAY_ADMIN_KEY: 'short' })).to.throw(
      ConfigError,
      /^GATEWAY_ADMIN_KEY: use at least 16/,
    );
    expect(() =>
      loadConfig({ GATEWAY_ADMIN_KEY: 'same-as-client-key-1', GATEWAY_API_KEYS: 'c:same-as-client-key-1' }),
    ).to.throw(ConfigError, 'GATEWAY_ADMIN_KEY: must differ from every client key');
  });

  it('retry settings have defaults and bounds', () => {
    expect(loadConfig({}).retry).to.deep.equal({ retries: 2, baseDelayMs: 500, maxWaitMs: 10_000, budgetMs: 30_000 });
    expect(loadConfig({ UPSTREAM_RETRIES: '0' }).retry.retries).to.equal(0);
    expect(() => loadConfig({ UPSTREAM_RETRIES: '11' })).to.throw(ConfigError, /^UPSTREAM_RETRIES:/);
  });
});

describe('config file: upstream credentials (GATEWAY_CONFIG credentials, keys with their own)', () => {
  // Obviously fake authorization keys: Base64 of client_id:client_secret.
  const PROJECT_A = Buffer.from('project-a-id:project-a-secret-value').toString('base64');
  const PROJECT_B = Buffer.from('project-b-id:project-b-secret-value').toString('base64');
  const TENANT = Buffer.from('tenant-id:tenant-secret-value').toString('base64');

  it('reads named, weighted operator credentials beside the environment’s `default`, and the cooldown', () => {
    const config = loadConfig({
      GIGACHAT_CREDENTIALS: PROJECT_A,
      GIGACHAT_SCOPE: 'GIGACHAT_API_B2B',
      GIGACHAT_B: PROJECT_B,
      GEMINI_SPARE: 'gemini-spare-key-not-real',
      GIGACHAT_BASE_URL: 'http://127.0.0.1:9/api/v1',
      GATEWAY_CONFIG: writeConfig({
        credentials: {
          gigachat: { 'project-b': { credentialsEnv: 'GIGACHAT_B', scope: 'GIGACHAT_API_CORP', weight: 3 } },
          gemini: { main: { apiKey: 'gemini-main-key-not-real' }, spare: { apiKeyEnv: 'GEMINI_SPARE', weight: 0 } },
          cooldownSeconds: 15,
        },
      }),
    });
    expect(
      config.gigachat.credentials.map(({ name, weight, settings }) => [
        name,
        weight,
        settings.credentials,
        settings.scope,
        settings.baseUrl.href,
      ]),
    ).to.deep.equal([
      ['default', 1, PROJECT_A, 'GIGACHAT_API_B2B', 'http://127.0.0.1:9/api/v1'],
      ['project-b', 3, PROJECT_B, 'GIGACHAT_API_CORP', 'http://127.0.0.1:9/api/v1'],
    ]);
    expect(
      config.gemini.credentials.map(({ name, weight, settings }) => [name, weight, settings.apiKey]),
    ).to.deep.equal([
      ['main', 1, 'gemini-main-key-not-real'],
      ['spare', 0, 'gemini-spare-key-not-real'],
    ]);
    expect(config.credentialCooldownMs).to.equal(15_000);
    expect(loadConfig({}).credentialCooldownMs).to.equal(60_000);
  });

  it('gives a key its own GigaChat and Gemini credentials (scope GIGACHAT_SCOPE unless given)', () => {
    const config = loadConfig({
      TENANT_GEMINI: 'tenant-gemini-key-not-real',
      GATEWAY_CONFIG: writeConfig({
        keys: {
          tenant: {
            key: 'tenant-client-key-1',
            gigachat: { credentials: TENANT },
            gemini: { apiKeyEnv: 'TENANT_GEMINI' },
          },
          b2b: { key: 'b2b-client-key-1', gigachat: { credentials: TENANT, scope: 'GIGACHAT_API_B2B' } },
          plain: { key: 'plain-client-key-1' },
        },
      }),
    });
    expect(config.clients.map((client) => client.own)).to.deep.equal([
      {
        gigachat: { credentials: TENANT, scope: 'GIGACHAT_API_PERS' },
        gemini: { apiKey: 'tenant-gemini-key-not-real' },
      },
      { gigachat: { credentials: TENANT, scope: 'GIGACHAT_API_B2B' } },
      undefined,
    ]);
    // No operator credential: the providers serve only keys with their own.
    expect(config.gigachat.credentials).to.deep.equal([]);
  });

  it('stops start-up with one line naming GATEWAY_CONFIG and the field, never the secret', () => {
    const secret = Buffer.from('leaky-id:leaky-secret-value').toString('base64');
    const cases: [unknown, Record<string, string>, string][] = [
      [
        { credentials: { gigachat: { a: {} } } },
        {},
        'credentials.gigachat.a needs exactly one of "credentials" and "credentialsEnv"',
      ],
      [
        { credentials: { gigachat: { a: { credentials: secret, credentialsEnv: 'X' } } } },
        {},
        'credentials.gigachat.a needs exactly one of "credentials" and "credentialsEnv"',
      ],
      [
        { credentials: { gemini: { a: { apiKeyEnv: 'MISSING_GEMINI' } } } },
        {},
        'credentials.gemini.a reads MISSING_GEMINI, which is not set',
      ],
      [
        { credentials: { gemini: { a: {} } } },
        {},
        'credentials.gemini.a needs exactly one of "apiKey" and "apiKeyEnv"',
      ],
      [
        { credentials: { gigachat: { a: { credentials: 'leaky-not-base64-secret' } } } },
        {},
        'credentials.gigachat.a is not a GigaChat authorization key',
      ],
      [
        { credentials: { gigachat: { a: { credentialsEnv: 'BAD_GIGA' } } } },
        { BAD_GIGA: 'leaky-not-base64-secret' },
        'credentials.gigachat.a (from BAD_GIGA) is not a GigaChat authorization key',
      ],
      [{ credentials: { gemini: { a: { apiKey: 'leaky secret' } } } }, {}, 'credentials.gemini.a contains whitespace'],
      [
        { credentials: { gigachat: { a: { credentials: secret, scope: 'GIGACHAT_API_LEAKY' } } } },
        {},
        'credentials.gigachat.a.scope must be one of GIGACHAT_API_PERS, GIGACHAT_API_B2B, GIGACHAT_API_CORP',
      ],
      [{ credentials: { gemini: { a: { apiKey: 'k', weight: -1 } } } }, {}, 'credentials.gemini.a.weight must be >= 0'],
      [{ credentials: { cooldownSeconds: 0 } }, {}, 'credentials.cooldownSeconds must be >= 1'],
      [{ credentials: { openai: {} } }, {}, 'unknown field "openai" at credentials'],
      [{ credentials: { gemini: { 'bad name': { apiKey: 'k' } } } }, {}, 'bad name "bad name" at credentials.gemini'],
      [
        { keys: { t: { key: 'tenant-key-1', gemini: {} } } },
        {},
        'keys.t.gemini needs exactly one of "apiKey" and "apiKeyEnv"',
      ],
      [
        { keys: { t: { key: 'tenant-key-1', gigachat: { credentials: 'leaky-not-base64-secret' } } } },
        {},
        'keys.t.gigachat is not a GigaChat authorization key',
      ],
      [
        { keys: { t: { key: 'tenant-key-1', gemini: { apiKey: 'k', weight: 1 } } } },
        {},
        'unknown field "weight" at keys.t.gemini',
      ],
      [
        { credentials: { gemini: { default: { apiKey: 'k' } } } },
        { GEMINI_API_KEY: 'env-gemini-key' },
        'credentials.gemini.default: the name "default" is taken by GEMINI_API_KEY; choose another',
      ],
    ];
    for (const [content, env, expected] of cases) {
      const message = fileError(content, env);
      expect(message, expected).to.include(expected);
      expect(message).not.to.match(/leaky|secret-value|env-gemini-key/);
      expect(message).not.to.include(secret);
      expect(message.split('\n')).to.have.length(1);
    }
  });

  it('names a key called "gigachat" by its key pair, not a credential pair', () => {
    expect(fileError({ keys: { gigachat: {} } })).to.include('keys.gigachat needs exactly one of "key" and "keyEnv"');
  });
});
