import { expect } from 'chai';
import { B24Harness } from '../helpers/b24/harness.ts';

/** Resolves once the server answers, sending the next request the moment a connection is refused. */
async function accepting(url: string, exited: () => boolean): Promise<void> {
  for (;;) {
    const answered = await fetch(url).then(
      async (response) => {
        await response.body?.cancel();
        return true;
      },
      () => false,
    );
    if (answered) return;
    if (exited()) throw new Error('the gateway exited before it listened');
  }
}

describe('Bitrix24 app: start-up', function () {
  this.timeout(60_000);
  let harness: B24Harness;
  let engineUrl: string;

  before(async () => {
    harness = await B24Harness.start();
    const portal = await harness.installedPortal();
    engineUrl = harness.engineUrl(portal);
    // Finished jobs the start-up scans, as in a store that has served for a while: the app takes a
    // moment to start, while requests keep arriving.
    await harness.withStore(async (store) => {
      const job = { memberId: portal.memberId, state: 'done', deadline: Date.now() + 3_600_000, outcome: 'delivered' };
      await store.setMany(
        Array.from({ length: 500 }, (_, index) => ({
          key: `job:${portal.memberId}:old-${index}`,
          value: { ...job, id: `old-${index}` },
        })),
      );
    });
    await harness.gateway.stop();
  });
  after(async () => {
    await harness?.close();
  });

  it('answers every route from the first connection on; /readyz is 503 "starting" until the jobs are resumed', async () => {
    const gateway = harness.gateway;
    const from = gateway.spawn();
    let started = false;
    const ready = gateway.waitForLog(/Bitrix24 app: ready/, 30_000, from).finally(() => {
      started = true;
    });
    await accepting(`${gateway.url}/healthz`, () => gateway.child?.exitCode !== null);
    const base = gateway.url;
    const routes: Record<string, () => Promise<Response>> = {
      '/healthz': () => fetch(`${base}/healthz`),
      '/readyz': () => fetch(`${base}/readyz`),
      'GET engine URL': () => fetch(engineUrl),
      '/b24/assets/app.css': () => fetch(`${base}/b24/assets/app.css`),
      '/b24/app/api/state': () => fetch(`${base}/b24/app/api/state`),
      'GET /b24/app': () => fetch(`${base}/b24/app`),
      'POST /b24/install': () => fetch(`${base}/b24/install`, { method: 'POST', body: new URLSearchParams() }),
      'POST /b24/events': () => fetch(`${base}/b24/events`, { method: 'POST', body: new URLSearchParams() }),
    };
    const statuses = new Map<string, Set<number>>(Object.keys(routes).map((route) => [route, new Set()]));
    /** `/readyz`'s answers as `<status> <checks.b24>`, each change once, in order. */
    const readiness: string[] = [];
    const round = async (): Promise<Record<string, number>> => {
      const answers = await Promise.all(
        Object.entries(routes).map(async ([route, send]) => {
          const response = await send();
          const body = await response.text();
          statuses.get(route)?.add(response.status);
          if (route === '/readyz') {
            const seen = `${response.status} ${(JSON.parse(body) as { checks?: { b24?: string } }).checks?.b24}`;
            if (readiness.at(-1) !== seen) readiness.push(seen);
          }
          return [route, response.status] as const;
        }),
      );
      return Object.fromEntries(answers);
    };
    // One round after another, as fast as they go, until the app says it has started; then once more.
    while (!started) await round();
    await ready;
    const last = await round();

    statuses.delete('/readyz'); // checked below
    for (const [route, seen] of statuses) {
      expect([...seen], `${route}, while the app started and after`).to.deep.equal([last[route]]);
    }
    expect(Object.values(last)).not.to.include(404);
    // "starting" (503) for as long as it lasts, then "ready" (200), never back.
    expect(readiness.join(' → ')).to.be.oneOf(['503 starting → 200 ready', '200 ready']);
    // The process logs in order: no /readyz said 200 before the app said it had started.
    await gateway.waitForLog(/"path":"\/readyz","status":200/, 8000, from);
    const lines = gateway.lines.slice(from);
    const readyLine = lines.findIndex((line) => line.includes('Bitrix24 app: ready'));
    const firstReady200 = lines.findIndex((line) => /"path":"\/readyz","status":200/.test(line));
    expect(firstReady200).to.be.greaterThan(readyLine);
  });
});
