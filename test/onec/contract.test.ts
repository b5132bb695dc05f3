import { createServer } from 'node:http';
import { join } from 'node:path';
import { expect } from 'chai';
import { createApp } from '../../gateway/app.ts';
import { createClientPolicy } from '../../gateway/clients/policy.ts';
import { loadConfig } from '../../gateway/config.ts';
import { createLogger } from '../../gateway/lib/logger.ts';
import { createMetrics } from '../../gateway/lib/metrics.ts';
import { openStore } from '../../gateway/lib/store.ts';
import type { Provider } from '../../gateway/providers/provider.ts';
import { ProviderRegistry } from '../../gateway/providers/registry.ts';
import { ModelRouter } from '../../gateway/routing/model-router.ts';
import { gigaChatCompletion } from '../helpers/cassettes.ts';
import { startTestGateway, type TestGateway, tempDir } from '../helpers/gateway.ts';
import { GigaChatMock, sendJson } from '../helpers/gigachat-mock.ts';
import { method } from './lib/bsl.ts';
import { dumpLayout, FIXTURES, filesUnder, fixture, fixtureBytes, readBsl } from './lib/dump.ts';

/*
 * The contract between the BSL and the gateway. The fixtures in onec/fixtures are the exact JSON
 * the object module builds (ЗаписатьJSON, compact, Cyrillic as is) and the answers it parses. Here
 * they are checked against the BSL source, then replayed through the real gateway in front of a
 * local GigaChat — as the BSL sends them, and with a BOM as 1C's two-argument
 * УстановитьТелоИзСтроки would.
 */

const objectModule = readBsl(dumpLayout().objectModule);
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const KEY = 'test-1c-key';

/** The string literals passed to `Вставить(` in a method, in order. */
function insertedKeys(name: string): string[] {
  const target = method(objectModule, name);
  return [...target.source.matchAll(/\.Вставить\("([^"]+)"/g)].map((match) => match[1] as string);
}

/** The keys a method reads with `Получить("…")`, in order. */
function readKeys(name: string): string[] {
  return [...method(objectModule, name).source.matchAll(/\.Получить\("([^"]+)"\)/g)].map((match) => match[1] as string);
}

/** The request path a method passes to ВыполнитьЗапрос. */
function requestPath(name: string): string {
  const match = /ВыполнитьЗапрос\("(GET|POST)", "([^"]+)"/.exec(method(objectModule, name).source);
  if (match === null) throw new Error(`${name} calls no ВыполнитьЗапрос`);
  return match[2] as string;
}

/** The headers ВыполнитьЗапрос sets, as pairs of literals in its source. */
function bslHeaders(withBody: boolean): Record<string, string> {
  const source = method(objectModule, 'ВыполнитьЗапрос').source;
  const headers: Record<string, string> = {};
  for (const match of source.matchAll(/Заголовки\.Вставить\("([^"]+)", "([^"]+)"( \+ СокрЛП\(КлючAPI\))?\)/g)) {
    const [, name, value, key] = match as unknown as [string, string, string, string | undefined];
    if (name === 'Content-Type' && !withBody) continue;
    headers[name] = key === undefined ? value : `${value}${KEY}`;
  }
  return headers;
}

/** What СодержаниеОтвета returns, following the keys the BSL reads: choices[0].message.content. */
function bslAnswerText(answer: any): unknown {
  const [choices, message, content] = readKeys('СодержаниеОтвета');
  return answer[choices as string][0][message as string][content as string];
}

/** What ТекстОшибкиШлюза shows: error.message. */
function bslErrorText(answer: any): unknown {
  const [error, message] = readKeys('ТекстОшибкиШлюза');
  return answer[error as string][message as string];
}

/** What СписокМоделей returns, through ОписанияМоделей: data[].id. */
function bslModelIds(answer: any): unknown[] {
  const [data, id] = readKeys('ОписанияМоделей');
  return (answer[data as string] as any[]).map((model) => model[id as string]);
}

/** The models the form offers for chat: ОписанияМоделей's data[].kind is "chat", or missing. */
function bslChatModelIds(answer: any): unknown[] {
  const [data, id, kind] = readKeys('ОписанияМоделей');
  return (answer[data as string] as any[])
    .filter((model) => model[kind as string] === 'chat' || model[kind as string] === undefined)
    .map((model) => model[id as string]);
}

describe('onec: the JSON contract between the BSL and the gateway', () => {
  describe('the fixtures match the BSL source', () => {
    it('every fixture is UTF-8 JSON without a BOM and without keys or tokens', () => {
      const files = filesUnder(FIXTURES);
      expect(files.length).to.be.greaterThan(8);
      for (const file of files) {
        const bytes = fixtureBytes(file);
        expect([...bytes.subarray(0, 3)], file).not.to.deep.equal([...BOM]);
        expect(() => JSON.parse(bytes.toString('utf8')), file).not.to.throw();
        expect(bytes.toString('utf8'), file).not.to.match(
          /Bearer\s+[\w.-]{8,}|"api[_-]?key"|access_token|test-1c-key/i,
        );
      }
    });

    for (const name of ['chat-completions.request.json', 'chat-dialog.request.json']) {
      it(`${name} has exactly the keys ТелоЗапросаЧата and СообщениеЧата write, in their order`, () => {
        const body = fixture(name);
        expect(Object.keys(body)).to.deep.equal(insertedKeys('ТелоЗапросаЧата'));
        for (const message of body.messages) expect(Object.keys(message)).to.deep.equal(insertedKeys('СообщениеЧата'));
        expect(body.model).to.be.a('string').and.not.equal('');
        expect(body.temperature).to.be.a('number');
        expect(body.stream).to.equal(false); // 1C cannot read an event stream: always one JSON answer
        const roles = new Set(
          [...objectModule.strings, ...readBsl(dumpLayout().forms[0]?.module as string).strings].map((s) => s.value),
        );
        for (const message of body.messages) expect(roles.has(message.role), message.role).to.equal(true);
        // ЗаписатьJSON with ПереносСтрокJSON.Нет: compact, Cyrillic unescaped.
        expect(fixtureBytes(name).toString('utf8')).to.equal(JSON.stringify(body));
        expect(fixtureBytes(name).toString('utf8')).to.match(/[А-Яа-яЁё]/);
      });
    }

    it('the BSL writes the body compact and reads answers the way the fixtures have them', () => {
      expect(method(objectModule, 'ЗаписатьВJSON').code).to.contain('Новый ПараметрыЗаписиJSON(ПереносСтрокJSON.Нет)');
      expect(bslAnswerText(fixture('chat-completions.response.json'))).to.match(/^Оплата по счёту/);
      expect(bslModelIds(fixture('models.response.json')))
        .to.include('GigaChat-2-Max')
        .and.include('Embeddings');
      expect(readKeys('ОписанияМоделей')[2]).to.equal('kind');
      expect(bslChatModelIds(fixture('models.response.json')))
        .to.include('GigaChat-2-Max')
        .and.not.include('Embeddings')
        .and.not.include('GigaEmbeddings-3B-2025-09');
      for (const status of [401, 404, 429, 500, 502]) {
        expect(bslErrorText(fixture(`error-${status}.response.json`)), String(status))
          .to.be.a('string')
          .and.not.equal('');
      }
      expect(requestPath('ОтправитьСообщения')).to.equal('/v1/chat/completions');
      expect(requestPath('ОписанияМоделей')).to.equal('/v1/models');
    });
  });

  describe('replayed through the real gateway', () => {
    let mock: GigaChatMock;
    let gateway: TestGateway;

    beforeEach(async () => {
      mock = await GigaChatMock.start();
      gateway = await startTestGateway({ ...mock.env(), GATEWAY_API_KEYS: `buh:${KEY}` });
    });
    afterEach(async () => {
      await gateway.close();
      await mock.close();
    });

    /** Sends a body the way ВыполнитьЗапрос does: its path, its headers, the bytes as given. */
    async function send(path: string, body?: Buffer, headers = bslHeaders(body !== undefined)) {
      const response = await fetch(`${gateway.url}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers,
        body,
      });
      // 1C reads the body as a UTF-8 string (ПолучитьТелоКакСтроку("UTF-8")) and then parses it.
      const text = new TextDecoder('utf-8', { fatal: true }).decode(await response.arrayBuffer());
      return { status: response.status, contentType: response.headers.get('content-type'), body: JSON.parse(text) };
    }
    const upstreamBodies = () => mock.requestsTo('/api/v1/chat/completions').map((request) => JSON.parse(request.body));

    for (const withBom of [false, true]) {
      it(`answers the Спросить body ${withBom ? 'with a leading BOM' : 'as the BSL sends it'}, Cyrillic both ways`, async () => {
        mock.chat = (_body, response) =>
          sendJson(response, 200, gigaChatCompletion('Оплата по счёту №15 от 01.02.2025 за «Канцтовары», НДС 20%.'));
        const raw = fixtureBytes('chat-completions.request.json');
        const answer = await send(requestPath('ОтправитьСообщения'), withBom ? Buffer.concat([BOM, raw]) : raw);
        expect(answer.status).to.equal(200);
        expect(answer.contentType).to.equal('application/json; charset=utf-8');
        expect(bslAnswerText(answer.body)).to.equal('Оплата по счёту №15 от 01.02.2025 за «Канцтовары», НДС 20%.');
        expect(answer.body.model).to.equal('GigaChat');
        const sent = fixture('chat-completions.request.json');
        expect(upstreamBodies()).to.have.length(1);
        expect(upstreamBodies()[0]).to.deep.include({
          model: sent.model,
          messages: sent.messages,
          temperature: sent.temperature,
        });
      });
    }

    it('returns the finish_reason ПричинаЗавершенияОтвета reads when the answer is cut at the token limit', async () => {
      mock.chat = (_body, response) => {
        const completion = gigaChatCompletion('');
        completion.choices[0].finish_reason = 'length';
        sendJson(response, 200, completion);
      };
      const answer = await send(requestPath('ОтправитьСообщения'), fixtureBytes('chat-completions.request.json'));
      expect(answer.status).to.equal(200);
      const [choices, finishReason] = readKeys('ПричинаЗавершенияОтвета');
      expect(answer.body[choices as string][0][finishReason as string]).to.equal('length');
      expect(bslAnswerText(answer.body) ?? '').to.equal('');
    });

    it('carries the form dialog (system, history, new question) to the model', async () => {
      const answer = await send(requestPath('ОтправитьСообщения'), fixtureBytes('chat-dialog.request.json'));
      expect(answer.status).to.equal(200);
      expect(bslAnswerText(answer.body)).to.be.a('string');
      const upstream = upstreamBodies()[0];
      expect(upstream.model).to.equal('GigaChat-2-Max');
      expect(upstream.messages.map((message: any) => message.role)).to.deep.equal([
        'system',
        'user',
        'assistant',
        'user',
      ]);
      expect(upstream.messages.at(-1).content).to.equal('А записать обратно — "без BOM"?');
    });

    it('lists models for СписокМоделей with the same key', async () => {
      const answer = await send(requestPath('ОписанияМоделей'));
      expect(answer.status).to.equal(200);
      const ids = bslModelIds(answer.body);
      expect(ids.length).to.be.greaterThan(3);
      for (const id of ids) expect(id).to.be.a('string').and.not.equal('');
      expect(ids).to.include.members(bslModelIds(fixture('models.response.json')));
    });

    /** The live error answer has the fixture's shape, type and code, and a message the BSL shows. */
    function expectErrorLikeFixture(answer: { status: number; body: any }, status: number) {
      const expected = fixture(`error-${status}.response.json`);
      expect(answer.status).to.equal(status);
      expect(Object.keys(answer.body)).to.deep.equal(Object.keys(expected));
      expect(Object.keys(answer.body.error)).to.deep.equal(Object.keys(expected.error));
      expect(answer.body.error).to.include({ type: expected.error.type, code: expected.error.code });
      expect(bslErrorText(answer.body)).to.be.a('string').and.not.equal('');
    }

    it('answers 401 in the shape ТекстОшибкиШлюза reads when the key is missing or wrong', async () => {
      const body = fixtureBytes('chat-completions.request.json');
      const path = requestPath('ОтправитьСообщения');
      const { Authorization: _key, ...anonymous } = bslHeaders(true);
      expectErrorLikeFixture(await send(path, body, anonymous), 401);
      const wrong = await send(path, body, { ...bslHeaders(true), Authorization: 'Bearer not-the-key' });
      expect(wrong.status).to.equal(401);
      expect(bslErrorText(wrong.body)).to.equal('Incorrect API key provided.');
      expect((await send(requestPath('ОписанияМоделей'), undefined, {})).status).to.equal(401);
    });

    it('answers 404 for a model the gateway does not serve', async () => {
      const body = Buffer.from(JSON.stringify({ ...fixture('chat-completions.request.json'), model: 'llama-3' }));
      expectErrorLikeFixture(await send(requestPath('ОтправитьСообщения'), body), 404);
    });

    it('answers 429 when GigaChat limits, and 502 when GigaChat fails with 500', async () => {
      const body = fixtureBytes('chat-completions.request.json');
      mock.chat = (_body, response) =>
        sendJson(response, 429, { status: 429, message: 'Too Many Requests' }, { 'retry-after': '1' });
      expectErrorLikeFixture(await send(requestPath('ОтправитьСообщения'), body), 429);
      mock.chat = (_body, response) => sendJson(response, 500, { status: 500, message: 'Internal Server Error' });
      expectErrorLikeFixture(await send(requestPath('ОтправитьСообщения'), body), 502);
    });
  });

  describe('what «Проверить подключение» and the Russian error texts rely on', () => {
    let mock: GigaChatMock;
    let gateway: TestGateway;
    beforeEach(async () => {
      mock = await GigaChatMock.start();
      gateway = await startTestGateway({ ...mock.env(), GATEWAY_API_KEYS: `buh:${KEY}` });
    });
    afterEach(async () => {
      await gateway.close();
      await mock.close();
    });
    const checkSource = () => method(objectModule, 'ПроверитьПодключение').source;

    it('GET /healthz answers 200 without a key, and a wrong path prefix 404', async () => {
      const path = /Адрес\.Путь \+ "([^"]+)"/.exec(checkSource())?.[1];
      expect(path).to.equal('/healthz');
      expect((await fetch(`${gateway.url}${path}`)).status).to.equal(200);
      expect((await fetch(`${gateway.url}/gigagate${path}`)).status).to.equal(404);
    });

    it('GET /v1/models tells a missing key from a wrong one by error.code, both named in Russian', async () => {
      const explained = new Set(
        [...method(objectModule, 'ОписаниеКодаОшибки').source.matchAll(/Код = "([a-z_]+)"/g)].map((match) => match[1]),
      );
      const missing = (await (await fetch(`${gateway.url}/v1/models`)).json()) as any;
      const wrong = (await (
        await fetch(`${gateway.url}/v1/models`, { headers: { Authorization: 'Bearer not-the-key' } })
      ).json()) as any;
      expect([missing.error.code, wrong.error.code]).to.deep.equal(['missing_api_key', 'invalid_api_key']);
      for (const code of [missing.error.code, wrong.error.code]) expect(explained.has(code), code).to.equal(true);
    });

    it('passes Retry-After on a 429, which ТекстОшибкиШлюза turns into «повторите через N с»', async () => {
      mock.chat = (_body, response) =>
        sendJson(response, 429, { status: 429, message: 'Too Many Requests' }, { 'retry-after': '7' });
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json; charset=utf-8' },
        body: fixtureBytes('chat-completions.request.json'),
      });
      expect(response.status).to.equal(429);
      expect(Number(response.headers.get('retry-after'))).to.be.greaterThan(0);
      expect(((await response.json()) as any).error.code).to.equal('rate_limit_exceeded');
    });

    it('every error.code the BSL explains is one the gateway sends', async () => {
      const { readdirSync, readFileSync, statSync } = await import('node:fs');
      const sources = (folder: string): string[] =>
        readdirSync(folder).flatMap((entry) => {
          const path = join(folder, entry);
          return statSync(path).isDirectory()
            ? sources(path)
            : path.endsWith('.ts')
              ? [readFileSync(path, 'utf8')]
              : [];
        });
      const gatewayText = sources(join(import.meta.dirname, '../../gateway')).join('\n');
      const explained = [...method(objectModule, 'ОписаниеКодаОшибки').source.matchAll(/Код = "([a-z_]+)"/g)].map(
        (match) => match[1] as string,
      );
      expect(explained.length).to.be.greaterThan(15);
      for (const code of explained) expect(gatewayText, code).to.contain(`'${code}'`);
    });
  });

  it('answers its own failures (500) in the same shape', async () => {
    // A provider with a bug: the gateway must still answer JSON that ТекстОшибкиШлюза can read.
    const broken = {
      name: 'gigachat',
      displayName: 'GigaChat',
      complete: async () => {
        throw new TypeError("Cannot read properties of undefined (reading 'choices')");
      },
    } as unknown as Provider;
    const dir = tempDir();
    const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', STORE_URL: `sqlite://${join(dir, 'store.sqlite')}` });
    const store = await openStore(config.store);
    const logger = createLogger('silent');
    const registry = new ProviderRegistry([broken], []);
    const app = createApp({
      config,
      logger,
      store,
      registry,
      models: new ModelRouter(registry, []),
      policy: createClientPolicy({ config, store, logger }),
      metrics: createMetrics(),
    });
    const server = createServer(app).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as { port: number };
      const response = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: 'POST',
        headers: bslHeaders(true),
        body: fixtureBytes('chat-completions.request.json'),
      });
      const body = (await response.json()) as any;
      const expected = fixture('error-500.response.json');
      expect(response.status).to.equal(500);
      expect(body).to.deep.equal(expected);
      expect(bslErrorText(body)).not.to.contain('choices'); // internals stay in the log
    } finally {
      server.close();
      await store.disconnect();
    }
  });
});
