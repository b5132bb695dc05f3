import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import OpenAI from 'openai';
import { startTestGateway, type TestGateway, tempDir } from '../helpers/gateway.ts';
import { GeminiMock } from '../helpers/gemini-mock.ts';
import { GigaChatMock } from '../helpers/gigachat-mock.ts';

const FLASH_KEY = 'key-flash-only-0123';

/** Spellings that once reached an upstream, reshaped its URL, gave 5xx or passed a key's model list. */
const HOSTILE_NAMES = [
  'gemini/gemini-2.5-flash/../../../v1beta/models/gemini-2.5-pro',
  'gemini-2.5-flash/../gemini-2.5-pro',
  'gemini/../../x',
  'gemini/./gemini-2.5-flash',
  'gemini-2.5-flash%2F..%2Fgemini-2.5-pro',
  'gemini-2.5-flash?key=leaked',
  'gemini-2.5-flash#fragment',
  'gemini-2.5-flash:countTokens',
  'gemini-2.5-flash\r\nX-Injected: 1',
  'gemini-2.5-flash\n',
  'gemini-2.5-flash\u0000',
  'gemini-2.5-flash\ud800',
  'GigaChat\udc00',
  'gemini-2.5-flash ',
  'gigachat/',
  `gemini-2.5-flash${'x'.repeat(5000)}`,
];

async function refusal(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const error = await call.then(
    () => expect.fail('expected a refusal'),
    (failure: unknown) => failure,
  );
  expect(error).to.be.instanceOf(OpenAI.APIError);
  return error as InstanceType<typeof OpenAI.APIError>;
}

function expectInvalidName(error: InstanceType<typeof OpenAI.APIError>, name: string): void {
  expect(error, JSON.stringify(name)).to.be.instanceOf(OpenAI.BadRequestError);
  expect(error.type).to.equal('invalid_request_error');
  expect(error.param).to.equal('model');
  expect(error.code).to.equal('invalid_model_name');
}

describe('e2e: model names are data, never paths (one grammar for every model-bound route)', () => {
  let gemini: GeminiMock;
  let gigachat: GigaChatMock;
  let gateway: TestGateway;
  let flashOnly: OpenAI;
  const upstreamRequests = () => gemini.requests.length + gigachat.requests.length;

  before(async () => {
    gemini = await GeminiMock.start();
    gigachat = await GigaChatMock.start();
    const dir = tempDir();
    const file = join(dir, 'gateway.json');
    writeFileSync(
      file,
      JSON.stringify({
        aliases: { 'fast:latest': { model: 'gemini-2.5-flash' } },
        keys: {
          open: { key: 'key-every-model-0123' },
          flash: { key: FLASH_KEY, models: ['gemini-2.5-flash*', 'fast:latest'] },
        },
      }),
    );
    gateway = await startTestGateway({ ...gemini.env(), ...gigachat.env(), GATEWAY_CONFIG: file }, { dir });
    flashOnly = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: FLASH_KEY, maxRetries: 0 });
  });
  after(async () => {
    await gateway.close();
    await gemini.close();
    await gigachat.close();
  });

  it('refuses every hostile spelling with 400 invalid_request_error, param model, before any upstream call', async () => {
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'key-every-model-0123', maxRetries: 0 });
    const before = upstreamRequests();
    for (const model of HOSTILE_NAMES) {
      const messages = [{ role: 'user' as const, content: 'hi' }];
      expectInvalidName(await refusal(client.chat.completions.create({ model, messages })), model);
      expectInvalidName(await refusal(client.chat.completions.create({ model, messages, stream: true })), model);
      expectInvalidName(await refusal(client.embeddings.create({ model, input: 'hi' })), model);
      // The SDK cannot put a lone surrogate into a URL (encodeURIComponent throws); fetch sends the rest.
      if (model.isWellFormed()) expectInvalidName(await refusal(client.models.retrieve(model)), model);
      // The fast path's sibling: another spelling of the chat route goes through Koa.
      const koa = await fetch(`${gateway.url}/v1/chat/completions?via=koa`, {
        method: 'POST',
        headers: { authorization: 'Bearer key-every-model-0123', 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages }),
      });
      expect(koa.status, JSON.stringify(model)).to.equal(400);
      expect(((await koa.json()) as any).error).to.include({ param: 'model', code: 'invalid_model_name' });
    }
    // Escapes the SDK would not send: a lone surrogate's bytes, a broken escape, NUL.
    for (const raw of ['%ED%A0%80', '%ZZ', 'GigaChat%00', 'gemini%2F..%2F..%2Fv1beta']) {
      const response = await fetch(`${gateway.url}/v1/models/${raw}`, {
        headers: { authorization: 'Bearer key-every-model-0123' },
      });
      expect(response.status, raw).to.equal(400);
      expect(((await response.json()) as any).error).to.include({ param: 'model', code: 'invalid_model_name' });
    }
    expect(upstreamRequests()).to.equal(before);
  });

  it('refuses them on the 1C route /analyze/text too, in its own answer shape', async () => {
    const before = upstreamRequests();
    for (const model of HOSTILE_NAMES) {
      const response = await fetch(`${gateway.url}/analyze/text`, {
        method: 'POST',
        headers: { authorization: 'Bearer key-every-model-0123', 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'Привет', model, return_format: 'text' }),
      });
      expect(response.status).to.equal(200);
      expect(await response.json(), JSON.stringify(model)).to.include({
        success: false,
        status: 400,
        code: 'invalid_model_name',
      });
    }
    expect(upstreamRequests()).to.equal(before);
  });

  it('judges a key’s model list by the model that would be called, not by the spelling', async () => {
    const before = upstreamRequests();
    for (const model of ['gemini/models/gemini-2.5-pro', 'models/gemini-2.5-pro', 'GEMINI/gemini-2.5-pro']) {
      const error = await refusal(
        flashOnly.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }),
      );
      expect(error, model).to.be.instanceOf(OpenAI.PermissionDeniedError);
      expect(error.code).to.equal('model_not_allowed');
      expect(error.message).to.include('"gemini/gemini-2.5-pro"');
    }
    expect(upstreamRequests()).to.equal(before);
  });

  it('calls a qualified or prefixed name as the one model id it names, as one path segment', async () => {
    for (const model of ['gemini-2.5-flash', 'models/gemini-2.5-flash', 'gemini/models/gemini-2.5-flash-lite']) {
      const completion = await flashOnly.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(completion.model).to.equal(model);
    }
    await flashOnly.embeddings.create({ model: 'models/gemini-2.5-flash', input: ['a'] }).catch(() => undefined);
    expect(gemini.requests.map((request) => request.path)).to.include.members([
      '/v1beta/models/gemini-2.5-flash:generateContent',
      '/v1beta/models/gemini-2.5-flash-lite:generateContent',
      '/v1beta/models/gemini-2.5-flash:batchEmbedContents',
    ]);
    const tuned = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'key-every-model-0123', maxRetries: 0 });
    await tuned.chat.completions.create({
      model: 'tunedModels/my-model-1a2b',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(gemini.requests.at(-1)?.path).to.equal('/v1beta/tunedModels/my-model-1a2b:generateContent');
  });

  it('keeps aliases from GATEWAY_CONFIG working, whatever characters their names use', async () => {
    const completion = await flashOnly.chat.completions.create({
      model: 'fast:latest',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion.model).to.equal('gemini-2.5-flash');
    expect((await flashOnly.models.retrieve('fast:latest')).id).to.equal('fast:latest');
  });
});
