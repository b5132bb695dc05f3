import { expect } from 'chai';
import { B24Harness } from '../helpers/b24/harness.ts';
import { gigaChatCompletion } from '../helpers/cassettes.ts';
import { sendJson } from '../helpers/gigachat-mock.ts';

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
