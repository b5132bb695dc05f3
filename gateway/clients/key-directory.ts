import { createHash } from 'node:crypto';
import type { Client, ClientSettings } from '../config-file.ts';

/**
 * Every client key the gateway knows, served from memory: a request with a known key never waits
 * for the store. Keys are looked up by their SHA-256: equal digests of high-entropy keys say nothing
 * about the key, and a map lookup costs the same for ten keys as for ten thousand.
 */
export interface KeyDirectory {
  /** The client whose key this is, or undefined. */
  find(key: string): Client | undefined;
  /** A client by name (its rules, for the policy). */
  byName(name: string): Client | undefined;
  /** Every client. */
  all(): Iterable<Client>;
  /** No key is needed: none is configured or made at run time (main.ts allows it only on a loopback HOST). */
  readonly open: boolean;
}

/** A key's SHA-256, hex: how keys are stored and looked up. */
export function keyDigest(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** The client a start-up key names, without the key. */
export function clientOf({ key: _key, ...client }: ClientSettings): Client {
  return client;
}

/** The keys fixed at start-up (GATEWAY_API_KEYS, GATEWAY_CONFIG). */
export function staticKeyDirectory(clients: readonly ClientSettings[]): KeyDirectory {
  const byDigest = new Map(clients.map((settings) => [keyDigest(settings.key), clientOf(settings)]));
  const byName = new Map([...byDigest.values()].map((client) => [client.name, client]));
  return {
    find: (key) => byDigest.get(keyDigest(key)),
    byName: (name) => byName.get(name),
    all: () => byName.values(),
    open: clients.length === 0,
  };
}
