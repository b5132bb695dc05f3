import { expect } from 'chai';
import { type GatewayProcess, startGatewayProcess } from '../helpers/gateway-process.ts';
import { GigaChatMock } from '../helpers/gigachat-mock.ts';
import { RedisServer } from '../helpers/redis-server.ts';

describe('several gateway processes sharing one Redis store (STORE_URL=redis://…)', function () {
  this.timeout(30_000);
  let redis: RedisServer;
  let gigachat: GigaChatMock;
  const gateways: GatewayProcess[] = [];

  before(async () => {
    redis = await RedisServer.start();
  });
  after(async () => {
    await redis.stop();
  });
  beforeEach(async () => {
    gigachat = await GigaChatMock.start();
  });
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gateway) => gateway.stop()));
    await gigachat.close();
  });

  it('share one GigaChat token: exactly one OAuth call between two cold processes under concurrent load', async () => {
    gigachat.oauthDelayMs = 200; // both processes ask while the first OAuth call is still out
    const env = { ...gigachat.env(), STORE_URL: redis.url, LOG_LEVEL: 'info' };
    const [first, second] = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
    gateways.push(first, second);
    const ask = (url: string) =>
      fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'GigaChat', messages: [{ role: 'user', content: 'hi' }] }),
      }).then((response) => response.status);
    const statuses = await Promise.all(
      [first, second].flatMap((gateway) => Array.from({ length: 5 }, () => ask(gateway.url))),
    );
    expect(statuses).to.deep.equal(Array(10).fill(200));
    expect(gigachat.oauthCalls).to.equal(1);
    expect(gigachat.requestsTo('/api/v1/chat/completions')).to.have.length(10);
  });

  it('stops start-up with one line naming STORE_URL when Redis cannot be reached', async () => {
    const { spawnGateway, waitFor } = await import('../helpers/gateway-process.ts');
    const gateway = spawnGateway({ PORT: '0', STORE_URL: 'redis://127.0.0.1:1' });
    gateways.push(gateway);
    const [line] = await waitFor(gateway.stderr, /gateway: .*\n/);
    expect(line).to.match(/STORE_URL/);
    expect(await gateway.stop()).to.equal(1);
  });
});
