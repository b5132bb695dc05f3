import { expect } from 'chai';
import { staticKeyDirectory } from '../../gateway/clients/key-directory.ts';
import { CHAT_COMPLETIONS_PATH } from '../../gateway/http/chat-entrance.ts';
import { apiKeyCheck } from '../../gateway/http/middleware/auth.ts';
import { createRouter } from '../../gateway/http/router.ts';
import { createLogger } from '../../gateway/lib/logger.ts';
import { createMetrics } from '../../gateway/lib/metrics.ts';
import { ProviderRegistry } from '../../gateway/providers/registry.ts';
import { Accounts } from '../../gateway/routing/accounts.ts';
import { ModelRouter } from '../../gateway/routing/model-router.ts';
import { gigaChatCompletion } from '../helpers/cassettes.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { GigaChatMock, sendJson } from '../helpers/gigachat-mock.ts';

// 1C sends JSON with or without a UTF-8 BOM (the two-argument УстановитьТелоИзСтроки adds one),
// in UTF-8 or, from older code, in windows-1251. Every route that reads a JSON body must take all three.

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** windows-1251 bytes of a text of ASCII and Russian letters. */
function windows1251(text: string): Buffer {
  return Buffer.from(
    [...text].map((character) => {
      const code = character.codePointAt(0) as number;
      if (code < 0x80) return code;
      if (code >= 0x410 && code <= 0x44f) return code - 0x410 + 0xc0;
      if (character === 'Ё') return 0xa8;
      if (character === 'ё') return 0xb8;
      throw new Error(`no windows-1251 byte for ${character}`);
    }),
  );
}

/** A body each known route accepts; routes added later get a plain object and must still parse it. */
const BODIES: Record<string, object> = {
  '/v1/chat/completions': { model: 'GigaChat', messages: [{ role: 'user', content: 'Ёлка, привет' }] },
  '/analyze/text': { text: 'Ёлка, привет', return_format: 'text' },
  '/v1/embeddings': { model: 'Embeddings', input: 'Ёлка, привет' },
};

describe('onec: JSON bodies from 1C on every route that reads JSON', () => {
  let mock: GigaChatMock;
  let gateway: TestGateway;
  let jsonRoutes: string[];

  before(() => {
    // The routes whose chain reads a JSON body, from the router itself, so new routes are covered too;
    // the chat route's POST is the chat entrance's, which reads JSON before Koa.
    const registry = new ProviderRegistry([], []);
    const router = createRouter({
      config: { apiKeys: [], maxBodyBytes: 1024 } as any,
      logger: createLogger('silent'),
      store: {} as any,
      registry,
      models: new ModelRouter(registry, []),
      accounts: Accounts.ofRegistry(registry),
      policy: {} as any,
      metrics: createMetrics(),
      dispatcher: {} as any,
      checkApiKey: apiKeyCheck(staticKeyDirectory([])),
    });
    const koaJsonRoutes = router.stack
      .filter((layer) => layer.methods.includes('POST'))
      .filter((layer) => layer.stack.some((middleware) => middleware.name === 'readBody'))
      .map((layer) => String(layer.path));
    jsonRoutes = [CHAT_COMPLETIONS_PATH, ...koaJsonRoutes];
  });
  beforeEach(async () => {
    mock = await GigaChatMock.start();
    mock.chat = (_body, response) => sendJson(response, 200, gigaChatCompletion('Ответ'));
    gateway = await startTestGateway(mock.env());
  });
  afterEach(async () => {
    await gateway.close();
    await mock.close();
  });

  it('finds the JSON routes, the 1C ones among them', () => {
    expect(jsonRoutes).to.include.members(['/v1/chat/completions', '/analyze/text']);
  });

  const encodings: Array<{ name: string; contentType: string; encode: (json: string) => Buffer }> = [
    { name: 'UTF-8', contentType: 'application/json; charset=utf-8', encode: (json) => Buffer.from(json, 'utf8') },
    {
      name: 'UTF-8 with a BOM',
      contentType: 'application/json',
      encode: (json) => Buffer.concat([BOM, Buffer.from(json, 'utf8')]),
    },
    { name: 'windows-1251', contentType: 'application/json; charset=windows-1251', encode: windows1251 },
  ];
  for (const { name, contentType, encode } of encodings) {
    it(`reads ${name} bodies with Cyrillic on each of them`, async () => {
      for (const route of jsonRoutes) {
        const response = await fetch(`${gateway.url}${route}`, {
          method: 'POST',
          headers: { 'content-type': contentType },
          body: encode(JSON.stringify(BODIES[route] ?? { text: 'Ёлка, привет' })),
        });
        const body = (await response.json()) as any;
        expect(body?.error?.code ?? body?.code, `${route}: ${JSON.stringify(body)}`).not.to.equal('invalid_json');
        if (route === '/v1/chat/completions' || route === '/analyze/text') {
          expect(response.status, route).to.equal(200);
        }
      }
      const asked = mock.requestsTo('/api/v1/chat/completions').map((request) => JSON.parse(request.body));
      expect(asked.map((request) => request.messages.at(-1).content)).to.deep.equal(['Ёлка, привет', 'Ёлка, привет']);
    });
  }
});
