import { expect } from 'chai';
import { portalKeyFor } from '../../../b24-app/portal/portal-key.ts';
import type { PortalRecord } from '../../../b24-app/portal/portal-store.ts';
import { TEST_CLIENT_ID } from '../../helpers/b24/fake-oauth.ts';
import type { FakePortal } from '../../helpers/b24/fake-portal.ts';
import { B24Harness } from '../../helpers/b24/harness.ts';
import { frameInstallRequest, postForm } from '../../helpers/b24/wire.ts';
import { gigaChatCompletion } from '../../helpers/cassettes.ts';
import { sendJson } from '../../helpers/gigachat-mock.ts';

describe('Bitrix24 app: the app page and its own API (HTTP level)', function () {
  this.timeout(30_000);
  let harness: B24Harness;

  before(async () => {
    harness = await B24Harness.start();
  });
  after(async () => {
    await harness?.close();
  });

  it('opened by the portal with a POST: engines, usage, re-register and try; allowed in a frame only for the portal', async () => {
    const portal = await harness.installedPortal();
    const page = await harness.openAppPage(portal, 1, 'en');
    expect(page.status).to.equal(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).to.contain(`frame-ancestors https://${portal.domain}`);
    expect(csp).to.contain("script-src 'self'");
    expect(page.headers.get('x-frame-options')).to.equal(null);
    expect(page.html).to.contain('GigaChat and Gemini for CoPilot');
    expect(page.html).to.contain('GigaChat-2-Max (Sber GigaChat via gigagate)').and.contain('<code>GigaChat-2</code>');
    expect(page.html).to.contain('id="reregister"').and.contain('id="try-form"');
    expect(page.html).not.to.match(/test-access-|test-refresh-/);
    expect(portal.calls('profile')).to.have.length(1);
  });

  it('speaks Russian when LANG=ru', async () => {
    const portal = await harness.installedPortal();
    const page = await harness.openAppPage(portal, 1, 'ru');
    expect(page.html).to.contain('<html lang="ru">').and.contain('Зарегистрировать модели заново');
  });

  it('the page session lets the page try a prompt, which is metered, and read the state', async () => {
    const portal = await harness.installedPortal();
    const { session } = await harness.openAppPage(portal);
    harness.gigachat.chat = (_body, response) => sendJson(response, 200, gigaChatCompletion('Привет, коллега!'));
    const tried = await harness.pageApi(session as string, 'try', {
      engine: 'gigagate_GigaChat-2',
      prompt: 'Поздоровайся',
    });
    expect(tried.status).to.equal(200);
    expect(((await tried.json()) as any).answer).to.equal('Привет, коллега!');
    const state = (await (await harness.pageApi(session as string, 'state')).json()) as any;
    expect(state.engines.map((engine: any) => engine.code)).to.deep.equal([
      'gigagate_GigaChat-2-Max',
      'gigagate_GigaChat-2',
    ]);
    expect(state.usage['gigagate_GigaChat-2'].requests).to.equal(1);
  });

  it('answers the page’s mistakes in OpenAI’s error shape, naming the field', async () => {
    const portal = await harness.installedPortal();
    const { session } = await harness.openAppPage(portal);
    const unknown = await harness.pageApi(session as string, 'try', { engine: 'nope', prompt: 'hi' });
    expect(unknown.status).to.equal(400);
    expect(await unknown.json()).to.deep.equal({
      error: {
        message: 'engine: not an engine of this portal.',
        type: 'invalid_request_error',
        param: 'engine',
        code: 'unknown_engine',
      },
    });
    const empty = await harness.pageApi(session as string, 'try', { engine: 'gigagate_GigaChat-2', prompt: '' });
    expect(((await empty.json()) as any).error.param).to.equal('prompt');
    const anonymous = await fetch(`${harness.gateway.url}/b24/app/api/state`);
    expect(anonymous.status).to.equal(401);
    expect(((await anonymous.json()) as any).error).to.include({
      type: 'authentication_error',
      code: 'invalid_session',
    });
    const forged = await harness.pageApi(`${(session as string).slice(0, -2)}xx`, 'state');
    expect(forged.status).to.equal(401);
  });

  it('re-registering needs an administrator', async () => {
    const portal = await harness.installedPortal();
    portal.admins.delete(5);
    const page = await harness.openAppPage(portal, 5);
    expect(page.status).to.equal(200);
    expect(page.html).to.match(/id="reregister" disabled/);
    const refused = await harness.pageApi(page.session as string, 'engines');
    expect(refused.status).to.equal(403);
    expect(((await refused.json()) as any).error).to.include({ type: 'permission_error', code: 'not_admin' });
    const admin = await harness.openAppPage(portal, 1);
    const done = await harness.pageApi(admin.session as string, 'engines');
    expect(done.status).to.equal(200);
    expect(((await done.json()) as any).sync.kept).to.have.length(2);
  });

  it('a page POST whose AUTH_ID the portal does not confirm gets no session', async () => {
    const portal = await harness.installedPortal();
    const body = new URLSearchParams({
      AUTH_ID: 'test-access-forged',
      member_id: portal.memberId,
      AUTH_EXPIRES: '3600',
    });
    const response = await fetch(`${harness.gateway.url}/b24/app?LANG=en&DOMAIN=${portal.domain}`, {
      method: 'POST',
      body,
    });
    expect(response.status).to.equal(401);
    const html = await response.text();
    expect(html).to.contain('Bitrix24 did not confirm your session');
    expect(html).not.to.contain('app-data');
  });

  const recordOf = async (portal: FakePortal) =>
    (await harness.stored<PortalRecord>(`portal:${portal.memberId}`)) as PortalRecord;
  async function changeRecord(portal: FakePortal, change: (record: PortalRecord) => PortalRecord): Promise<void> {
    await harness.withStore(async (store) => {
      const key = `portal:${portal.memberId}`;
      await store.set(key, change((await store.get<PortalRecord>(key)) as PortalRecord));
    });
  }

  it('a token of another app on the portal gets no session, an administrator’s neither: profile answers for any app, app.info does not', async () => {
    const portal = await harness.installedPortal();
    expect((await recordOf(portal)).appCode).to.equal(TEST_CLIENT_ID);
    const other = await harness.openAppPage(portal, 1, 'en', { clientId: 'local.0000other00000.11111111' });
    expect(other.status).to.equal(401);
    expect(other.session).to.equal(undefined);
    expect(other.html).to.contain('Bitrix24 did not confirm your session');
    await harness.gateway.waitForLog(
      /FOREIGN_APP.*app page session not confirmed|app page session not confirmed.*FOREIGN_APP/,
    );
    expect((await harness.openAppPage(portal, 1)).status).to.equal(200);
  });

  it('an app-directory app: sessions need the app CODE learned at install (its Market code, not its client_id)', async () => {
    const portal = await harness.newPortal();
    portal.appCodes.set(TEST_CLIENT_ID, 'vendor.gigagate');
    portal.appCodes.set('app.0000other00000.11111111', 'vendor.other');
    const { query, body } = frameInstallRequest(portal, harness.oauth.issue(portal, 1));
    expect((await postForm(`${harness.gateway.url}/b24/install?${query}`, body)).status).to.equal(200);
    expect((await recordOf(portal)).appCode).to.equal('vendor.gigagate');
    expect(portal.engines.map((engine) => engine.app_code)).to.deep.equal(['vendor.gigagate', 'vendor.gigagate']);
    expect((await harness.openAppPage(portal, 1)).status).to.equal(200);
    const other = await harness.openAppPage(portal, 1, 'en', { clientId: 'app.0000other00000.11111111' });
    expect(other.status).to.equal(401);
  });

  it('a record from before app codes were kept: a session needs our client_id, which is then recorded', async () => {
    const portal = await harness.installedPortal();
    await changeRecord(portal, ({ appCode: _code, ...record }) => record);
    expect((await harness.openAppPage(portal, 1, 'en', { clientId: 'local.0000other00000.11111111' })).status).to.equal(
      401,
    );
    expect((await recordOf(portal)).appCode).to.equal(undefined);
    expect((await harness.openAppPage(portal, 5)).status).to.equal(200);
    expect((await recordOf(portal)).appCode).to.equal(TEST_CLIENT_ID);
  });

  it('new engine URLs: an administrator’s button moves the engines to a new secret and the old URLs stop answering; an employee’s cannot', async () => {
    const portal = await harness.installedPortal();
    const old = harness.engineUrl(portal);
    const employee = await harness.openAppPage(portal, 5);
    const refused = await harness.pageApi(employee.session as string, 'rotate');
    expect(refused.status).to.equal(403);
    expect(((await refused.json()) as any).error).to.include({ type: 'permission_error', code: 'not_admin' });
    expect(harness.engineUrl(portal)).to.equal(old);

    const admin = await harness.openAppPage(portal, 1);
    const rotated = await harness.pageApi(admin.session as string, 'rotate');
    expect(rotated.status, await rotated.clone().text()).to.equal(200);
    const state = (await rotated.json()) as any;
    expect(state.engines.map((engine: any) => engine.code)).to.deep.equal([
      'gigagate_GigaChat-2-Max',
      'gigagate_GigaChat-2',
    ]);
    const fresh = harness.engineUrl(portal);
    expect(fresh).not.to.equal(old);
    expect(portal.engines).to.have.length(2);
    expect((await fetch(old)).status).to.equal(403);
    expect((await portal.askEngine(old)).status).to.equal(403);
    expect((await fetch(fresh)).status).to.equal(200);
    const ask = await portal.askEngine(fresh);
    expect(ask.status).to.equal(202);
    await portal.waitForCallback(ask.hash);
    // Registering again keeps the new URLs.
    expect((await harness.pageApi(admin.session as string, 'engines')).status).to.equal(200);
    expect(harness.engineUrl(portal)).to.equal(fresh);
  });

  it('a record from before per-portal nonces keeps its old engine URLs until its engines are next synced', async () => {
    const portal = await harness.installedPortal();
    const legacyKey = portalKeyFor(await harness.signingKey(), portal.memberId, undefined);
    const legacy = `${harness.gateway.url}/b24/engine/${legacyKey}/gigagate_GigaChat-2-Max`;
    await changeRecord(portal, ({ keyNonce: _nonce, ...record }) => record);
    expect((await fetch(legacy)).status).to.equal(200);
    expect((await fetch(harness.engineUrl(portal))).status).to.equal(403);
    expect((await portal.askEngine(legacy)).status).to.equal(202);

    const admin = await harness.openAppPage(portal, 1);
    expect((await harness.pageApi(admin.session as string, 'engines')).status).to.equal(200);
    expect((await recordOf(portal)).keyNonce).to.be.a('string');
    expect(harness.engineUrl(portal)).not.to.equal(legacy);
    expect((await fetch(legacy)).status).to.equal(403);
    expect((await fetch(harness.engineUrl(portal))).status).to.equal(200);
  });

  it('a portal without the app, or a page opened outside Bitrix24, gets an explanation', async () => {
    const portal = await harness.newPortal();
    const notInstalled = await harness.openAppPage(portal);
    expect(notInstalled.status).to.equal(404);
    expect(notInstalled.html).to.contain('The app is not installed on this portal');
    const direct = await fetch(`${harness.gateway.url}/b24/app`);
    expect(direct.status).to.equal(400);
    expect(direct.headers.get('content-security-policy')).to.contain("frame-ancestors 'none'");
    expect(await direct.text()).to.contain('Open this app from your Bitrix24 portal');
  });

  it('serves the page assets, b24jssdk’s browser build among them', async () => {
    const sdk = await fetch(`${harness.gateway.url}/b24/assets/b24jssdk.js`);
    expect(sdk.status).to.equal(200);
    expect(sdk.headers.get('content-type')).to.match(/^text\/javascript/);
    expect(await sdk.text()).to.contain('B24Js');
    expect((await fetch(`${harness.gateway.url}/b24/assets/../config.ts`)).status).to.equal(404);
    expect((await fetch(`${harness.gateway.url}/b24/assets/secret.ts`)).status).to.equal(404);
  });
});
