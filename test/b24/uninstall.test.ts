import { expect } from 'chai';
import { B24Harness } from '../helpers/b24/harness.ts';
import { postForm, uninstallEvent } from '../helpers/b24/wire.ts';

describe('Bitrix24 app: ONAPPUNINSTALL', function () {
  this.timeout(30_000);
  let harness: B24Harness;

  before(async () => {
    harness = await B24Harness.start();
  });
  after(async () => {
    await harness?.close();
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

  it('a wrong application_token → 403 and nothing deleted', async () => {
    const portal = await usedPortal();
    const before = await harness.storedKeys();
    const response = await postForm(
      `${harness.gateway.url}/b24/events`,
      uninstallEvent(portal, 'test-app-token-wrong'),
    );
    expect(response.status).to.equal(403);
    expect(await response.json()).to.deep.equal({
      error: 'INVALID_APPLICATION_TOKEN',
      error_description: 'application_token does not match.',
    });
    expect(await harness.storedKeys()).to.deep.equal(before);
    expect((await fetch(harness.engineUrl(portal))).status).to.equal(200);
    await harness.gateway.waitForLog(/ONAPPUNINSTALL with a wrong application_token; nothing deleted/);
  });

  it('the right application_token deletes every piece of the portal’s data; its engine URLs stop answering', async () => {
    const portal = await usedPortal();
    const other = await usedPortal();
    const response = await postForm(
      `${harness.gateway.url}/b24/events`,
      uninstallEvent(portal, portal.applicationToken),
    );
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({ result: true });

    expect((await harness.storedKeys()).filter((key) => key.includes(portal.memberId))).to.deep.equal([]);
    const url = harness.engineUrl(portal);
    expect((await fetch(url)).status).to.equal(404);
    const ask = await portal.askEngine(url);
    expect(ask.status).to.equal(404);
    expect(JSON.parse(ask.body)).to.include({ error: 'PORTAL_NOT_INSTALLED' });
    // Other portals keep working.
    expect((await harness.storedKeys()).filter((key) => key.includes(other.memberId))).to.have.length(3);
    expect((await fetch(harness.engineUrl(other))).status).to.equal(200);
    // Bitrix24 may repeat the event: still 200, nothing to do.
    expect(
      (await postForm(`${harness.gateway.url}/b24/events`, uninstallEvent(portal, portal.applicationToken))).status,
    ).to.equal(200);
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
