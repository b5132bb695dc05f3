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
    expect(config.gigachat).to.equal(undefined);
  });

  it('fills GigaChat defaults when credentials are set', () => {
    const gigachat = loadConfig({ GIGACHAT_CREDENTIALS: TEST_CREDENTIALS }).gigachat;
    expect(gigachat?.scope).to.equal('GIGACHAT_API_PERS');
    expect(gigachat?.authUrl.href).to.equal('https://ngw.devices.sberbank.ru:9443/api/v2/oauth');
    expect(gigachat?.baseUrl.href).to.equal('https://gigachat.devices.sberbank.ru/api/v1');
    expect(gigachat?.ca).to.equal(undefined);
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
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) expect(isLoopback(host), host).to.equal(true);
    for (const host of ['0.0.0.0', '10.0.0.1', '::', 'example.org']) expect(isLoopback(host), host).to.equal(false);
  });
});
