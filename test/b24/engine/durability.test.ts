import type { ServerResponse } from 'node:http';
import { expect } from 'chai';
import { B24Harness } from '../../helpers/b24/harness.ts';
import { gigaChatCompletion } from '../../helpers/cassettes.ts';
import { sendJson } from '../../helpers/gigachat-mock.ts';

const chatCalls = (harness: B24Harness) => harness.gigachat.requestsTo('/api/v1/chat/completions').length;

async function until(condition: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('Bitrix24 app: an accepted job survives the process being killed', function () {
  this.timeout(40_000);
  let harness: B24Harness;

  beforeEach(async () => {
    harness = await B24Harness.start();
  });
  afterEach(async () => {
    await harness?.close();
  });

  it('killed while the model is thinking: the restarted process asks again and delivers the answer', async () => {
    const portal = await harness.installedPortal();
    const held: ServerResponse[] = [];
    harness.gigachat.chat = (_body, response) => {
      held.push(response); // never answered: the process dies first
    };
    const before = chatCalls(harness);
    const answer = await portal.askEngine(harness.engineUrl(portal));
    expect(answer.status).to.equal(202);
    await until(() => held.length === 1, 'the model call');

    await harness.gateway.kill();
    expect(portal.callbacks).to.deep.equal([]);
    harness.gigachat.chat = (_body, response) =>
      sendJson(response, 200, gigaChatCompletion('Ответ после перезапуска.'));
    await harness.gateway.start();

    const callback = await portal.waitForCallback(answer.hash);
    expect(callback).to.include({ kind: 'success' });
    expect(callback.body).to.deep.equal({ result: 'Ответ после перезапуска.' });
    expect(chatCalls(harness) - before).to.equal(2);
    await harness.gateway.waitForLog(/"jobs":1.*resuming unfinished jobs/);
  });

  it('stopped (SIGTERM) while the model is thinking: shuts down at once, and the restart answers', async () => {
    const portal = await harness.installedPortal();
    const held: ServerResponse[] = [];
    harness.gigachat.chat = (_body, response) => {
      held.push(response);
    };
    const answer = await portal.askEngine(harness.engineUrl(portal));
    await until(() => held.length === 1, 'the model call');
    await harness.gateway.stop();
    expect(harness.gateway.child?.exitCode).to.equal(0);
    harness.gigachat.chat = (_body, response) => sendJson(response, 200, gigaChatCompletion('После остановки.'));
    await harness.gateway.start();
    expect((await portal.waitForCallback(answer.hash)).body).to.deep.equal({ result: 'После остановки.' });
  });

  it('killed after the answer, before the callback got through: the restart delivers it without asking again', async () => {
    const portal = await harness.installedPortal();
    portal.failCallbacks = 1;
    const before = chatCalls(harness);
    const answer = await portal.askEngine(harness.engineUrl(portal));
    await harness.gateway.waitForLog(new RegExp(`"job":"${answer.hash}".*callback will be retried`));
    await harness.gateway.kill();
    expect(portal.callbacks).to.deep.equal([]);

    await harness.gateway.start();
    const callback = await portal.waitForCallback(answer.hash);
    expect(callback.body).to.deep.equal({ result: 'Hello.' });
    expect(chatCalls(harness) - before).to.equal(1);
  });
});
