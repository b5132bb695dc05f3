import { expect } from 'chai';
import type { PortalEngine } from '../../helpers/b24/fake-portal.ts';
import { B24Harness } from '../../helpers/b24/harness.ts';
import { APP_EVENTS, frameInstallRequest, installEvent, postForm, updateEvent } from '../../helpers/b24/wire.ts';

describe('Bitrix24 app: install (real gateway process, fake portal over HTTPS)', function () {
  this.timeout(30_000);
  let harness: B24Harness;

  before(async () => {
    harness = await B24Harness.start();
  });
  after(async () => {
    await harness?.close();
  });

  it('frame install: checks the installer is an administrator, registers one text engine per model, binds the events, answers a page that calls installFinish', async () => {
    const portal = await harness.newPortal();
    const tokens = harness.oauth.issue(portal, 1);
    const { query, body } = frameInstallRequest(portal, tokens);
    const response = await postForm(`${harness.gateway.url}/b24/install?${query}`, body);
    const html = await response.text();
    expect(response.status, html).to.equal(200);
    expect(response.headers.get('content-type')).to.match(/^text\/html/);
    expect(response.headers.get('content-security-policy')).to.contain(`frame-ancestors https://${portal.domain}`);
    expect(html).to.contain('assets/install.js').and.contain('Приложение установлено');

    expect(portal.engines.map((engine) => engine.code)).to.deep.equal([
      'gigagate_GigaChat-2-Max',
      'gigagate_GigaChat-2',
    ]);
    for (const engine of portal.engines) {
      expect(engine.category).to.equal('text');
      expect(engine.app_code).to.equal('local.0000test000000.00000000');
      expect(engine.name).to.match(/^GigaChat-2(-Max)? \(Sber GigaChat via gigagate\)$/);
      expect(engine.completions_url).to.match(
        new RegExp(`^${harness.gateway.url}/b24/engine/${portal.memberId}\\.[\\w-]{32}/${engine.code}$`),
      );
      expect(engine.settings).to.deep.equal({
        code_alias: 'ChatGPT',
        model_context_type: 'token',
        model_context_limit: String(131_072 - 8_192),
      });
    }
    expect(portal.events).to.deep.equal(
      APP_EVENTS.map((event) => ({ event, handler: `${harness.gateway.url}/b24/events` })),
    );
    // The first calls: who is this (user.admin), which app is this (app.info) — before anything changes.
    expect(
      portal
        .calls()
        .map((call) => call.method)
        .slice(0, 3),
    ).to.deep.equal(['user.admin', 'app.info', 'event.get']);
    // The posted refresh token was spent confirming the portal: the server rotated it.
    expect(harness.oauth.refreshes.at(-1)).to.deep.equal({ refreshToken: tokens.refresh_token, ok: true });
  });

  it('API-only install (form-encoded auth[…]) takes the same path and answers JSON', async () => {
    const portal = await harness.newPortal();
    const response = await postForm(
      `${harness.gateway.url}/b24/install`,
      installEvent(portal, harness.oauth.issue(portal, 1)),
    );
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({
      result: true,
      engines: ['gigagate_GigaChat-2-Max', 'gigagate_GigaChat-2'],
    });
    expect(portal.engines).to.have.length(2);
    expect(portal.events.map((event) => event.event)).to.deep.equal(APP_EVENTS);
  });

  it('installing again registers the engines at new URLs (a new secret); the old URLs stop answering', async () => {
    const portal = await harness.newPortal();
    const install = () => {
      const { query, body } = frameInstallRequest(portal, harness.oauth.issue(portal, 1));
      return postForm(`${harness.gateway.url}/b24/install?${query}`, body);
    };
    expect((await install()).status).to.equal(200);
    const first = harness.engineUrl(portal);
    expect((await install()).status).to.equal(200);
    const second = harness.engineUrl(portal);
    expect(second).not.to.equal(first);
    expect(second.split('.')[0]).to.equal(first.split('.')[0]); // the member_id part stays
    expect((await fetch(first)).status).to.equal(403);
    expect((await fetch(second)).status).to.equal(200);
    expect(portal.engines).to.have.length(2);
    expect(portal.calls('ai.engine.register')).to.have.length(4);
    expect(portal.calls('ai.engine.unregister')).to.have.length(2);
    expect(portal.calls('event.bind')).to.have.length(3); // bound once, found in place the second time
  });

  it('the ONAPPINSTALL that follows the install page keeps the URLs it just made; a later one (a re-install) makes new ones', async () => {
    const portal = await harness.installedPortal();
    const ids = portal.engines.map((engine) => engine.id);
    const url = harness.engineUrl(portal);
    const onAppInstall = () =>
      postForm(`${harness.gateway.url}/b24/events`, installEvent(portal, harness.oauth.issue(portal, 1)));
    expect((await onAppInstall()).status).to.equal(200);
    expect(harness.engineUrl(portal)).to.equal(url);
    expect(portal.engines.map((engine) => engine.id)).to.deep.equal(ids);
    expect(portal.calls('ai.engine.register')).to.have.length(2);

    // Sixteen minutes later the event is a re-install of its own.
    await harness.withStore(async (store) => {
      const key = `portal:${portal.memberId}`;
      const record = (await store.get<Record<string, unknown>>(key)) as Record<string, unknown>;
      await store.set(key, { ...record, keyNonceSince: Date.now() - 16 * 60_000 });
    });
    expect((await onAppInstall()).status).to.equal(200);
    expect(harness.engineUrl(portal)).not.to.equal(url);
    expect((await fetch(url)).status).to.equal(403);
    expect(portal.calls('ai.engine.register')).to.have.length(4);
  });

  it('an app update (ONAPPUPDATE) keeps the engine URLs and changes nothing that is in place', async () => {
    const portal = await harness.installedPortal();
    const ids = portal.engines.map((engine) => engine.id);
    const url = harness.engineUrl(portal);
    const response = await postForm(
      `${harness.gateway.url}/b24/events`,
      updateEvent(portal, harness.oauth.issue(portal, 1)),
    );
    expect(response.status, await response.text()).to.equal(200);
    expect(portal.engines.map((engine) => engine.id)).to.deep.equal(ids);
    expect(harness.engineUrl(portal)).to.equal(url);
    expect(portal.calls('ai.engine.register')).to.have.length(2);
    expect(portal.calls('ai.engine.unregister')).to.have.length(0);
  });

  it('an update unregisters what is stale or changed, then registers', async () => {
    const portal = await harness.installedPortal();
    const changed = portal.engines.find((engine) => engine.code === 'gigagate_GigaChat-2') as PortalEngine;
    changed.settings.model_context_limit = '4000';
    portal.engines.push({ ...changed, id: 99, code: 'gigagate_GigaChat-Pro', name: 'a model no longer configured' });

    const response = await postForm(
      `${harness.gateway.url}/b24/events`,
      updateEvent(portal, harness.oauth.issue(portal, 1)),
    );
    expect(response.status, await response.text()).to.equal(200);
    expect(portal.engines.map((engine) => engine.code).sort()).to.deep.equal([
      'gigagate_GigaChat-2',
      'gigagate_GigaChat-2-Max',
    ]);
    const replaced = portal.engines.find((engine) => engine.code === 'gigagate_GigaChat-2') as PortalEngine;
    expect(replaced.settings.model_context_limit).to.equal(String(131_072 - 8_192));
    expect(portal.calls('ai.engine.unregister').map((call) => call.params.code)).to.deep.equal([
      'gigagate_GigaChat-2',
      'gigagate_GigaChat-Pro',
    ]);
  });

  it('copes with ENGINE_REGISTER_ERROR_CODE_UNIQUE for an engine the list did not show', async () => {
    const portal = await harness.installedPortal();
    portal.hiddenFromList.add('gigagate_GigaChat-2-Max');
    const response = await postForm(
      `${harness.gateway.url}/b24/events`,
      updateEvent(portal, harness.oauth.issue(portal, 1)),
    );
    expect(response.status, await response.text()).to.equal(200);
    expect(portal.engines.filter((engine) => engine.code === 'gigagate_GigaChat-2-Max')).to.have.length(1);
    expect(portal.calls('ai.engine.register').map((call) => call.params.code)).to.deep.equal([
      'gigagate_GigaChat-2-Max',
      'gigagate_GigaChat-2',
      'gigagate_GigaChat-2-Max', // refused: CODE_UNIQUE
      'gigagate_GigaChat-2-Max', // after unregistering it
    ]);
  });

  it('names the engine when its code belongs to another application (a webhook registration), and saves nothing', async () => {
    const portal = await harness.newPortal();
    portal.addWebhookEngine('gigagate_GigaChat-2');
    const { query, body } = frameInstallRequest(portal, harness.oauth.issue(portal, 1), { lang: 'en' });
    const response = await postForm(`${harness.gateway.url}/b24/install?${query}`, body);
    expect(response.status).to.equal(502);
    const html = await response.text();
    expect(html).to.contain('ENGINE_REGISTER_ERROR_CODE_UNIQUE').and.contain('gigagate_GigaChat-2 belongs to another');
    expect(html).to.contain('The installation did not finish');
    // The record is saved only once the engines are in place: this portal has none.
    expect((await harness.storedKeys()).filter((key) => key.includes(portal.memberId))).to.deep.equal([]);
    expect((await fetch(harness.engineUrl(portal, 'gigagate_GigaChat-2-Max'))).status).to.equal(404);
  });

  it('a forged install (member_id of another portal) is refused by the OAuth check and stores nothing', async () => {
    const victim = await harness.newPortal();
    const attacker = await harness.newPortal();
    const { query, body } = frameInstallRequest(attacker, harness.oauth.issue(attacker, 1));
    body.set('member_id', victim.memberId);
    const response = await postForm(`${harness.gateway.url}/b24/install?${query}`, body);
    expect(response.status).to.equal(403);
    expect(await response.text()).to.contain('OAUTH_FAILED');
    expect(attacker.calls()).to.have.length(0);
    expect(victim.calls()).to.have.length(0);
  });

  it('a non-administrator gets a clear refusal before anything is registered or stored', async () => {
    const portal = await harness.newPortal();
    const { query, body } = frameInstallRequest(portal, harness.oauth.issue(portal, 7), { lang: 'en' });
    const response = await postForm(`${harness.gateway.url}/b24/install?${query}`, body);
    expect(response.status).to.equal(403);
    const html = await response.text();
    expect(html).to.contain('The installation did not finish').and.contain('Only a portal administrator');
    expect(html).not.to.contain('install-data">{"ok":true');
    expect(portal.calls().map((call) => call.method)).to.deep.equal(['user.admin']);
    expect((await harness.storedKeys()).filter((key) => key.includes(portal.memberId))).to.deep.equal([]);
    await harness.gateway.waitForLog(/Bitrix24: install failed.*ACCESS_DENIED|ACCESS_DENIED.*Bitrix24: install failed/);
  });
});
