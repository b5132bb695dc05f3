import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../../../gateway/config.ts';
import { createAgent } from '../../../../gateway/lib/http-request.ts';
import { createLogger } from '../../../../gateway/lib/logger.ts';
import { SecretBox } from '../../../../gateway/lib/secrets/secret-box.ts';
import { openStore, type Store } from '../../../../gateway/lib/store.ts';
import {
  GigaChatTokenCache,
  gigaChatTokenKey,
  requestGigaChatToken,
} from '../../../../gateway/providers/gigachat/token.ts';
import { startTestGateway, tempDir } from '../../../helpers/gateway.ts';
import { GigaChatMock, TEST_CREDENTIALS } from '../../../helpers/gigachat-mock.ts';

const ask = { model: 'GigaChat', messages: [{ role: 'user' as const, content: 'Привет' }] };

describe('GigaChat token', () => {
  let mock: GigaChatMock;
  let dir: string;

  beforeEach(async () => {
    mock = await GigaChatMock.start();
    dir = tempDir();
  });
  afterEach(async () => {
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('through the gateway', () => {
    it('N concurrent requests on a cold cache make exactly one OAuth call', async () => {
      mock.oauthDelayMs = 100;
      const gateway = await startTestGateway(mock.env(), { dir, keepDir: true });
      try {
        const answers = await Promise.all(
          Array.from({ length: 25 }, () => gateway.client.chat.completions.create(ask)),
        );
        expect(answers.every((answer) => answer.choices[0]?.message.content === 'Hello.')).to.equal(true);
        expect(mock.oauthCalls).to.equal(1);
        const oauth = mock.requestsTo('/api/v2/oauth')[0];
        expect(oauth?.headers.authorization).to.equal(`Basic ${TEST_CREDENTIALS}`);
        expect(oauth?.headers['content-type']).to.equal('application/x-www-form-urlencoded');
        expect(oauth?.body).to.equal('scope=GIGACHAT_API_PERS');
      } finally {
        await gateway.close();
      }
    });

    it('sends a fresh RqUID and the configured scope', async () => {
      mock.tokenLifetimeMs = 1000; // shorter than the refresh margin: every request needs a new token
      const gateway = await startTestGateway(
        { ...mock.env(), GIGACHAT_SCOPE: 'GIGACHAT_API_CORP' },
        { dir, keepDir: true },
      );
      try {
        await gateway.client.chat.completions.create(ask);
        await gateway.client.chat.completions.create(ask);
      } finally {
        await gateway.close();
      }
      const calls = mock.requestsTo('/api/v2/oauth');
      expect(calls.length).to.equal(2);
      expect(calls[0]?.headers.rquid).not.to.equal(calls[1]?.headers.rquid);
      expect(calls.every((call) => call.body === 'scope=GIGACHAT_API_CORP')).to.equal(true);
    });

    it('is reused after a restart with the same SQLite file', async () => {
      const first = await startTestGateway(mock.env(), { dir, keepDir: true });
      await first.client.chat.completions.create(ask);
      await first.close();
      const second = await startTestGateway(mock.env(), { dir, keepDir: true });
      try {
        await second.client.chat.completions.create(ask);
      } finally {
        await second.close();
      }
      expect(mock.oauthCalls).to.equal(1);
      expect(mock.requestsTo('/api/v1/chat/completions').length).to.equal(2);
    });

    it('a 401 from GigaChat → one refresh and one retry, invisible to the client', async () => {
      const gateway = await startTestGateway(mock.env(), { dir, keepDir: true });
      try {
        await gateway.client.chat.completions.create(ask);
        mock.revokeTokens(); // GigaChat now answers 401 "Token has expired" to the cached token
        const answer = await gateway.client.chat.completions.create(ask);
        expect(answer.choices[0]?.message.content).to.equal('Hello.');
      } finally {
        await gateway.close();
      }
      expect(mock.oauthCalls).to.equal(2);
      const chats = mock.requestsTo('/api/v1/chat/completions');
      expect(chats.length).to.equal(3);
      expect(chats[1]?.headers.authorization).not.to.equal(chats[2]?.headers.authorization);
    });

    it('never writes the credentials or a token to the log', async () => {
      const gateway = await startTestGateway({ ...mock.env(), LOG_LEVEL: 'trace' }, { dir, keepDir: true });
      try {
        await gateway.client.chat.completions.create(ask);
        mock.revokeTokens();
        await gateway.client.chat.completions.create(ask);
        mock.chat = (_body, response) => {
          response.writeHead(401).end('{"status":401,"message":"Token has expired"}');
        };
        await gateway.client.chat.completions.create(ask).catch(() => undefined);
      } finally {
        await gateway.close();
      }
      const log = gateway.logs.join('');
      expect(log).to.contain('obtained a new access token');
      expect(log).not.to.contain(TEST_CREDENTIALS);
      expect(log).not.to.contain('test-client-secret');
      for (const token of mock.issued) expect(log).not.to.contain(token);
      expect(log).not.to.contain('mock-token-');
    });
  });

  describe('GigaChatTokenCache', () => {
    const box = new SecretBox([randomBytes(32)]);
    let store: Store;
    let now: number;
    const settings = () => {
      const config = loadConfig(mock.env());
      const gigachat = config.gigachat.credentials[0]?.settings;
      if (gigachat === undefined) throw new Error('GigaChat settings expected');
      return gigachat;
    };
    const cache = () => {
      const gigachat = settings();
      return new GigaChatTokenCache({
        store,
        box,
        storeKey: gigaChatTokenKey(gigachat),
        fetchToken: () => requestGigaChatToken(gigachat, createAgent(), 5000),
        logger: createLogger('silent'),
        now: () => now,
      });
    };

    beforeEach(async () => {
      store = await openStore({ kind: 'sqlite', path: join(dir, 'store.sqlite') });
      now = Date.now();
    });
    afterEach(async () => {
      await store.disconnect();
    });

    it('refreshes lazily once the token is within the margin of its expiry', async () => {
      const tokens = cache();
      const first = await tokens.get();
      now += 28 * 60_000; // 2 minutes before expiry: still good
      expect(await tokens.get()).to.equal(first);
      expect(mock.oauthCalls).to.equal(1);
      now += 90_000; // 30 s before expiry: inside the 60 s margin
      const second = await tokens.get();
      expect(second).not.to.equal(first);
      expect(mock.oauthCalls).to.equal(2);
    });

    it('accepts expires_at in seconds as well as milliseconds', async () => {
      mock.expiresInSeconds = true;
      const tokens = cache();
      const first = await tokens.get();
      now += 20 * 60_000;
      expect(await tokens.get()).to.equal(first);
      expect(mock.oauthCalls).to.equal(1);
    });

    it('keeps the token in the store sealed, under a key that does not reveal the credentials', async () => {
      const tokens = cache();
      const token = await tokens.get();
      const key = gigaChatTokenKey(settings());
      expect(key).to.match(/^gigachat:token:[0-9a-f]{32}$/);
      expect(key).not.to.contain(TEST_CREDENTIALS);
      const stored = await store.get<{ sealed: string }>(key);
      expect(JSON.stringify(stored)).not.to.include(token);
      expect(box.open(stored?.sealed as string, key)).to.equal(token);
      const restarted = cache();
      expect(await restarted.get()).to.equal(token);
      expect(mock.oauthCalls).to.equal(1);
      // A token stored in plaintext by an older version is not used; the new one is sealed.
      await store.set(key, { accessToken: 'plaintext-token', expiresAtMs: now + 20 * 60_000 });
      expect(await cache().get()).not.to.equal('plaintext-token');
      expect(mock.oauthCalls).to.equal(2);
    });

    it('invalidate drops only the token it names, so late 401s do not discard a newer token', async () => {
      const tokens = cache();
      const old = await tokens.get();
      await tokens.invalidate(old);
      const fresh = await tokens.get();
      await tokens.invalidate(old); // a second request that saw the old token fail
      expect(await tokens.get()).to.equal(fresh);
      expect(mock.oauthCalls).to.equal(2);
    });

    it('a failed OAuth call is not cached: the next request tries again', async () => {
      let calls = 0;
      const tokens = new GigaChatTokenCache({
        store,
        box,
        storeKey: 'gigachat:token:test',
        fetchToken: async () => {
          calls += 1;
          if (calls === 1) throw new Error('OAuth is down');
          return { accessToken: 'second-try', expiresAtMs: now + 30 * 60_000 };
        },
        logger: createLogger('silent'),
        now: () => now,
      });
      const failures = await Promise.all(
        [tokens.get(), tokens.get()].map((get) => get.catch((error: Error) => error.message)),
      );
      expect(failures).to.deep.equal(['OAuth is down', 'OAuth is down']);
      expect(await tokens.get()).to.equal('second-try');
      expect(calls).to.equal(2);
    });
  });
});
