import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError, isLoopback, loadConfig } from '../../gateway/config.ts';
import { tempDir } from '../helpers/gateway.ts';
import { TEST_CREDENTIALS } from '../helpers/gigachat-mock.ts';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env, '/srv/gateway');
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({}, '/srv/gateway');
    expect(config.port).to.equal(8080);
    expect(config.host).to.equal('127.0.0.1');
    expect(config.apiKeys).to.deep.equal([]);
    expect(config.store).to.deep.equal({ kind: 'sqlite', path: '/srv/gateway/data/gateway.sqlite' });
    expect(config.maxBodyBytes).to.equal(20 * 1024 * 1024);
    expect(config.gigachat.credentials).to.deep.equal([]);
    expect(config.gemini.credentials).to.deep.equal([]);
  });

  it('fills Gemini defaults when GEMINI_API_KEY is set: the public API, direct', () => {
    const gemini = loadConfig({ GEMINI_API_KEY: ' AIza-test-key ' }).gemini.credentials[0]?.settings;
    expect(gemini?.apiKey).to.equal('AIza-test-key');
    expect(gemini?.baseUrl.href).to.equal('https://generativelanguage.googleapis.com/');
    expect(gemini?.proxy).to.deep.equal({ httpsProxy: undefined, httpProxy: undefined, noProxy: undefined });
  });

  it('takes GEMINI_BASE_URL without a version (the gateway adds v1beta)', () => {
    for (const base of ['http://127.0.0.1:9000', 'https://gemini-mirror.example.com/google/']) {
      expect(
        loadConfig({ GEMINI_API_KEY: 'k', GEMINI_BASE_URL: base }).gemini.credentials[0]?.settings.baseUrl.href,
      ).to.equal(new URL(base).href);
    }
  });

  it('reads the proxy variables for Gemini, upper case before lower case', () => {
    const proxy = loadConfig({
      GEMINI_API_KEY: 'k',
      HTTPS_PROXY: 'http://upper.proxy:3128',
      https_proxy: 'http://lower.proxy:3128',
      http_proxy: 'http://plain.proxy:8080',
      no_proxy: 'localhost,.internal',
    }).gemini.credentials[0]?.settings.proxy;
    expect(proxy).to.deep.equal({
      httpsProxy: 'http://upper.proxy:3128/',
      httpProxy: 'http://plain.proxy:8080/',
      noProxy: 'localhost,.internal',
    });
  });

  it('takes a proxy without a scheme as http://, as curl does, and never echoes a bad proxy value', () => {
    expect(
      loadConfig({ GEMINI_API_KEY: 'k', HTTPS_PROXY: 'proxy.corp:3128' }).gemini.credentials[0]?.settings.proxy
        .httpsProxy,
    ).to.equal('http://proxy.corp:3128/');
    expect(() => loadConfig({ GEMINI_API_KEY: 'k', HTTPS_PROXY: 'socks5://user:s3cret@proxy:1080' }))
      .to.throw(ConfigError, 'HTTPS_PROXY')
      .with.property('message')
      .that.does.not.include('s3cret');
  });

  it('NO_PROXY wins over no_proxy; an empty upper-case variable falls back to the lower-case one', () => {
    const proxy = loadConfig({
      GEMINI_API_KEY: 'k',
      HTTPS_PROXY: ' ',
      https_proxy: 'https://user:pass@lower.proxy:8443',
      NO_PROXY: '*.ru',
      no_proxy: 'ignored',
    }).gemini.credentials[0]?.settings.proxy;
    expect(proxy).to.deep.equal({
      httpsProxy: 'https://user:pass@lower.proxy:8443/',
      httpProxy: undefined,
      noProxy: '*.ru',
    });
  });

  it('leaves Gemini off without GEMINI_API_KEY, even when its other variables are set', () => {
    const { gemini } = loadConfig({ GEMINI_BASE_URL: 'http://127.0.0.1:9000', HTTPS_PROXY: 'http://p:3128' });
    expect(gemini.credentials).to.deep.equal([]);
    expect(gemini.endpoint.baseUrl.href).to.equal('http://127.0.0.1:9000/');
  });

  it('rejects a Gemini key with whitespace inside, without echoing it', () => {
    const error = configError({ GEMINI_API_KEY: 'AIza secret-part' });
    expect(error.variable).to.equal('GEMINI_API_KEY');
    expect(error.message).not.to.contain('secret-part');
  });

  it('fills GigaChat defaults when credentials are set', () => {
    const gigachat = loadConfig({ GIGACHAT_CREDENTIALS: TEST_CREDENTIALS }).gigachat.credentials[0]?.settings;
    expect(gigachat?.scope).to.equal('GIGACHAT_API_PERS');
    expect(gigachat?.authUrl.href).to.equal('https://ngw.devices.sberbank.ru:9443/api/v2/oauth');
    expect(gigachat?.baseUrl.href).to.equal('https://gigachat.devices.sberbank.ru/api/v1');
    expect(gigachat?.ca).to.equal(undefined);
    expect(loadConfig({ GIGACHAT_CREDENTIALS: TEST_CREDENTIALS }).gigachat.credentials[0]).to.include({
      name: 'default',
      weight: 1,
    });
  });

  it('parses client keys as name:key or key', () => {
    const config = loadConfig({ GATEWAY_API_KEYS: 'buh:k1-secret, k2-secret ,' });
    expect(config.apiKeys).to.deep.equal([
      { name: 'buh', key: 'k1-secret' },
      { name: 'key-2', key: 'k2-secret' },
    ]);
  });

  it('resolves relative and absolute sqlite URLs', () => {
    expect(loadConfig({ STORE_URL: 'sqlite://state/x.sqlite' }, '/srv/g').store).to.deep.equal({
      kind: 'sqlite',
      path: '/srv/g/state/x.sqlite',
    });
    expect(loadConfig({ STORE_URL: 'sqlite:///var/lib/g.sqlite' }, '/srv/g').store).to.deep.equal({
      kind: 'sqlite',
      path: '/var/lib/g.sqlite',
    });
    expect(loadConfig({ STORE_URL: 'redis://:secret@cache:6379/2' }).store).to.deep.equal({
      kind: 'redis',
      url: 'redis://:secret@cache:6379/2',
    });
    expect(loadConfig({ STORE_URL: 'rediss://cache:6380' }).store.kind).to.equal('redis');
  });

  const bad: Array<[string, Record<string, string>]> = [
    ['PORT', { PORT: '80a' }],
    ['PORT', { PORT: '70000' }],
    ['MAX_BODY_BYTES', { MAX_BODY_BYTES: '-1' }],
    ['UPSTREAM_TIMEOUT_MS', { UPSTREAM_TIMEOUT_MS: 'soon' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['STORE_URL', { STORE_URL: 'postgres://db/x' }],
    ['STORE_URL', { STORE_URL: 'sqlite://' }],
    ['STORE_URL', { STORE_URL: 'redis://bad host:6379' }],
    ['GIGACHAT_SCOPE', { GIGACHAT_SCOPE: 'GIGACHAT_API_FREE' }],
    ['GIGACHAT_AUTH_URL', { GIGACHAT_AUTH_URL: 'ngw.devices.sberbank.ru' }],
    ['GIGACHAT_BASE_URL', { GIGACHAT_BASE_URL: 'ftp://gigachat/api/v1' }],
    ['GIGACHAT_CA_FILE', { GIGACHAT_CA_FILE: '/no/such/file.pem' }],
    ['GATEWAY_API_KEYS', { GATEWAY_API_KEYS: 'name:' }],
    ['GATEWAY_API_KEYS', { GATEWAY_API_KEYS: 'a:k1,a:k2' }],
    ['GATEWAY_API_KEYS', { HOST: '0.0.0.0' }],
    ['GEMINI_BASE_URL', { GEMINI_API_KEY: 'k', GEMINI_BASE_URL: 'https://generativelanguage.googleapis.com/v1beta' }],
    ['GEMINI_BASE_URL', { GEMINI_API_KEY: 'k', GEMINI_BASE_URL: 'https://generativelanguage.googleapis.com/v1/' }],
    ['GEMINI_BASE_URL', { GEMINI_API_KEY: 'k', GEMINI_BASE_URL: 'http://127.0.0.1:9000/v1alpha' }],
    ['GEMINI_BASE_URL', { GEMINI_API_KEY: 'k', GEMINI_BASE_URL: 'https://mirror.example.com/gemini/v1beta1' }],
    ['GEMINI_BASE_URL', { GEMINI_API_KEY: 'k', GEMINI_BASE_URL: 'generativelanguage.googleapis.com' }],
    ['HTTPS_PROXY', { GEMINI_API_KEY: 'k', HTTPS_PROXY: 'socks5://proxy:1080' }],
    ['https_proxy', { GEMINI_API_KEY: 'k', https_proxy: 'not a url' }],
    ['HTTP_PROXY', { GEMINI_API_KEY: 'k', HTTP_PROXY: 'ftp://proxy' }],
    ['http_proxy', { GEMINI_API_KEY: 'k', http_proxy: '::' }],
  ];
  for (const [variable, env] of bad) {
    it(`stops on a bad ${variable} (${JSON.stringify(env)}) with one line naming it`, () => {
      const error = configError(env);
      expect(error.variable).to.equal(variable);
      expect(error.message.startsWith(`${variable}: `)).to.equal(true);
      expect(error.message).not.to.contain('\n');
    });
  }

  it('rejects credentials that are not an authorization key, without echoing them', () => {
    const error = configError({ GIGACHAT_CREDENTIALS: 'my-client-secret-value' });
    expect(error.variable).to.equal('GIGACHAT_CREDENTIALS');
    expect(error.message).not.to.contain('my-client-secret-value');
  });

  it('rejects a CA file that holds no certificate', () => {
    const file = join(tempDir(), 'not-a-cert.pem');
    writeFileSync(file, 'hello');
    expect(configError({ GIGACHAT_CA_FILE: file }).variable).to.equal('GIGACHAT_CA_FILE');
  });

  it('allows a public HOST once keys are set', () => {
    expect(loadConfig({ HOST: '0.0.0.0', GATEWAY_API_KEYS: 'k-0123456789' }).host).to.equal('0.0.0.0');
  });

  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'])
      expect(isLoopback(host), host).to.equal(true);
    for (const host of ['0.0.0.0', '10.0.0.1', '::', 'example.org', '127.attacker.example', '127.0.0.1.nip.io']) {
      expect(isLoopback(host), host).to.equal(false);
    }
  });
});
