import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { expect } from 'chai';
import type { PortalRecord } from '../../../b24-app/portal/portal-store.ts';
import { keyIdOf } from '../../../gateway/lib/secrets/secret-box.ts';
import { B24Harness } from '../../helpers/b24/harness.ts';

/** Every key and value of the SQLite store as the file holds them, and the file's bytes (with its WAL). */
function rawSqlite(path: string): string {
  const database = new DatabaseSync(path, { readOnly: true });
  try {
    const rows = database.prepare('SELECT key, value FROM keyv').all() as Array<{ key: string; value: string }>;
    const files = [path, `${path}-wal`].filter(existsSync).map((file) => readFileSync(file).toString('latin1'));
    return [...rows.map((row) => `${row.key}\t${row.value}`), ...files].join('\n');
  } finally {
    database.close();
  }
}

const base64Key = () => randomBytes(32).toString('base64');
const idOf = (base64: string) => keyIdOf(Buffer.from(base64, 'base64'));

describe('Bitrix24 app: secrets at rest', function () {
  this.timeout(60_000);

  describe('without GATEWAY_SECRET_KEY (the key file beside the SQLite store)', () => {
    let harness: B24Harness;

    before(async () => {
      harness = await B24Harness.start();
    });
    after(async () => {
      await harness?.close();
    });

    it('the store file holds no token, application_token or signing key in plaintext', async () => {
      const portal = await harness.installedPortal();
      const answer = await portal.askEngine(harness.engineUrl(portal));
      await portal.waitForCallback(answer.hash);
      const record = (await harness.stored<PortalRecord>(`portal:${portal.memberId}`)) as PortalRecord;
      const signingKey = harness
        .secrets()
        .open((await harness.rawStored<string>('signing-key')) as string, 'b24 signing-key');
      const secrets = [record.tokens?.accessToken, record.tokens?.refreshToken, portal.applicationToken, signingKey];
      for (const secret of secrets) expect(secret).to.be.a('string').with.length.above(10);

      const raw = rawSqlite(harness.storePath);
      for (const secret of secrets) expect(raw).not.to.contain(secret as string);
      const keyId = idOf(readFileSync(`${harness.storePath}.secret-key`, 'utf8').trim());
      const stored = (await harness.rawStored<Record<string, unknown>>(`portal:${portal.memberId}`)) ?? {};
      expect(stored.tokens).to.match(new RegExp(`^sealed:1:${keyId}:`));
      expect(stored.applicationToken).to.match(new RegExp(`^sealed:1:${keyId}:`));
      expect(await harness.rawStored('signing-key')).to.match(new RegExp(`^sealed:1:${keyId}:`));
      expect(statSync(`${harness.storePath}.secret-key`).mode & 0o777).to.equal(0o600);
      expect(harness.gateway.log()).not.to.contain(signingKey);
    });

    it('reads a record and a signing key an older version wrote in plaintext, and seals them', async () => {
      const portal = await harness.installedPortal();
      const engineUrl = harness.engineUrl(portal);
      const record = (await harness.stored<PortalRecord>(`portal:${portal.memberId}`)) as PortalRecord;
      const signingKey = harness
        .secrets()
        .open((await harness.rawStored<string>('signing-key')) as string, 'b24 signing-key');
      /** The shapes the previous version wrote: the record's secrets, and the signing key, in plaintext. */
      const writeOldShapes = () =>
        harness.withStore(async (store) => {
          await store.set(`portal:${portal.memberId}`, { ...record });
          await store.set('signing-key', signingKey);
        });

      // A running server reads a record in the old shape…
      await writeOldShapes();
      expect((await harness.rawStored<PortalRecord>(`portal:${portal.memberId}`))?.tokens).to.deep.equal(record.tokens);
      const answer = await portal.askEngine(engineUrl);
      expect(answer.status).to.equal(202);
      expect((await portal.waitForCallback(answer.hash)).body).to.deep.equal({ result: 'Hello.' });
      // …uses its tokens, and seals them at its next write.
      const page = await harness.openAppPage(portal);
      const reregistered = await harness.pageApi(page.session as string, 'engines');
      expect(reregistered.status, await reregistered.clone().text()).to.equal(200);
      expect((await harness.rawStored<Record<string, unknown>>(`portal:${portal.memberId}`))?.tokens).to.match(
        /^sealed:1:/,
      );

      // A restart seals what is still in plaintext, the signing key among it, and keeps the values.
      await harness.gateway.stop();
      await writeOldShapes();
      await harness.gateway.start();
      await harness.gateway.waitForLog(/"portals":1,.*sealed the portals' secrets with key/);
      const stored = (await harness.rawStored<Record<string, unknown>>(`portal:${portal.memberId}`)) ?? {};
      expect(stored.tokens).to.match(/^sealed:1:/);
      expect(stored.applicationToken).to.match(/^sealed:1:/);
      expect(await harness.rawStored('signing-key')).to.match(/^sealed:1:/);
      expect((await harness.stored<PortalRecord>(`portal:${portal.memberId}`))?.tokens).to.deep.equal(record.tokens);
      expect((await fetch(engineUrl)).status).to.equal(200); // the same signing key
      // Nor does the file keep the old plaintext in its free pages or its write-ahead log.
      const raw = rawSqlite(harness.storePath);
      for (const secret of [record.tokens?.accessToken, record.tokens?.refreshToken, portal.applicationToken]) {
        expect(raw).not.to.contain(secret as string);
      }
    });

    it('a stored signing key sealed with a key that is not configured stops start-up with one line', async () => {
      const fileKeyId = idOf(readFileSync(`${harness.storePath}.secret-key`, 'utf8').trim());
      const other = base64Key();
      await harness.gateway.stop();
      harness.gateway.env.GATEWAY_SECRET_KEY = other;
      try {
        const from = harness.gateway.spawn();
        const child = harness.gateway.child as NonNullable<typeof harness.gateway.child>;
        const stderr: string[] = [];
        child.stderr?.on('data', (data: Buffer) => stderr.push(String(data)));
        const exited = once(child, 'exit').then(([code]) => code as number | null);
        const started = harness.gateway.waitForLog(/Bitrix24 app: ready/, 30_000, from).then(
          () => 'started',
          () => exited,
        );
        expect(await Promise.race([exited, started])).to.equal(1);
        const output = stderr.join('');
        expect(output.trim().split('\n')).to.have.length(1);
        expect(output).to.contain(
          `gateway: b24 signing-key was sealed with key ${fileKeyId}, which is not configured (keys: ${idOf(other)})`,
        );
        expect(output).not.to.contain(other);
      } finally {
        delete harness.gateway.env.GATEWAY_SECRET_KEY;
        await harness.gateway.stop(); // if it started after all
        await harness.gateway.start();
      }
    });
  });

  describe('with GATEWAY_SECRET_KEY and B24_SIGNING_KEY', () => {
    const first = base64Key();
    const second = base64Key();
    let harness: B24Harness;

    before(async () => {
      harness = await B24Harness.start({ GATEWAY_SECRET_KEY: first, B24_SIGNING_KEY: base64Key() });
    });
    after(async () => {
      await harness?.close();
    });

    const restartWith = async (variables: Record<string, string>) => {
      await harness.gateway.stop();
      Object.assign(harness.gateway.env, variables);
      const from = harness.gateway.lines.length;
      await harness.gateway.start();
      return from;
    };

    it('a record sealed with a key that is not configured is a 503 naming the problem; with the key listed it opens and is sealed anew', async () => {
      const portal = await harness.installedPortal();
      const engineUrl = harness.engineUrl(portal);
      const record = (await harness.stored<PortalRecord>(`portal:${portal.memberId}`)) as PortalRecord;

      // The new key alone: the server starts, says which record does not open, and refuses only that portal.
      const from = await restartWith({ GATEWAY_SECRET_KEY: second });
      const problem = await harness.gateway.waitForLog(/stored secrets cannot be opened/, 8000, from);
      expect(JSON.parse(problem)).to.include({ level: 'error', memberId: portal.memberId });
      expect(JSON.parse(problem).problem).to.equal(
        `portal:${portal.memberId} tokens was sealed with key ${idOf(first)}, which is not configured ` +
          `(keys: ${idOf(second)}); add that key to GATEWAY_SECRET_KEY (README, "Secrets at rest")`,
      );
      const ping = await fetch(engineUrl);
      expect(ping.status).to.equal(503);
      expect(await ping.json()).to.deep.include({ error: 'SECRETS_UNREADABLE' });
      expect((await portal.askEngine(engineUrl)).status).to.equal(503);
      expect((await fetch(`${harness.gateway.url}/healthz`)).status).to.equal(200);
      const log = harness.gateway.log();
      for (const secret of [record.tokens?.accessToken, record.tokens?.refreshToken, portal.applicationToken]) {
        expect(log).not.to.contain(secret as string);
      }

      // Rotation: the new key first, the old one after it. The start seals every record with the new key…
      const rotated = await restartWith({ GATEWAY_SECRET_KEY: `${second},${first}` });
      await harness.gateway.waitForLog(/"portals":1,.*sealed the portals' secrets with key/, 8000, rotated);
      const stored = (await harness.rawStored<Record<string, unknown>>(`portal:${portal.memberId}`)) ?? {};
      expect(stored.tokens).to.match(new RegExp(`^sealed:1:${idOf(second)}:`));
      expect(stored.applicationToken).to.match(new RegExp(`^sealed:1:${idOf(second)}:`));
      expect((await fetch(engineUrl)).status).to.equal(200);

      // …so the old one can go.
      await restartWith({ GATEWAY_SECRET_KEY: second });
      const answer = await portal.askEngine(engineUrl);
      expect(answer.status).to.equal(202);
      expect((await portal.waitForCallback(answer.hash)).body).to.deep.equal({ result: 'Hello.' });
      expect((await harness.stored<PortalRecord>(`portal:${portal.memberId}`))?.tokens).to.deep.equal(record.tokens);
    });

    it('B24_SIGNING_KEY signs the engine URLs: with another key every URL signed before is refused', async () => {
      const portal = await harness.installedPortal();
      const engineUrl = harness.engineUrl(portal);
      expect((await fetch(engineUrl)).status).to.equal(200);
      await restartWith({ B24_SIGNING_KEY: randomBytes(32).toString('hex') });
      const ping = await fetch(engineUrl);
      expect(ping.status).to.equal(403);
      expect(await ping.json()).to.deep.include({ error: 'INVALID_PORTAL_KEY' });
    });
  });
});
