import { expect } from 'chai';
import { B24Harness } from '../../helpers/b24/harness.ts';
import { APP_EVENTS, postForm, uninstallEvent, updateEvent } from '../../helpers/b24/wire.ts';

describe('Bitrix24 app: app updates and event bindings', function () {
  this.timeout(30_000);
  let harness: B24Harness;

  before(async () => {
    harness = await B24Harness.start();
  });
  after(async () => {
    await harness?.close();
  });

  it('ONAPPUPDATE from an administrator: the new application_token is stored and the dropped handlers are bound again', async () => {
    const portal = await harness.installedPortal();
    const oldToken = portal.applicationToken;
    const url = harness.engineUrl(portal);
    portal.updateApp(); // Bitrix24 drops the app's handlers and issues a new application_token
    expect(portal.events).to.deep.equal([]);

    const response = await postForm(
      `${harness.gateway.url}/b24/events`,
      updateEvent(portal, harness.oauth.issue(portal, 1)),
    );
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({
      result: true,
      engines: ['gigagate_GigaChat-2-Max', 'gigagate_GigaChat-2'],
    });
    expect(portal.events.map((event) => event.event)).to.deep.equal(APP_EVENTS);
    expect(harness.engineUrl(portal)).to.equal(url); // an update keeps the engine URLs
    // The old token no longer opens the uninstall; the new one does (and the OAuth server then says
    // the app is installed, so nothing is deleted).
    const stale = await postForm(`${harness.gateway.url}/b24/events`, uninstallEvent(portal, oldToken));
    expect(stale.status).to.equal(403);
    const current = await postForm(
      `${harness.gateway.url}/b24/events`,
      uninstallEvent(portal, portal.applicationToken),
    );
    expect(current.status).to.equal(200);
  });

  it('an administrator opening the app binds missing handlers again, with their own frame token', async () => {
    const portal = await harness.installedPortal(1);
    portal.events.splice(1, 1); // ONAPPUPDATE lost
    portal.admins.add(9);
    const page = await harness.openAppPage(portal, 9);
    expect(page.status).to.equal(200);
    expect(portal.events.map((event) => event.event).sort()).to.deep.equal([...APP_EVENTS].sort());
    const binds = portal.calls('event.bind').slice(-1);
    expect(binds.map((call) => [call.params.event, call.userId])).to.deep.equal([['ONAPPUPDATE', 9]]);
    expect(portal.calls('event.get').at(-1)?.userId).to.equal(9);
    await harness.gateway.waitForLog(new RegExp(`"memberId":"${portal.memberId}".*missing event handlers bound again`));

    // Nothing missing: one event.get, no bind. An employee's visit asks nothing.
    const bindsBefore = portal.calls('event.bind').length;
    expect((await harness.openAppPage(portal, 9)).status).to.equal(200);
    expect(portal.calls('event.bind')).to.have.length(bindsBefore);
    const getsBefore = portal.calls('event.get').length;
    portal.events.length = 0;
    expect((await harness.openAppPage(portal, 5)).status).to.equal(200);
    expect(portal.calls('event.get')).to.have.length(getsBefore);
    expect(portal.events).to.deep.equal([]);
  });

  it('an event the app does not handle gets 200 and is ignored, and logged without its tokens', async () => {
    const portal = await harness.installedPortal();
    const before = await harness.storedSerialised(`portal:${portal.memberId}`);
    const tokens = harness.oauth.issue(portal, 1);
    const form = new URLSearchParams({
      event: 'ONCRMLEADADD',
      'data[FIELDS][ID]': '42',
      ts: String(Math.floor(Date.now() / 1000)),
      'auth[access_token]': tokens.access_token,
      'auth[member_id]': portal.memberId,
      'auth[application_token]': portal.applicationToken,
    });
    const response = await postForm(`${harness.gateway.url}/b24/events`, form);
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({ result: true });
    const empty = await postForm(`${harness.gateway.url}/b24/events`, new URLSearchParams({ ts: '1' }));
    expect(empty.status).to.equal(200);
    const line = await harness.gateway.waitForLog(/"event":"ONCRMLEADADD".*event ignored/);
    expect(line).not.to.contain(tokens.access_token).and.not.contain(portal.applicationToken);
    expect(await harness.storedSerialised(`portal:${portal.memberId}`)).to.equal(before);
  });
});
