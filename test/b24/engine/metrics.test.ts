import { expect } from 'chai';
import { B24Harness } from '../../helpers/b24/harness.ts';
import { sendJson } from '../../helpers/gigachat-mock.ts';
import { type Sample, scrape, seriesValue } from '../../helpers/prometheus.ts';

const jobs = (samples: Sample[], event: string) => seriesValue(samples, 'gigagate_b24_jobs_total', { event });

/** Scrapes until `ready` holds: a job's counter moves once its callback is saved, just after the portal got it. */
async function scrapeUntil(
  url: string,
  ready: (samples: Sample[]) => boolean,
): Promise<{ samples: Sample[]; text: string }> {
  for (let attempt = 0; ; attempt++) {
    const { samples, text } = await scrape(url);
    if (ready(samples) || attempt === 200) return { samples, text };
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('Bitrix24 app: job metrics at the gateway’s GET /metrics', function () {
  this.timeout(30_000);
  let harness: B24Harness;

  before(async () => {
    harness = await B24Harness.start();
  });
  after(async () => {
    await harness?.close();
  });

  it('counts jobs queued, delivered and failed, and engine calls by route pattern without the portal key', async () => {
    const start = await scrape(harness.gateway.url);
    expect(start.status).to.equal(200);
    for (const event of ['queued', 'delivered', 'failed']) expect(jobs(start.samples, event)).to.equal(0);

    const portal = await harness.installedPortal();
    const engineUrl = harness.engineUrl(portal);
    const answered = await portal.askEngine(engineUrl);
    expect(answered.status).to.equal(202);
    expect((await portal.waitForCallback(answered.hash)).kind).to.equal('success');
    const first = await scrapeUntil(harness.gateway.url, (samples) => jobs(samples, 'delivered') === 1);
    expect(jobs(first.samples, 'queued')).to.equal(1);
    expect(jobs(first.samples, 'delivered')).to.equal(1);
    expect(jobs(first.samples, 'failed')).to.equal(0);

    harness.gigachat.chat = (_body, response) => sendJson(response, 402, { status: 402, message: 'Payment Required' });
    const refused = await portal.askEngine(engineUrl);
    expect((await portal.waitForCallback(refused.hash)).kind).to.equal('error');
    const { samples, text } = await scrapeUntil(harness.gateway.url, (found) => jobs(found, 'failed') === 1);
    expect(jobs(samples, 'queued')).to.equal(2);
    expect(jobs(samples, 'delivered')).to.equal(1);
    expect(jobs(samples, 'failed')).to.equal(1);

    const engineCalls = { route: '/b24/engine/:key/:code', method: 'POST', status: '202' };
    expect(seriesValue(samples, 'gigagate_http_requests_total', engineCalls)).to.equal(2);
    const portalKey = new URL(engineUrl).pathname.split('/')[3] as string;
    expect(portalKey.length).to.be.greaterThan(10);
    expect(text).not.to.contain(portalKey);
    expect(text).not.to.contain(portal.memberId);
  });
});
