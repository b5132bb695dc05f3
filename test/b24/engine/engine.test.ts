import { expect } from 'chai';
import type { EngineUsage } from '../../../b24-app/portal/portal-store.ts';
import { B24Harness } from '../../helpers/b24/harness.ts';
import { startHttpsServer } from '../../helpers/b24/https-server.ts';
import { gigaChatCompletion } from '../../helpers/cassettes.ts';
import { sendJson } from '../../helpers/gigachat-mock.ts';

const chatRequests = (harness: B24Harness) =>
  harness.gigachat.requestsTo('/api/v1/chat/completions').map((request) => JSON.parse(request.body));

describe('Bitrix24 app: the engine endpoint (completions_url) and its callbacks', function () {
  this.timeout(30_000);
  let harness: B24Harness;

  before(async () => {
    harness = await B24Harness.start({ B24_RATE_LIMIT: '5' });
  });
  after(async () => {
    await harness?.close();
  });
  afterEach(() => {
    harness.gigachat.chat = (_body, response) => sendJson(response, 200, gigaChatCompletion('Hello.'));
  });

  it('answers GET and HEAD with 200 for an installed portal', async () => {
    const portal = await harness.installedPortal();
    const url = harness.engineUrl(portal);
    const get = await fetch(url);
    expect(get.status).to.equal(200);
    expect(await get.json()).to.deep.equal({ status: 'ok' });
    expect((await fetch(url, { method: 'HEAD' })).status).to.equal(200);
  });

  it('POST: 202 with a non-empty JSON object at once, then the answer as JSON {"result"} to callbackUrl', async () => {
    const portal = await harness.installedPortal();
    harness.gigachat.chat = (_body, response) =>
      sendJson(response, 200, gigaChatCompletion('**Добро пожаловать** в команду!'));
    const before = chatRequests(harness).length;
    const answer = await portal.askEngine(harness.engineUrl(portal), {
      payload_role: 'Ты — вежливый HR-менеджер.',
      collect_context: true,
      context: [
        { role: 'user', content: 'Кто у нас новенький?' },
        { role: 'assistant', content: 'Иван, разработчик.' },
      ],
      max_tokens: 300,
      temperature: 0.2,
      payload_markers: { language: 'ru' },
    });
    expect(answer.status).to.equal(202);
    expect(JSON.parse(answer.body)).to.deep.equal({ result: 'OK' });

    const callback = await portal.waitForCallback(answer.hash);
    expect(callback.kind).to.equal('success');
    expect(callback.contentType).to.match(/^application\/json/);
    expect(callback.body).to.deep.equal({ result: '**Добро пожаловать** в команду!' });

    const upstream = chatRequests(harness).slice(before);
    expect(upstream).to.have.length(1);
    expect(upstream[0].model).to.equal('GigaChat-2-Max');
    expect(upstream[0].max_tokens).to.equal(300);
    expect(upstream[0].temperature).to.equal(0.2);
    expect(upstream[0].messages.map((message: any) => message.role)).to.deep.equal([
      'system',
      'user',
      'assistant',
      'user',
    ]);
    expect(upstream[0].messages[0].content).to.match(/^Ты — вежливый HR-менеджер\.\n\nAnswer in Russian/);
    expect(upstream[0].messages[1].content).to.equal('Кто у нас новенький?');
    expect(upstream[0].messages[3].content).to.equal('Напиши приветствие новому сотруднику');
  });

  it('leaves the context out unless collect_context is true, and answers in payload_markers.language', async () => {
    const portal = await harness.installedPortal();
    const before = chatRequests(harness).length;
    const answer = await portal.askEngine(harness.engineUrl(portal, 'gigagate_GigaChat-2'), {
      context: [{ role: 'user', content: 'old message' }],
      payload_markers: { language: 'en' },
      max_tokens: undefined,
      temperature: undefined,
    });
    expect(answer.status).to.equal(202);
    await portal.waitForCallback(answer.hash);
    const [upstream] = chatRequests(harness).slice(before);
    expect(upstream.model).to.equal('GigaChat-2');
    expect(upstream.messages.map((message: any) => message.role)).to.deep.equal(['system', 'user']);
    expect(upstream.messages[0].content).to.match(/^Answer in English/);
    expect(upstream).not.to.have.property('max_tokens');
  });

  it('meters usage per portal and engine', async () => {
    const portal = await harness.installedPortal();
    for (let index = 0; index < 2; index++) {
      const answer = await portal.askEngine(harness.engineUrl(portal));
      await portal.waitForCallback(answer.hash);
    }
    const usage = await harness.stored<Record<string, EngineUsage>>(`usage:${portal.memberId}`);
    const recorded = gigaChatCompletion('x').usage;
    expect(usage?.['gigagate_GigaChat-2-Max']).to.include({
      requests: 2,
      promptTokens: 2 * recorded.prompt_tokens,
      completionTokens: 2 * recorded.completion_tokens,
    });
  });

  it('a failing model → JSON to errorCallbackUrl with message, error, code and api_request_completed: false', async () => {
    const portal = await harness.installedPortal();
    harness.gigachat.chat = (_body, response) => sendJson(response, 402, { status: 402, message: 'Payment Required' });
    const answer = await portal.askEngine(harness.engineUrl(portal));
    expect(answer.status).to.equal(202);
    const callback = await portal.waitForCallback(answer.hash);
    expect(callback.kind).to.equal('error');
    expect(callback.contentType).to.match(/^application\/json/);
    expect(callback.body).to.include({ code: 402, error: 'insufficient_quota', api_request_completed: false });
    expect(callback.body.message).to.be.a('string').and.not.equal('');
  });

  it('retries a callback the portal could not take, and delivers it once', async () => {
    const portal = await harness.installedPortal();
    portal.failCallbacks = 1;
    const answer = await portal.askEngine(harness.engineUrl(portal));
    const callback = await portal.waitForCallback(answer.hash);
    expect(callback.body).to.deep.equal({ result: 'Hello.' });
    await harness.gateway.waitForLog(new RegExp(`"job":"${answer.hash}".*callback delivered`));
    expect(portal.callbacks.filter((received) => received.hash === answer.hash)).to.have.length(1);
  });

  it('a repeated request with the same queue hash is answered once', async () => {
    const portal = await harness.installedPortal();
    const hash = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    portal.queue.set(hash, { done: false });
    const ajax = `${portal.origin}/bitrix/services/main/ajax.php?action=ai.controller.integration.thirdparty`;
    const fields = {
      callbackUrl: `${ajax}.callbackSuccess&hash=${hash}`,
      errorCallbackUrl: `${ajax}.callbackError&hash=${hash}`,
    };
    const before = chatRequests(harness).length;
    expect((await portal.askEngine(harness.engineUrl(portal), fields)).status).to.equal(202);
    expect((await portal.askEngine(harness.engineUrl(portal), fields)).status).to.equal(202);
    await portal.waitForCallback(hash);
    await harness.gateway.waitForLog(new RegExp(`"job":"${hash}".*repeated job`));
    expect(chatRequests(harness).length - before).to.equal(1);
    expect(portal.callbacks.filter((received) => received.hash === hash)).to.have.length(1);
  });

  it('refuses a forged portal key (403) without storing or asking anything', async () => {
    const portal = await harness.installedPortal();
    const url = harness.engineUrl(portal);
    const forged = url.replace(
      /\.([\w-]{32})\//,
      (_match, mac: string) => `.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}/`,
    );
    const before = chatRequests(harness).length;
    const answer = await portal.askEngine(forged);
    expect(answer.status).to.equal(403);
    expect(JSON.parse(answer.body)).to.include({ error: 'INVALID_PORTAL_KEY' });
    expect((await fetch(forged)).status).to.equal(403);
    expect(await harness.stored(`job:${portal.memberId}:${answer.hash}`)).to.equal(undefined);
    expect(chatRequests(harness).length).to.equal(before);
  });

  it('refuses callbacks to a foreign host: no job, no model call, nothing sent there (no SSRF)', async () => {
    const portal = await harness.installedPortal();
    const hits: string[] = [];
    const attacker = await startHttpsServer(
      { key: harness.ca.serverKey, cert: harness.ca.serverCert },
      (request, _body, response) => {
        hits.push(request.url ?? '');
        sendJson(response, 200, {});
      },
    );
    try {
      const before = chatRequests(harness).length;
      const evil = `${attacker.origin}/bitrix/services/main/ajax.php?action=ai.controller.integration.thirdparty.callbackSuccess&hash=abc123`;
      for (const fields of [
        { callbackUrl: evil },
        { errorCallbackUrl: evil },
        { callbackUrl: `http://${portal.domain}/bitrix/services/main/ajax.php?hash=abc123` },
      ]) {
        const answer = await portal.askEngine(harness.engineUrl(portal), fields);
        expect(answer.status).to.equal(400);
        const name = Object.keys(fields)[0] as string;
        expect(JSON.parse(answer.body).error_description).to.match(
          new RegExp(
            `^${name}: must be Bitrix24's callback on the portal, https://${portal.domain}/bitrix/services/main/ajax\\.php\\?action=`,
          ),
        );
      }
      expect(chatRequests(harness).length).to.equal(before);
      expect(hits).to.deep.equal([]);
    } finally {
      attacker.server.closeAllConnections();
      attacker.server.close();
    }
  });

  it('sends callbacks only to Bitrix24’s callback actions: another path, action, port or user info on the portal is a 400 naming the field', async () => {
    const portal = await harness.installedPortal();
    const ajax = `${portal.origin}/bitrix/services/main/ajax.php`;
    const success = `${ajax}?action=ai.controller.integration.thirdparty.callbackSuccess&hash=abc123`;
    const error = `${ajax}?action=ai.controller.integration.thirdparty.callbackError&hash=abc123`;
    const before = chatRequests(harness).length;
    // Five cases: this harness allows a portal five requests a minute.
    const cases: Array<Record<string, string>> = [
      { callbackUrl: `${portal.origin}/rest/1/whatever/im.message.add?hash=abc123` },
      { callbackUrl: `${ajax}?action=im.message.add&hash=abc123` },
      { callbackUrl: error, errorCallbackUrl: success }, // swapped
      { errorCallbackUrl: error.replace('https://', 'https://admin:secret@') },
      // The right action on another path of the portal (after the URL's dot segments are resolved).
      {
        errorCallbackUrl: `${portal.origin}/bitrix/services/main/ajax.php/../../../../rest/im.message.add?action=ai.controller.integration.thirdparty.callbackError&hash=abc123`,
      },
    ];
    for (const fields of cases) {
      const answer = await portal.askEngine(harness.engineUrl(portal), fields);
      expect(answer.status, JSON.stringify(fields)).to.equal(400);
      const name = Object.keys(fields)[0] as string;
      expect(JSON.parse(answer.body)).to.deep.equal({
        error: 'INVALID_REQUEST',
        error_description: `${name}: must be Bitrix24's callback on the portal, https://${portal.domain}/bitrix/services/main/ajax.php?action=ai.controller.integration.thirdparty.${name === 'callbackUrl' ? 'callbackSuccess' : 'callbackError'}&hash=…`,
      });
    }
    expect(chatRequests(harness).length).to.equal(before);
    expect(
      portal.requests.filter((request) => !request.startsWith('GET /rest/') && !request.startsWith('POST /rest/')),
    ).to.deep.equal([]);
  });

  it('refuses bad input with a 400 naming the field', async () => {
    const portal = await harness.installedPortal();
    const url = harness.engineUrl(portal);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ prompt: '' }, /^prompt: /],
      [{ temperature: 5 }, /^temperature: /],
      [{ context: 'not a list' }, /^context: /],
    ];
    for (const [fields, message] of cases) {
      const answer = await portal.askEngine(url, fields);
      expect(answer.status, JSON.stringify(fields)).to.equal(400);
      expect(JSON.parse(answer.body)).to.include({ error: 'INVALID_REQUEST' });
      expect(JSON.parse(answer.body).error_description).to.match(message);
    }
    const notJson = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{nope',
    });
    expect(notJson.status).to.equal(400);
    expect(((await notJson.json()) as any).error_description).to.equal('the body is not valid JSON');
  });

  it('refuses a request whose auth.member_id is another portal', async () => {
    const portal = await harness.installedPortal();
    const answer = await portal.askEngine(harness.engineUrl(portal), { auth: { member_id: 'someone-else' } });
    expect(answer.status).to.equal(403);
    expect(JSON.parse(answer.body)).to.include({ error: 'PORTAL_MISMATCH' });
  });

  it('limits the requests of one portal (429 with Retry-After), not of the others', async () => {
    const busy = await harness.installedPortal();
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let index = 0; index < 6; index++) {
      const response = await fetch(harness.engineUrl(busy), { method: 'POST', body: '{}' });
      statuses.push(response.status);
      if (response.status === 429) retryAfter = response.headers.get('retry-after');
    }
    expect(statuses).to.deep.equal([400, 400, 400, 400, 400, 429]);
    expect(Number(retryAfter)).to.be.greaterThan(0);
    const other = await harness.installedPortal();
    expect((await portal(other)).status).to.equal(202);

    async function portal(target: typeof other) {
      return target.askEngine(harness.engineUrl(target));
    }
  });
});
