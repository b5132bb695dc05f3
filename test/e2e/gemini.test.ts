import { once } from 'node:events';
import { expect } from 'chai';
import OpenAI from 'openai';
import { ForwardProxy } from '../helpers/forward-proxy.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { GeminiMock, geminiFixture, geminiStreamFixture, writeGeminiStream } from '../helpers/gemini-mock.ts';
import { GigaChatMock, sendJson } from '../helpers/gigachat-mock.ts';

const PNG_1X1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

async function expectApiError(
  promise: Promise<unknown>,
  status: number,
): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).to.equal(status);
    return error as InstanceType<typeof OpenAI.APIError>;
  }
  return expect.fail(`expected HTTP ${status}`);
}

describe('e2e: the openai SDK against the gateway in front of Gemini', () => {
  let gemini: GeminiMock;
  let gigachat: GigaChatMock;
  let gateway: TestGateway;
  let client: OpenAI;

  beforeEach(async () => {
    gemini = await GeminiMock.start();
    gigachat = await GigaChatMock.start();
    gateway = await startTestGateway({ ...gemini.env(), ...gigachat.env() });
    client = gateway.client;
  });
  afterEach(async () => {
    await gateway.close();
    await gemini.close();
    await gigachat.close();
  });

  it('creates a completion: v1beta, the key header, system instruction, model echoed, usage with reasoning', async () => {
    const { data: completion, response } = await client.chat.completions
      .create({
        model: 'gemini-3-pro-preview',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'How many r in strawberry?' },
          { role: 'assistant', content: 'Let me count.' },
          { role: 'developer', content: 'Use Markdown.' },
          { role: 'user', content: 'Go on.' },
        ],
        temperature: 0.2,
        max_completion_tokens: 500,
        stop: ['END'],
        seed: 7,
      })
      .withResponse();
    expect(completion.model).to.equal('gemini-3-pro-preview');
    expect(completion.id).to.equal('chatcmpl-Un6LacrVMcjUxs0PmJfWoQc');
    expect(completion.choices[0]?.message.content).to.equal(
      geminiFixture('generate-text').candidates[0].content.parts[0].text,
    );
    expect(completion.choices[0]?.finish_reason).to.equal('stop');
    expect(completion.usage).to.deep.include({ prompt_tokens: 9, completion_tokens: 272, total_tokens: 281 });
    expect(completion.usage?.completion_tokens_details?.reasoning_tokens).to.equal(244);
    expect(response.headers.get('x-upstream-request-id')).to.equal('Un6LacrVMcjUxs0PmJfWoQc');

    const [sent] = gemini.requestsFor('generateContent');
    expect(sent?.path).to.equal('/v1beta/models/gemini-3-pro-preview:generateContent');
    expect(sent?.body.systemInstruction).to.deep.equal({ parts: [{ text: 'Be brief.' }, { text: 'Use Markdown.' }] });
    expect(sent?.body.contents.map((content: { role: string }) => content.role)).to.deep.equal([
      'user',
      'model',
      'user',
    ]);
    expect(sent?.body.generationConfig).to.deep.include({
      temperature: 0.2,
      maxOutputTokens: 500,
      stopSequences: ['END'],
      seed: 7,
    });
  });

  it('streams: chunks forwarded as they arrive, role first, finish_reason, include_usage, [DONE]', async () => {
    const events = geminiStreamFixture('stream-text');
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    gemini.stream = async (_body, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(`data: ${JSON.stringify(events[0])}\r\n\r\n`);
      await held; // the rest only once the client has seen the first text
      for (const event of events.slice(1)) response.write(`data: ${JSON.stringify(event)}\r\n\r\n`);
      response.end();
    };
    const stream = await client.chat.completions.create({
      model: 'gemini/gemini-3-pro-preview',
      messages: [{ role: 'user', content: 'Count the r' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      if (chunk.choices[0]?.delta.content === 'There are **3**') release();
    }
    expect(chunks[0]?.choices[0]?.delta).to.deep.equal({ role: 'assistant', content: '' });
    expect(chunks.every((chunk) => chunk.model === 'gemini/gemini-3-pro-preview')).to.equal(true);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).to.equal(
      'There are **3** "r"s in strawberry.\n\nst**r**awbe**rr**y',
    );
    expect(chunks.at(-2)?.choices[0]?.finish_reason).to.equal('stop');
    expect(chunks.at(-1)?.choices).to.deep.equal([]);
    expect(chunks.at(-1)?.usage).to.deep.include({ prompt_tokens: 9, completion_tokens: 208, total_tokens: 217 });
    expect(gemini.requestsFor('streamGenerateContent')[0]?.query.get('alt')).to.equal('sse');
  });

  it('runs a two-turn tool call on Gemini 3: ids, arguments, thought signature and the result name round-trip', async () => {
    const first = geminiFixture('generate-tool-call-gemini3');
    const signature = first.candidates[0].content.parts[0].thoughtSignature;
    gemini.generate = (body, response) =>
      sendJson(response, 200, body.contents.length === 1 ? first : geminiFixture('generate-text'));
    const tools: OpenAI.ChatCompletionTool[] = [
      {
        type: 'function',
        function: {
          name: 'weather',
          description: 'Current weather',
          parameters: {
            $schema: 'http://json-schema.org/draft-07/schema#',
            type: 'object',
            properties: { location: { type: 'string', default: 'Moscow' } },
            required: ['location'],
            additionalProperties: false,
          },
        },
      },
    ];
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in SF?' }];
    const turn1 = await client.chat.completions.create({ model: 'gemini-3-pro-preview', messages, tools });
    const choice = turn1.choices[0];
    expect(choice?.finish_reason).to.equal('tool_calls');
    expect(choice?.message.content).to.equal(null);
    const call = choice?.message.tool_calls?.[0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(call.function).to.deep.equal({ name: 'weather', arguments: '{"location":"San Francisco"}' });

    messages.push(choice?.message as OpenAI.ChatCompletionMessageParam, {
      role: 'tool',
      tool_call_id: call.id,
      content: '{"temperature": 18, "sky": "fog"}',
    });
    const turn2 = await client.chat.completions.create({ model: 'gemini-3-pro-preview', messages, tools });
    expect(turn2.choices[0]?.finish_reason).to.equal('stop');

    const [request1, request2] = gemini.requestsFor('generateContent');
    expect(request1?.body.tools[0].functionDeclarations[0]).to.deep.equal({
      name: 'weather',
      description: 'Current weather',
      parametersJsonSchema: {
        type: 'object',
        properties: { location: { type: 'string' } },
        required: ['location'],
        additionalProperties: false,
      },
    });
    expect(request2?.body.contents).to.deep.equal([
      { role: 'user', parts: [{ text: 'Weather in SF?' }] },
      {
        role: 'model',
        parts: [
          { functionCall: { name: 'weather', args: { location: 'San Francisco' } }, thoughtSignature: signature },
        ],
      },
      {
        role: 'user',
        parts: [{ functionResponse: { name: 'weather', response: { output: { temperature: 18, sky: 'fog' } } } }],
      },
    ]);
  });

  it('streams a tool call the .stream() helper assembles, with Gemini’s own call id sent back', async () => {
    gemini.stream = (_body, response) => writeGeminiStream(response, geminiStreamFixture('stream-tool-call-with-id'));
    const runner = client.chat.completions.stream({
      model: 'gemini-3.7-flash',
      messages: [{ role: 'user', content: 'Search x or y' }],
      tools: [{ type: 'function', function: { name: 'search', parameters: { type: 'object', properties: {} } } }],
      tool_choice: 'required',
    });
    const final = await runner.finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(final.choices[0]?.finish_reason).to.equal('tool_calls');
    expect(JSON.parse(call.function.arguments)).to.deep.equal({ condition: { or: [{ term: 'x' }, { term: 'y' }] } });
    const sent = gemini.requestsFor('streamGenerateContent')[0]?.body;
    expect(sent.toolConfig).to.deep.equal({ functionCallingConfig: { mode: 'ANY' } });
    expect(sent.tools[0].functionDeclarations[0]).to.deep.equal({ name: 'search' }); // no empty schema

    gemini.generate = (_body, response) => sendJson(response, 200, geminiFixture('generate-text'));
    await client.chat.completions.create({
      model: 'gemini-3.7-flash',
      messages: [
        { role: 'user', content: 'Search x or y' },
        final.choices[0]?.message as OpenAI.ChatCompletionMessageParam,
        { role: 'tool', tool_call_id: call.id, content: 'no results' },
      ],
    });
    const replay = gemini.requestsFor('generateContent')[0]?.body.contents;
    expect(replay[1].parts[0].functionCall.id).to.equal('call_345658');
    expect(replay[1].parts[0].thoughtSignature).to.equal('<redacted>');
    expect(replay[2].parts[0].functionResponse).to.deep.equal({
      name: 'search',
      id: 'call_345658',
      response: { output: 'no results' },
    });
  });

  it('sends json_schema as responseJsonSchema and returns the JSON text', async () => {
    gemini.generate = (_body, response) => {
      const answer = geminiFixture('generate-text');
      answer.candidates[0].content.parts = [{ text: '{"name":"Ada","age":36}' }];
      sendJson(response, 200, answer);
    };
    const completion = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'Who?' }],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'person',
          strict: true,
          schema: {
            $schema: 'https://json-schema.org/draft/2020-12/schema',
            type: 'object',
            properties: { name: { type: 'string' }, age: { type: 'integer', exclusiveMinimum: 0 } },
            required: ['name', 'age'],
            additionalProperties: false,
          },
        },
      },
    });
    expect(JSON.parse(completion.choices[0]?.message.content ?? '')).to.deep.equal({ name: 'Ada', age: 36 });
    expect(gemini.requestsFor('generateContent')[0]?.body.generationConfig).to.deep.include({
      responseMimeType: 'application/json',
      responseJsonSchema: {
        type: 'object',
        properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0 } },
        required: ['name', 'age'],
        additionalProperties: false,
      },
    });
  });

  it('sends an image from a data URL as inline data', async () => {
    await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_1X1}` } },
          ],
        },
      ],
    });
    expect(gemini.requestsFor('generateContent')[0]?.body.contents[0].parts).to.deep.equal([
      { text: 'What is this?' },
      { inlineData: { mimeType: 'image/png', data: PNG_1X1 } },
    ]);
  });

  it('refuses image URLs that point into the gateway’s own network, naming the part', async () => {
    for (const url of [
      'https://127.0.0.1/x.png',
      'https://localhost/x.png',
      'http://example.com/x.png',
      'ftp://x/y.png',
    ]) {
      const error = await expectApiError(
        client.chat.completions.create({
          model: 'gemini-2.5-flash',
          messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }],
        }),
        400,
      );
      expect(error.code, url).to.equal('invalid_image_url');
      expect(error.param, url).to.equal('messages[0].content[0].image_url.url');
    }
    expect(gemini.requests).to.have.length(0);
  });

  it('answers a blocked prompt with 200, null content and content_filter, streamed or not', async () => {
    gemini.generate = (_body, response) => sendJson(response, 200, geminiFixture('generate-prompt-block'));
    gemini.stream = (_body, response) => writeGeminiStream(response, geminiStreamFixture('stream-prompt-block'));
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'something forbidden' }];
    const completion = await client.chat.completions.create({ model: 'gemini-3.7-flash', messages });
    expect(completion.choices[0]?.message.content).to.equal(null);
    expect(completion.choices[0]?.finish_reason).to.equal('content_filter');
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of await client.chat.completions.create({
      model: 'gemini-3.7-flash',
      messages,
      stream: true,
    })) {
      chunks.push(chunk);
    }
    expect(chunks.map((chunk) => chunk.choices[0]?.finish_reason)).to.deep.equal(['content_filter']);
  });

  it('embeds with both providers; the SDK’s base64 default decodes to the same numbers as float', async () => {
    for (const model of ['text-embedding-004', 'Embeddings']) {
      const input = ['первый', 'second', 'third'];
      const viaBase64 = await client.embeddings.create({ model, input }); // the SDK asks for base64
      const viaFloat = await client.embeddings.create({ model, input, encoding_format: 'float' });
      expect(
        viaBase64.data.map((item) => item.embedding),
        model,
      ).to.deep.equal(viaFloat.data.map((item) => item.embedding));
      expect(viaFloat.data.map((item) => item.index)).to.deep.equal([0, 1, 2]);
      expect(viaFloat.model).to.equal(model);
      expect(viaFloat.usage.prompt_tokens).to.be.greaterThan(0);
      expect(viaFloat.usage.total_tokens).to.equal(viaFloat.usage.prompt_tokens);
    }
    expect(gemini.requestsFor('batchEmbedContents')[0]?.body.requests[0]).to.deep.equal({
      model: 'models/text-embedding-004',
      content: { parts: [{ text: 'первый' }], role: 'user' },
    });
    expect(JSON.parse(gigachat.requestsTo('/api/v1/embeddings')[0]?.body ?? '')).to.deep.equal({
      model: 'Embeddings',
      input: ['первый', 'second', 'third'],
    });
  });

  it('passes dimensions to Gemini (normalised vectors) and refuses them for GigaChat', async () => {
    const result = await client.embeddings.create({
      model: 'text-embedding-004',
      input: 'x',
      dimensions: 2,
      encoding_format: 'float',
    });
    expect(Math.hypot(...(result.data[0]?.embedding ?? []))).to.be.closeTo(1, 1e-6);
    expect(gemini.requestsFor('batchEmbedContents')[0]?.body.requests[0].outputDimensionality).to.equal(2);
    const error = await expectApiError(
      client.embeddings.create({ model: 'Embeddings', input: 'x', dimensions: 2 }),
      400,
    );
    expect(error.param).to.equal('dimensions');
  });

  it('splits more than 100 inputs into Gemini batches and keeps their order', async () => {
    const input = Array.from({ length: 150 }, (_unused, index) => `text ${index}`);
    const result = await client.embeddings.create({ model: 'text-embedding-004', input, encoding_format: 'float' });
    expect(result.data).to.have.length(150);
    expect(gemini.requestsFor('batchEmbedContents').map((request) => request.body.requests.length)).to.deep.equal([
      100, 50,
    ]);
  });

  it('refuses bad embeddings input with a 400 naming the parameter', async () => {
    const post = (body: unknown) =>
      fetch(`${gateway.url}/v1/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    for (const [body, param] of [
      [{ input: 'x' }, 'model'],
      [{ model: 'text-embedding-004' }, 'input'],
      [{ model: 'text-embedding-004', input: [] }, 'input'],
      [{ model: 'text-embedding-004', input: '' }, 'input'],
      [{ model: 'text-embedding-004', input: [1, 2, 3] }, 'input'],
      [{ model: 'text-embedding-004', input: 'x', encoding_format: 'int8' }, 'encoding_format'],
      [{ model: 'text-embedding-004', input: 'x', dimensions: 0 }, 'dimensions'],
      [{ model: 'text-embedding-004', input: 'x', extra: true }, 'extra'],
    ] as const) {
      const response = await post(body);
      expect(response.status, JSON.stringify(body)).to.equal(400);
      const answer = (await response.json()) as { error: { param: string; type: string } };
      expect(answer.error.param, JSON.stringify(body)).to.equal(param);
      expect(answer.error.type).to.equal('invalid_request_error');
    }
    expect(gemini.requests).to.have.length(0);
  });

  it('lists the models of both providers', async () => {
    const ids = (await client.models.list()).data.map((model) => model.id);
    expect(ids).to.include.members(['GigaChat-2-Max', 'gemini-2.5-flash', 'text-embedding-004']);
    const gemini25 = (await client.models.retrieve('gemini-2.5-pro')) as OpenAI.Model;
    expect(gemini25).to.deep.equal({
      id: 'gemini-2.5-pro',
      object: 'model',
      created: 0,
      owned_by: 'google',
      kind: 'chat',
    });
    const embedder = (await client.models.retrieve('text-embedding-004')) as OpenAI.Model & { kind?: string };
    expect(embedder.kind).to.equal('embeddings');
  });

  it('still lists GigaChat’s models when Gemini cannot list its own', async () => {
    gemini.models = (_body, response) =>
      sendJson(response, 503, { error: { code: 503, message: 'down', status: 'UNAVAILABLE' } });
    const ids = (await client.models.list()).data.map((model) => model.id);
    expect(ids).to.include('GigaChat-2-Max');
    expect(ids.some((id) => id.startsWith('gemini'))).to.equal(false);
    expect(gateway.logs.join('')).to.include('Gemini: models not listed');
  });

  it('maps Gemini errors: our bad key → 502 (not 401), 429 with Retry-After, 404 model_not_found, region → 502', async () => {
    const cases: Array<[string, number, number, Record<string, string | null>]> = [
      ['error-api-key-invalid', 400, 502, { code: 'upstream_auth_error', 'x-should-retry': 'false' }],
      ['error-429-retry-info', 429, 429, { code: 'rate_limit_exceeded', 'retry-after': '35' }],
      ['error-model-not-found', 404, 404, { code: 'model_not_found' }],
      ['error-location', 400, 502, { code: 'upstream_region_blocked', 'x-should-retry': 'false' }],
      ['error-thinking-level', 400, 400, { code: null }],
    ];
    for (const [fixture, upstreamStatus, status, expected] of cases) {
      gemini.generate = (_body, response) => sendJson(response, upstreamStatus, geminiFixture(fixture));
      const error = await expectApiError(
        client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] }),
        status,
      );
      for (const [key, value] of Object.entries(expected)) {
        const actual = key === 'code' ? error.code : error.headers?.get(key);
        expect(actual ?? null, `${fixture} ${key}`).to.equal(value);
      }
      expect(error.message).to.not.include('test-gemini-key');
    }
    gemini.generate = (_body, response) => sendJson(response, 400, geminiFixture('error-location'));
    const region = await expectApiError(
      client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] }),
      502,
    );
    expect(region.message).to.include('HTTPS_PROXY');
  });

  it('reports a failure after the stream began as one error event', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    gemini.stream = async (_body, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(`data: ${JSON.stringify(geminiStreamFixture('stream-text')[0])}\r\n\r\n`);
      await held;
      response.destroy(); // the connection drops mid-answer
    };
    const stream = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const seen: string[] = [];
    try {
      for await (const chunk of stream) {
        seen.push(chunk.choices[0]?.delta.content ?? '');
        if (chunk.choices[0]?.delta.content) release();
      }
      expect.fail('the stream should have failed');
    } catch (error) {
      expect(error).to.be.instanceOf(OpenAI.APIError);
      expect((error as Error).message).to.match(/Gemini/);
    }
    expect(seen.join('')).to.equal('There are **3**');
  });

  it('aborts the Gemini stream when the client goes away', async () => {
    let upstreamClosed: Promise<unknown> = Promise.resolve();
    gemini.stream = (_body, response) => {
      upstreamClosed = once(response, 'close');
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(`data: ${JSON.stringify(geminiStreamFixture('stream-text')[0])}\r\n\r\n`);
    };
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }], stream: true },
      { signal: controller.signal },
    );
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) break; // leaving the loop aborts the request
    }
    await upstreamClosed;
  });
});

describe('e2e: a Gemini that does not answer in time', () => {
  it('gives the client a 504 after UPSTREAM_TIMEOUT_MS without an answer', async () => {
    const gemini = await GeminiMock.start();
    gemini.generate = () => {}; // never answers
    const gateway = await startTestGateway({ ...gemini.env(), UPSTREAM_TIMEOUT_MS: '200' });
    try {
      const error = await expectApiError(
        gateway.client.chat.completions.create({
          model: 'gemini-2.5-flash',
          messages: [{ role: 'user', content: 'hi' }],
        }),
        504,
      );
      expect(error.message).to.include('200 ms');
    } finally {
      await gateway.close();
      await gemini.close();
    }
  });
});

describe('e2e: Gemini through an outbound proxy (HTTPS_PROXY), GigaChat direct', () => {
  let gemini: GeminiMock;
  let gigachat: GigaChatMock;
  let proxy: ForwardProxy;
  let gateway: TestGateway | undefined;

  beforeEach(async () => {
    gemini = await GeminiMock.start();
    gigachat = await GigaChatMock.start();
    proxy = await ForwardProxy.start();
  });
  afterEach(async () => {
    await gateway?.close();
    await Promise.all([gemini.close(), gigachat.close(), proxy.close()]);
  });

  it('sends Gemini calls through the proxy and GigaChat calls around it', async () => {
    gateway = await startTestGateway({
      ...gemini.env(),
      ...gigachat.env(),
      HTTPS_PROXY: proxy.url,
      HTTP_PROXY: proxy.url,
    });
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'hi' }];
    await gateway.client.chat.completions.create({ model: 'gemini-2.5-flash', messages });
    expect(proxy.targets).to.deep.equal([new URL(gemini.url).host]);
    await gateway.client.chat.completions.create({ model: 'GigaChat', messages });
    expect(proxy.targets).to.have.length(1);
    expect(gigachat.requestsTo('/api/v1/chat/completions')).to.have.length(1);
    expect(gateway.logs.join('')).to.include(`Gemini: calls go through the proxy ${proxy.url}`);
  });

  it('honours NO_PROXY', async () => {
    gateway = await startTestGateway({ ...gemini.env(), HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' });
    await gateway.client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(proxy.targets).to.deep.equal([]);
    expect(gemini.requestsFor('generateContent')).to.have.length(1);
  });

  it('says which proxy failed when it cannot be reached', async () => {
    await proxy.close();
    gateway = await startTestGateway({ ...gemini.env(), HTTP_PROXY: proxy.url });
    const error = await expectApiError(
      gateway.client.chat.completions.create({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'hi' }],
      }),
      502,
    );
    expect(error.code).to.equal('upstream_unreachable');
  });
});
