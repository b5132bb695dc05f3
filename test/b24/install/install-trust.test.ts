import { expect } from 'chai';
import type { FakePortal } from '../../helpers/b24/fake-portal.ts';
import { B24Harness } from '../../helpers/b24/harness.ts';
import { frameInstallRequest, installEvent, postForm, uninstallEvent, updateEvent } from '../../helpers/b24/wire.ts';

const EMPLOYEE = 7;

describe('Bitrix24 app: only an administrator installs', function () {
  this.timeout(30_000);
  let harness: B24Harness;

  before(async () => {
    harness = await B24Harness.start();
  });
  after(async () => {
    await harness?.close();
  });

  /** What an employee's request could have changed: the stored record (as stored), every key, the portal's engines and events. */
  async function snapshot(portal: FakePortal) {
    return {
      record: await harness.storedSerialised(`portal:${portal.memberId}`),
      keys: (await harness.storedKeys()).sort(),
      engines: JSON.stringify(portal.engines),
      events: JSON.stringify(portal.events),
    };
  }

  const callsBy = (portal: FakePortal, userId: number) =>
    portal
      .calls()
      .filter((call) => call.userId === userId)
      .map((call) => call.method);

  it('the attack: an employee posts their own frame tokens with an APPLICATION_TOKEN of their choosing → refused, nothing changes, and a forged uninstall deletes nothing', async () => {
    const portal = await harness.installedPortal();
    const before = await snapshot(portal);
    expect(before.record).to.be.a('string');

    const { query, body } = frameInstallRequest(portal, harness.oauth.issue(portal, EMPLOYEE), {
      lang: 'en',
      applicationToken: 'chosen-by-employee',
    });
    const response = await postForm(`${harness.gateway.url}/b24/install?${query}`, body);
    expect(response.status).to.equal(403);
    const html = await response.text();
    expect(html).to.contain('The installation did not finish').and.contain('Only a portal administrator');
    expect(await snapshot(portal)).to.deep.equal(before);
    expect(callsBy(portal, EMPLOYEE)).to.deep.equal(['user.admin']);

    const forged = await postForm(`${harness.gateway.url}/b24/events`, uninstallEvent(portal, 'chosen-by-employee'));
    expect(forged.status).to.equal(403);
    expect(await snapshot(portal)).to.deep.equal(before);
    expect((await fetch(harness.engineUrl(portal))).status).to.equal(200);
    expect((await portal.askEngine(harness.engineUrl(portal))).status).to.equal(202);
  });

  it('an employee’s ONAPPINSTALL, ONAPPUPDATE or API-only install (auth[…]) gets a 403 in Bitrix24’s shape and changes nothing', async () => {
    const portal = await harness.installedPortal();
    const before = await snapshot(portal);
    const forms = [
      ['/b24/events', installEvent(portal, harness.oauth.issue(portal, EMPLOYEE), { applicationToken: 'chosen' })],
      ['/b24/events', updateEvent(portal, harness.oauth.issue(portal, EMPLOYEE), { applicationToken: 'chosen' })],
      ['/b24/install', installEvent(portal, harness.oauth.issue(portal, EMPLOYEE), { applicationToken: 'chosen' })],
    ] as const;
    for (const [path, form] of forms) {
      const response = await postForm(`${harness.gateway.url}${path}`, form);
      expect(response.status, `${path} ${form.get('event')}`).to.equal(403);
      expect(await response.json()).to.deep.equal({
        error: 'ACCESS_DENIED',
        error_description: 'Only a portal administrator can install or update the app; nothing was changed.',
      });
    }
    expect(await snapshot(portal)).to.deep.equal(before);
    expect(callsBy(portal, EMPLOYEE)).to.deep.equal(['user.admin', 'user.admin', 'user.admin']);
    expect((await postForm(`${harness.gateway.url}/b24/events`, uninstallEvent(portal, 'chosen'))).status).to.equal(
      403,
    );
  });

  it('an administrator’s frame re-install never replaces the stored application_token; their ONAPPINSTALL does', async () => {
    const portal = await harness.installedPortal();
    // Which token the app holds shows in the uninstall's answer: 403 for another one, 200 for its
    // own (the OAuth server then says the app is installed, so nothing is deleted).
    const uninstall = async (token: string) =>
      (await postForm(`${harness.gateway.url}/b24/events`, uninstallEvent(portal, token))).status;
    const { query, body } = frameInstallRequest(portal, harness.oauth.issue(portal, 1), {
      applicationToken: 'from-a-frame',
    });
    expect((await postForm(`${harness.gateway.url}/b24/install?${query}`, body)).status).to.equal(200);
    expect(await uninstall('from-a-frame')).to.equal(403);
    expect(await uninstall(portal.applicationToken)).to.equal(200);

    const event = installEvent(portal, harness.oauth.issue(portal, 1), { applicationToken: 'test-app-token-new' });
    expect((await postForm(`${harness.gateway.url}/b24/events`, event)).status).to.equal(200);
    expect(await uninstall(portal.applicationToken)).to.equal(403);
    expect(await uninstall('test-app-token-new')).to.equal(200);
    expect(await harness.stored(`portal:${portal.memberId}`)).not.to.equal(undefined);
  });

  it('a token refresh in the middle of a failing re-install writes nothing into the stored record', async () => {
    const portal = await harness.installedPortal();
    // A webhook registered an engine with one of our codes: the re-install fails at its registration.
    portal.addWebhookEngine('gigagate_GigaChat-2');
    const before = await harness.storedSerialised(`portal:${portal.memberId}`);
    portal.expireTokenOn.add('ai.engine.list');
    const refreshes = harness.oauth.refreshes.length;
    const { query, body } = frameInstallRequest(portal, harness.oauth.issue(portal, 1), { lang: 'en' });
    const response = await postForm(`${harness.gateway.url}/b24/install?${query}`, body);
    expect(response.status).to.equal(502);
    expect(await response.text()).to.contain('ENGINE_REGISTER_ERROR_CODE_UNIQUE');
    // Two refreshes: the claimed token confirmed, then the expired access token renewed mid-install.
    expect(harness.oauth.refreshes.slice(refreshes).map((refresh) => refresh.ok)).to.deep.equal([true, true]);
    expect(portal.expireTokenOn.size).to.equal(0);
    expect(await harness.storedSerialised(`portal:${portal.memberId}`)).to.equal(before);
  });
});
