import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseUsageKey, usageKey } from '../../../gateway/clients/usage-row.ts';
import { keyvUsageStore, redisUsageStore } from '../../../gateway/clients/usage-store.ts';
import { openStore, redisClientOf, type Store } from '../../../gateway/lib/store.ts';
import { tempDir } from '../../helpers/gateway.ts';
import { RedisServer } from '../../helpers/redis-server.ts';

const DATE = '2026-11-21';
const row = (credential: string | null, requests: number) => ({
  date: DATE,
  client: '1c-accounting',
  provider: 'gigachat',
  model: 'GigaChat-2-Max',
  credential,
  requests,
  prompt_tokens: requests * 10,
  completion_tokens: requests,
});

describe('usage rows: whose credential paid', () => {
  it('keys a row by its credential too; a key of three (stored before credentials were named) reads as null', () => {
    const key = usageKey('1c', 'gigachat', 'GigaChat', 'operator:project-a');
    expect(parseUsageKey(key)).to.deep.equal({
      client: '1c',
      provider: 'gigachat',
      model: 'GigaChat',
      credential: 'operator:project-a',
    });
    expect(parseUsageKey(JSON.stringify([null, 'gemini', 'gemini-2.5-flash']))).to.deep.equal({
      client: null,
      provider: 'gemini',
      model: 'gemini-2.5-flash',
      credential: null,
    });
  });

  it('SQLite: rows stored before still read, beside the new ones', async () => {
    const dir = tempDir();
    const store: Store = await openStore({ kind: 'sqlite', path: join(dir, 'store.sqlite') });
    try {
      // What an older version wrote: one entry per day, keys of three.
      await store.set(`usage:${DATE}`, {
        [JSON.stringify(['1c-accounting', 'gigachat', 'GigaChat-2-Max'])]: [2, 20, 2],
      });
      const usage = keyvUsageStore(store);
      await usage.add([row('operator:default', 1), row('own', 3)]);
      expect(await usage.read([DATE])).to.deep.equal([row(null, 2), row('operator:default', 1), row('own', 3)]);
    } finally {
      await store.disconnect();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Redis: fields stored before still read, beside the new ones', async () => {
    const redis = await RedisServer.start();
    const store = await openStore({ kind: 'redis', url: redis.url });
    try {
      const client = redisClientOf(store) as NonNullable<ReturnType<typeof redisClientOf>>;
      const old = JSON.stringify(['1c-accounting', 'gigachat', 'GigaChat-2-Max']);
      await (await client()).hSet(`gateway:usage:${DATE}`, {
        [`requests ${old}`]: '2',
        [`prompt_tokens ${old}`]: '20',
        [`completion_tokens ${old}`]: '2',
      });
      const usage = redisUsageStore(client);
      await usage.add([row('operator:project-b', 1)]);
      const rows = await usage.read([DATE]);
      expect(rows).to.have.deep.members([row(null, 2), row('operator:project-b', 1)]);
    } finally {
      await store.disconnect();
      await redis.stop();
    }
  });
});
