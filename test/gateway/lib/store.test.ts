import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@keyv/redis';
import { expect } from 'chai';
import { openB24Store } from '../../../b24-app/store.ts';
import type { StoreSettings } from '../../../gateway/lib/env.ts';
import {
  compactStore,
  openStore,
  redisClientOf,
  type Store,
  storeNamespace,
  tryLease,
} from '../../../gateway/lib/store.ts';
import { startTestGateway, tempDir } from '../../helpers/gateway.ts';
import { RedisServer } from '../../helpers/redis-server.ts';

/** How many file descriptors of this process are open on `path`. */
function openHandles(path: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(join('/proc/self/fd', fd)) === path;
    } catch {
      return false; // closed meanwhile
    }
  }).length;
}

/** Every key of a store's namespace, as its iterator lists them. */
async function keysOf(store: Store): Promise<string[]> {
  const keys: string[] = [];
  for await (const [key] of store.iterator?.(undefined) ?? []) keys.push(key as string);
  return keys.sort();
}

/** What both kinds of store do with namespaces of one connection. */
function behavesAsOneConnection(settings: () => StoreSettings) {
  it('keeps each namespace to its own keys, written as a store opened on its own writes them', async () => {
    const store = await openStore(settings());
    const b24 = storeNamespace(store, 'b24', { throwOnErrors: true });
    try {
      await store.set('token', 'gateway value');
      await b24.set('portal:1', 'b24 value');
      expect(await keysOf(b24)).to.deep.equal(['portal:1']);
      expect(await store.get('portal:1')).to.equal(undefined);
      expect(await b24.get('token')).to.equal(undefined);
      expect([b24.throwOnErrors, store.throwOnErrors]).to.deep.equal([true, false]);
    } finally {
      await store.disconnect();
    }
    // What the CLI and another instance open on their own sees the same records.
    const cli = await openB24Store(settings());
    const gateway = await openStore(settings());
    try {
      expect(await cli.get('portal:1')).to.equal('b24 value');
      expect(await gateway.get('token')).to.equal('gateway value');
      expect(await keysOf(cli)).to.deep.equal(['portal:1']);
    } finally {
      await cli.disconnect();
      await gateway.disconnect();
    }
  });
}

describe('the store helper (gateway/lib/store.ts): one connection per process', function () {
  this.timeout(30_000);

  describe('on SQLite (STORE_URL=sqlite://…)', () => {
    let dir: string;
    beforeEach(() => {
      dir = tempDir();
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    behavesAsOneConnection(() => ({ kind: 'sqlite', path: join(dir, 'store.sqlite') }));

    it('is not shared: leases are always granted, there is no Redis client, and compaction rewrites the file', async () => {
      const store = await openStore({ kind: 'sqlite', path: join(dir, 'store.sqlite') });
      try {
        expect(redisClientOf(store)).to.equal(undefined);
        const lease = await tryLease(store, 'job', 60_000);
        expect(await tryLease(store, 'job', 60_000)).not.to.equal(undefined);
        await lease?.release();
        await store.set('secret', 'x'.repeat(10_000));
        await store.delete('secret');
        await compactStore(store);
        expect(await store.get('secret')).to.equal(undefined);
      } finally {
        await store.disconnect();
      }
    });

    it('writes ahead (WAL) and syncs at checkpoints, not at every commit', async () => {
      const store = await openStore({ kind: 'sqlite', path: join(dir, 'store.sqlite') });
      try {
        const backend = store.store as { query(sql: string): Promise<Array<Record<string, unknown>>> };
        expect(await backend.query('PRAGMA journal_mode')).to.deep.equal([{ journal_mode: 'wal' }]);
        expect(await backend.query('PRAGMA synchronous')).to.deep.equal([{ synchronous: 1 }]); // NORMAL
      } finally {
        await store.disconnect();
      }
    });

    it('a gateway with the Bitrix24 app on holds one handle on the file', async function () {
      if (!existsSync('/proc/self/fd')) this.skip(); // counting handles needs Linux's /proc
      const gateway = await startTestGateway({ PUBLIC_URL: 'https://gate.example.ru' }, { dir });
      try {
        await gateway.waitForLog((line) => line.includes('Bitrix24 app: ready'));
        expect(openHandles(join(dir, 'store.sqlite'))).to.equal(1);
      } finally {
        await gateway.close();
      }
    });
  });

  describe('on Redis (STORE_URL=redis://…)', () => {
    let redis: RedisServer;
    before(async () => {
      redis = await RedisServer.start();
    });
    after(async () => {
      await redis?.stop();
    });

    /** The clients connected to the server, apart from the one asking. */
    async function connectedClients(): Promise<number> {
      const client = createClient({ url: redis.url });
      await client.connect();
      try {
        const list = String(await client.sendCommand(['CLIENT', 'LIST']));
        return list.trim().split('\n').length - 1;
      } finally {
        await client.close();
      }
    }

    behavesAsOneConnection(() => ({ kind: 'redis', url: redis.url }));

    it('is shared: a lease is held once per namespace, and released only by its owner', async () => {
      const store = await openStore({ kind: 'redis', url: redis.url });
      const b24 = storeNamespace(store, 'b24');
      try {
        expect(redisClientOf(b24)).not.to.equal(undefined);
        const held = await tryLease(b24, 'job:1', 60_000);
        expect(held).not.to.equal(undefined);
        expect(await tryLease(b24, 'job:1', 60_000)).to.equal(undefined);
        expect(await tryLease(store, 'job:1', 60_000)).not.to.equal(undefined);
        const client = await (redisClientOf(store) as NonNullable<ReturnType<typeof redisClientOf>>)();
        expect(await client.exists('b24:lease:job:1')).to.equal(1);
        await held?.release();
        expect(await tryLease(b24, 'job:1', 60_000)).not.to.equal(undefined);
      } finally {
        await store.disconnect();
      }
    });

    it('renews a lease for its owner only', async () => {
      const store = await openStore({ kind: 'redis', url: redis.url });
      try {
        const client = await (redisClientOf(store) as NonNullable<ReturnType<typeof redisClientOf>>)();
        const held = await tryLease(store, 'run:1', 1_000);
        expect(await held?.renew(60_000)).to.equal(true);
        expect(await client.pTTL('gateway:lease:run:1')).to.be.greaterThan(1_000);
        await client.set('gateway:lease:run:1', 'another owner');
        expect(await held?.renew(60_000)).to.equal(false);
        expect(await client.get('gateway:lease:run:1')).to.equal('another owner');
      } finally {
        await store.disconnect();
      }
    });

    it('a gateway with the Bitrix24 app on holds one Redis connection', async () => {
      const before = await connectedClients();
      const gateway = await startTestGateway({
        STORE_URL: redis.url,
        GATEWAY_SECRET_KEY: randomBytes(32).toString('base64'),
        PUBLIC_URL: 'https://gate.example.ru',
      });
      try {
        await gateway.waitForLog((line) => line.includes('Bitrix24 app: ready'));
        expect((await connectedClients()) - before).to.equal(1);
      } finally {
        await gateway.close();
      }
      expect(await connectedClients()).to.equal(before);
    });
  });
});
