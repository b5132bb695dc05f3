import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@keyv/redis';
import { expect } from 'chai';
import type { StoreSettings } from '../../../gateway/lib/env.ts';
import { createLogger } from '../../../gateway/lib/logger.ts';
import { openStore, type Store } from '../../../gateway/lib/store.ts';
import { responseShell } from '../../../gateway/openai/response-builder.ts';
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

  const saved = async (id: string, owner: string | undefined): Promise<StoredResponse> => {
    const record: StoredResponse = {
      owner,
      response: responseShell({ model: 'GigaChat', input: [] }, id, Math.floor(now / 1000), 'in_progress'),
      input: [],
      expiresAt: responses.expiry(),
    };
    await responses.appendEvents(record, '{"type":"response.created","sequence_number":0}\n');
    await responses.save(record);
    return record;
  };

  beforeEach(async () => {
    dir = tempDir();
    store = await openStore(settings(dir));
    // The store's own TTLs run on the wall clock, longer than the test moves `now`: only the sweep removes.
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

  it('sweeps every expired response and its events, and keeps the others', async () => {
    const old = await Promise.all(Array.from({ length: 25 }, (_value, index) => saved(`resp_old${index}`, 'alice')));
    now += HOUR;
    await saved('resp_new', 'alice');
    now += HOUR + 1;
    expect(await responses.sweepNow()).to.equal(25);
    for (const record of old) expect(await responses.find(record.response.id)).to.equal(undefined);
    expect(await responses.events('resp_old0', 0)).to.equal(undefined);
    expect(await responses.find('resp_new')).to.not.equal(undefined);
    expect(await responses.events('resp_new', 0)).to.be.a('string');
  });
}

describe('ResponseStore: stored responses, per key, swept after the retention', () => {
  describe('on SQLite', () => {
    behavesAsAResponseStore((dir) => ({ kind: 'sqlite', path: join(dir, 'store.sqlite') }));
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
    behavesAsAResponseStore(() => ({ kind: 'redis', url: redis.url }));
  });
});
