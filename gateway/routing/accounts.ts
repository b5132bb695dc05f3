import type { Client } from '../config-file.ts';
import { type GatewayError, ServiceUnavailableError, toGatewayError } from '../openai/errors.ts';
import type { Provider } from '../providers/provider.ts';
import { PROVIDERS, type ProviderDeps, type ProviderRegistry } from '../providers/registry.ts';
import { type Account, AccountPool, operatorCredential } from './account-pool.ts';
import type { Target } from './model-router.ts';
import { OwnCredentialRefusedError } from './own-credential-refused.ts';
import { OwnProviders } from './own-providers.ts';

/** The credential label of calls made with a key's own credential. */
export const OWN_CREDENTIAL = 'own';

/** A target as one attempt sends it: the provider of the account chosen, and whose credential that is. */
export interface AccountTarget extends Target {
  /** `operator:<name>` or `own`. */
  credential: string;
}

export interface AccountAttempt<T> {
  value: T;
  target: AccountTarget;
}

/** What the caller learns while one attempt moves between the operator's accounts. */
export interface AccountHooks {
  /** An operator account answered 429 or 402 and rests `restMs`; `next` serves the attempt now, if any is left. */
  resting?(target: AccountTarget, error: GatewayError, restMs: number, next: string | undefined): void;
}

/** What one attempt needs besides its target. */
export interface AttemptContext {
  /** The client whose request it is; its own credential for the provider, when it brings one, is the only one used. */
  client: Client | undefined;
  /** The client left: no other account is tried. */
  signal: AbortSignal;
  /** Keeps a provider on the client's own credential in use until the exchange ends (a stream outlives the attempt). */
  hold(release: () => void): void;
  hooks?: AccountHooks;
}

/**
 * Every account the gateway calls upstreams with: the operator's pool per provider (account-pool.ts)
 * and the providers on keys' own credentials (own-providers.ts).
 */
export class Accounts {
  readonly #pools: ReadonlyMap<string, AccountPool>;
  readonly #own: OwnProviders;

  constructor(pools: ReadonlyMap<string, AccountPool>, own: OwnProviders = new OwnProviders(() => undefined)) {
    this.#pools = pools;
    this.#own = own;
  }

  /** One provider per registered one, as its only operator account (tests that build an app by hand). */
  static ofRegistry(registry: ProviderRegistry): Accounts {
    const pools = new Map(
      registry.providers.map((provider) => [
        provider.name,
        new AccountPool([{ name: 'default', weight: 1, provider }], { cooldownMs: 60_000 }),
      ]),
    );
    return new Accounts(pools);
  }

  /** The operator's accounts of a provider; undefined when it has none. */
  pool(provider: string): AccountPool | undefined {
    return this.#pools.get(provider);
  }

  /** A provider on the client's own credential, for routing to a provider the operator has no credential for. */
  ownProvider(provider: string, client: Client | undefined): Provider | undefined {
    if (client?.own === undefined) return undefined;
    const lease = this.#own.acquire(provider, client.own);
    lease?.release();
    return lease?.provider;
  }

  /**
   * Sends one attempt at `target`: with the client's own credential for its provider when it brings
   * one (never with the operator's), else with an account of the operator's pool. An operator account
   * that answers 429 or 402 rests and the next healthy one is tried at once; when none is left, that
   * failure goes back to the caller's retries and fallbacks.
   */
  async attempt<T>(
    target: Target,
    context: AttemptContext,
    send: (target: AccountTarget) => Promise<T>,
  ): Promise<AccountAttempt<T>> {
    const name = target.provider.name;
    const own = context.client?.own;
    if (own !== undefined && (own as Record<string, unknown>)[name] !== undefined) {
      const lease = this.#own.acquire(name, own);
      if (lease === undefined) throw notConfigured(target.provider);
      context.hold(lease.release);
      const sent: AccountTarget = { provider: lease.provider, model: target.model, credential: OWN_CREDENTIAL };
      try {
        return { value: await send(sent), target: sent };
      } catch (error) {
        throw refusedOwn(error, lease.provider);
      }
    }
    const pool = this.#pools.get(name);
    if (pool === undefined) throw notConfigured(target.provider);
    const tried = new Set<Account>();
    // A first pick always finds one: every account, resting or not, is open to it.
    let account = pool.pick(tried) as Account;
    for (;;) {
      const sent: AccountTarget = { provider: account.provider, model: target.model, credential: account.credential };
      try {
        return { value: await send(sent), target: sent };
      } catch (error) {
        const failure = toGatewayError(error);
        const restMs = context.signal.aborted ? undefined : pool.rest(account, failure);
        if (restMs === undefined) throw error;
        tried.add(account);
        const next = pool.pick(tried);
        context.hooks?.resting?.(sent, failure, restMs, next?.credential);
        if (next === undefined) throw error;
        account = next;
      }
    }
  }

  /** Closes every provider (the gateway has stopped serving). */
  async close(): Promise<void> {
    const providers = [...this.#pools.values()].flatMap((pool) => pool.members.map(({ account }) => account.provider));
    await Promise.all([...providers.map((provider) => provider.close?.()), this.#own.close()]);
  }
}

/** The operator's pools, one provider per configured credential, and keys' own providers built on first use. */
export function createAccounts(deps: ProviderDeps): Accounts {
  const { config, logger } = deps;
  const pools = new Map<string, AccountPool>();
  for (const entry of PROVIDERS) {
    const members = entry.credentials(config).map(({ name, weight, settings }) => ({
      name,
      weight,
      provider: entry.create({ ...deps, logger: logger.child({ credential: operatorCredential(name) }) }, settings),
    }));
    if (members.length > 0)
      pools.set(entry.name, new AccountPool(members, { cooldownMs: config.credentialCooldownMs }));
  }
  const ownLogger = logger.child({ credential: OWN_CREDENTIAL });
  const own = new OwnProviders((name, credentials) => {
    const entry = PROVIDERS.find((candidate) => candidate.name === name);
    const settings = entry?.own(config, credentials);
    return entry === undefined || settings === undefined
      ? undefined
      : entry.create({ ...deps, logger: ownLogger }, settings);
  });
  return new Accounts(pools, own);
}

function notConfigured(provider: Provider): ServiceUnavailableError {
  return new ServiceUnavailableError(`${provider.displayName} has no credential on this gateway.`, {
    code: 'provider_not_configured',
    headers: { 'x-should-retry': 'false' },
  });
}

/** An own credential the upstream refused: said as such, without the operator's hints (GIGACHAT_CREDENTIALS …). */
function refusedOwn(error: unknown, provider: Provider): unknown {
  const failure = toGatewayError(error);
  if (failure.code !== 'upstream_auth_error' || failure.headers['x-should-retry'] !== 'false') return error;
  return new OwnCredentialRefusedError(provider.displayName);
}
