import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import KeyvRedis, { type RedisClientConnectionType } from '@keyv/redis';
import KeyvSqlite from '@keyv/sqlite';
import Keyv from 'keyv';
import type { StoreSettings } from './env.ts';

/*
 * The one place that knows whether STORE_URL is a SQLite file or Redis. A process opens it once;
 * the Bitrix24 app gets a namespace of that same connection, and leases, the shared rate windows
 * and usage counters ask this module what the store can do.
 */

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
 * Opens the store the configuration names, under the `gateway` namespace: a SQLite file (created
 * with its folder on first use) for one instance, or Redis for several instances sharing tokens,
 * limits and jobs.
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
  // With WAL, NORMAL syncs at checkpoints instead of at every commit: the file cannot be corrupted,
  // and a process crash loses nothing; only a power cut may lose the last commits. An fsync per
  // stored response cost more than all the rest of answering it.
  await sqlite.query('PRAGMA synchronous = NORMAL');
  return new Keyv({ store: sqlite, namespace: 'gateway' });
}

/**
 * Another namespace over the same connection; closing the store closes it too. Its keys are
 * written exactly as a store opened on its own under that namespace writes them.
 */
export function storeNamespace(
  store: Store,
  namespace: string,
  options: { throwOnErrors?: boolean; plainJson?: boolean } = {},
): Store {
  // keyv writes its namespace into the adapter object it is given, and the adapter prefixes (Redis)
  // or lists (SQLite) keys by it: each namespace gets its own view of the one adapter.
  const view = Object.create(store.store) as KeyvRedis<unknown> | KeyvSqlite;
  // keyv's own serializer (which keeps Buffers) costs ten times JSON's on large plain records.
  const json = options.plainJson === true ? { serialize: JSON.stringify, deserialize: JSON.parse } : {};
  const keyv = new Keyv({ store: view, namespace, ...json });
  keyv.throwOnErrors = options.throwOnErrors === true;
  return keyv;
}

/** The Redis client when several instances share the store, for atomic counters; undefined for a SQLite file. */
export function redisClientOf(store: Store): (() => Promise<RedisClientConnectionType>) | undefined {
  const backend = store.store;
  return backend instanceof KeyvRedis ? () => backend.getClient() : undefined;
}

export interface Lease {
  release(): Promise<void>;
  /** Extends the lease by `ttlMs` from now while its holder works on; false when it has passed to another. */
  renew(ttlMs: number): Promise<boolean>;
}

// Only the owner may extend or end a lease; after a long pause it may have passed to someone else.
const RENEW_IF_OWNER =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0";

/**
 * Takes a lease on `name` for every instance sharing the store, so that one of them does a piece
 * of work (fetching a token, running a job) while the others leave it. With Redis it is `SET NX PX`
 * on `<namespace>:lease:<name>`; a SQLite store serves one instance, whose own single-flight does
 * the job, so there the lease is always granted. It ends by itself after `ttlMs` if its holder dies.
 */
export async function tryLease(store: Store, name: string, ttlMs: number): Promise<Lease | undefined> {
  const client = redisClientOf(store);
  if (client === undefined) return { release: async () => {}, renew: async () => true };
  const redis = await client();
  const key = `${store.namespace}:lease:${name}`;
  const owner = crypto.randomUUID();
  const taken = await redis.set(key, owner, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } });
  if (taken !== 'OK') return undefined;
  return {
    async release() {
      if ((await redis.get(key)) === owner) await redis.del(key);
    },
    async renew(ttl) {
      return (await redis.eval(RENEW_IF_OWNER, { keys: [key], arguments: [owner, String(ttl)] })) === 1;
    },
  };
}

/**
 * Rewrites a SQLite store's file (VACUUM, then a truncating checkpoint of the write-ahead log), so
 * values replaced a moment ago (say, secrets sealed with a retired key) do not linger in its free
 * pages or its log. Redis keeps no such copies.
 */
export async function compactStore(store: Store): Promise<void> {
  const backend = store.store;
  if (!(backend instanceof KeyvSqlite)) return;
  await backend.query('VACUUM');
  await backend.query('PRAGMA wal_checkpoint(TRUNCATE)');
}

/**
 * Every entry of a store's namespace, collected before it is returned, so a caller can delete while
 * it walks them: the SQLite iterator pages by offset and would skip entries that moved up.
 */
export async function storeEntries(store: Store): Promise<Array<[key: string, value: unknown]>> {
  const entries: Array<[string, unknown]> = [];
  if (store.iterator === undefined) return entries;
  for await (const [key, value] of store.iterator(store.namespace)) {
    if (typeof key === 'string') entries.push([key, value]);
  }
  return entries;
}

/**
 * Deletes a namespace's entries whose TTL has passed by `now`. SQLite keeps them until they are
 * read, so one statement removes them (listing the namespace pages by offset: quadratic); Redis
 * expires keys itself.
 */
export async function removeExpired(store: Store, now: number): Promise<number> {
  const backend = store.store;
  if (!(backend instanceof KeyvSqlite)) return 0;
  const table = (backend.opts as { table: string }).table;
  const removed = await backend.query(
    `DELETE FROM ${table} WHERE key LIKE ? AND json_extract(value, '$.expires') < ? RETURNING key`,
    `${store.namespace}:%`,
    now,
  );
  return (removed as unknown[]).length;
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
