import { once } from 'node:events';
import { expect } from 'chai';
import {
  GatewayError,
  RateLimitError,
  UpstreamError,
  UpstreamTimeoutError,
} from '../../../../gateway/openai/errors.ts';
import type { OpenAIChatChunk, OpenAIChatRequest } from '../../../../gateway/openai/types.ts';
import { createGeminiProvider } from '../../../../gateway/providers/gemini/index.ts';
import type { Provider, ProviderCall } from '../../../../gateway/providers/provider.ts';
import {
  GeminiMock,
  geminiFixture,
  geminiStreamFixture,
  TEST_GEMINI_KEY,
  writeGeminiStream,
} from '../../../helpers/gemini-mock.ts';
import { sendJson } from '../../../helpers/gigachat-mock.ts';

const ask = (overrides: Record<string, unknown> = {}): OpenAIChatRequest =>
  ({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'Hi' }], ...overrides }) as OpenAIChatRequest;

const newCall = (signal = new AbortController().signal): ProviderCall => ({ signal });

async function collect(chunks: AsyncIterable<OpenAIChatChunk>): Promise<OpenAIChatChunk[]> {
  const output: OpenAIChatChunk[] = [];
  for await (const chunk of chunks) output.push(chunk);
  return output;
}

async function failure(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

// The provider over Gemini's REST API against a local Gemini mock: what goes on the wire, and how
// answers and failures come back. The HTTP layer is tested end to end in test/e2e/.
describe('createGeminiProvider', () => {
  let mock: GeminiMock;
  let provider: Provider;

  const make = (overrides: { apiKey?: string; timeoutMs?: number } = {}) =>
    createGeminiProvider({
      settings: {
        apiKey: overrides.apiKey ?? TEST_GEMINI_KEY,
        baseUrl: new URL(mock.url),
        proxy: { httpsProxy: undefined, httpProxy: undefined, noProxy: undefined },
      },
      timeoutMs: overrides.timeoutMs ?? 5000,
      media: { maxBytes: 1024, timeoutMs: 1000 },
    });

  beforeEach(async () => {
    mock = await GeminiMock.start();
    provider = make();
  });
  afterEach(async () => {
    await mock.close();
  });

  it('is named gemini', () => {
    expect(provider).to.include({ name: 'gemini', displayName: 'Gemini' });
  });

  describe('complete', () => {
    it('sends generateContent to v1beta with the key header and answers with the recorded text', async () => {
      const call = newCall();
      const completion = await provider.complete(
        ask({
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: 'How many r in strawberry?' },
          ],
          temperature: 0,
          max_tokens: 50,
        }),
        call,
      );
      const [request] = mock.requestsFor('generateContent');
      expect(request?.path).to.equal('/v1beta/models/gemini-2.5-flash:generateContent');
      expect(request?.headers['x-goog-api-key']).to.equal(TEST_GEMINI_KEY);
      // The SDK moves systemInstruction to the top of the body and the rest to generationConfig.
      expect(request?.body).to.deep.equal({
        contents: [{ role: 'user', parts: [{ text: 'How many r in strawberry?' }] }],
        systemInstruction: { parts: [{ text: 'Be brief.' }] },
        generationConfig: { temperature: 0, maxOutputTokens: 50 },
      });
      expect(completion.id).to.equal('chatcmpl-Un6LacrVMcjUxs0PmJfWoQc');
      expect(completion.model).to.equal('gemini-2.5-flash');
      expect(completion.choices[0]?.message.content).to.contain('strawberry');
      expect(call.upstreamRequestId).to.equal('Un6LacrVMcjUxs0PmJfWoQc');
    });

    it('sends tools with parametersJsonSchema and toolConfig at the top of the body', async () => {
      mock.generate = (_body, response) => sendJson(response, 200, geminiFixture('generate-tool-call-gemini3'));
      const completion = await provider.complete(
        ask({
          model: 'gemini-3-pro-preview',
          tools: [
            {
              type: 'function',
              function: {
                name: 'weather',
                parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
              },
            },
          ],
          tool_choice: 'required',
        }),
        newCall(),
      );
      const body = mock.requestsFor('generateContent')[0]?.body;
      expect(body.tools).to.deep.equal([
        {
          functionDeclarations: [
            {
              name: 'weather',
              parametersJsonSchema: {
                type: 'object',
                properties: { location: { type: 'string' } },
                required: ['location'],
              },
            },
          ],
        },
      ]);
      expect(body.toolConfig).to.deep.equal({ functionCallingConfig: { mode: 'ANY' } });
      expect(completion.choices[0]?.finish_reason).to.equal('tool_calls');
    });

    it('replays a tool call with its signature and Gemini id on the next turn', async () => {
      const recorded = geminiStreamFixture('stream-tool-call-with-id')[0].candidates[0].content.parts[0];
      await provider.complete(
        ask({
          model: 'gemini-3.7-flash',
          messages: [
            { role: 'user', content: 'search x or y' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [
                {
                  id: 'gemini_call_345658__thought__<redacted>',
                  type: 'function',
                  function: { name: 'search', arguments: JSON.stringify(recorded.functionCall.args) },
                },
              ],
            },
            { role: 'tool', tool_call_id: 'gemini_call_345658__thought__<redacted>', content: '{"hits":0}' },
          ],
        }),
        newCall(),
      );
      expect(mock.requestsFor('generateContent')[0]?.body.contents).to.deep.equal([
        { role: 'user', parts: [{ text: 'search x or y' }] },
        { role: 'model', parts: [{ functionCall: recorded.functionCall, thoughtSignature: '<redacted>' }] },
        {
          role: 'user',
          parts: [{ functionResponse: { id: 'call_345658', name: 'search', response: { output: { hits: 0 } } } }],
        },
      ]);
    });

    it('a translation error is a 400 before anything is sent', async () => {
      const error = await failure(() => provider.complete(ask({ logit_bias: { '1': 5 } }), newCall()));
      expect((error as GatewayError).status).to.equal(400);
      expect(mock.requests).to.have.length(0);
    });

    it('the recorded bad-key answer → 502 upstream_auth_error', async () => {
      const error = await failure(() => make({ apiKey: 'wrong-key' }).complete(ask(), newCall()));
      expect(error).to.be.instanceOf(UpstreamError);
      expect(error).to.include({ status: 502, code: 'upstream_auth_error' });
    });

    it('the recorded 429 → 429 with retry-after 35', async () => {
      mock.generate = (_body, response) => sendJson(response, 429, geminiFixture('error-429-retry-info'));
      const error = await failure(() => provider.complete(ask(), newCall()));
      expect(error).to.be.instanceOf(RateLimitError);
      expect((error as GatewayError).headers).to.deep.equal({ 'retry-after': '35' });
    });

    it("a 429 without RetryInfo passes the answer's Retry-After header on", async () => {
      mock.generate = (_body, response) =>
        sendJson(
          response,
          429,
          { error: { code: 429, message: 'Slow down', status: 'RESOURCE_EXHAUSTED' } },
          {
            'retry-after': '9',
          },
        );
      const error = await failure(() => provider.complete(ask(), newCall()));
      expect(error).to.be.instanceOf(RateLimitError);
      expect((error as GatewayError).headers).to.deep.equal({ 'retry-after': '9' });
    });

    it('the recorded 404 → 404 model_not_found', async () => {
      mock.generate = (_body, response) => sendJson(response, 404, geminiFixture('error-model-not-found'));
      const error = await failure(() => provider.complete(ask({ model: 'gemini-1.5-flash' }), newCall()));
      expect(error).to.include({ status: 404, code: 'model_not_found' });
    });

    it('a non-JSON error page (a proxy in between) → 502 with its text', async () => {
      mock.generate = (_body, response) => {
        response.writeHead(502, { 'content-type': 'text/html' });
        response.end('<h1>Bad Gateway</h1>');
      };
      const error = await failure(() => provider.complete(ask(), newCall()));
      expect(error).to.include({ status: 502 });
      expect((error as Error).message).to.contain('Bad Gateway');
    });

    it('an answer over 16 MB → 502 saying so, and the upstream request is ended', async () => {
      let cut: Promise<boolean> | undefined;
      mock.generate = (_body, response) => {
        cut = new Promise((resolve) => response.on('close', () => resolve(!response.writableFinished)));
        response.writeHead(200, { 'content-type': 'application/json' });
        // 64 MB, written as the gateway takes it: more than it reads (16 MB) and the sockets hold.
        const megabyte = Buffer.alloc(1024 * 1024, ' ');
        let left = 64;
        const more = () => {
          while (left-- > 0) if (!response.write(megabyte)) return void response.once('drain', more);
          response.end('{}');
        };
        more();
      };
      const error = await failure(() => provider.complete(ask(), newCall()));
      expect(error).to.include({ status: 502, code: 'upstream_error' });
      expect((error as Error).message).to.equal(
        `Gemini: the answer is larger than ${16 * 1024 * 1024} bytes, the most the gateway reads.`,
      );
      expect(await cut).to.equal(true);
    });

    it('keeps a qualified model name and escapes the rest of it in the path', async () => {
      await provider.complete(ask({ model: 'tunedModels/my-model' }), newCall());
      await provider.complete(ask({ model: 'gemini-x:streamGenerateContent?alt=json#' }), newCall());
      expect(mock.requests.map((request) => request.path)).to.deep.equal([
        '/v1beta/tunedModels/my-model:generateContent',
        '/v1beta/models/gemini-x%3AstreamGenerateContent%3Falt%3Djson%23:generateContent',
      ]);
      expect(mock.requests.every((request) => request.query.size === 0)).to.equal(true);
    });

    it('no answer within timeoutMs → 504', async () => {
      mock.generate = () => {};
      const error = await failure(() => make({ timeoutMs: 200 }).complete(ask(), newCall()));
      expect(error).to.be.instanceOf(UpstreamTimeoutError);
      expect(error).to.include({ status: 504 });
    });

    it('Gemini unreachable → 502 upstream_unreachable', async () => {
      await mock.close();
      const error = await failure(() => provider.complete(ask(), newCall()));
      expect(error).to.include({ status: 502, code: 'upstream_unreachable' });
      mock = await GeminiMock.start();
    });

    it('the client leaving aborts the call and is not turned into an answer', async () => {
      const controller = new AbortController();
      mock.generate = () => controller.abort(); // the call is out, unanswered
      const error = await failure(() => provider.complete(ask(), newCall(controller.signal)));
      expect(error).to.not.be.instanceOf(GatewayError);
      expect((error as Error).name).to.equal('AbortError');
    });
  });

  describe('stream', () => {
    it('streams the recorded text with alt=sse and ends with usage when asked', async () => {
      const call = newCall();
      const chunks = await collect(
        provider.stream(ask({ stream: true, stream_options: { include_usage: true } }), call),
      );
      const [request] = mock.requestsFor('streamGenerateContent');
      expect(request?.path).to.equal('/v1beta/models/gemini-2.5-flash:streamGenerateContent');
      expect(request?.query.get('alt')).to.equal('sse');
      expect(chunks[0]?.choices[0]?.delta).to.deep.equal({ role: 'assistant', content: '' });
      expect(chunks.at(-2)?.choices[0]?.finish_reason).to.equal('stop');
      expect(chunks.at(-1)?.usage?.total_tokens).to.equal(217);
      expect(call.upstreamRequestId).to.equal('bH6LaZW8Fp_3nsEPqtaSwQ4');
    });

    it('an error event inside the stream → the mapped error', async () => {
      mock.stream = (_body, response) =>
        writeGeminiStream(response, [geminiStreamFixture('stream-text')[0], geminiFixture('error-429-retry-info')]);
      const chunks: OpenAIChatChunk[] = [];
      const error = await failure(async () => {
        for await (const chunk of provider.stream(ask({ stream: true }), newCall())) chunks.push(chunk);
      });
      expect(error).to.be.instanceOf(RateLimitError);
      expect(chunks.length).to.be.greaterThan(0);
    });

    it('a 200 that is not an event stream (a proxy in between) → 502 with its text', async () => {
      mock.stream = (_body, response) => {
        response.writeHead(200, { 'content-type': 'text/html' });
        response.end('<p>Please log in to the proxy</p>');
      };
      const error = await failure(() => collect(provider.stream(ask({ stream: true }), newCall())));
      expect(error).to.be.instanceOf(UpstreamError);
      expect((error as Error).message).to.equal(
        'Gemini answered a streaming request without an event stream: Please log in to the proxy',
      );
    });

    it('an event that is not JSON → 502, without quoting it', async () => {
      mock.stream = (_body, response) => {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.end('data: {"candidates": [secret\r\n\r\n');
      };
      const error = await failure(() => collect(provider.stream(ask({ stream: true }), newCall())));
      expect(error).to.include({ status: 502, code: 'upstream_error' });
      expect((error as Error).message).to.equal("Gemini's answer could not be read (not valid JSON).");
    });

    it('an idle stream → 504 after timeoutMs without an event', async () => {
      mock.stream = (_body, response) => {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write(`data: ${JSON.stringify(geminiStreamFixture('stream-text')[0])}\r\n\r\n`);
      };
      const error = await failure(() => collect(make({ timeoutMs: 300 }).stream(ask({ stream: true }), newCall())));
      expect(error).to.be.instanceOf(UpstreamTimeoutError);
    });

    it('a slow stream that keeps sending events is not cut (the limit is per event)', async () => {
      mock.stream = (_body, response) =>
        writeGeminiStream(response, geminiStreamFixture('stream-text'), { delayMs: 750 });
      // Three events 750 ms apart take longer than the 1.5 s limit, but no gap between them does, even
      // with a busy machine's timers late by half the limit.
      const started = Date.now();
      const chunks = await collect(make({ timeoutMs: 1500 }).stream(ask({ stream: true }), newCall()));
      expect(Date.now() - started).to.be.above(1500);
      expect(chunks.at(-1)?.choices[0]?.finish_reason).to.equal('stop');
    });

    it('stopping early closes the upstream request', async () => {
      let upstreamClosed: Promise<unknown> | undefined;
      mock.stream = (_body, response) => {
        upstreamClosed = once(response, 'close');
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write(`data: ${JSON.stringify(geminiStreamFixture('stream-text')[0])}\r\n\r\n`);
      };
      for await (const chunk of provider.stream(ask({ stream: true }), newCall())) {
        expect(chunk.choices[0]?.delta.role).to.equal('assistant');
        break;
      }
      expect(upstreamClosed).to.not.equal(undefined);
      await upstreamClosed; // a request left open would hold this test until it times out
    });
  });

  describe('listModels', () => {
    it('lists the recorded models that can generate or embed, without the models/ prefix', async () => {
      const models = await provider.listModels();
      expect(models).to.deep.equal(
        ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.0-flash', 'embedding-001', 'text-embedding-004'].map((id) => ({
          id,
          object: 'model',
          created: 0,
          owned_by: 'google',
          kind: id.includes('embedding') ? 'embeddings' : 'chat',
        })),
      );
    });

    it('leaves out models with no usable action', async () => {
      mock.models = (_body, response) => {
        const recorded = geminiFixture('models');
        recorded.models[0].supportedGenerationMethods = ['countTokens', 'createTunedModel'];
        delete recorded.models[1].supportedGenerationMethods;
        sendJson(response, 200, recorded);
      };
      expect((await provider.listModels()).map((model) => model.id)).to.deep.equal([
        'gemini-2.0-flash',
        'embedding-001',
        'text-embedding-004',
      ]);
    });

    it('follows nextPageToken until the last page, in order', async () => {
      mock.models = (_body, response, request) => {
        const recorded = geminiFixture('models');
        const token = 'Chdtb2RlbHMvZ2VtaW5pLTIuMC1mbGFzaA==';
        if (request.query.get('pageToken') === token) sendJson(response, 200, { models: recorded.models.slice(2) });
        else sendJson(response, 200, { models: recorded.models.slice(0, 2), nextPageToken: token });
      };
      const models = await provider.listModels();
      expect(models.map((model) => model.id)).to.deep.equal([
        'gemini-2.5-flash',
        'gemini-2.5-pro',
        'gemini-2.0-flash',
        'embedding-001',
        'text-embedding-004',
      ]);
      const pages = mock.requestsFor('list');
      expect(pages.map((page) => page.query.get('pageToken'))).to.deep.equal([
        null,
        'Chdtb2RlbHMvZ2VtaW5pLTIuMC1mbGFzaA==',
      ]);
      expect(pages.every((page) => page.query.get('pageSize') === '1000')).to.equal(true);
    });

    it('asks Gemini once within the cache time', async () => {
      await provider.listModels();
      await provider.listModels();
      expect(mock.requestsFor('list')).to.have.length(1);
    });

    it('a bad key → 502 upstream_auth_error', async () => {
      const error = await failure(() => make({ apiKey: 'wrong-key' }).listModels());
      expect(error).to.include({ status: 502, code: 'upstream_auth_error' });
    });
  });

  describe('embed', () => {
    it('sends batchEmbedContents and returns the recorded vectors with the prompt tokens', async () => {
      const result = await provider.embed({ model: 'text-embedding-004', input: ['first', 'second'] }, newCall());
      const recorded = geminiFixture('embeddings-batch');
      expect(result).to.deep.equal({
        vectors: recorded.embeddings.map((embedding: { values: number[] }) => embedding.values),
        promptTokens: 12,
      });
      const [request] = mock.requestsFor('batchEmbedContents');
      expect(request?.path).to.equal('/v1beta/models/text-embedding-004:batchEmbedContents');
      expect(request?.body.requests.map((entry: any) => entry.content.parts[0].text)).to.deep.equal([
        'first',
        'second',
      ]);
    });

    it('dimensions → outputDimensionality, and the shortened vectors are normalised', async () => {
      const result = await provider.embed({ model: 'text-embedding-004', input: ['a', 'b'], dimensions: 2 }, newCall());
      expect(mock.requestsFor('batchEmbedContents')[0]?.body.requests[0].outputDimensionality).to.equal(2);
      for (const vector of result.vectors) expect(Math.hypot(...vector)).to.be.closeTo(1, 1e-12);
    });

    it('splits more than 100 inputs into batches of 100, keeping the order', async () => {
      const input = Array.from({ length: 250 }, (_, index) => `text ${index}`);
      const result = await provider.embed({ model: 'text-embedding-004', input }, newCall());
      const batches = mock.requestsFor('batchEmbedContents');
      expect(batches.map((batch) => batch.body.requests.length)).to.deep.equal([100, 100, 50]);
      expect(batches[2]?.body.requests[0].content.parts[0].text).to.equal('text 200');
      expect(result.vectors).to.have.length(250);
      expect(result.promptTokens).to.equal(36);
    });

    it('fewer vectors than inputs → 502', async () => {
      mock.embed = (_body, response) => {
        const recorded = geminiFixture('embeddings-batch');
        sendJson(response, 200, { ...recorded, embeddings: recorded.embeddings.slice(0, 1) });
      };
      const error = await failure(() => provider.embed({ model: 'text-embedding-004', input: ['a', 'b'] }, newCall()));
      expect(error).to.be.instanceOf(UpstreamError);
      expect((error as Error).message).to.contain('1 embeddings for 2 inputs');
    });
  });
});
