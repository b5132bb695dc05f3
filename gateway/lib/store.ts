import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import KeyvRedis from '@keyv/redis';
import KeyvSqlite from '@keyv/sqlite';
import Keyv from 'keyv';
import type { StoreSettings } from '../config.ts';

/** The keyv store behind tokens and other state that must outlive the process. */
export type Store = Keyv;

/** The store named by STORE_URL cannot be reached at start-up. */
export class StoreUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * Opens the store the configuration names: a SQLite file (created with its folder on first use)
 * for one instance, or Redis for several instances sharing tokens, limits and jobs.
 */
export async function openStore(settings: StoreSettings): Promise<Store> {
  if (settings.kind === 'redis') {
    const redis = new KeyvRedis<unknown>(settings.url, { throwOnConnectError: true, connectionTimeout: 5000 });
    const store = new Keyv({ store: redis, namespace: 'gateway' });
    // Connect now, so a wrong URL stops start-up instead of failing the first request.
    await redis.getClient().catch((error: unknown) => {
      const { host } = new URL(settings.url); // no password in the message
      throw new StoreUnavailableError(`STORE_URL: cannot connect to Redis at ${host} (${(error as Error).message})`);
    });
    return store;
  }
  mkdirSync(dirname(settings.path), { recursive: true, mode: 0o700 });
  const sqlite = new KeyvSqlite({ uri: `sqlite://${settings.path}`, busyTimeout: 5000 });
  // WAL lets a second process (a restart overlapping the old one) read while the other writes.
  await sqlite.query('PRAGMA journal_mode = WAL');
  return new Keyv({ store: sqlite, namespace: 'gateway' });
}

/**
 * Takes a short lease on `name` for every instance sharing the store, so that one of them does a
 * piece of work (say, fetching a token) while the others wait for its result. With Redis it is
 * `SET NX PX`; a SQLite store serves one instance, whose own single-flight already does the job,
 * so there the lease is always granted. The lease ends by itself after `ttlMs`.
 */
export async function tryLease(
  store: Store,
  name: string,
  ttlMs: number,
): Promise<{ release(): Promise<void> } | undefined> {
  if (!(store.store instanceof KeyvRedis)) return { release: async () => {} };
  const client = await store.store.getClient();
  const key = `gateway:lease:${name}`;
  const owner = crypto.randomUUID();
  const taken = await client.set(key, owner, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } });
  if (taken !== 'OK') return undefined;
  return {
    async release() {
      // Only the owner may end the lease; after a long pause it may have passed to someone else.
      if ((await client.get(key)) === owner) await client.del(key);
    },
  };
}

/** True when the store answers a read; `/readyz` uses it. */
export async function isStoreReachable(store: Store, timeoutMs = 2000): Promise<boolean> {
  const timeout = new Promise<false>((resolve) => setTimeout(resolve, timeoutMs, false).unref());
  const read = store.get('readyz:probe').then(
    () => true,
    () => false,
  );
  return Promise.race([read, timeout]);
}
