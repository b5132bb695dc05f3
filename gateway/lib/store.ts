import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import Keyv from 'keyv';
import type { StoreSettings } from '../config.ts';

/** The keyv store behind tokens and other state that must outlive the process. */
export type Store = Keyv;

/** Opens the store the configuration names, creating the SQLite file and its folder on first use. */
export async function openStore(settings: StoreSettings): Promise<Store> {
  mkdirSync(dirname(settings.path), { recursive: true, mode: 0o700 });
  const sqlite = new KeyvSqlite({ uri: `sqlite://${settings.path}`, busyTimeout: 5000 });
  // WAL lets a second process (a restart overlapping the old one) read while the other writes.
  await sqlite.query('PRAGMA journal_mode = WAL');
  return new Keyv({ store: sqlite, namespace: 'gateway' });
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
