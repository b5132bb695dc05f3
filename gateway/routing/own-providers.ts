import { createHash } from 'node:crypto';
import type { OwnCredentials } from '../config.ts';
import type { Provider } from '../providers/provider.ts';

/** Builds the provider of one provider name on a key's own credential; undefined when the key brings none for it. */
export type OwnProviderFactory = (provider: string, own: OwnCredentials) => Provider | undefined;

/** A provider in use: `release` says the caller is done with it. */
export interface OwnProviderLease {
  provider: Provider;
  release(): void;
}

interface Entry {
  provider: Provider;
  users: number;
  evicted: boolean;
}

/** How many providers on keys' own credentials are kept; the least recently used beyond it is closed. */
export const MAX_OWN_PROVIDERS = 500;

/**
 * Providers built on keys' own credentials, lazily, one per credential: keys that bring the same
 * credential share it (its connections, its GigaChat token). Kept by a digest of the credential,
 * never the credential; bounded, the least recently used closed once no request uses it any more.
 */
export class OwnProviders {
  readonly #build: OwnProviderFactory;
  readonly #max: number;
  readonly #entries = new Map<string, Entry>();
  // A Client record is replaced, never changed, so its credential objects can key their digests.
  readonly #digests = new WeakMap<object, string>();

  constructor(build: OwnProviderFactory, max: number = MAX_OWN_PROVIDERS) {
    this.#build = build;
    this.#max = Math.max(1, max);
  }

  /** How many are kept now. */
  get size(): number {
    return this.#entries.size;
  }

  /** The provider on `own`'s credential for `provider`, held until `release`; undefined when it brings none. */
  acquire(provider: string, own: OwnCredentials): OwnProviderLease | undefined {
    const credential = (own as Record<string, object | undefined>)[provider];
    if (credential === undefined) return undefined;
    const key = this.#digest(provider, credential);
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      const built = this.#build(provider, own);
      if (built === undefined) return undefined;
      entry = { provider: built, users: 0, evicted: false };
    } else this.#entries.delete(key);
    this.#entries.set(key, entry);
    entry.users += 1;
    this.#evict();
    const held = entry;
    let released = false;
    return {
      provider: held.provider,
      release() {
        if (released) return;
        released = true;
        held.users -= 1;
        if (held.evicted && held.users === 0) void closeQuietly(held.provider);
      },
    };
  }

  /** Closes every provider (the gateway has stopped serving). */
  async close(): Promise<void> {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(entries.map((entry) => closeQuietly(entry.provider)));
  }

  #evict(): void {
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.#max) return;
      this.#entries.delete(key);
      entry.evicted = true;
      if (entry.users === 0) void closeQuietly(entry.provider);
    }
  }

  #digest(provider: string, credential: object): string {
    let digest = this.#digests.get(credential);
    if (digest === undefined) {
      digest = createHash('sha256')
        .update(`${provider}\n${JSON.stringify(credential)}`)
        .digest('hex');
      this.#digests.set(credential, digest);
    }
    return digest;
  }
}

async function closeQuietly(provider: Provider): Promise<void> {
  await provider.close?.().catch(() => {});
}
