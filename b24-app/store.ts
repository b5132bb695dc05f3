import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import Keyv from 'keyv';

/** The keyv store holding portals, jobs, usage and the signing key, under the `b24` namespace. */
export type B24Store = Keyv;

/**
 * Opens the store in the SQLite file the gateway uses (STORE_URL). The server and the CLI open
 * it the same way, so engines registered by the CLI are known to a running server.
 */
export async function openB24Store(path: string): Promise<B24Store> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const sqlite = new KeyvSqlite({ uri: `sqlite://${path}`, busyTimeout: 5000 });
  // WAL lets the CLI, the server and a restarting server use the file at the same time.
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
