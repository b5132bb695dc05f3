import { once } from 'node:events';
import { expect } from 'chai';
import type OpenAI from 'openai';
import { gigaChatChunks, gigaChatCompletion, recordedExchange } from '../helpers/cassettes.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { GigaChatMock, sendJson, writeGigaChatStream } from '../helpers/gigachat-mock.ts';

describe('e2e: the openai SDK against the gateway in front of GigaChat', () => {
  let mock: GigaChatMock;
  let gateway: TestGateway;
  let client: OpenAI;

  beforeEach(async () => {
    mock = await GigaChatMock.start();
    gateway = await startTestGateway(mock.env());
    client = gateway.client;
  });
  afterEach(async () => {
    await gateway.close();
    await mock.close();
  });

  it('creates a completion and echoes the requested model', async () => {
    mock.chat = (_body, response) =>
      sendJson(response, 200, gigaChatCompletion('Привет!'), { 'x-request-id': 'upstream-1' });
    const { data: completion, response } = await client.chat.completions
      .create({ model: 'GigaChat-2-Max', messages: [{ role: 'user', content: 'Скажи привет' }] })
      .withResponse();
    expect(completion.choices[0]?.message).to.include({ role: 'assistant', content: 'Привет!' });
    expect(completion.choices[0]?.finish_reason).to.equal('stop');
    expect(completion.model).to.equal('GigaChat-2-Max');
    expect(completion.id).to.match(/^chatcmpl-/);
    expect(completion.usage?.prompt_tokens_details?.cached_tokens).to.equal(2);
    expect(response.headers.get('x-request-id')).to.be.a('string').and.not.equal('');
    expect(response.headers.get('x-upstream-request-id')).to.equal('upstream-1');
    expect(response.headers.get('content-type')).to.equal('application/json; charset=utf-8');
    expect(JSON.parse(mock.requestsTo('/api/v1/chat/completions')[0]?.body ?? '')).to.deep.equal({
      model: 'GigaChat-2-Max',
      messages: [{ role: 'user', content: 'Скажи привет' }],
    });
  });

  it('routes the explicit provider/model form and echoes that name', async () => {
    const completion = await client.chat.completions.create({
      model: 'gigachat/GigaChat-2-Pro',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(completion.model).to.equal('gigachat/GigaChat-2-Pro');
    expect(JSON.parse(mock.requestsTo('/api/v1/chat/completions')[0]?.body ?? '').model).to.equal('GigaChat-2-Pro');
  });

  it('streams deltas with one id, the role first, finish_reason, usage and [DONE]', async () => {
    mock.chat = (_body, response) =>
      writeGigaChatStream(response, gigaChatChunks(['Раз', ', два', ', три']), { delayMs: 5 });
    const stream = await client.chat.completions.create({
      model: 'gigachat/GigaChat',
      messages: [{ role: 'user', content: 'Считай' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(new Set(chunks.map((chunk) => chunk.id)).size).to.equal(1);
    expect(
      chunks.every((chunk) => chunk.object === 'chat.completion.chunk' && chunk.model === 'gigachat/GigaChat'),
    ).to.equal(true);
    expect(chunks[0]?.choices[0]?.delta.role).to.equal('assistant');
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).to.equal('Раз, два, три');
    const contentChunks = chunks.filter((chunk) => chunk.choices[0]?.delta.content);
    expect(contentChunks.length).to.equal(3); // forwarded as they came, not re-buffered
    expect(chunks.at(-2)?.choices[0]?.finish_reason).to.equal('stop');
    expect(chunks.at(-1)?.choices).to.deep.equal([]);
    expect(chunks.at(-1)?.usage).to.deep.include({ prompt_tokens: 17, completion_tokens: 10, total_tokens: 27 });
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).to.equal(true);
    expect(JSON.parse(mock.requestsTo('/api/v1/chat/completions')[0]?.body ?? '').stream).to.equal(true);
  });

  it('ends the raw event stream with data: [DONE]', async () => {
    mock.chat = (_body, reply) => writeGigaChatStream(reply, gigaChatChunks(['a']));
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'GigaChat', messages: [{ role: 'user', content: 'x' }], stream: true }),
    });
    expect(response.headers.get('content-type')).to.equal('text/event-stream; charset=utf-8');
    const text = await response.text();
    expect(text.endsWith('data: [DONE]\n\n')).to.equal(true);
    expect(text).not.to.contain('"usage"'); // include_usage was not asked for
  });

  it('runs a two-turn tool call: tool_calls out, the tool result back as a function message', async () => {
    const recordedCall = recordedExchange('chat-function-call').response;
    mock.chat = (body, response) => {
      const last = body.messages.at(-1);
      if (last.role === 'function') {
        sendJson(response, 200, gigaChatCompletion('В Манжероке будет солнечно.'));
      } else {
        sendJson(response, 200, recordedCall);
      }
    };
    const tools: OpenAI.ChatCompletionTool[] = [
      {
        type: 'function',
        function: {
          name: 'weather_forecast',
          description: 'Прогноз погоды',
          parameters: {
            type: 'object',
            properties: { location: { type: 'string' }, num_days: { type: 'integer' } },
            required: ['location', 'num_days'],
          },
        },
      },
    ];
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Погода в Манжероке на 10 дней?' }];
    const first = await client.chat.completions.create({ model: 'GigaChat-2-Pro', messages, tools });
    const assistant = first.choices[0]?.message;
    expect(first.choices[0]?.finish_reason).to.equal('tool_calls');
    const toolCall = assistant?.tool_calls?.[0];
    if (assistant === undefined || toolCall?.type !== 'function') throw new Error('expected a function tool call');
    expect(JSON.parse(toolCall.function.arguments)).to.deep.equal({ location: 'Манжерок', num_days: 10 });

    messages.push(assistant, { role: 'tool', tool_call_id: toolCall.id, content: 'солнечно, +20' });
    const second = await client.chat.completions.create({ model: 'GigaChat-2-Pro', messages, tools });
    expect(second.choices[0]?.message.content).to.equal('В Манжероке будет солнечно.');

    const sent = JSON.parse(mock.requestsTo('/api/v1/chat/completions')[1]?.body ?? '');
    expect(sent.messages).to.deep.equal([
      { role: 'user', content: 'Погода в Манжероке на 10 дней?' },
      {
        role: 'assistant',
        content: '',
        function_call: { name: 'weather_forecast', arguments: { location: 'Манжерок', num_days: 10 } },
      },
      { role: 'function', name: 'weather_forecast', content: '{"result":"солнечно, +20"}' },
    ]);
    expect(sent.functions[0].name).to.equal('weather_forecast');
  });

  it('streams a tool call as one tool_calls delta with index 0', async () => {
    // No public recording of a streamed GigaChat function call exists; the chunk reuses the recorded
    // stream chunk's shape with the function_call of https://developers.sber.ru/docs/ru/gigachat/api/reference/rest/post-chat.
    mock.chat = (_body, response) => {
      const [chunk, finish] = gigaChatChunks(['']);
      chunk.choices[0].delta = {
        role: 'assistant',
        content: '',
        function_call: { name: 'weather_forecast', arguments: { location: 'Москва', num_days: 1 } },
        functions_state_id: 'c4f1b7a2-1111-4f0e-9a51-2c9a8f3e0d11',
      };
      finish.choices[0].finish_reason = 'function_call';
      return writeGigaChatStream(response, [chunk, finish]);
    };
    const stream = client.chat.completions.stream({
      model: 'GigaChat-2-Pro',
      messages: [{ role: 'user', content: 'Погода в Москве?' }],
      tools: [
        { type: 'function', function: { name: 'weather_forecast', parameters: { type: 'object', properties: {} } } },
      ],
    });
    const final = await stream.finalChatCompletion();
    const toolCall = final.choices[0]?.message.tool_calls?.[0];
    expect(final.choices[0]?.finish_reason).to.equal('tool_calls');
    expect(toolCall?.id).to.equal('call_c4f1b7a2-1111-4f0e-9a51-2c9a8f3e0d11');
    if (toolCall?.type !== 'function') throw new Error('expected a function tool call');
    expect(JSON.parse(toolCall.function.arguments)).to.deep.equal({ location: 'Москва', num_days: 1 });
  });

  it('aborts the upstream request when the client disconnects mid-stream', async () => {
    let upstreamFinished: Promise<boolean> = Promise.resolve(true);
    mock.chat = (_body, response) => {
      upstreamFinished = once(response, 'close').then(() => response.writableFinished);
      return writeGigaChatStream(response, gigaChatChunks(Array.from({ length: 200 }, () => 'слово ')), {
        delayMs: 20,
      });
    };
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'GigaChat', messages: [{ role: 'user', content: 'Длинный ответ' }], stream: true },
      { signal: controller.signal },
    );
    let received = 0;
    await (async () => {
      for await (const _chunk of stream) {
        received += 1;
        if (received === 3) controller.abort();
      }
    })().catch(() => undefined);
    // The upstream connection closed before GigaChat finished writing its 200 chunks.
    expect(await upstreamFinished).to.equal(false);
    expect(received).to.be.lessThan(10);
  });

  it('a client leaving before the first chunk aborts the upstream and is logged as 499, not as an error', async () => {
    const controller = new AbortController();
    let upstreamClosed: Promise<void> = Promise.resolve();
    mock.chat = (_body, response) => {
      upstreamClosed = once(response, 'close').then(() => {});
      controller.abort(); // the upstream call is out and nothing has come back: the client leaves
    };
    const failure = await client.chat.completions
      .create(
        { model: 'GigaChat', messages: [{ role: 'user', content: 'Жду' }], stream: true },
        { signal: controller.signal },
      )
      .catch((error: unknown) => error);
    expect(failure).to.be.instanceOf(Error);
    await upstreamClosed; // an upstream call left open would hold this test until it times out
    await gateway.waitForLog((text) => {
      const line = JSON.parse(text);
      return line.path === '/v1/chat/completions' && line.status === 499;
    });
    const lines = gateway.logs.map((line) => JSON.parse(line));
    expect(lines.some((line) => line.level === 'error')).to.equal(false);
  });

  it('lists GigaChat models in the OpenAI list shape, fetched once and then cached', async () => {
    const first = await client.models.list();
    const second = await client.models.list();
    const ids = first.data.map((model) => model.id);
    expect(ids).to.include.members(['GigaChat', 'GigaChat-2-Max', 'Embeddings']);
    expect(ids).not.to.include('GigaCheckClassification');
    expect(first.data[0]).to.have.keys(['id', 'object', 'created', 'owned_by', 'kind']);
    const kinds = new Map(first.data.map((model) => [model.id, (model as { kind?: string }).kind]));
    expect([kinds.get('GigaChat-2-Max'), kinds.get('Embeddings')]).to.deep.equal(['chat', 'embeddings']);
    expect(second.data.length).to.equal(first.data.length);
    expect(mock.requestsTo('/api/v1/models').length).to.equal(1);
    const model = await client.models.retrieve('GigaChat-2-Max');
    expect(model.id).to.equal('GigaChat-2-Max');
  });
});
