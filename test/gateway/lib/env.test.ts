import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'chai';
import { ConfigError, readClientKeys, readEnv, readStoreUrl, VARIABLES } from '../../../gateway/lib/env.ts';

const ROOT = join(import.meta.dirname, '../../..');

/** Non-comment source lines of gateway/ and b24-app/, with their file. */
function sourceLines(): Array<{ file: string; line: string }> {
  const lines: Array<{ file: string; line: string }> = [];
  for (const folder of ['gateway', 'b24-app']) {
    for (const entry of readdirSync(join(ROOT, folder), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      const path = join(entry.parentPath, entry.name);
      for (const line of readFileSync(path, 'utf8').split('\n')) {
        if (!/^\s*(\/\/|\/?\*)/.test(line)) lines.push({ file: relative(ROOT, path), line });
      }
    }
  }
  return lines;
}

describe('the declared environment variables (gateway/lib/env.ts)', () => {
  it('reads every variable through its declaration: no source reads the environment by hand', () => {
    const byHand = sourceLines().filter(
      ({ file, line }) =>
        file !== 'gateway/lib/env.ts' &&
        // GATEWAY_CONFIG names the variables of keys and credentials (`keyEnv`, `apiKeyEnv`, …), so the
        // file's reader looks them up itself, in one place.
        !(file === 'gateway/config-file.ts' && line.includes('env[name]')) &&
        // process.env itself may only be handed on, as the entry points do.
        (/\benv\.(?!ts\b)\w+/.test(line) || /\benv\[/.test(line) || /process\.env\b(?![,)])/.test(line)),
    );
    expect(byHand).to.deep.equal([]);
  });

  it('documents every variable in .env.example', () => {
    const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
    const missing = Object.keys(VARIABLES).filter((name) => !example.includes(name.toUpperCase()));
    expect(missing).to.deep.equal([]);
  });

  it('treats an empty or blank value as unset, and trims the others', () => {
    expect(readEnv({ PORT: ' ' }, 'PORT')).to.equal(8080);
    expect(readEnv({ HOST: '' }, 'HOST')).to.equal('127.0.0.1');
    expect(readEnv({ PORT: ' 9000 ' }, 'PORT')).to.equal(9000);
    expect(readEnv({ GATEWAY_API_KEYS: '  ' }, 'GATEWAY_API_KEYS')).to.equal(undefined);
    expect(readEnv({}, 'LOG_PROMPTS')).to.equal(false);
    expect(readEnv({ LOG_PROMPTS: '1' }, 'LOG_PROMPTS')).to.equal(true);
    expect(readEnv({}, 'PUBLIC_URL')).to.equal(undefined);
  });

  it('keeps integers strict: no signs, exponents or fractions', () => {
    for (const raw of ['1e3', '+80', '80.0', '0x50', '-1']) {
      expect(() => readEnv({ PORT: raw }, 'PORT'), raw).to.throw(ConfigError, /^PORT: expected a whole number/);
    }
  });

  it('refuses a user or password only in the URLs that must not carry one', () => {
    expect(readEnv({ GIGACHAT_BASE_URL: 'https://u:p@giga.example/api/v1' }, 'GIGACHAT_BASE_URL').username).to.equal(
      'u',
    );
    expect(() => readEnv({ PUBLIC_URL: 'https://u:p@gate.example' }, 'PUBLIC_URL')).to.throw(
      ConfigError,
      'PUBLIC_URL: must not carry a user or password',
    );
  });

  it('never echoes a mistyped STORE_URL, which may carry a Redis password', () => {
    expect(() => readStoreUrl({ STORE_URL: 'redis:/:s3cret@cache:6379' }, '/srv'))
      .to.throw(ConfigError, /^STORE_URL: /)
      .with.property('message')
      .that.does.not.include('s3cret');
  });

  it('gives the CLI the same first client key as the gateway', () => {
    expect(readClientKeys({ GATEWAY_API_KEYS: ' , buh:k1-secret,k2' })[0]).to.deep.equal({
      name: 'buh',
      key: 'k1-secret',
    });
    expect(readClientKeys({ GATEWAY_API_KEYS: 'k-only' })[0]).to.deep.equal({ name: 'key-1', key: 'k-only' });
  });
});
