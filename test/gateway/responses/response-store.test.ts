import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@keyv/redis';
import { expect } from 'chai';
import type { StoreSettings } from '../../../gateway/lib/env.ts';
import { createLogger } from '../../../gateway/lib/logger.ts';
import { openStore, type Store } from '../../../gateway/lib/store.ts';
import { responseShell } from '../../../gateway/responses/response-builder.ts';
import { ResponseStore, type StoredResponse } from '../../../gateway/responses/response-store.ts';
import { tempDir } from '../../helpers/gateway.ts';
import { RedisServer } from '../../helpers/redis-server.ts';

// Stored responses on the real stores: a key finds only its own, and the retention sweep removes
// every expired response with its stream events, however many (SQLite lists them in pages).

const HOUR = 3_600_000;

function behavesAsAResponseStore(settings: (dir: string) => StoreSettings) {
  let dir: string;
  let store: Store;
  let responses: ResponseStore;
  let now: number;

  const saved = async (id: string, owner: string | undefined, into?: ResponseStore): Promise<StoredResponse> => {
    const target = into ?? responses;
    const record: StoredResponse = {
      owner,
      response: responseShell({ model: 'GigaChat', input: [] }, id, Math.floor(now / 1000), 'in_progress'),
      input: [],
      expiresAt: target.expiry(),
    };
    await target.appendEvents(record, '{"type":"response.created","sequence_number":0}\n');
    await target.save(record);
    return record;
  };

  beforeEach(async () => {
    dir = tempDir();
    store = await openStore(settings(dir));
    // The sweep's clock; the store's TTLs run from the wall clock, which starts at the same time.
    now = Date.now();
    responses = new ResponseStore({ store, retentionMs: 2 * HOUR, logger: createLogger('silent'), now: () => now });
  });
  afterEach(async () => {
    responses.close();
    await store.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it("finds a key's response for that key only, and the open API's for nobody else", async () => {
    await saved('resp_a', 'alice');
    await saved('resp_open', undefined);
    expect((await responses.get('resp_a', 'alice')).owner).to.equal('alice');
    for (const [id, owner] of [
      ['resp_a', 'bob'],
      ['resp_a', undefined],
      ['resp_open', 'alice'],
    ] as const) {
      const error = await responses.get(id, owner).catch((failure: unknown) => failure);
      expect(error, `${id} for ${owner}`).to.have.property('status', 404);
    }
    const previous = await responses.get('resp_a', 'bob', 'previous_response_id').catch((failure: unknown) => failure);
    expect(previous).to.include({ param: 'previous_response_id', code: 'previous_response_not_found' });
  });

  return {
    /** The test's clock, for the sweep. */
    advance: (ms: number) => {
      now += ms;
    },
    saved,
    get responses() {
      return responses;
    },
    get store() {
      return store;
    },
  };
}

describe('ResponseStore: stored responses, per key, swept after the retention', () => {
  describe('on SQLite', () => {
    const context = behavesAsAResponseStore((dir) => ({ kind: 'sqlite', path: join(dir, 'store.sqlite') }));

    it('sweeps every expired response with its events, however many, and keeps the others', async () => {
      const { responses, store, saved, advance } = context;
      // The old ones through a store that keeps responses one hour: their TTLs run out first.
      const shortLived = new ResponseStore({ store, retentionMs: HOUR, logger: createLogger('silent') });
      const old = await Promise.all(
        Array.from({ length: 25 }, (_value, index) => saved(`resp_old${index}`, 'alice', shortLived)),
      );
      await saved('resp_new', 'alice');
      advance(HOUR + 60_000);
      expect(await responses.sweepNow()).to.equal(50); // 25 records and their 25 event batches
      for (const record of old) expect(await responses.find(record.response.id)).to.equal(undefined);
      expect(await responses.events('resp_old0', 0)).to.equal(undefined);
      expect(await responses.find('resp_new')).to.not.equal(undefined);
      expect(await responses.events('resp_new', 0)).to.be.a('string');
    });
  });

  describe('on Redis', () => {
    let redis: RedisServer;
    before(async () => {
      redis = await RedisServer.start();
    });
    after(async () => {
      await redis?.stop();
    });
    afterEach(async () => {
      const client = createClient({ url: redis.url });
      await client.connect();
      await client.flushAll();
      await client.close();
    });
    const context = behavesAsAResponseStore(() => ({ kind: 'redis', url: redis.url }));

    it('gives every key of a response the retention as its TTL, so Redis expires it', async () => {
      await context.saved('resp_a', 'alice');
      const client = createClient({ url: redis.url });
      await client.connect();
      try {
        for (const key of ['responses::responses:resp:resp_a', 'responses::responses:events:resp_a:0']) {
          const ttl = await client.pTTL(key);
          expect(ttl, key).to.be.within(2 * HOUR - 60_000, 2 * HOUR);
        }
      } finally {
        await client.close();
      }
    });
  });
});
