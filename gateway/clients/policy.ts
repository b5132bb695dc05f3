import type { ClientLimits, Config } from '../config.ts';
import type { Client } from '../config-file.ts';
import type { Logger } from '../lib/logger.ts';
import { redisClientOf, type Store } from '../lib/store.ts';
import { GatewayError, PermissionDeniedError, RateLimitError } from '../openai/errors.ts';
import { type KeyDirectory, staticKeyDirectory } from './key-directory.ts';
import { MemoryRateWindows } from './memory-rate-windows.ts';
import { compileModelPatterns, type ModelMatcher } from './model-patterns.ts';
import { MonthSpend, tokensByClient, utcMonth } from './month-spend.ts';
import { hasRateLimits, type RateLimits, type RateRefusal } from './rate-check.ts';
import type { RateWindows } from './rate-windows.ts';
import { RedisRateWindows } from './redis-rate-windows.ts';
import { retryAfterSeconds } from './sliding-window.ts';
import { UsageBuffer } from './usage-buffer.ts';
import { compareUsageRows, dailyDate, type UsageQuery, type UsageRow, utcDate } from './usage-row.ts';
import { usageStoreFor } from './usage-store.ts';

/** The part of the gateway's Config the policy reads. */
export type ClientPolicyConfig = Pick<Config, 'clients' | 'defaultLimits'>;

export interface ClientPolicy {
  /** May this client use this model or alias name? (also used to filter GET /v1/models) `provider/model` names match a
   *  pattern by their full name or by the part after the slash. */
  allows(client: string | undefined, model: string): boolean;
  /** Before any upstream call, once per request: throws PermissionDeniedError (403, code `model_not_allowed`, param
   *  `model`) or RateLimitError (429, `Retry-After` header in whole seconds, code `rate_limit_exceeded`, message naming
   *  the limit: requests or tokens per minute). Counts the request against requests-per-minute. */
  admit(client: string | undefined, model: string): Promise<void>;
  /** After an answer (JSON done, or stream ended): one request and its tokens into the day's usage, tokens into the
   *  tokens-per-minute window. `model` is the upstream model that answered, `provider` its provider name. usage may be
   *  undefined (provider did not say): count the request, zero tokens. `credential` says whose credential paid
   *  (`operator:<name>` or `own`). Must not throw or block the caller. */
  record(
    client: string | undefined,
    provider: string,
    model: string,
    usage: { prompt_tokens: number; completion_tokens: number } | undefined,
    credential: string,
  ): void;
  /** The stored usage of a date range (buffered usage included), sorted; GET /admin/usage. */
  readUsage(query: UsageQuery): Promise<UsageRow[]>;
  /** This UTC month's tokens per key, and what is left of each budget; GET /admin/usage. */
  readMonth(): Promise<MonthUsage>;
  /** Flushes buffered usage to the store (graceful shutdown calls it before the store closes). */
  close(): Promise<void>;
}

/** One key's use of its monthly budget. */
export interface MonthKeyUsage {
  client: string;
  used_tokens: number;
  /** Absent when the key has no monthly budget. */
  monthly_token_budget?: number;
  remaining_tokens?: number;
}

/** This UTC month's tokens per key: every key with a budget, and every key that used tokens. */
export interface MonthUsage {
  month: string;
  resets_at: string;
  keys: MonthKeyUsage[];
}

export interface ClientPolicyOptions {
  config: ClientPolicyConfig;
  /** Every client, as it is now (keys made at run time included); by default config.clients. */
  clients?: Pick<KeyDirectory, 'byName' | 'all'>;
  store: Store;
  logger: Logger;
  /** Clock, for tests. */
  now?: () => number;
  /** How often buffered usage and tokens are written to the store. */
  flushIntervalMs?: number;
}

interface CompiledRules {
  allows: ModelMatcher;
  limits: RateLimits;
  limited: boolean;
  monthlyTokenBudget: number | undefined;
}

const ADMITTED = Promise.resolve();
/** After the store failed a check, requests are admitted without asking it for this long. */
const OUTAGE_PAUSE_MS = 5000;
/** A check the store has not answered by then counts as an outage: a silent connection must not hold requests. */
const CHECK_TIMEOUT_MS = 1000;
/** An outage is logged once a minute, not once a request. */
const OUTAGE_WARNING_INTERVAL_MS = 60_000;

function compile(rules: ClientLimits): CompiledRules {
  const limits: RateLimits = {};
  if (rules.requestsPerMinute !== undefined) limits.requestsPerMinute = rules.requestsPerMinute;
  if (rules.tokensPerMinute !== undefined) limits.tokensPerMinute = rules.tokensPerMinute;
  return {
    allows: compileModelPatterns(rules.models),
    limits,
    limited: hasRateLimits(limits),
    monthlyTokenBudget: rules.monthlyTokenBudget,
  };
}

function budgetError(client: string, budget: number, resetsAt: string): GatewayError {
  // 429 as OpenAI answers a spent quota; x-should-retry stops the SDKs' retries, which cannot help before the reset.
  return new GatewayError(
    429,
    'insufficient_quota',
    `The key "${client}" has used its monthly budget of ${budget} tokens; it resets at ${resetsAt}.`,
    { code: 'budget_exceeded', headers: { 'x-should-retry': 'false' } },
  );
}

function rateLimitError(client: string | undefined, refusal: RateRefusal): RateLimitError {
  const seconds = retryAfterSeconds(refusal.waitMs);
  const who = client === undefined ? 'this gateway' : `the key "${client}"`;
  const unit = refusal.limit === 'requests' ? 'requests per minute' : 'tokens per minute';
  return new RateLimitError(`Rate limit reached for ${who}: ${refusal.perMinute} ${unit}. Try again in ${seconds} s.`, {
    headers: { 'retry-after': String(seconds) },
  });
}

/** Allowed models, rate limits and usage accounting per client key. */
export function createClientPolicy(options: ClientPolicyOptions): ClientPolicy {
  const { config, store, logger } = options;
  const now = options.now ?? Date.now;
  // Requests without a client (an open API on loopback) get the file's defaults.
  const fallback = compile(config.defaultLimits);
  const clients = options.clients ?? staticKeyDirectory(config.clients);
  const clientNamed = clients.byName;
  // A record is replaced when its key changes, so compiled rules are cached per record.
  const compiled = new WeakMap<Client, CompiledRules>();
  const rulesOf = (name: string | undefined): CompiledRules => {
    const client = name === undefined ? undefined : clientNamed(name);
    if (client === undefined) return fallback;
    let rules = compiled.get(client);
    if (rules === undefined) {
      rules = compile(client);
      compiled.set(client, rules);
    }
    return rules;
  };
  const redis = redisClientOf(store);
  const windows: RateWindows = redis === undefined ? new MemoryRateWindows(now) : new RedisRateWindows(redis, now);
  const usageStore = usageStoreFor(store);
  const buffer = new UsageBuffer();
  const dateOf = dailyDate();
  let flushing: Promise<void> = Promise.resolve();
  let storeDownUntil = Number.NEGATIVE_INFINITY;
  let lastOutageWarning = Number.NEGATIVE_INFINITY;

  /** Writes buffered usage and tokens, one batch at a time; a failed batch returns to the buffer. */
  const flush = (): Promise<void> => {
    flushing = flushing.then(async () => {
      const rows = buffer.drain();
      const writes = [windows.flush()];
      if (rows.length > 0) writes.push(usageStore.add(rows));
      const [tokens, usage] = await Promise.allSettled(writes);
      if (usage?.status === 'rejected') for (const row of rows) buffer.add(row);
      const failure = [tokens, usage].find((result) => result?.status === 'rejected') as
        | PromiseRejectedResult
        | undefined;
      if (failure !== undefined)
        logger.warn({ err: failure.reason }, 'client usage: cannot write to the store; will retry');
    });
    return flushing;
  };
  const readRows = async (dates: readonly string[]) => {
    await flush();
    return usageStore.read(dates);
  };
  const spend = new MonthSpend(readRows, now);

  /** Refuses a key whose month's tokens reached its budget, from memory when it can; a store that does not answer admits. */
  const checkBudget = (client: string, budget: number): Promise<void> => {
    const judge = (spent: number): Promise<void> =>
      spent < budget ? ADMITTED : Promise.reject(budgetError(client, budget, utcMonth(now()).resetsAt));
    const spent = spend.spent(client);
    if (typeof spent === 'number') return judge(spent);
    return withTimeout(spent, CHECK_TIMEOUT_MS).then(judge, storeDown);
  };

  /** A store outage must not stop the API, nor make every request wait for a reconnection. */
  const storeDown = (error: unknown) => {
    storeDownUntil = now() + OUTAGE_PAUSE_MS;
    if (now() - lastOutageWarning < OUTAGE_WARNING_INTERVAL_MS) return;
    lastOutageWarning = now();
    logger.warn({ err: error }, 'client limits: the store did not answer; requests are admitted uncounted');
  };

  const timer = setInterval(() => {
    if (buffer.size > 0 || !(windows instanceof MemoryRateWindows)) void flush();
  }, options.flushIntervalMs ?? 2000);
  timer.unref();

  return {
    allows: (client, model) => rulesOf(client).allows(model),

    admit(client, model) {
      const compiled = rulesOf(client);
      if (!compiled.allows(model)) {
        const who = client === undefined ? 'This gateway' : `The key "${client}"`;
        return Promise.reject(
          new PermissionDeniedError(`${who} may not use the model "${model}".`, {
            param: 'model',
            code: 'model_not_allowed',
          }),
        );
      }
      const budget = client === undefined ? undefined : compiled.monthlyTokenBudget;
      if ((!compiled.limited && budget === undefined) || now() < storeDownUntil) return ADMITTED;
      const budgetChecked = budget === undefined ? ADMITTED : checkBudget(client as string, budget);
      if (!compiled.limited) return budgetChecked;
      return budgetChecked.then(() =>
        withTimeout(windows.take(client ?? '', compiled.limits), CHECK_TIMEOUT_MS).then((refusal) => {
          if (refusal !== undefined) throw rateLimitError(client, refusal);
        }, storeDown),
      );
    },

    record(client, provider, model, usage, credential) {
      const prompt = usage?.prompt_tokens ?? 0;
      const completion = usage?.completion_tokens ?? 0;
      buffer.add({
        date: dateOf(now()),
        client: client ?? null,
        provider,
        model,
        credential,
        requests: 1,
        prompt_tokens: prompt,
        completion_tokens: completion,
      });
      const rules = rulesOf(client);
      if (rules.limits.tokensPerMinute !== undefined && prompt + completion > 0) {
        windows.addTokens(client ?? '', prompt + completion);
      }
      if (client !== undefined && prompt + completion > 0) spend.add(client, prompt + completion);
    },

    async readUsage(query) {
      await flush();
      const dates: string[] = [];
      for (let day = Date.parse(query.from); day <= Date.parse(query.to); day += 86_400_000) dates.push(utcDate(day));
      const rows = await usageStore.read(dates);
      return rows
        .filter((row) => query.client === undefined || row.client === query.client)
        .filter(
          (row) =>
            query.model === undefined || row.model === query.model || `${row.provider}/${row.model}` === query.model,
        )
        .sort(compareUsageRows);
    },

    async readMonth() {
      const { month, dates, resetsAt } = utcMonth(now());
      const used = tokensByClient(await readRows(dates));
      const keys: MonthKeyUsage[] = [];
      const named = new Set<string>();
      for (const client of clients.all()) {
        named.add(client.name);
        const budget = client.monthlyTokenBudget;
        const tokens = used.get(client.name) ?? 0;
        if (budget === undefined && tokens === 0) continue;
        const row: MonthKeyUsage = { client: client.name, used_tokens: tokens };
        if (budget !== undefined) {
          row.monthly_token_budget = budget;
          row.remaining_tokens = Math.max(0, budget - tokens);
        }
        keys.push(row);
      }
      // Keys revoked or renamed since keep their rows.
      for (const [client, tokens] of used) if (!named.has(client)) keys.push({ client, used_tokens: tokens });
      keys.sort((a, b) => a.client.localeCompare(b.client));
      return { month, resets_at: resetsAt, keys };
    },

    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}

/** `work`, or a rejection once `ms` passed without its answer. */
function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
