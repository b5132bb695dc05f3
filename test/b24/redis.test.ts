import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { expect } from 'chai';
import { freePort, GatewayProcess } from '../helpers/b24/gateway-process.ts';
import { B24Harness } from '../helpers/b24/harness.ts';
import { gigaChatCompletion } from '../helpers/cassettes.ts';
import { sendJson } from '../helpers/gigachat-mock.ts';
import { RedisServer } from '../helpers/redis-server.ts';

describe('Bitrix24 app on a Redis store (STORE_URL=redis://, several instances)', function () {
  this.timeout(40_000);
  let redis: RedisServer;
  let harness: B24Harness;
  let second: GatewayProcess | undefined;

  before(async () => {
    redis = await RedisServer.start();
    // A Redis store requires GATEWAY_SECRET_KEY; the second instance gets the same environment.
    harness = await B24Harness.start({ STORE_URL: redis.url, GATEWAY_SECRET_KEY: randomBytes(32).toString('base64') });
  });
  after(async () => {
    await second?.stop();
    await harness?.close();
    await redis?.stop();
  });

  it('installs, answers, and keeps everything about the portal in Redis', async () => {
    const portal = await harness.installedPortal();
    const answer = await portal.askEngine(harness.engineUrl(portal));
    expect(answer.status).to.equal(202);
    expect((await portal.waitForCallback(answer.hash)).body).to.deep.equal({ result: 'Hello.' });
    const keys = (await harness.storedKeys()).filter((key) => key.includes(portal.memberId));
    expect(keys.sort()).to.deep.equal([
      `job:${portal.memberId}:${answer.hash}`,
      `portal:${portal.memberId}`,
      `usage:${portal.memberId}`,
    ]);
    const stored = await harness.rawStored<Record<string, unknown>>(`portal:${portal.memberId}`);
    expect(stored?.tokens).to.match(/^sealed:1:/);
    expect(stored?.applicationToken).to.match(/^sealed:1:/);
  });

  it('a second instance starting meanwhile does not run a job the first one is working on', async () => {
    const portal = await harness.installedPortal();
    const held: ServerResponse[] = [];
    harness.gigachat.chat = (_body, response) => {
      held.push(response);
    };
    const before = harness.gigachat.requestsTo('/api/v1/chat/completions').length;
    const answer = await portal.askEngine(harness.engineUrl(portal));
    expect(answer.status).to.equal(202);
    const deadline = Date.now() + 5000;
    while (held.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(held).to.have.length(1);

    // The second instance finds the job unfinished in the shared store, but the first holds its lease.
    const port = await freePort();
    second = new GatewayProcess({ ...harness.gateway.env, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
    await second.start();
    await second.waitForLog(/"jobs":1.*resuming unfinished jobs/);
    await second.waitForLog(new RegExp(`"job":"${answer.hash}".*another instance has the job`));

    sendJson(held[0] as ServerResponse, 200, gigaChatCompletion('Один ответ.'));
    expect((await portal.waitForCallback(answer.hash)).body).to.deep.equal({ result: 'Один ответ.' });
    await harness.gateway.waitForLog(new RegExp(`"job":"${answer.hash}".*callback delivered`));
    expect(harness.gigachat.requestsTo('/api/v1/chat/completions').length - before).to.equal(1);
    expect(portal.callbacks.filter((callback) => callback.hash === answer.hash)).to.have.length(1);
    expect(second.log()).not.to.match(new RegExp(`"job":"${answer.hash}".*callback`));
  });
});
