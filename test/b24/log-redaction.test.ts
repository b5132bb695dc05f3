import { expect } from 'chai';
import { B24Harness } from '../helpers/b24/harness.ts';

describe('Bitrix24 app: the access log never prints an engine URL’s secret', function () {
  this.timeout(30_000);
  let harness: B24Harness;

  before(async () => {
    harness = await B24Harness.start();
  });
  after(async () => {
    await harness?.close();
  });

  it('hides the secret part of /b24/engine/<key> on every route, matched or not, however it is spelled', async () => {
    const portal = await harness.installedPortal();
    const engineUrl = harness.engineUrl(portal);
    const [, member, mac] = /\/b24\/engine\/([^/.]+)\.([^/]+)\//.exec(engineUrl) as unknown as [string, string, string];
    const key = `${member}.${mac}`;
    const base = harness.gateway.url;
    const forged = `${member}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`;
    const requests: Array<[string, string, RequestInit?]> = [
      ['matched', `${base}/b24/engine/${key}/gigagate_GigaChat-2-Max`],
      ['bad body', `${base}/b24/engine/${key}/gigagate_GigaChat-2-Max`, { method: 'POST', body: '{nope' }],
      ['no engine code', `${base}/b24/engine/${key}`],
      ['one segment too many', `${base}/b24/engine/${key}/gigagate_GigaChat-2-Max/more`],
      ['upper case', `${base}/B24/ENGINE/${key}/gigagate_GigaChat-2-Max`],
      ['double slash', `${base}/b24//engine/${key}/gigagate_GigaChat-2-Max`],
      ['behind a proxy prefix', `${base}/gigagate/b24/engine/${key}/gigagate_GigaChat-2-Max`],
      ['encoded dot', `${base}/b24/engine/${member}%2E${mac}/gigagate_GigaChat-2-Max`],
      ['forged', `${base}/b24/engine/${forged}/gigagate_GigaChat-2-Max`],
    ];
    const statuses: Record<string, number> = {};
    for (const [name, url, init] of requests) {
      const id = `redaction-${name.replace(/\W+/g, '-')}`;
      const response = await fetch(url, { ...init, headers: { 'x-request-id': id, ...init?.headers } });
      await response.arrayBuffer();
      statuses[name] = response.status;
      const line = await harness.gateway.waitForLog(new RegExp(`"requestId":"${id}","method"`));
      expect(JSON.parse(line).path, name).to.contain('.[redacted]').and.not.contain(mac.slice(0, 8));
    }
    // The requests reached what they should: the secret is hidden whether a route took them or not.
    expect(statuses).to.deep.include({ matched: 200, 'bad body': 400, 'no engine code': 404, forged: 403 });
    const log = harness.gateway.log();
    expect(log).not.to.contain(mac);
    expect(log).not.to.contain(forged.split('.')[1]);
    expect(log).to.contain(`"path":"/b24/engine/${member}.[redacted]/gigagate_GigaChat-2-Max"`);
  });
});
