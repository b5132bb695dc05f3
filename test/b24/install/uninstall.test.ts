import { expect } from 'chai';
import type { PortalRecord } from '../../../b24-app/portal/portal-store.ts';
import type { FakePortal } from '../../helpers/b24/fake-portal.ts';
import { B24Harness } from '../../helpers/b24/harness.ts';
import { postForm, uninstallEvent } from '../../helpers/b24/wire.ts';

const DAY_MS = 24 * 60 * 60_000;

describe('Bitrix24 app: ONAPPUNINSTALL, confirmed with the OAuth server', function () {
  this.timeout(40_000);
  let harness: B24Harness;

  before(async () => {
    harness = await B24Harness.start();
  });
  after(async () => {
    harness.oauth.down = false;
    await harness?.close();
  });
  afterEach(() => {
    harness.oauth.down = false;
  });

  /** A portal with tokens, engines, usage and a finished job in the store. */
  async function usedPortal() {
    const portal = await harness.installedPortal();
    const answer = await portal.askEngine(harness.engineUrl(portal));
    await portal.waitForCallback(answer.hash);
    await harness.gateway.waitForLog(new RegExp(`"job":"${answer.hash}".*callback delivered`));
    const keys = (await harness.storedKeys()).filter((key) => key.includes(portal.memberId));
    expect(keys.sort()).to.deep.equal([
      `job:${portal.memberId}:${answer.hash}`,
      `portal:${portal.memberId}`,
      `usage:${portal.memberId}`,
    ]);
    return portal;
  }

  const keysOf = async (portal: FakePortal) =>
    (await harness.storedKeys()).filter((key) => key.includes(portal.memberId)).sort();
  const recordOf = (portal: FakePortal) => harness.stored<PortalRecord>(`portal:${portal.memberId}`);
  const uninstall = (portal: FakePortal, token = portal.applicationToken) =>
    postForm(`${harness.gateway.url}/b24/events`, uninstallEvent(portal, token));

  /** Moves a pending uninstall's clock back, as if it had been waiting `ageMs`. */
  async function agePending(portal: FakePortal, ageMs: number): Promise<void> {
    await harness.withStore(async (store) => {
      const key = `portal:${portal.memberId}`;
      const record = (await store.get<PortalRecord>(key)) as PortalRecord;
      const pending = record.uninstallPending as NonNullable<PortalRecord['uninstallPending']>;
      const then = Date.now() - ageMs;
      await store.set(key, { ...record, uninstallPending: { ...pending, since: then, checkedAt: then } });
    });
  }

  /** Restarts the gateway: its worker sweeps the store on start. */
  async function restart(): Promise<number> {
    await harness.gateway.stop();
    const from = harness.gateway.lines.length;
    await harness.gateway.start();
    return from;
  }

  it('a wrong application_token → 403 and nothing deleted', async () => {
    const portal = await usedPortal();
    const before = await harness.storedKeys();
    const response = await uninstall(portal, 'test-app-token-wrong');
    expect(response.status).to.equal(403);
    expect(await response.json()).to.deep.equal({
      error: 'INVALID_APPLICATION_TOKEN',
      error_description: 'application_token does not match.',
    });
    expect(await harness.storedKeys()).to.deep.equal(before);
    expect((await fetch(harness.engineUrl(portal))).status).to.equal(200);
    await harness.gateway.waitForLog(/ONAPPUNINSTALL with a wrong application_token; nothing deleted/);
  });

  it('the app removed from the portal: the OAuth server says invalid_client, every piece of the portal’s data goes, its engine URLs stop answering', async () => {
    const portal = await usedPortal();
    const other = await usedPortal();
    const url = harness.engineUrl(portal);
    portal.removeApp();
    const response = await uninstall(portal);
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({ result: true });
    expect(harness.oauth.refreshes.at(-1)).to.include({ ok: false, error: 'invalid_client' });

    expect(await keysOf(portal)).to.deep.equal([]);
    expect((await fetch(url)).status).to.equal(404);
    const ask = await portal.askEngine(url);
    expect(ask.status).to.equal(404);
    expect(JSON.parse(ask.body)).to.include({ error: 'PORTAL_NOT_INSTALLED' });
    // Other portals keep working.
    expect(await keysOf(other)).to.have.length(3);
    expect((await fetch(harness.engineUrl(other))).status).to.equal(200);
    // Bitrix24 may repeat the event: still 200, nothing to do.
    expect((await uninstall(portal)).status).to.equal(200);
    await harness.gateway.waitForLog(/app uninstalled \(the OAuth server confirms it\), portal data deleted/);
  });

  it('a forged uninstall with the real application_token (every employee sees it) deletes nothing: the OAuth server still refreshes the tokens', async () => {
    const portal = await usedPortal();
    const before = await recordOf(portal);
    const response = await uninstall(portal);
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({ result: true });
    expect(await keysOf(portal)).to.have.length(3);
    const after = (await recordOf(portal)) as PortalRecord;
    const kept = ({ engines, keyNonce, appCode, domain, installedAt }: PortalRecord) => ({
      engines,
      keyNonce,
      appCode,
      domain,
      installedAt,
    });
    expect(kept(after)).to.deep.equal(kept(before as PortalRecord));
    expect(after.uninstallPending).to.equal(undefined);
    // The refresh rotated the tokens and the new pair was kept: asking again refreshes again.
    expect(harness.oauth.refreshes.at(-1)).to.include({ ok: true });
    expect((await uninstall(portal)).status).to.equal(200);
    expect(harness.oauth.refreshes.at(-1)).to.include({ ok: true });
    expect((await fetch(harness.engineUrl(portal))).status).to.equal(200);
    expect((await portal.askEngine(harness.engineUrl(portal))).status).to.equal(202);
    await harness.gateway.waitForLog(
      new RegExp(
        `"level":"warn".*"memberId":"${portal.memberId}".*uninstall not confirmed: the OAuth server still accepts`,
      ),
    );
  });

  it('a forged uninstall while B24_CLIENT_SECRET is wrong deletes nothing: invalid_client to another client than the tokens were issued to proves nothing', async () => {
    const portal = await usedPortal();
    const secret = harness.gateway.env.B24_CLIENT_SECRET as string;
    harness.gateway.env.B24_CLIENT_SECRET = 'a-mistyped-client-secret';
    await restart();
    try {
      const response = await uninstall(portal);
      expect(response.status).to.equal(200);
      expect(harness.oauth.refreshes.at(-1)).to.include({ ok: false, error: 'invalid_client' });
      expect(await keysOf(portal)).to.have.length(3);
      expect((await recordOf(portal))?.uninstallPending).to.include({ reason: 'invalid_client_for_other_keys' });
      expect((await fetch(harness.engineUrl(portal))).status).to.equal(200);
    } finally {
      harness.gateway.env.B24_CLIENT_SECRET = secret;
      await restart();
    }
  });

  it('the OAuth server unreachable: nothing deleted, the uninstall waits; an engine call shows the app is still there', async () => {
    const portal = await usedPortal();
    harness.oauth.down = true;
    expect((await uninstall(portal)).status).to.equal(200);
    harness.oauth.down = false;
    expect(await keysOf(portal)).to.have.length(3);
    expect((await recordOf(portal))?.uninstallPending).to.include({ reason: 'unreachable' });
    await harness.gateway.waitForLog(new RegExp(`"memberId":"${portal.memberId}".*uninstall not confirmed yet`));

    const ask = await portal.askEngine(harness.engineUrl(portal));
    expect(ask.status).to.equal(202);
    expect((await recordOf(portal))?.uninstallPending).to.equal(undefined);
    await portal.waitForCallback(ask.hash);
  });

  it('the OAuth server unreachable at a real uninstall: the sweep asks again later and then deletes', async () => {
    const portal = await usedPortal();
    const url = harness.engineUrl(portal);
    portal.removeApp();
    harness.oauth.down = true;
    expect((await uninstall(portal)).status).to.equal(200);
    expect(await keysOf(portal)).to.have.length(3);
    harness.oauth.down = false;
    // An hour later the sweep (here: the one at start-up) asks the OAuth server again.
    await agePending(portal, 61 * 60_000);
    const from = await restart();
    await harness.gateway.waitForLog(
      new RegExp(`"memberId":"${portal.memberId}".*app uninstalled \\(the OAuth server confirms it\\)`),
      8000,
      from,
    );
    expect(await keysOf(portal)).to.deep.equal([]);
    expect((await fetch(url)).status).to.equal(404);
  });

  it('invalid_grant (a refresh token unused for 180 days) is inconclusive; a month without a sign of the app ends in deletion', async () => {
    const waiting = await usedPortal();
    const young = await usedPortal();
    for (const portal of [waiting, young]) {
      harness.oauth.expireGrants(portal);
      expect((await uninstall(portal)).status).to.equal(200);
      expect((await recordOf(portal))?.uninstallPending).to.include({ reason: 'invalid_grant' });
    }
    await agePending(waiting, 31 * DAY_MS);
    await agePending(young, 29 * DAY_MS);
    const from = await restart();
    await harness.gateway.waitForLog(
      new RegExp(`"memberId":"${waiting.memberId}".*uninstall pending for 30 days without a sign of the app`),
      8000,
      from,
    );
    expect(await keysOf(waiting)).to.deep.equal([]);
    expect(await keysOf(young)).to.have.length(3);
    expect((await recordOf(young))?.uninstallPending).to.include({ reason: 'invalid_grant' });
  });

  it('a confirmed page session shows the app is installed: the pending uninstall is dropped', async () => {
    const portal = await usedPortal();
    harness.oauth.expireGrants(portal);
    expect((await uninstall(portal)).status).to.equal(200);
    expect((await recordOf(portal))?.uninstallPending).not.to.equal(undefined);
    const page = await harness.openAppPage(portal, 1);
    expect(page.status).to.equal(200);
    expect((await recordOf(portal))?.uninstallPending).to.equal(undefined);
    await harness.gateway.waitForLog(new RegExp(`"memberId":"${portal.memberId}".*"sign":"app page opened"`));
  });

  it('an uninstall without the token fields is a 400 naming them', async () => {
    const portal = await usedPortal();
    const form = uninstallEvent(portal, portal.applicationToken);
    form.delete('auth[application_token]');
    const response = await postForm(`${harness.gateway.url}/b24/events`, form);
    expect(response.status).to.equal(400);
    expect(((await response.json()) as any).error_description).to.contain('auth[application_token]');
    expect(await harness.stored(`portal:${portal.memberId}`)).not.to.equal(undefined);
  });
});
