import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import KeyvRedis from '@keyv/redis';
import KeyvSqlite from '@keyv/sqlite';
import Keyv from 'keyv';
import type { StoreSettings } from './config.ts';

/** The keyv store holding portals, jobs, usage and the signing key, under the `b24` namespace. */
export type B24Store = Keyv;

export interface Lease {
  release(): Promise<void>;
}

/**
 * What the app uses of the process's one store connection; the gateway opens it and hands this
 * over (gateway/main.ts), and closes it after the app.
 */
export interface B24StoreAccess {
  /** The `b24` namespace. */
  keyv: B24Store;
  /**
   * A lease on `name` for every instance sharing the store, so one job is worked on by one instance
   * at a time; undefined while another holds it. It ends by itself after `ttlMs` if its holder dies.
   */
  lease(name: string, ttlMs: number): Promise<Lease | undefined>;
  /** Rewrites a SQLite file so values replaced a moment ago do not linger in it; nothing to do on Redis. */
  compact(): Promise<void>;
}

/**
 * Opens STORE_URL for the CLI (`npm run b24`), which runs without the gateway: under the same
 * namespace and the same key layout as the server's, so engines the CLI registers are known to a
 * running server.
 */
export async function openB24Store(settings: StoreSettings): Promise<B24Store> {
  if (settings.kind === 'redis') {
    const redis = new KeyvRedis<unknown>(settings.url, { throwOnConnectError: true, connectionTimeout: 5000 });
    const store = new Keyv({ store: redis, namespace: 'b24' });
    store.throwOnErrors = true;
    await redis.getClient();
    return store;
  }
  mkdirSync(dirname(settings.path), { recursive: true, mode: 0o700 });
  const sqlite = new KeyvSqlite({ uri: `sqlite://${settings.path}`, busyTimeout: 5000 });
  // WAL lets the CLI and a running server use the file at the same time.
  await sqlite.query('PRAGMA journal_mode = WAL');
  const store = new Keyv({ store: sqlite, namespace: 'b24' });
  store.throwOnErrors = true;
  return store;
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
