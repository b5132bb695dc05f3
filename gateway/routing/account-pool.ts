import type { GatewayError } from '../openai/errors.ts';
import type { Provider } from '../providers/provider.ts';
import { retryAfterMs } from './retry-policy.ts';

/** An upstream account a call can be sent with: the provider built on its credential, and whose credential it is. */
export interface Account {
  provider: Provider;
  /** `operator:<name>` or `own`: the label of usage rows, metrics and log lines, never the secret. */
  credential: string;
}

/** One of the operator's credentials of a provider, with the provider that calls with it. */
export interface PoolMember {
  name: string;
  /** Its share of the calls; 0: a standby, used only while no weighted account is healthy. */
  weight: number;
  provider: Provider;
}

export interface AccountPoolOptions {
  /** How long an account rests after a 429 or 402 that came without Retry-After. */
  cooldownMs: number;
  now?: () => number;
  random?: () => number;
}

interface Member {
  name: string;
  weight: number;
  account: Account;
  /** `now()` until which it rests; 0 when it never did. */
  restsUntil: number;
}

/** The label of an operator credential: what usage, metrics and logs say paid. */
export function operatorCredential(name: string): string {
  return `operator:${name}`;
}

/**
 * The operator's accounts of one provider. Each attempt goes to a healthy account chosen by weight
 * (standbys, in their order, only when no weighted one is healthy); one that answered 429 or 402
 * rests for its Retry-After, else for the configured cooldown. When every account rests, a first
 * attempt still goes to the one whose rest ends first: a retry after the upstream's own wait has
 * somewhere to go, as with a single credential.
 */
export class AccountPool {
  readonly #members: Member[];
  readonly #cooldownMs: number;
  readonly #now: () => number;
  readonly #random: () => number;

  constructor(members: readonly PoolMember[], options: AccountPoolOptions) {
    if (members.length === 0) throw new Error('an account pool needs at least one account');
    this.#members = members.map(({ name, weight, provider }) => ({
      name,
      weight,
      account: { provider, credential: operatorCredential(name) },
      restsUntil: 0,
    }));
    this.#cooldownMs = options.cooldownMs;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  /** Every account, in the configured order, with its credential's name. */
  get members(): readonly { name: string; account: Account }[] {
    return this.#members.map(({ name, account }) => ({ name, account }));
  }

  /** The account that serves first-listed models and the model list. */
  get primary(): Account {
    return (this.#members[0] as Member).account;
  }

  /**
   * The account for the next attempt, leaving out those that already refused it (`tried`): a
   * healthy one, else — on a first attempt only — the one that rests the shortest; undefined when
   * none is left.
   */
  pick(tried: ReadonlySet<Account> = new Set()): Account | undefined {
    const now = this.#now();
    const open = this.#members.filter((member) => !tried.has(member.account));
    const healthy = open.filter((member) => member.restsUntil <= now);
    const weighted = healthy.filter((member) => member.weight > 0);
    if (weighted.length > 0) return this.#byWeight(weighted).account;
    if (healthy.length > 0) return (healthy[0] as Member).account;
    if (tried.size > 0 || open.length === 0) return undefined;
    return open.reduce((soonest, member) => (member.restsUntil < soonest.restsUntil ? member : soonest)).account;
  }

  /** Rests an account that answered 429 or 402: returns for how long, or undefined for any other failure. */
  rest(account: Account, error: GatewayError): number | undefined {
    if (error.status !== 429 && error.status !== 402) return undefined;
    const member = this.#members.find((candidate) => candidate.account === account);
    if (member === undefined) return undefined;
    const ms = retryAfterMs(error) ?? this.#cooldownMs;
    member.restsUntil = Math.max(member.restsUntil, this.#now() + ms);
    return ms;
  }

  #byWeight(members: readonly Member[]): Member {
    const total = members.reduce((sum, member) => sum + member.weight, 0);
    let point = this.#random() * total;
    for (const member of members) {
      point -= member.weight;
      if (point < 0) return member;
    }
    return members.at(-1) as Member;
  }
}
