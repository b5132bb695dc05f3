import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { type GigaChatSettings, loadConfig } from '../../../../gateway/config.ts';
import { createLogger } from '../../../../gateway/lib/logger.ts';
import { SecretBox } from '../../../../gateway/lib/secrets/secret-box.ts';
import { openStore, type Store } from '../../../../gateway/lib/store.ts';
import { GigaChatClient } from '../../../../gateway/providers/gigachat/client.ts';
import {
  GigaChatTokenCache,
  gigaChatTokenKey,
  requestGigaChatToken,
} from '../../../../gateway/providers/gigachat/token.ts';
import { GigaChatUploads, type UploadContent } from '../../../../gateway/providers/gigachat/uploads.ts';
import { createAgent } from '../../../../gateway/providers/upstream.ts';
import { tempDir } from '../../../helpers/gateway.ts';
import { GigaChatMock } from '../../../helpers/gigachat-mock.ts';

// Issue 19, point 3: the same bytes are uploaded once per GigaChat account, and deleted from
// GigaChat once the retention is over. The real SQLite store and a local GigaChat.

const HOUR = 3_600_000;

describe('GigaChatUploads: one upload per bytes and account, deleted after the retention', () => {
  let gigachat: GigaChatMock;
  let store: Store;
  let dir: string;
  let now: number;

  function uploadsFor(credentials = loadConfig(gigachat.env()).gigachat.credentials[0]?.settings) {
    if (credentials === undefined) throw new Error('no GigaChat settings');
    const agent = createAgent();
    const logger = createLogger('silent');
    const tokens = new GigaChatTokenCache({
      store,
      box: new SecretBox([randomBytes(32)]),
      storeKey: gigaChatTokenKey(credentials),
      fetchToken: () => requestGigaChatToken(credentials, agent, 5000),
      logger,
    });
    const client = new GigaChatClient(credentials.baseUrl, agent, tokens, 5000);
    return new GigaChatUploads({
      store,
      settings: credentials,
      client,
      retentionMs: 24 * HOUR,
      logger,
      now: () => now,
    });
  }

  const content = (bytes: Buffer): UploadContent => ({
    sha256: createHash('sha256').update(bytes).digest('hex'),
    type: 'text/plain',
    filename: 'note.txt',
    content: async () => new Blob([bytes], { type: 'text/plain' }),
    param: 'messages[0].content[0]',
  });
  const call = () => ({ signal: new AbortController().signal });
  const uploadCount = () => gigachat.requestsTo('/api/v1/files').length;

  beforeEach(async () => {
    gigachat = await GigaChatMock.start();
    dir = tempDir();
    store = await openStore({ kind: 'sqlite', path: join(dir, 'store.sqlite') });
    now = Date.UTC(2026, 11, 7);
  });
  afterEach(async () => {
    await store.disconnect();
    await gigachat.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reuses an upload within the retention, also from another instance on the same store, and shares one under way', async () => {
    const note = content(Buffer.from('Счёт № 17'));
    const first = uploadsFor();
    const [a, b] = await Promise.all([first.idFor(note, call()), first.idFor(note, call())]);
    expect(a).to.equal(b);
    now += 23 * HOUR;
    expect(await uploadsFor().idFor(note, call())).to.equal(a);
    expect(uploadCount()).to.equal(1);
    expect(gigachat.files.get(a)?.data.toString()).to.equal('Счёт № 17');
  });

  it('uploads again after the retention and deletes the old file from GigaChat', async () => {
    const uploads = uploadsFor();
    const note = content(Buffer.from('old'));
    const old = await uploads.idFor(note, call());
    now += 25 * HOUR;
    const renewed = await uploads.idFor(note, call());
    expect(renewed).not.to.equal(old);
    // The old id's delete is not awaited by idFor; the storage shows it gone once it ran.
    for (let tries = 0; gigachat.files.has(old) && tries < 100; tries++) await new Promise((r) => setTimeout(r, 10));
    expect([...gigachat.files.keys()]).to.deep.equal([renewed]);
  });

  it("sweeps uploads past the retention (and a grace for requests in flight), and only this account's", async () => {
    gigachat.accepted.add(Buffer.from('other:secret').toString('base64'));
    const settings = loadConfig(gigachat.env()).gigachat.credentials[0]?.settings as GigaChatSettings;
    const other = uploadsFor({ ...settings, credentials: Buffer.from('other:secret').toString('base64') });
    const uploads = uploadsFor();
    const mine = await uploads.idFor(content(Buffer.from('mine')), call());
    const theirs = await other.idFor(content(Buffer.from('theirs')), call());
    now += 24 * HOUR + 60_000;
    expect(await uploads.sweep()).to.equal(0);
    now += 15 * 60_000;
    expect(await uploads.sweep()).to.equal(1);
    expect(gigachat.files.has(mine)).to.equal(false);
    expect(gigachat.files.has(theirs)).to.equal(true);
    expect(gigachat.requestsTo(`/api/v1/files/${mine}/delete`)).to.have.length(1);
    // Swept means forgotten: the next request uploads again.
    await uploads.idFor(content(Buffer.from('mine')), call());
    expect(uploadCount()).to.equal(3);
  });

  it('sweeps every upload past the retention, more than a page of the store', async () => {
    const uploads = uploadsFor();
    for (let index = 0; index < 25; index++) await uploads.idFor(content(Buffer.from(`note ${index}`)), call());
    now += 25 * HOUR;
    expect(await uploads.sweep()).to.equal(25);
    expect(gigachat.files.size).to.equal(0);
  });

  it('forgets ids GigaChat no longer has', async () => {
    const uploads = uploadsFor();
    const note = content(Buffer.from('gone'));
    const id = await uploads.idFor(note, call());
    await uploads.forget([id]);
    expect(await uploads.idFor(note, call())).not.to.equal(id);
  });
});
