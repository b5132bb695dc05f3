import { expect } from 'chai';
import type { PortalRecord, PortalTokens } from '../../../b24-app/portal/portal-store.ts';
import { B24Harness } from '../../helpers/b24/harness.ts';
import { frameInstallRequest, installEvent, postForm } from '../../helpers/b24/wire.ts';

describe('Bitrix24 app: portal tokens', function () {
  this.timeout(30_000);
  let harness: B24Harness;

  before(async () => {
    harness = await B24Harness.start();
  });
  after(async () => {
    await harness?.close();
  });

  const storedTokens = async (memberId: string) => (await harness.stored<PortalRecord>(`portal:${memberId}`))?.tokens;

  it('refreshes on expired_token and on expiry, persisting every rotated refresh token', async () => {
    const portal = await harness.installedPortal();
    const page = await harness.openAppPage(portal);
    expect(page.status).to.equal(200);
    const session = page.session as string;
    const first = await storedTokens(portal.memberId);

    // 1. The portal says expired_token: the SDK refreshes with the stored refresh token and retries.
    (portal.accessTokens.get(first?.accessToken as string) as { expiresAt: number }).expiresAt = Date.now() - 1000;
    const refreshesBefore = harness.oauth.refreshes.length;
    const again = await harness.pageApi(session, 'engines');
    expect(again.status, await again.clone().text()).to.equal(200);
    expect(harness.oauth.refreshes.slice(refreshesBefore)).to.deep.equal([
      { refreshToken: first?.refreshToken, ok: true },
    ]);
    const second = await storedTokens(portal.memberId);
    expect(second?.refreshToken).not.to.equal(first?.refreshToken);
    expect(second?.accessToken).not.to.equal(first?.accessToken);
    expect(harness.oauth.grants.get(second?.refreshToken as string)?.used).to.equal(false);
    await harness.gateway.waitForLog(/portal tokens refreshed and saved/);

    // 2. The stored expiry has passed: the SDK refreshes before calling, with the rotated token.
    await harness.withPortals(async (portals) => {
      const record = (await portals.get(portal.memberId)) as PortalRecord;
      await portals.save({ ...record, tokens: { ...(record.tokens as PortalTokens), expires: 1 } });
    });
    const third = await harness.pageApi(session, 'engines');
    expect(third.status, await third.clone().text()).to.equal(200);
    expect(harness.oauth.refreshes.at(-1)).to.deep.equal({ refreshToken: second?.refreshToken, ok: true });
    expect((await storedTokens(portal.memberId))?.refreshToken).not.to.equal(second?.refreshToken);
    expect(harness.oauth.refreshes.filter((refresh) => !refresh.ok)).to.deep.equal([]);
  });

  it('refreshes only at the trusted OAuth server, whatever SERVER_ENDPOINT a request claims', async () => {
    const portal = await harness.newPortal();
    const { query, body } = frameInstallRequest(portal, harness.oauth.issue(portal, 1));
    body.set('SERVER_ENDPOINT', 'https://oauth.attacker.test/rest/');
    const response = await postForm(`${harness.gateway.url}/b24/install?${query}`, body);
    expect(response.status, await response.text()).to.equal(200);
    const record = await harness.stored<PortalRecord>(`portal:${portal.memberId}`);
    expect(record?.serverEndpoint).to.equal(harness.oauth.serverEndpoint);

    const event = installEvent(portal, harness.oauth.issue(portal, 1));
    event.set('auth[server_endpoint]', 'https://oauth.attacker.test/rest/');
    expect((await postForm(`${harness.gateway.url}/b24/events`, event)).status).to.equal(200);
    expect((await harness.stored<PortalRecord>(`portal:${portal.memberId}`))?.serverEndpoint).to.equal(
      harness.oauth.serverEndpoint,
    );
  });

  it('ONAPPINSTALL stores the confirmed tokens and the application_token it carries', async () => {
    const portal = await harness.installedPortal();
    const event = installEvent(portal, harness.oauth.issue(portal, 1), {
      applicationToken: 'test-app-token-reinstalled',
    });
    const response = await postForm(`${harness.gateway.url}/b24/events`, event);
    expect(response.status).to.equal(200);
    expect(portal.engines).to.have.length(2);
    const record = await harness.stored<PortalRecord>(`portal:${portal.memberId}`);
    expect(record?.applicationToken).to.equal('test-app-token-reinstalled');
    expect(harness.oauth.grants.get(record?.tokens?.refreshToken as string)?.used).to.equal(false);
  });

  it('keeps tokens, client secret and application_token out of the log', async () => {
    const log = harness.gateway.log();
    expect(log).not.to.match(/test-access-|test-refresh-|test-app-token-|test-client-secret/);
    for (const portal of harness.portals) {
      for (const engine of portal.engines) {
        const mac = /\.([\w-]{32})\//.exec(engine.completions_url)?.[1] as string;
        expect(log).not.to.contain(mac);
      }
    }
  });
});
