import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { KeyStore } from '../../../gateway/clients/key-store.ts';
import { createLogger } from '../../../gateway/lib/logger.ts';
import { SecretBox } from '../../../gateway/lib/secrets/secret-box.ts';
import { openStore, type Store } from '../../../gateway/lib/store.ts';
import { GatewayError } from '../../../gateway/openai/errors.ts';

const OWN_GEMINI = 'AIzaFakeTenantKeyForTests-K7m2';

describe('client keys made at run time (KeyStore)', () => {
  let dir: string;
  let store: Store;
  const stores: KeyStore[] = [];
  const box = new SecretBox([randomBytes(32)]);
  const start = async (options: { box?: SecretBox; now?: () => number; lines?: string[] } = {}) => {
    const lines = options.lines ?? [];
    const logger = createLogger(
      'info',
      new Writable({
        write(chunk, _encoding, callback) {
          lines.push(String(chunk));
          callback();
        },
      }),
    );
    const keys = new KeyStore({
      store,
      box: options.box ?? box,
      logger,
      fixed: [{ name: 'fixed', key: 'fixed-key-123' }],
      mayBeOpen: false,
      pollMs: 20,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    await keys.start();
    stores.push(keys);
    return keys;
  };
  const until = async (check: () => boolean) => {
    for (let waited = 0; !check(); waited += 10) {
      if (waited > 5000) throw new Error('not within 5 s');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'key-store-'));
    store = await openStore({ kind: 'sqlite', path: join(dir, 'store.sqlite') });
  });
  afterEach(async () => {
    for (const keys of stores.splice(0)) keys.close();
    await store.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds a key by its digest, with its rules and own credentials, in another instance too', async () => {
    const first = await start();
    const { key } = await first.create('base-7', { models: ['GigaChat'], gemini: { apiKey: OWN_GEMINI } });
    expect(first.directory.find(key)).to.deep.equal({
      name: 'base-7',
      models: ['GigaChat'],
      own: { gemini: { apiKey: OWN_GEMINI } },
    });
    expect(first.directory.find('fixed-key-123')?.name).to.equal('fixed');
    expect(first.directory.find(`${key}x`)).to.equal(undefined);
    expect(first.directory.open).to.equal(false);
    const second = await start();
    expect(second.directory.find(key)?.name).to.equal('base-7');
    await first.revoke('base-7');
    await until(() => second.directory.find(key) === undefined);
    expect([...second.directory.all()].map((client) => client.name)).to.deep.equal(['fixed']);
  });

  it('refuses a key past its expiry with 401 expired_api_key', async () => {
    let now = Date.parse('2026-12-07T10:00:00Z');
    const keys = await start({ now: () => now });
    const { key } = await keys.create('short', { expiresAt: '2026-12-07T11:00:00.000Z' });
    expect(keys.directory.find(key)?.name).to.equal('short');
    now = Date.parse('2026-12-07T11:00:00Z');
    expect(() => keys.directory.find(key))
      .to.throw(GatewayError, 'This API key expired at 2026-12-07T11:00:00.000Z')
      .with.property('code', 'expired_api_key');
  });

  it('leaves out a key whose own credentials do not open with the configured secret key, logging no secret', async () => {
    const first = await start();
    const { key } = await first.create('tenant', { gemini: { apiKey: OWN_GEMINI } });
    const lines: string[] = [];
    const other = await start({ box: new SecretBox([randomBytes(32)]), lines });
    expect(other.directory.find(key)).to.equal(undefined);
    expect(lines.join('')).to.include('do not open with GATEWAY_SECRET_KEY').and.not.include(OWN_GEMINI);
  });

  it('keeps the credentials it was not asked to change, and removes one given as null', async () => {
    const keys = await start();
    const credentials = Buffer.from('tenant-id:tenant-secret').toString('base64');
    const { key } = await keys.create('tenant', {
      gemini: { apiKey: OWN_GEMINI },
      gigachat: { credentials, scope: 'GIGACHAT_API_CORP' },
    });
    await keys.update('tenant', { gemini: null, requestsPerMinute: 5 });
    expect(keys.directory.find(key)).to.deep.equal({
      name: 'tenant',
      requestsPerMinute: 5,
      own: { gigachat: { credentials, scope: 'GIGACHAT_API_CORP' } },
    });
    expect(keys.get('tenant')).to.not.have.property('gemini');
    expect(keys.get('tenant')?.gigachat).to.deep.equal({
      scope: 'GIGACHAT_API_CORP',
      credentialsHint: `…${credentials.slice(-4)}`,
    });
  });
});
