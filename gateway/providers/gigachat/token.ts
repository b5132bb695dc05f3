import { createHash, randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { GigaChatSettings } from '../../config.ts';
import type { Logger } from '../../lib/logger.ts';
import type { SecretBox } from '../../lib/secrets/secret-box.ts';
import { type Store, tryLease } from '../../lib/store.ts';
import { RateLimitError, UpstreamError } from '../../openai/errors.ts';
import { bodyWords, mapTransportFailure, openUpstream, requestTarget, type Upstream } from '../upstream.ts';
import { GIGACHAT_TLS_HINT } from './client.ts';
import { mapGigaChatError } from './map-error.ts';
import type { GigaChatTokenResponse } from './wire-types.ts';

export interface GigaChatToken {
  accessToken: string;
  /** Unix milliseconds. */
  expiresAtMs: number;
}

export interface GigaChatTokenCacheOptions {
  store: Store;
  /** Seals the token before it reaches the store: it is a bearer secret for its lifetime. */
  box: SecretBox;
  /** Store key; distinct per credentials, scope and OAuth URL. */
  storeKey: string;
  fetchToken: () => Promise<GigaChatToken>;
  logger: Logger;
  /** A token this close to expiry is refreshed before use. */
  marginMs?: number;
  now?: () => number;
  /** Told of every OAuth call's outcome (not of tokens found in memory or the store). */
  onFetch?: (outcome: 'ok' | 'failed') => void;
}

/** A token as the store keeps it: sealed with GATEWAY_SECRET_KEY, bound to its store key. */
interface StoredToken {
  sealed: string;
  expiresAtMs: number;
}

/** How long one instance may take to fetch a token while the others sharing the store wait for it. */
const FETCH_LEASE_MS = 10_000;
const SHARED_POLL_MS = 50;

/**
 * GigaChat's 30-minute OAuth token: held in memory, backed by the store (so a restart reuses it),
 * fetched on first need and refreshed lazily shortly before it expires. Concurrent callers on a
 * cold or stale cache share one OAuth call — across instances too when the store is shared: one
 * takes a lease and fetches, the others wait for its token to appear in the store.
 */
export class GigaChatTokenCache {
  readonly #options: Required<GigaChatTokenCacheOptions>;
  #memory: GigaChatToken | undefined;
  #pending: Promise<GigaChatToken> | undefined;

  constructor(options: GigaChatTokenCacheOptions) {
    this.#options = { marginMs: 60_000, now: Date.now, ...options, onFetch: options.onFetch ?? (() => {}) };
  }

  /** A valid access token; from memory on the hot path. */
  async get(): Promise<string> {
    if (this.#memory !== undefined && this.#isFresh(this.#memory)) return this.#memory.accessToken;
    this.#pending ??= this.#load().finally(() => {
      this.#pending = undefined;
    });
    return (await this.#pending).accessToken;
  }

  /** Forgets a token GigaChat refused, unless a newer one has replaced it meanwhile. */
  async invalidate(accessToken: string): Promise<void> {
    if (this.#memory?.accessToken === accessToken) this.#memory = undefined;
    const stored = await this.#readStore();
    if (stored?.accessToken === accessToken) await this.#options.store.delete(this.#options.storeKey);
  }

  #isFresh(token: GigaChatToken): boolean {
    return token.expiresAtMs - this.#options.marginMs > this.#options.now();
  }

  async #load(): Promise<GigaChatToken> {
    const stored = await this.#readFreshStored();
    if (stored !== undefined) return stored;
    const lease = await tryLease(this.#options.store, this.#options.storeKey, FETCH_LEASE_MS).catch(() => ({
      release: async () => {}, // the store is down: fetch anyway
    }));
    if (lease === undefined) {
      const shared = await this.#waitForShared();
      if (shared !== undefined) return shared;
    }
    try {
      return await this.#fetch();
    } finally {
      await lease?.release().catch(() => {});
    }
  }

  async #fetch(): Promise<GigaChatToken> {
    let token: GigaChatToken;
    try {
      token = await this.#options.fetchToken();
    } catch (error) {
      this.#options.onFetch('failed');
      throw error;
    }
    this.#options.onFetch('ok');
    this.#memory = token;
    this.#options.logger.info(
      { expiresAt: new Date(token.expiresAtMs).toISOString() },
      'gigachat: obtained a new access token',
    );
    const ttl = token.expiresAtMs - this.#options.marginMs - this.#options.now();
    if (ttl > 0) {
      const stored: StoredToken = {
        sealed: this.#options.box.seal(token.accessToken, this.#options.storeKey),
        expiresAtMs: token.expiresAtMs,
      };
      await this.#options.store.set(this.#options.storeKey, stored, ttl).catch((error: unknown) => {
        this.#options.logger.warn({ err: error }, 'gigachat: could not save the access token to the store');
      });
    }
    return token;
  }

  async #readFreshStored(): Promise<GigaChatToken | undefined> {
    const stored = await this.#readStore();
    if (stored === undefined || !this.#isFresh(stored)) return undefined;
    this.#memory = stored;
    return stored;
  }

  /** Another instance holds the lease: its token appears in the store, or the lease runs out. */
  async #waitForShared(): Promise<GigaChatToken | undefined> {
    for (let waited = 0; waited < FETCH_LEASE_MS; waited += SHARED_POLL_MS) {
      await new Promise((resolve) => setTimeout(resolve, SHARED_POLL_MS));
      const stored = await this.#readFreshStored();
      if (stored !== undefined) return stored;
    }
    return undefined;
  }

  /** The stored token, opened; undefined when there is none, or one this secret key cannot open (fetched anew). */
  async #readStore(): Promise<GigaChatToken | undefined> {
    let stored: Partial<StoredToken> | undefined;
    try {
      stored = (await this.#options.store.get<Partial<StoredToken>>(this.#options.storeKey)) ?? undefined;
    } catch (error) {
      this.#options.logger.warn({ err: error }, 'gigachat: could not read the access token from the store');
      return undefined;
    }
    // An older version stored the token in plaintext: it is not used, and the next one is sealed.
    if (typeof stored?.sealed !== 'string' || typeof stored.expiresAtMs !== 'number') return undefined;
    try {
      return {
        accessToken: this.#options.box.open(stored.sealed, this.#options.storeKey),
        expiresAtMs: stored.expiresAtMs,
      };
    } catch (error) {
      this.#options.logger.warn({ err: error }, 'gigachat: the stored access token does not open; fetching a new one');
      return undefined;
    }
  }
}

/** The store key for one set of credentials; the credentials themselves never reach the store. */
export function gigaChatTokenKey(settings: GigaChatSettings): string {
  const digest = createHash('sha256')
    .update(`${settings.authUrl.href}\n${settings.scope}\n${settings.credentials}`)
    .digest('hex');
  return `gigachat:token:${digest.slice(0, 32)}`;
}

/** One OAuth call: Basic authorization key, a fresh RqUID, the scope as a form body. */
export async function requestGigaChatToken(
  settings: GigaChatSettings,
  agent: Dispatcher,
  timeoutMs: number,
): Promise<GigaChatToken> {
  const oauth: Upstream = {
    name: 'GigaChat OAuth',
    dispatcher: agent,
    timeoutMs,
    mapError: mapGigaChatError,
    tlsHint: GIGACHAT_TLS_HINT,
  };
  const response = await openUpstream(
    oauth,
    requestTarget(settings.authUrl),
    {
      method: 'POST',
      headers: {
        authorization: `Basic ${settings.credentials}`,
        rquid: randomUUID(),
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({ scope: settings.scope }).toString(),
    },
    undefined,
  );
  const status = response.statusCode;
  const retryAfter = response.headers['retry-after'];
  let body: Buffer;
  try {
    body = await response.body.bytes(1024 * 1024);
  } catch (error) {
    throw mapTransportFailure(error, oauth, 'answer');
  }
  if (status === 429) {
    throw new RateLimitError('GigaChat OAuth: too many token requests.', {
      headers: typeof retryAfter === 'string' ? { 'retry-after': retryAfter } : {},
    });
  }
  if (status !== 200) {
    const detail = bodyWords(body);
    const hint = status === 400 || status === 401 ? ' Check GIGACHAT_CREDENTIALS and GIGACHAT_SCOPE.' : '';
    throw new UpstreamError(`GigaChat OAuth refused to issue a token (HTTP ${status}: ${detail}).${hint}`, {
      code: 'upstream_auth_error',
      headers: { 'x-should-retry': String(status >= 500) },
    });
  }
  return parseTokenResponse(body);
}

function parseTokenResponse(body: Buffer): GigaChatToken {
  let parsed: GigaChatTokenResponse;
  try {
    parsed = JSON.parse(body.toString('utf8')) as GigaChatTokenResponse;
  } catch {
    throw new UpstreamError('GigaChat OAuth answered with something that is not JSON.', {
      code: 'upstream_auth_error',
    });
  }
  const accessToken = parsed.access_token ?? parsed.tok;
  const expires = parsed.expires_at ?? parsed.exp;
  if (typeof accessToken !== 'string' || accessToken === '' || typeof expires !== 'number') {
    throw new UpstreamError('GigaChat OAuth answered without an access token and expiry.', {
      code: 'upstream_auth_error',
    });
  }
  // The API documents milliseconds; older pages show seconds. 1e12 ms is 2001, 1e12 s is far future.
  return { accessToken, expiresAtMs: expires < 1e12 ? expires * 1000 : expires };
}
