import { expect } from 'chai';
import { B24Harness } from '../../helpers/b24/harness.ts';

describe('Bitrix24 app without B24_ENGINE_MODELS, on a gateway with client keys', function () {
  this.timeout(30_000);
  let harness: B24Harness;

  before(async () => {
    harness = await B24Harness.start({
      B24_ENGINE_MODELS: '',
      GATEWAY_API_KEYS: 'other:test-key-other-not-real,bitrix24:test-key-b24-not-real',
    });
  });
  after(async () => {
    await harness?.close();
  });

  it('registers the first chat model of each enabled provider, as GET /v1/models lists them', async () => {
    const portal = await harness.installedPortal();
    expect(portal.engines.map((engine) => [engine.code, engine.settings.model_context_limit])).to.deep.equal([
      ['gigagate_GigaChat', String(32_768 - 8_192)],
    ]);
  });

  it('asks the gateway with the first client key of GATEWAY_API_KEYS', async () => {
    const portal = await harness.installedPortal();
    const answer = await portal.askEngine(harness.engineUrl(portal, 'gigagate_GigaChat'));
    expect((await portal.waitForCallback(answer.hash)).body).to.deep.equal({ result: 'Hello.' });
    const line = await harness.gateway.waitForLog(/"path":"\/v1\/chat\/completions"/);
    expect(JSON.parse(line)).to.include({ status: 200, client: 'other' });
  });
});
