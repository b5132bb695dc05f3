import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../../../gateway/config.ts';
import { createLogger } from '../../../../gateway/lib/logger.ts';
import { SecretBox } from '../../../../gateway/lib/secrets/secret-box.ts';
import { openStore, type Store } from '../../../../gateway/lib/store.ts';
import { NotFoundError } from '../../../../gateway/openai/errors.ts';
import type { OpenAIChatChunk } from '../../../../gateway/openai/types.ts';
import { createGigaChatProvider } from '../../../../gateway/providers/gigachat/index.ts';
import type { Provider, ProviderCall } from '../../../../gateway/providers/provider.ts';
import { CASSETTE_REQUESTS, recordedExchange } from '../../../helpers/cassettes.ts';
import { tempDir } from '../../../helpers/gateway.ts';
import { TEST_CREDENTIALS } from '../../../helpers/gigachat-mock.ts';
import { RECORDING, withCassette } from '../../../helpers/nock-back.ts';

// The provider, with its real client and token cache, against GigaChat's default hosts replayed
// from recordings. Matching is on method, path and JSON body, so these also pin what we send.
describe('GigaChat provider against recorded exchanges (nock back)', () => {
  let dir: string;
  let store: Store;
  let provider: Provider;
  const call = (): ProviderCall => ({ signal: new AbortController().signal });

  beforeEach(async () => {
    dir = tempDir();
    store = await openStore({ kind: 'sqlite', path: join(dir, 'store.sqlite') });
    const config = loadConfig({
      GIGACHAT_CREDENTIALS: RECORDING ? process.env.GIGACHAT_CREDENTIALS : TEST_CREDENTIALS,
      GIGACHAT_CA_FILE: RECORDING ? process.env.GIGACHAT_CA_FILE : undefined,
    });
    const settings = config.gigachat.credentials[0]?.settings;
    if (settings === undefined) throw new Error('GIGACHAT_CREDENTIALS is needed to record');
    provider = createGigaChatProvider({
      settings,
      store,
      box: new SecretBox([randomBytes(32)]),
      logger: createLogger('silent'),
      timeoutMs: 60_000,
      fileRetentionMs: 3_600_000,
      downloads: { timeoutMs: 15_000 },
    });
  });
  afterEach(async () => {
    await store.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a plain request', async () => {
    const completion = await withCassette('chat-plain', () =>
      provider.complete(
        { model: 'GigaChat', messages: [{ role: 'user', content: "Say 'Hello' and nothing else" }] },
        call(),
      ),
    );
    expect(completion.object).to.equal('chat.completion');
    expect(completion.id).to.match(/^chatcmpl-/);
    expect(completion.choices[0]?.finish_reason).to.equal('stop');
    if (!RECORDING) {
      expect(completion.choices[0]?.message.content).to.equal('Hello.');
      expect(completion.usage).to.deep.equal({
        prompt_tokens: 17,
        completion_tokens: 3,
        total_tokens: 20,
        prompt_tokens_details: { cached_tokens: 2 },
      });
    }
  });

  it('streams a request and reports the upstream request id', async () => {
    const providerCall = call();
    const chunks = await withCassette('chat-stream', async () => {
      const received: OpenAIChatChunk[] = [];
      const request = { ...CASSETTE_REQUESTS['chat-stream'], stream_options: { include_usage: true } };
      for await (const chunk of provider.stream(request, providerCall)) received.push(chunk);
      return received;
    });
    expect(chunks[0]?.choices[0]?.delta.role).to.equal('assistant');
    expect(new Set(chunks.map((chunk) => chunk.id)).size).to.equal(1);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).to.equal('stop');
    expect(chunks.at(-1)?.choices).to.deep.equal([]);
    if (!RECORDING) {
      const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
      expect(text).to.equal('$1\\, 2\\, 3$');
      expect(chunks.at(-1)?.usage?.total_tokens).to.equal(27);
      expect(providerCall.upstreamRequestId).to.equal('4186de1e-99e7-45d3-ad52-47c32d64c5ff');
    }
  });

  it('turns a function call into an OpenAI tool call', async () => {
    const completion = await withCassette('chat-function-call', () =>
      provider.complete(CASSETTE_REQUESTS['chat-function-call'], call()),
    );
    const choice = completion.choices[0];
    expect(choice?.finish_reason).to.equal('tool_calls');
    expect(choice?.message.content).to.equal(null);
    const toolCall = choice?.message.tool_calls?.[0];
    expect(toolCall?.type).to.equal('function');
    if (!RECORDING && toolCall?.type === 'function') {
      const recorded = recordedExchange('chat-function-call').response;
      expect(toolCall.id).to.equal(`call_${recorded.choices[0].message.functions_state_id}`);
      expect(JSON.parse(toolCall.function.arguments)).to.deep.equal(
        recorded.choices[0].message.function_call.arguments,
      );
    }
  });

  it('sends json_schema structured output natively', async () => {
    const completion = await withCassette('chat-json-schema', () =>
      provider.complete(CASSETTE_REQUESTS['chat-json-schema'], call()),
    );
    expect(JSON.parse(completion.choices[0]?.message.content ?? '')).to.deep.equal({ answer: 'ok', n: 3 });
  });

  it('lists chat and embedding models', async () => {
    const models = await withCassette('models', () => provider.listModels());
    const recorded = recordedExchange('models', '/api/v1/models').response.data as Array<{ id: string; type: string }>;
    const expected = recorded
      .filter((model) => model.type === 'chat' || model.type === 'embedder')
      .map((model) => model.id);
    expect(models.map((model) => model.id)).to.deep.equal(expected);
    expect(models.map((model) => model.id)).to.include('GigaChat-2-Max');
    expect(models.every((model) => model.object === 'model' && typeof model.owned_by === 'string')).to.equal(true);
  });

  it('reports an unknown model as 404 model_not_found', async () => {
    const failure = await withCassette('model-not-found', () =>
      provider.complete(CASSETTE_REQUESTS['model-not-found'], call()).then(
        () => undefined,
        (error: unknown) => error,
      ),
    );
    expect(failure).to.be.instanceOf(NotFoundError);
    expect((failure as NotFoundError).code).to.equal('model_not_found');
    expect((failure as NotFoundError).param).to.equal('model');
    expect((failure as NotFoundError).message).to.contain('No such model');
  });
});
