import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadB24Config } from '../../b24-app/config.ts';

const base = { PUBLIC_URL: 'https://gate.example.ru' };

function problem(env: Record<string, string>): ConfigError {
  try {
    loadB24Config(env, '/srv/app');
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a configuration error');
}

describe('Bitrix24 app configuration (b24-app/config.ts)', () => {
  it('is off without PUBLIC_URL, and has safe defaults with it', () => {
    expect(loadB24Config({}, '/srv/app')).to.equal(undefined);
    const config = loadB24Config({ PUBLIC_URL: 'https://gate.example.ru/prefix/' }, '/srv/app');
    expect(config?.publicUrl.toString()).to.equal('https://gate.example.ru/prefix');
    expect(config?.oauth).to.equal(undefined);
    expect(config?.oauthUrl.toString()).to.equal('https://oauth.bitrix.info/oauth/token/');
    expect(config?.trustedOAuthHosts).to.deep.equal(['oauth.bitrix.info', 'oauth.bitrix24.tech']);
    expect(config?.engineModels).to.equal(undefined);
    expect(config?.rateLimitPerMinute).to.equal(60);
    expect(config?.store).to.deep.equal({ kind: 'sqlite', path: '/srv/app/data/gateway.sqlite' });
    expect(config?.signingKey).to.equal(undefined);
  });

  it('reads B24_SIGNING_KEY as 32 bytes, base64 or hex', () => {
    const key = Buffer.from('0123456789abcdef0123456789abcdef');
    for (const written of [key.toString('base64'), key.toString('base64url'), key.toString('hex')]) {
      expect(loadB24Config({ ...base, B24_SIGNING_KEY: written })?.signingKey, written).to.deep.equal(key);
    }
  });

  it('reads the app keys, models, OAuth URL, gateway and limits', () => {
    const config = loadB24Config(
      {
        ...base,
        B24_CLIENT_ID: 'app.65a1b2c3d4e5f6.12345678',
        B24_CLIENT_SECRET: 'not-a-real-secret',
        B24_OAUTH_URL: 'https://oauth.bitrix24.tech/oauth/token/',
        B24_ENGINE_MODELS: ' GigaChat-2-Max , gemini-2.5-flash ',
        B24_GATEWAY_URL: 'http://10.0.0.5:8080',
        B24_GATEWAY_API_KEY: 'key-for-b24',
        B24_RATE_LIMIT: '10',
        STORE_URL: 'sqlite:///var/lib/gigagate/store.sqlite',
      },
      '/srv/app',
    );
    expect(config?.oauth).to.deep.equal({ clientId: 'app.65a1b2c3d4e5f6.12345678', clientSecret: 'not-a-real-secret' });
    expect(config?.engineModels).to.deep.equal(['GigaChat-2-Max', 'gemini-2.5-flash']);
    expect(config?.trustedOAuthHosts).to.deep.equal(['oauth.bitrix24.tech', 'oauth.bitrix.info']);
    expect(config?.gatewayUrl?.toString()).to.equal('http://10.0.0.5:8080/');
    expect(config?.gatewayApiKey).to.equal('key-for-b24');
    expect(config?.rateLimitPerMinute).to.equal(10);
    expect(config?.store).to.deep.equal({ kind: 'sqlite', path: '/var/lib/gigagate/store.sqlite' });
    expect(loadB24Config({ ...base, STORE_URL: 'redis://127.0.0.1:6379' })?.store).to.deep.equal({
      kind: 'redis',
      url: 'redis://127.0.0.1:6379',
    });
  });

  it('stops on a bad value with one line naming the variable, never echoing a secret', () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ PUBLIC_URL: 'gate.example.ru' }, 'PUBLIC_URL'],
      [{ PUBLIC_URL: 'ftp://gate.example.ru' }, 'PUBLIC_URL'],
      [{ PUBLIC_URL: 'https://gate.example.ru/?x=1' }, 'PUBLIC_URL'],
      [{ ...base, B24_CLIENT_ID: 'local.123.456' }, 'B24_CLIENT_SECRET'],
      [{ ...base, B24_CLIENT_SECRET: 'not-a-real-secret' }, 'B24_CLIENT_ID'],
      [{ ...base, B24_CLIENT_ID: 'my-app', B24_CLIENT_SECRET: 'not-a-real-secret' }, 'B24_CLIENT_ID'],
      [{ ...base, B24_OAUTH_URL: 'http://oauth.example.com/oauth/token/' }, 'B24_OAUTH_URL'],
      // Plain http only to loopback: a name that merely starts with 127. is not.
      [{ ...base, B24_OAUTH_URL: 'http://127.attacker.example/oauth/token/' }, 'B24_OAUTH_URL'],
      [{ ...base, B24_OAUTH_URL: 'https://user:not-a-real-secret@oauth.bitrix.info/oauth/token/' }, 'B24_OAUTH_URL'],
      [{ ...base, B24_ENGINE_MODELS: 'GigaChat 2' }, 'B24_ENGINE_MODELS'],
      [{ ...base, B24_ENGINE_MODELS: 'gemini-2.5-flash,gemini-2_5-flash' }, 'B24_ENGINE_MODELS'],
      [{ ...base, B24_ENGINE_MODELS: ' , ' }, 'B24_ENGINE_MODELS'],
      [{ ...base, B24_GATEWAY_URL: 'nowhere' }, 'B24_GATEWAY_URL'],
      [{ ...base, B24_RATE_LIMIT: '0' }, 'B24_RATE_LIMIT'],
      [{ ...base, STORE_URL: 'postgres://db' }, 'STORE_URL'],
      [{ ...base, B24_SIGNING_KEY: 'not-a-real-secret' }, 'B24_SIGNING_KEY'],
      [{ ...base, B24_SIGNING_KEY: Buffer.from('not-a-real-secret').toString('base64') }, 'B24_SIGNING_KEY'],
    ];
    for (const [env, variable] of cases) {
      const error = problem(env);
      expect(error.variable, JSON.stringify(env)).to.equal(variable);
      expect(error.message.startsWith(`${variable}: `)).to.equal(true);
      expect(error.message).not.to.contain('\n').and.not.contain('not-a-real-secret');
    }
  });

  it('takes plain http for B24_OAUTH_URL only from a loopback test server', () => {
    for (const url of ['http://127.0.0.1:9000/oauth/token/', 'http://localhost:9000/t/', 'http://[::1]:9000/t/']) {
      expect(loadB24Config({ ...base, B24_OAUTH_URL: url })?.oauthUrl.href, url).to.equal(url);
    }
    for (const url of [
      'http://127.attacker.example/t/',
      'http://127.0.0.1.attacker.example/t/',
      'http://10.0.0.1/t/',
    ]) {
      expect(problem({ ...base, B24_OAUTH_URL: url }).message, url).to.contain('use https://');
    }
  });

  it('throws the same ConfigError as the gateway, which main.ts reports as a configuration error', async () => {
    const { ConfigError: GatewayConfigError } = await import('../../gateway/config.ts');
    expect(problem({ PUBLIC_URL: 'ftp://gate.example.ru' })).to.be.instanceOf(GatewayConfigError);
  });

  it('a bad Bitrix24 variable stops `npm start` with one line and exit code 1', async () => {
    const child = spawn(process.execPath, [join(import.meta.dirname, '../../gateway/main.ts')], {
      env: { PATH: process.env.PATH ?? '', PUBLIC_URL: 'https://gate.example.ru', B24_CLIENT_ID: 'local.1.2' },
      stdio: 'pipe',
    });
    let stderr = '';
    child.stderr.on('data', (data: Buffer) => {
      stderr += String(data);
    });
    const [code] = await once(child, 'exit');
    expect(code).to.equal(1);
    expect(stderr.trim().split('\n')).to.have.length(1);
    expect(stderr).to.contain('configuration error: B24_CLIENT_SECRET: is required when B24_CLIENT_ID is set');
  });
});
