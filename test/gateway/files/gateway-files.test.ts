import { createHash } from 'node:crypto';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@keyv/redis';
import { expect } from 'chai';
import { GatewayFiles } from '../../../gateway/files/gateway-files.ts';
import type { StoreSettings } from '../../../gateway/lib/env.ts';
import { createLogger } from '../../../gateway/lib/logger.ts';
import { openStore, type Store } from '../../../gateway/lib/store.ts';
import { tempDir } from '../../helpers/gateway.ts';
import { RedisServer } from '../../helpers/redis-server.ts';

// The gateway's own files (POST /v1/files) on the real SQLite store and disk: owners kept apart,
// and the expiry sweep deleting every expired file, however many (the store lists them in pages).
// On both kinds of store: SQLite pages by offset, Redis scans.

function behavesAsAFileStore(settings: (dir: string) => StoreSettings) {
  let dir: string;
  let store: Store;
  let files: GatewayFiles;
  let now: number;

  const save = (owner: string | undefined, text: string, expiresAfterSeconds?: number) => {
    const tempPath = join(files.incomingDir, `upload-${text}`);
    writeFileSync(tempPath, text);
    return files.save(owner, {
      tempPath,
      filename: `${text}.txt`,
      bytes: text.length,
      mimeType: 'text/plain',
      sha256: createHash('sha256').update(text).digest('hex'),
      purpose: 'user_data',
      expiresAfterSeconds,
    });
  };

  beforeEach(async () => {
    dir = tempDir();
    store = await openStore(settings(dir));
    now = Date.UTC(2026, 11, 7);
    files = new GatewayFiles({ dir: join(dir, 'files'), store, logger: createLogger('silent'), now: () => now });
  });
  afterEach(async () => {
    files.close();
    await store.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps each owner's files to that owner, the open API's ('') apart from every key's", async () => {
    const alice = await save('alice', 'a');
    const open = await save(undefined, 'o');
    expect((await files.list('alice')).map((file) => file.id)).to.deep.equal([alice.id]);
    expect((await files.list(undefined)).map((file) => file.id)).to.deep.equal([open.id]);
    expect(await files.find('bob', alice.id)).to.equal(undefined);
    expect(await files.delete('bob', alice.id)).to.equal(false);
    expect(await files.find('alice', alice.id)).to.deep.include({ filename: 'a.txt', bytes: 1 });
  });

  it('sweeps every expired file of every owner, more than a page of the store, and keeps the rest', async () => {
    const expiring = [];
    for (let index = 0; index < 25; index++) expiring.push(await save(index % 2 ? 'alice' : 'bob', `x${index}`, 3600));
    const kept = await save('alice', 'kept');
    const later = await save('bob', 'later', 7200);
    now += 3600 * 1000;
    // Expired files are not found even before the sweep.
    expect(await files.find('alice', expiring[1]?.id ?? '')).to.equal(undefined);
    expect(await files.sweep()).to.equal(25);
    expect(readdirSync(join(dir, 'files')).sort()).to.deep.equal([kept.id, later.id, 'incoming'].sort());
    expect((await files.list('alice')).map((file) => file.id)).to.deep.equal([kept.id]);
    expect((await files.list('bob')).map((file) => file.id)).to.deep.equal([later.id]);
    expect(await files.sweep()).to.equal(0);
  });
}

describe('GatewayFiles: per-owner files on disk, swept when expired', () => {
  describe('on SQLite', () => {
    behavesAsAFileStore((dir) => ({ kind: 'sqlite', path: join(dir, 'store.sqlite') }));
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
    behavesAsAFileStore(() => ({ kind: 'redis', url: redis.url }));
  });
});
