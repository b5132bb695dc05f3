import type { RedisClientConnectionType } from '@keyv/redis';
import { redisClientOf, type Store } from '../lib/store.ts';
import { parseUsageKey, type UsageRow, usageKey } from './usage-row.ts';

/** Where usage rows are summed and kept. */
export interface UsageStore {
  /** Adds the rows' counts to the stored ones. */
  add(rows: readonly UsageRow[]): Promise<void>;
  /** Every stored row of these dates. */
  read(dates: readonly string[]): Promise<UsageRow[]>;
}

/** Usage is kept at least this long (a year, and a margin for year-on-year comparisons). */
export const USAGE_TTL_MS = 400 * 24 * 60 * 60 * 1000;

type Counts = [requests: number, promptTokens: number, completionTokens: number];

function groupByDate(rows: readonly UsageRow[]): Map<string, UsageRow[]> {
  const days = new Map<string, UsageRow[]>();
  for (const row of rows) days.set(row.date, [...(days.get(row.date) ?? []), row]);
  return days;
}

function toRow(date: string, key: string, counts: Counts): UsageRow {
  const [requests, prompt_tokens, completion_tokens] = counts;
  return { date, ...parseUsageKey(key), requests, prompt_tokens, completion_tokens };
}

/**
 * Usage in a keyv store as one entry per day. Read-modify-write is safe here because this is
 * only used for SQLite, whose file one process owns, and the policy writes one batch at a time.
 */
export function keyvUsageStore(store: Store): UsageStore {
  const entry = (date: string) => `usage:${date}`;
  return {
    async add(rows) {
      for (const [date, dayRows] of groupByDate(rows)) {
        const day = ((await store.get(entry(date))) ?? {}) as Record<string, Counts>;
        for (const row of dayRows) {
          const key = usageKey(row.client, row.provider, row.model, row.credential);
          const [requests, prompt, completion] = day[key] ?? [0, 0, 0];
          day[key] = [requests + row.requests, prompt + row.prompt_tokens, completion + row.completion_tokens];
        }
        await store.set(entry(date), day, USAGE_TTL_MS);
      }
    },
    async read(dates) {
      const days = (await store.getMany(dates.map(entry))) as (Record<string, Counts> | undefined)[];
      return dates.flatMap((date, index) =>
        Object.entries(days[index] ?? {}).map(([key, counts]) => toRow(date, key, counts)),
      );
    },
  };
}

const FIELDS = ['requests', 'prompt_tokens', 'completion_tokens'] as const;

/**
 * Usage in Redis as one hash per day, a field per row and counter, summed with HINCRBY: every
 * instance adds to the same counters, and no write depends on a read.
 */
export function redisUsageStore(client: () => Promise<RedisClientConnectionType>): UsageStore {
  const hash = (date: string) => `gateway:usage:${date}`;
  return {
    async add(rows) {
      const redis = await client();
      const writes: Promise<unknown>[] = [];
      for (const [date, dayRows] of groupByDate(rows)) {
        for (const row of dayRows) {
          const key = usageKey(row.client, row.provider, row.model, row.credential);
          for (const field of FIELDS) {
            if (row[field] !== 0 || field === 'requests')
              writes.push(redis.hIncrBy(hash(date), `${field} ${key}`, row[field]));
          }
        }
        writes.push(redis.pExpire(hash(date), USAGE_TTL_MS));
      }
      // Issued in one tick, so the client pipelines them.
      await Promise.all(writes);
    },
    async read(dates) {
      const redis = await client();
      const days = await Promise.all(dates.map((date) => redis.hGetAll(hash(date))));
      return dates.flatMap((date, index) => {
        const rows = new Map<string, Counts>();
        for (const [field, value] of Object.entries(days[index] ?? {})) {
          const space = field.indexOf(' ');
          const counter = FIELDS.indexOf(field.slice(0, space) as (typeof FIELDS)[number]);
          const key = field.slice(space + 1);
          if (counter === -1) continue;
          const counts = rows.get(key) ?? [0, 0, 0];
          counts[counter] = Number(value);
          rows.set(key, counts);
        }
        return [...rows].map(([key, counts]) => toRow(date, key, counts));
      });
    },
  };
}

/** The usage store that fits the gateway's store: Redis counters when shared, else keyv entries. */
export function usageStoreFor(store: Store): UsageStore {
  const redis = redisClientOf(store);
  return redis === undefined ? keyvUsageStore(store) : redisUsageStore(redis);
}
