import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createGatewayClient, listGatewayModels } from '../../../b24-app/gateway-client.ts';
import { engineModels } from '../../../b24-app/install/engine-models.ts';
import { engineSpec } from '../../../b24-app/install/engines.ts';

/** A gateway whose `GET /v1/models` answers `models`; other paths and a `null` list answer 503. */
async function startModels(models: () => unknown[] | null): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const data = models();
    const ok = request.url === '/v1/models' && data !== null;
    response.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
    response.end(JSON.stringify(ok ? { object: 'list', data } : { error: { message: 'down', type: 'api_error' } }));
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const model = (id: string, owned_by: string, kind?: string) => ({ id, object: 'model', created: 0, owned_by, kind });

describe('Bitrix24 engines: which models, read from the kind and owned_by of GET /v1/models', () => {
  let server: Server;
  let listed: unknown[] | null = [];
  let gateway: ReturnType<typeof createGatewayClient>;
  before(async () => {
    const started = await startModels(() => listed);
    server = started.server;
    gateway = createGatewayClient(started.url, undefined);
  });
  after(() => server.close());

  it('takes the first chat model of each provider, skipping other kinds and the aliases', async () => {
    listed = [
      model('fast', 'gigagate', 'chat'),
      model('Embeddings', 'salutedevices', 'embeddings'),
      model('GigaChat-2', 'salutedevices', 'chat'),
      model('GigaChat-2-Max', 'salutedevices', 'chat'),
      model('imagen-4.0-generate-001', 'google', 'image'),
      model('gemini-embedding-001', 'google', 'embeddings'),
      model('gemini-tts', 'google', 'audio'),
      model('aqa', 'google', 'something-new'),
      model('gemini-2.5-flash', 'google', 'chat'),
    ];
    expect(await engineModels(undefined, gateway)).to.deep.equal([
      { id: 'GigaChat-2', ownedBy: 'salutedevices' },
      { id: 'gemini-2.5-flash', ownedBy: 'google' },
    ]);
    expect((await listGatewayModels(gateway)).find((entry) => entry.id === 'aqa')?.kind).to.equal('other');
  });

  it('a name says nothing: an embedding model named like a chat model is skipped, a chat model with any name is taken', async () => {
    listed = [model('GigaChat-Embed', 'salutedevices', 'embeddings'), model('sber-next', 'salutedevices', 'chat')];
    expect(await engineModels(undefined, gateway)).to.deep.equal([{ id: 'sber-next', ownedBy: 'salutedevices' }]);
  });

  it('a model listed without a kind counts as a chat model; owners that are not the gateway’s providers do not', async () => {
    listed = [model('gpt-x', 'openai'), model('GigaChat', 'salutedevices')];
    expect(await engineModels(undefined, gateway)).to.deep.equal([{ id: 'GigaChat', ownedBy: 'salutedevices' }]);
    listed = [model('gpt-x', 'openai'), model('Embeddings', 'salutedevices', 'embeddings')];
    try {
      await engineModels(undefined, gateway);
      expect.fail('expected a refusal');
    } catch (error) {
      expect((error as Error).message).to.contain('the gateway lists no chat model');
    }
  });

  it('configured models keep their order and take their owner from the list, with or without the provider prefix', async () => {
    listed = [model('GigaChat-2-Max', 'salutedevices', 'chat'), model('gemini-2.5-pro', 'google', 'chat')];
    const models = await engineModels(['gemini/gemini-2.5-pro', 'GigaChat-2-Max', 'fast'], gateway);
    expect(models).to.deep.equal([
      { id: 'gemini/gemini-2.5-pro', ownedBy: 'google' },
      { id: 'GigaChat-2-Max', ownedBy: 'salutedevices' },
      { id: 'fast', ownedBy: undefined },
    ]);
    expect(models.map((entry) => engineSpec(entry, 'https://gate.example/b24/engine/k').name)).to.deep.equal([
      'gemini/gemini-2.5-pro (Google Gemini via gigagate)',
      'GigaChat-2-Max (Sber GigaChat via gigagate)',
      'fast (gigagate via gigagate)',
    ]);
  });

  it('configured models need no list: a gateway that cannot list leaves them without an owner', async () => {
    listed = null;
    expect(await engineModels(['GigaChat-2'], gateway)).to.deep.equal([{ id: 'GigaChat-2', ownedBy: undefined }]);
  });
});
