import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import KeyvRedis from '@keyv/redis';
import KeyvSqlite from '@keyv/sqlite';
import Keyv from 'keyv';
import type { StoreSettings as B24StoreTarget } from './config.ts';

/** The keyv store holding portals, jobs, usage and the signing key, under the `b24` namespace. */
export type B24Store = Keyv;

/**
 * Opens the store the gateway uses (STORE_URL): a SQLite file, or Redis when several instances
 * share it. The server and the CLI open it the same way, so engines registered by the CLI are
 * known to a running server.
 */
export async function openB24Store(target: B24StoreTarget): Promise<B24Store> {
  if (target.kind === 'redis') {
    const redis = new KeyvRedis<unknown>(target.url, { throwOnConnectError: true, connectionTimeout: 5000 });
    const store = new Keyv({ store: redis, namespace: 'b24' });
    store.throwOnErrors = true;
    await redis.getClient();
    return store;
  }
  mkdirSync(dirname(target.path), { recursive: true, mode: 0o700 });
  const sqlite = new KeyvSqlite({ uri: `sqlite://${target.path}`, busyTimeout: 5000 });
  // WAL lets the CLI, the server and a restarting server use the file at the same time.
  await sqlite.query('PRAGMA journal_mode = WAL');
  const store = new Keyv({ store: sqlite, namespace: 'b24' });
  store.throwOnErrors = true;
  return store;
}

/**
 * Rewrites a SQLite store's file (VACUUM, then a truncating checkpoint of the write-ahead log), so
 * values replaced a moment ago (secrets in plaintext from an older version, or sealed with a
 * retired key) do not linger in its free pages or its log. Redis keeps no such copies in memory.
 */
export async function compactSqliteStore(store: B24Store): Promise<void> {
  if (!(store.store instanceof KeyvSqlite)) return;
  await store.store.query('VACUUM');
  await store.store.query('PRAGMA wal_checkpoint(TRUNCATE)');
}

/**
 * The keys that start with `prefix`. Collected first and returned as a list, so a caller can
 * delete while it walks them (the SQLite iterator pages by offset).
 */
export async function keysWithPrefix(store: B24Store, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  if (store.iterator === undefined) throw new Error('the store cannot list its keys');
  for await (const [key] of store.iterator(undefined)) {
    if (typeof key === 'string' && key.startsWith(prefix)) keys.push(key);
  }
  return keys;
}

export interface Lease {
  release(): Promise<void>;
}

/**
 * A lease on `name` for every instance sharing the store, so one job is worked on by one instance
 * at a time: Redis `SET NX PX`. A SQLite store serves one instance, so there it is always granted.
 * Ends by itself after `ttlMs` if its holder dies.
 */
export async function tryLease(store: B24Store, name: string, ttlMs: number): Promise<Lease | undefined> {
  if (!(store.store instanceof KeyvRedis)) return { release: async () => {} };
  const client = await store.store.getClient();
  const key = `b24:lease:${name}`;
  const owner = randomUUID();
  const taken = await client.set(key, owner, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } });
  if (taken !== 'OK') return undefined;
  return {
    async release() {
      if ((await client.get(key)) === owner) await client.del(key);
    },
  };
}
