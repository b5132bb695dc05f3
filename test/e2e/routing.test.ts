import { writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { expect } from 'chai';
import OpenAI, { type APIError } from 'openai';
import { ConfigError } from '../../gateway/config.ts';
import { gigaChatChunks } from '../helpers/cassettes.ts';
import { startTestGateway, type TestGateway, tempDir } from '../helpers/gateway.ts';
import { GeminiMock, geminiStreamFixture, writeGeminiStream } from '../helpers/gemini-mock.ts';
import { GigaChatMock, sendJson, writeGigaChatStream } from '../helpers/gigachat-mock.ts';

const ask = { model: 'GigaChat-2-Max', messages: [{ role: 'user' as const, content: 'Привет' }] };
const FAST_RETRIES = { UPSTREAM_RETRIES: '2', UPSTREAM_RETRY_BASE_MS: '1', UPSTREAM_RETRY_MAX_WAIT_MS: '1500' };
const ALIASES = {
  aliases: {
    smart: { model: 'GigaChat-2-Max', fallbacks: ['gemini-2.5-flash'] },
    'gemini-first': { model: 'gemini-2.5-flash', fallbacks: ['GigaChat-2-Max'] },
  },
};

function configFile(content: unknown): string {
  const path = join(tempDir(), 'gateway.json');
  writeFileSync(path, JSON.stringify(content));
  return path;
}

/** GigaChat answers the next chat requests with these statuses in turn (then a normal answer). */
function failNext(mock: GigaChatMock, ...failures: Array<[number, Record<string, string>?]>): void {
  const normal = mock.chat;
  mock.chat = (body, response, request) => {
    const failure = failures.shift();
    if (failure === undefined) return normal(body, response, request);
    const [status, headers] = failure;
    sendJson(response, status, { status, message: `HTTP ${status} from the mock` }, headers);
  };
}

async function failure(call: Promise<unknown>): Promise<APIError> {
  const error = await call.then(
    () => expect.fail('expected the call to fail'),
    (caught: unknown) => caught,
  );
  expect(error).to.be.instanceOf(OpenAI.APIError);
  return error as APIError;
}

describe('e2e: retries, aliases and fallbacks', () => {
  let gigachat: GigaChatMock;
  let gemini: GeminiMock;
  let gateway: TestGateway | undefined;

  beforeEach(async () => {
    gigachat = await GigaChatMock.start();
    gemini = await GeminiMock.start();
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    await gigachat.close();
    await gemini.close();
  });
  const start = async (env: Record<string, string>) => {
    gateway = await startTestGateway({ ...gigachat.env(), ...gemini.env(), ...env });
    return gateway;
  };
  const chatCalls = () => gigachat.requestsTo('/api/v1/chat/completions').length;

  describe('retries (UPSTREAM_RETRIES)', () => {
    it('retries 5xx with backoff and answers; the retries are counted in /metrics', async () => {
      const { client, url } = await start(FAST_RETRIES);
      failNext(gigachat, [500], [503]);
      const completion = await client.chat.completions.create(ask);
      expect(completion.choices[0]?.message.content).to.equal('Hello.');
      expect(chatCalls()).to.equal(3);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).to.match(/^gigagate_upstream_retries_total\{provider="gigachat",kind="upstream_error"\} 2$/m);
      expect(metrics).to.match(/^gigagate_upstream_errors_total\{provider="gigachat",kind="upstream_error"\} 2$/m);
    });

    it('gives up after the configured count with the last failure', async () => {
      const { client } = await start(FAST_RETRIES);
      failNext(gigachat, [500], [500], [500], [500]);
      const error = await failure(client.chat.completions.create(ask));
      expect(error.status).to.equal(502);
      expect(chatCalls()).to.equal(3);
    });

    it('honours a Retry-After within the bound', async () => {
      const { client } = await start(FAST_RETRIES);
      failNext(gigachat, [429, { 'retry-after': '1' }]);
      expect((await client.chat.completions.create(ask)).choices[0]?.message.content).to.equal('Hello.');
      expect(chatCalls()).to.equal(2);
    });

    it('hands a longer Retry-After back to the client as 429 instead of sleeping on it', async () => {
      const { client } = await start(FAST_RETRIES);
      failNext(gigachat, [429, { 'retry-after': '30' }]);
      const error = await failure(client.chat.completions.create(ask));
      expect(error).to.be.instanceOf(OpenAI.RateLimitError);
      expect(error.headers?.get('retry-after')).to.equal('30');
      expect(chatCalls()).to.equal(1);
    });

    it('does not retry what another try cannot fix (a client error)', async () => {
      const { client } = await start(FAST_RETRIES);
      failNext(gigachat, [400]);
      expect((await failure(client.chat.completions.create(ask))).status).to.equal(400);
      expect(chatCalls()).to.equal(1);
    });

    it('retries a stream that fails before its first chunk', async () => {
      const { client } = await start(FAST_RETRIES);
      failNext(gigachat, [503]);
      gigachat.chat = (
        (fail) => (body: any, response: any, request: any) =>
          chatCalls() === 1
            ? fail(body, response, request)
            : writeGigaChatStream(response, gigaChatChunks(['При', 'вет']))
      )(gigachat.chat);
      const stream = await client.chat.completions.create({ ...ask, stream: true });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).to.equal('Привет');
      expect(chatCalls()).to.equal(2);
    });

    it('never retries once the first chunk went out: a stream cut midway ends with an error event', async () => {
      const { client } = await start(FAST_RETRIES);
      let upstream: ServerResponse | undefined;
      gigachat.chat = (_body, response) => {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write(`data: ${JSON.stringify(gigaChatChunks(['Нача'])[0])}\n\n`);
        upstream = response;
      };
      const stream = await client.chat.completions.create({ ...ask, stream: true });
      const received: string[] = [];
      const error = await (async () => {
        for await (const chunk of stream) {
          received.push(chunk.choices[0]?.delta.content ?? '');
          upstream?.destroy(); // cut once the first chunk has reached the client
        }
      })().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(received.join('')).to.equal('Нача');
      expect(error).to.be.instanceOf(OpenAI.APIError);
      expect(chatCalls()).to.equal(1);
    });
  });

  describe('aliases and fallbacks (GATEWAY_CONFIG)', () => {
    it("lists aliases in /v1/models beside the providers' models", async () => {
      const { client } = await start({ GATEWAY_CONFIG: configFile(ALIASES) });
      const ids = (await client.models.list()).data.map((model) => model.id);
      expect(ids).to.include.members(['smart', 'gemini-first', 'GigaChat-2-Max']);
      expect((await client.models.retrieve('smart')).owned_by).to.equal('gigagate');
    });

    it('gives an alias the kind of its first model, and chat when that model is not listed', async () => {
      const aliases = {
        aliases: {
          smart: { model: 'GigaChat-2-Max' },
          vectors: { model: 'Embeddings', fallbacks: ['GigaChat-2-Max'] },
          unlisted: { model: 'gigachat/GigaChat-Unlisted' },
        },
      };
      const { client } = await start({ GATEWAY_CONFIG: configFile(aliases) });
      const kinds = new Map(
        (await client.models.list()).data.map((model) => [model.id, (model as { kind?: string }).kind]),
      );
      expect([kinds.get('smart'), kinds.get('vectors'), kinds.get('unlisted')]).to.deep.equal([
        'chat',
        'embeddings',
        'chat',
      ]);
    });

    it('answers an alias from its primary model and says which model answered', async () => {
      const { client } = await start({ GATEWAY_CONFIG: configFile(ALIASES) });
      const { data, response } = await client.chat.completions.create({ ...ask, model: 'smart' }).withResponse();
      expect(data.model).to.equal('GigaChat-2-Max');
      expect(response.headers.get('x-gigagate-model')).to.equal('gigachat/GigaChat-2-Max');
      expect(JSON.parse(gigachat.requestsTo('/api/v1/chat/completions')[0]?.body ?? '{}').model).to.equal(
        'GigaChat-2-Max',
      );
    });

    it('falls back to the next model on 5xx, JSON and stream; the fallback is counted in /metrics', async () => {
      const { client, url } = await start({ GATEWAY_CONFIG: configFile(ALIASES) });
      gigachat.chat = (_body, response) => sendJson(response, 500, { status: 500, message: 'down' });
      const { data, response } = await client.chat.completions.create({ ...ask, model: 'smart' }).withResponse();
      expect(data.model).to.equal('gemini-2.5-flash');
      expect(data.choices[0]?.message.content).to.be.a('string').and.not.equal('');
      expect(response.headers.get('x-gigagate-model')).to.equal('gemini/gemini-2.5-flash');

      const stream = await client.chat.completions.create({ ...ask, model: 'smart', stream: true });
      const models = new Set<string>();
      for await (const chunk of stream) models.add(chunk.model);
      expect([...models]).to.deep.equal(['gemini-2.5-flash']);
      expect(gemini.requestsFor('generateContent')).to.have.length(1);
      expect(gemini.requestsFor('streamGenerateContent')).to.have.length(1);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).to.match(/^gigagate_model_fallbacks_total\{alias="smart",model="gemini-2.5-flash"\} 2$/m);
    });

    it('falls back on a timeout and on 429, in either direction', async () => {
      const { client } = await start({ GATEWAY_CONFIG: configFile(ALIASES), UPSTREAM_TIMEOUT_MS: '1000' }); // the fallback's calls race it too
      gemini.generate = () => {}; // never answers
      const late = await client.chat.completions.create({ ...ask, model: 'gemini-first' });
      expect(late.model).to.equal('GigaChat-2-Max');

      gemini.generate = (_body, response) =>
        sendJson(response, 429, { error: { code: 429, message: 'quota', status: 'RESOURCE_EXHAUSTED' } });
      const limited = await client.chat.completions.create({ ...ask, model: 'gemini-first' });
      expect(limited.model).to.equal('GigaChat-2-Max');
    });

    it("does not fall back on a client error: the primary's 400 goes to the client", async () => {
      const { client } = await start({ GATEWAY_CONFIG: configFile(ALIASES) });
      gigachat.chat = (_body, response) => sendJson(response, 400, { status: 400, message: 'bad request' });
      expect((await failure(client.chat.completions.create({ ...ask, model: 'smart' }))).status).to.equal(400);
      expect(gemini.requestsFor('generateContent')).to.have.length(0);
    });

    it('gives the last failure when every model of the chain fails', async () => {
      const { client } = await start({ GATEWAY_CONFIG: configFile(ALIASES) });
      gigachat.chat = (_body, response) => sendJson(response, 500, { status: 500, message: 'down' });
      gemini.generate = (_body, response) =>
        sendJson(response, 503, { error: { code: 503, message: 'overloaded', status: 'UNAVAILABLE' } });
      const error = await failure(client.chat.completions.create({ ...ask, model: 'smart' }));
      expect(error.status).to.equal(503);
    });

    it('skips a model whose provider is not configured', async () => {
      gateway = await startTestGateway({ ...gemini.env(), GATEWAY_CONFIG: configFile(ALIASES) });
      const completion = await gateway.client.chat.completions.create({ ...ask, model: 'smart' });
      expect(completion.model).to.equal('gemini-2.5-flash');
      expect(gigachat.requestsTo('/api/v1/chat/completions')).to.have.length(0);
    });

    it('stops start-up when an alias names a model no provider serves', async () => {
      const bad = configFile({ aliases: { smart: { model: 'GigaChat-2-Max', fallbacks: ['gpt-4o'] } } });
      const error = await startTestGateway({ ...gigachat.env(), GATEWAY_CONFIG: bad }).catch((caught) => caught);
      expect(error).to.be.instanceOf(ConfigError);
      expect(error.message).to.equal('GATEWAY_CONFIG: alias "smart": no provider serves the model "gpt-4o"');
    });

    it('streams through an alias with a Gemini stream as the fallback', async () => {
      const { client } = await start({ GATEWAY_CONFIG: configFile(ALIASES) });
      gigachat.chat = (_body, response) => sendJson(response, 502, { status: 502, message: 'bad gateway' });
      gemini.stream = (_body, response) => writeGeminiStream(response, geminiStreamFixture('stream-text'));
      const { data: stream, response } = await client.chat.completions
        .create({ ...ask, model: 'smart', stream: true })
        .withResponse();
      expect(response.headers.get('x-gigagate-model')).to.equal('gemini/gemini-2.5-flash');
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).to.not.equal('');
    });
  });
});
