import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, ClientSettings, OwnCredentials } from '../config-file.ts';
import type { Logger } from '../lib/logger.ts';
import type { SecretBox } from '../lib/secrets/secret-box.ts';
import { type Store, tryLease } from '../lib/store.ts';
import { AuthenticationError } from '../openai/errors.ts';
import { clientOf, type KeyDirectory, keyDigest } from './key-directory.ts';

/** A key made at run time, as the store keeps it: the key only as its digest, own credentials sealed. */
export interface StoredKey {
  name: string;
  /** SHA-256 of the key, hex. */
  digest: string;
  /** The key's last four characters, to tell keys apart. */
  hint: string;
  models?: readonly string[];
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  monthlyTokenBudget?: number;
  /** RFC 3339; the key stops working then. */
  expiresAt?: string;
  metadata?: Record<string, string>;
  /** OwnCredentials as JSON, sealed with GATEWAY_SECRET_KEY. */
  own?: string;
  /** What may be shown of the own credentials: the scope and the last characters. */
  ownHints?: OwnHints;
  createdAt: string;
  updatedAt: string;
}

export interface OwnHints {
  gigachat?: { scope: string; credentialsHint: string };
  gemini?: { apiKeyHint: string };
}

/** The fields of a key an admin sets; `null` in a change removes the field. */
export interface KeyFields {
  models?: string[] | null;
  requestsPerMinute?: number | null;
  tokensPerMinute?: number | null;
  monthlyTokenBudget?: number | null;
  expiresAt?: string | null;
  metadata?: Record<string, string> | null;
  gigachat?: OwnCredentials['gigachat'] | null;
  gemini?: OwnCredentials['gemini'] | null;
}

/** Where a key comes from: made at run time, or fixed at start-up (read-only through the admin API). */
export type KeySource = 'admin' | 'startup';

/** A key as the admin API shows it: never the key or a credential, only their last characters. */
export interface KeyView
  extends Omit<StoredKey, 'digest' | 'own' | 'ownHints' | 'hint' | 'createdAt' | 'updatedAt'>,
    OwnHints {
  object: 'client_key';
  keyHint: string;
  source: KeySource;
  /** Absent for keys fixed at start-up. */
  createdAt?: string;
  updatedAt?: string;
}

/** A change the store refuses: the name is taken, the key is fixed at start-up, or there is no such key. */
export class KeyStoreError extends Error {
  readonly reason: 'exists' | 'fixed' | 'missing';
  constructor(reason: 'exists' | 'fixed' | 'missing', message: string) {
    super(message);
    this.reason = reason;
    this.name = 'KeyStoreError';
  }
}

/** The store entry holding every runtime key, and the one that changes with each write. */
const KEYS_ENTRY = 'clientkeys';
const VERSION_ENTRY = 'clientkeys:version';
/** How often an instance asks whether another one changed the keys: the bound on a revoke's delay. */
const POLL_MS = 1000;
/** How long one write may hold the keys' lease, and how long a writer waits for it. */
const WRITE_LEASE_MS = 5000;

const sealContext = (name: string) => `clientkey:${name}:own`;
const lastFour = (value: string) => `…${value.slice(-4)}`;

/** A new client key: `gg-` and 32 random bytes, base64url. */
function newKey(): string {
  return `gg-${randomBytes(32).toString('base64url')}`;
}

interface Entry {
  client: Client;
  expiresAtMs: number;
}

export interface KeyStoreOptions {
  store: Store;
  box: SecretBox;
  logger: Logger;
  /** Keys fixed at start-up (GATEWAY_API_KEYS, GATEWAY_CONFIG). */
  fixed: readonly ClientSettings[];
  /**
   * The API may be open while no key exists: no GATEWAY_ADMIN_KEY (keys that are managed are always
   * needed) and a loopback HOST (config.ts).
   */
  mayBeOpen: boolean;
  now?: () => number;
  pollMs?: number;
}

/**
 * Client keys made at run time (POST /admin/keys) beside the ones fixed at start-up. Every instance
 * holds them all in memory, so a request with a known key never waits for the store; each polls a
 * small version entry and reloads the keys when another instance changed them, so a revoke reaches
 * every instance sharing a Redis store within about a second.
 */
export class KeyStore {
  readonly #options: KeyStoreOptions;
  readonly #now: () => number;
  readonly #fixed: ReadonlyMap<string, Entry>;
  readonly #fixedSettings: ReadonlyMap<string, ClientSettings>;
  #keys = new Map<string, StoredKey>();
  #byDigest = new Map<string, Entry>();
  #byName = new Map<string, Client>();
  #version: string | undefined;
  #isOpen = false;
  #timer: NodeJS.Timeout | undefined;
  #writes: Promise<unknown> = Promise.resolve();

  constructor(options: KeyStoreOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#fixed = new Map(
      options.fixed.map((settings) => [
        keyDigest(settings.key),
        { client: clientOf(settings), expiresAtMs: Number.POSITIVE_INFINITY },
      ]),
    );
    this.#fixedSettings = new Map(options.fixed.map((settings) => [settings.name, settings]));
    const store = this;
    this.directory = {
      find: (key) => store.#find(key),
      byName: (name) => store.#byName.get(name),
      all: () => store.#byName.values(),
      get open() {
        return store.#isOpen;
      },
    };
    this.#rebuild();
  }

  /** Loads the keys, then keeps them current until close(). */
  async start(): Promise<void> {
    await this.#reload();
    const poll = async () => {
      try {
        const version = await this.#options.store.get<string>(VERSION_ENTRY);
        if (version !== this.#version) await this.#reload();
      } catch (error) {
        this.#options.logger.warn({ err: error }, 'client keys: could not check the store for changes');
      }
      this.#timer = setTimeout(poll, this.#options.pollMs ?? POLL_MS);
      this.#timer.unref();
    };
    this.#timer = setTimeout(poll, this.#options.pollMs ?? POLL_MS);
    this.#timer.unref();
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The directory the key check and the policy read. */
  readonly directory: KeyDirectory;

  #find(key: string): Client | undefined {
    const entry = this.#byDigest.get(keyDigest(key));
    if (entry === undefined) return undefined;
    if (entry.expiresAtMs <= this.#now()) {
      throw new AuthenticationError(
        `This API key expired at ${new Date(entry.expiresAtMs).toISOString()}; ask for a new one.`,
        { code: 'expired_api_key' },
      );
    }
    return entry.client;
  }

  /** Every key, fixed ones first, then runtime ones by name. */
  list(): KeyView[] {
    const fixed = [...this.#fixedSettings.values()].map(fixedView);
    const made = [...this.#keys.values()].sort((a, b) => a.name.localeCompare(b.name)).map(storedView);
    return [...fixed, ...made];
  }

  get(name: string): KeyView | undefined {
    const fixed = this.#fixedSettings.get(name);
    if (fixed !== undefined) return fixedView(fixed);
    const stored = this.#keys.get(name);
    return stored === undefined ? undefined : storedView(stored);
  }

  /** Makes a key; the answer holds the key itself, which is shown this once. */
  async create(name: string, fields: KeyFields): Promise<KeyView & { key: string }> {
    const key = newKey();
    const stored = await this.#write((keys) => {
      if (keys.has(name) || this.#fixedSettings.has(name))
        throw new KeyStoreError('exists', `A key named "${name}" exists.`);
      const at = new Date(this.#now()).toISOString();
      const record = this.#apply(
        { name, digest: keyDigest(key), hint: lastFour(key), createdAt: at, updatedAt: at },
        fields,
      );
      keys.set(name, record);
      return record;
    });
    return { ...storedView(stored), key };
  }

  async update(name: string, fields: KeyFields): Promise<KeyView> {
    const stored = await this.#write((keys) => {
      const current = this.#existing(keys, name);
      const record = this.#apply({ ...current, updatedAt: new Date(this.#now()).toISOString() }, fields);
      keys.set(name, record);
      return record;
    });
    return storedView(stored);
  }

  async revoke(name: string): Promise<void> {
    await this.#write((keys) => {
      this.#existing(keys, name);
      keys.delete(name);
    });
  }

  #existing(keys: Map<string, StoredKey>, name: string): StoredKey {
    if (this.#fixedSettings.has(name)) {
      throw new KeyStoreError(
        'fixed',
        `The key "${name}" is set in GATEWAY_API_KEYS or GATEWAY_CONFIG; change it there and restart.`,
      );
    }
    const current = keys.get(name);
    if (current === undefined) throw new KeyStoreError('missing', `No key is named "${name}".`);
    return current;
  }

  /** A record with the admin's fields applied: `null` removes a field, own credentials are sealed whole. */
  #apply(record: StoredKey, fields: KeyFields): StoredKey {
    const next: StoredKey = { ...record };
    for (const field of [
      'models',
      'requestsPerMinute',
      'tokensPerMinute',
      'monthlyTokenBudget',
      'expiresAt',
      'metadata',
    ] as const) {
      const value = fields[field];
      if (value === null) delete next[field];
      else if (value !== undefined) (next as unknown as Record<string, unknown>)[field] = value;
    }
    if (fields.gigachat === undefined && fields.gemini === undefined) return next;
    const own: OwnCredentials = record.own === undefined ? {} : this.#open(record);
    for (const provider of ['gigachat', 'gemini'] as const) {
      const value = fields[provider];
      if (value === null) delete own[provider];
      else if (value !== undefined) (own as Record<string, unknown>)[provider] = value;
    }
    delete next.own;
    delete next.ownHints;
    const hints: OwnHints = {};
    if (own.gigachat !== undefined) {
      hints.gigachat = { scope: own.gigachat.scope, credentialsHint: lastFour(own.gigachat.credentials) };
    }
    if (own.gemini !== undefined) hints.gemini = { apiKeyHint: lastFour(own.gemini.apiKey) };
    if (Object.keys(own).length > 0) {
      next.own = this.#options.box.seal(JSON.stringify(own), sealContext(record.name));
      next.ownHints = hints;
    }
    return next;
  }

  #open(record: StoredKey): OwnCredentials {
    return JSON.parse(this.#options.box.open(record.own as string, sealContext(record.name))) as OwnCredentials;
  }

  /**
   * One change at a time: in this process by a queue, across instances by a lease on the store;
   * the keys are read fresh under it, changed, written, and the version bumped for the others.
   */
  #write<T>(change: (keys: Map<string, StoredKey>) => T): Promise<T> {
    const run = async () => {
      const { store } = this.#options;
      let lease = await tryLease(store, KEYS_ENTRY, WRITE_LEASE_MS);
      for (let waited = 0; lease === undefined && waited < WRITE_LEASE_MS; waited += 50) {
        await sleep(50);
        lease = await tryLease(store, KEYS_ENTRY, WRITE_LEASE_MS);
      }
      if (lease === undefined) throw new Error('client keys: another instance holds the write lease');
      try {
        const keys = new Map(Object.entries((await store.get<Record<string, StoredKey>>(KEYS_ENTRY)) ?? {}));
        const result = change(keys);
        const version = randomUUID();
        await store.set(KEYS_ENTRY, Object.fromEntries(keys));
        await store.set(VERSION_ENTRY, version);
        this.#use(keys, version);
        return result;
      } finally {
        await lease.release().catch(() => {});
      }
    };
    const result = this.#writes.then(run, run);
    this.#writes = result.catch(() => {});
    return result;
  }

  async #reload(): Promise<void> {
    const { store } = this.#options;
    const version = await store.get<string>(VERSION_ENTRY);
    const keys = new Map(Object.entries((await store.get<Record<string, StoredKey>>(KEYS_ENTRY)) ?? {}));
    this.#use(keys, version);
  }

  #use(keys: Map<string, StoredKey>, version: string | undefined): void {
    this.#keys = keys;
    this.#version = version;
    this.#rebuild();
  }

  /** The lookup maps from the fixed keys and the runtime ones; a key whose credentials do not open is left out. */
  #rebuild(): void {
    const byDigest = new Map<string, Entry>(this.#fixed);
    for (const record of this.#keys.values()) {
      const client: Client = { name: record.name };
      for (const field of ['models', 'requestsPerMinute', 'tokensPerMinute', 'monthlyTokenBudget'] as const) {
        if (record[field] !== undefined) (client as unknown as Record<string, unknown>)[field] = record[field];
      }
      if (record.own !== undefined) {
        try {
          client.own = this.#open(record);
        } catch (error) {
          this.#options.logger.error(
            { err: error, client: record.name },
            "client keys: the key's own credentials do not open with GATEWAY_SECRET_KEY; the key is refused",
          );
          continue;
        }
      }
      const expiresAtMs = record.expiresAt === undefined ? Number.POSITIVE_INFINITY : Date.parse(record.expiresAt);
      byDigest.set(record.digest, { client, expiresAtMs });
    }
    this.#byDigest = byDigest;
    this.#byName = new Map([...byDigest.values()].map(({ client }) => [client.name, client]));
    this.#isOpen = byDigest.size === 0 && this.#options.mayBeOpen;
  }
}

function storedView(record: StoredKey): KeyView {
  const { digest: _digest, own: _own, ownHints, hint, ...fields } = record;
  return { object: 'client_key', ...fields, keyHint: hint, ...ownHints, source: 'admin' };
}

function fixedView({ key, own, name, ...limits }: ClientSettings): KeyView {
  const view: KeyView = { object: 'client_key', name, ...limits, keyHint: lastFour(key), source: 'startup' };
  if (own?.gigachat !== undefined) {
    view.gigachat = { scope: own.gigachat.scope, credentialsHint: lastFour(own.gigachat.credentials) };
  }
  if (own?.gemini !== undefined) view.gemini = { apiKeyHint: lastFour(own.gemini.apiKey) };
  return view;
}
