import { expect } from 'chai';
import type OpenAI from 'openai';
import { gigaChatChunks, gigaChatCompletion } from '../helpers/cassettes.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { GigaChatMock, gigaChatFixture, sendJson, writeGigaChatStream } from '../helpers/gigachat-mock.ts';

/** GigaChat's recorded function call answer (test/fixtures/gigachat/chat-function-call.json). */
function functionCallAnswer(name: string, args: Record<string, unknown>) {
  const answer = structuredClone(gigaChatFixture('chat-function-call'));
  answer.choices[0].message.function_call = { name, arguments: args };
  return answer;
}

const lastChatBody = (mock: GigaChatMock) => JSON.parse(mock.requestsTo('/api/v1/chat/completions').at(-1)?.body ?? '');

describe('e2e: the Responses API through the openai SDK, GigaChat behind', () => {
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

  it('answers responses.create with a response object, output_text and usage details', async () => {
    mock.chat = (_body, response) => sendJson(response, 200, gigaChatCompletion('Привет!'));
    const response = await client.responses.create({
      model: 'GigaChat-2-Max',
      instructions: 'Отвечай кратко.',
      input: 'Скажи привет',
      max_output_tokens: 100,
      temperature: 0.2,
      metadata: { ticket: '42' },
    });
    expect(response.object).to.equal('response');
    expect(response.id).to.match(/^resp_[0-9a-f]{48}$/);
    expect(response.status).to.equal('completed');
    expect(response.model).to.equal('GigaChat-2-Max');
    expect(response.output_text).to.equal('Привет!');
    expect(response.metadata).to.deep.equal({ ticket: '42' });
    const [message] = response.output;
    expect(message).to.deep.include({ type: 'message', role: 'assistant', status: 'completed' });
    expect((message as OpenAI.Responses.ResponseOutputMessage).content).to.deep.equal([
      { type: 'output_text', text: 'Привет!', annotations: [] },
    ]);
    // The recorded usage (cassette chat-plain): 17 + 3, of which 2 precached.
    expect(response.usage).to.deep.include({ input_tokens: 17, output_tokens: 3, total_tokens: 20 });
    expect(response.usage?.input_tokens_details.cached_tokens).to.equal(2);
    expect(response.usage?.output_tokens_details.reasoning_tokens).to.equal(0);
    expect(response.incomplete_details).to.equal(null);
    expect(lastChatBody(mock)).to.deep.include({
      model: 'GigaChat-2-Max',
      messages: [
        { role: 'system', content: 'Отвечай кратко.' },
        { role: 'user', content: 'Скажи привет' },
      ],
      max_tokens: 100,
      temperature: 0.2,
    });
  });

  it('streams events in OpenAI order with increasing sequence numbers (responses.stream)', async () => {
    mock.chat = (_body, response) => writeGigaChatStream(response, gigaChatChunks(['Раз', ', два', ', три']));
    const stream = client.responses.stream({ model: 'GigaChat-2-Max', input: 'Считай' });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();
    expect(final.output_text).to.equal('Раз, два, три');
    expect(events.map((event) => event.type)).to.deep.equal([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((event) => event.sequence_number)).to.deep.equal(events.map((_event, index) => index));
    expect(final.usage?.total_tokens).to.be.a('number');
  });

  it('aborts the upstream call when the client leaves a stream, and stores nothing', async () => {
    let upstreamClosed: () => void = () => {};
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    mock.chat = (_body, response) => {
      response.once('close', upstreamClosed);
      const [first] = gigaChatChunks(['Начало']);
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(`data: ${JSON.stringify(first)}\n\n`); // and nothing more
    };
    const leave = new AbortController();
    const stream = await client.responses.create(
      { model: 'GigaChat-2-Max', input: 'Считай', stream: true },
      { signal: leave.signal },
    );
    let id = '';
    for await (const event of stream) {
      if (event.type === 'response.created') id = event.response.id;
      if (event.type === 'response.output_text.delta') break;
    }
    leave.abort();
    await closed;
    const stored = await client.responses.retrieve(id).catch((error: unknown) => error);
    expect(stored).to.have.property('status', 404);
  });

  it('runs a tool loop: a function_call item, then function_call_output back', async () => {
    mock.chat = (_body, response) => sendJson(response, 200, functionCallAnswer('get_weather', { city: 'Москва' }));
    const tools: OpenAI.Responses.FunctionTool[] = [
      {
        type: 'function',
        name: 'get_weather',
        description: 'Погода в городе',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        strict: false,
      },
    ];
    const first = await client.responses.create({ model: 'GigaChat-2-Max', input: 'Погода в Москве?', tools });
    const call = first.output.find((item) => item.type === 'function_call');
    expect(call).to.deep.include({ type: 'function_call', name: 'get_weather', status: 'completed' });
    expect(JSON.parse((call as OpenAI.Responses.ResponseFunctionToolCall).arguments)).to.deep.equal({ city: 'Москва' });
    const callId = (call as OpenAI.Responses.ResponseFunctionToolCall).call_id;
    expect(callId).to.be.a('string').and.not.equal('');

    mock.chat = (_body, response) => sendJson(response, 200, gigaChatCompletion('В Москве +5.'));
    const second = await client.responses.create({
      model: 'GigaChat-2-Max',
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: callId, output: '{"temp": 5}' }],
      tools,
    });
    expect(second.output_text).to.equal('В Москве +5.');
    const messages = lastChatBody(mock).messages;
    expect(messages.map((message: { role: string }) => message.role)).to.deep.equal(['user', 'assistant', 'function']);
    expect(messages[1].function_call).to.deep.equal({ name: 'get_weather', arguments: { city: 'Москва' } });
  });

  it('continues a conversation with previous_response_id, lists input_items, retrieves and deletes', async () => {
    mock.chat = (_body, response) => sendJson(response, 200, gigaChatCompletion('Меня зовут ГигаЧат.'));
    const first = await client.responses.create({ model: 'GigaChat-2-Max', input: 'Как тебя зовут?' });
    mock.chat = (_body, response) => sendJson(response, 200, gigaChatCompletion('Я уже сказал.'));
    const second = await client.responses.create({
      model: 'GigaChat-2-Max',
      input: 'А ещё раз?',
      previous_response_id: first.id,
    });
    expect(second.previous_response_id).to.equal(first.id);
    expect(lastChatBody(mock).messages).to.deep.equal([
      { role: 'user', content: 'Как тебя зовут?' },
      { role: 'assistant', content: 'Меня зовут ГигаЧат.' },
      { role: 'user', content: 'А ещё раз?' },
    ]);
    const retrieved = await client.responses.retrieve(second.id);
    expect(retrieved.output_text).to.equal('Я уже сказал.');
    const items = await client.responses.inputItems.list(second.id, { order: 'asc' });
    expect(items.data.map((item) => item.type)).to.deep.equal(['message', 'message', 'message']);
    await client.responses.delete(second.id);
    const gone = await client.responses.retrieve(second.id).catch((error: unknown) => error);
    expect(gone).to.have.property('status', 404);
  });

  it("resolves item_reference inputs from the caller's stored responses, and 404s others", async () => {
    mock.chat = (_body, response) => sendJson(response, 200, gigaChatCompletion('Меня зовут ГигаЧат.'));
    const first = await client.responses.create({ model: 'GigaChat-2-Max', input: 'Как тебя зовут?' });
    const said = first.output[0]?.id as string;
    mock.chat = (_body, response) => sendJson(response, 200, gigaChatCompletion('Повторяю.'));
    await client.responses.create({
      model: 'GigaChat-2-Max',
      input: [
        { role: 'user', content: 'Как тебя зовут?' },
        { type: 'item_reference', id: said },
        { role: 'user', content: 'Ещё раз' },
      ],
    });
    expect(lastChatBody(mock).messages).to.deep.equal([
      { role: 'user', content: 'Как тебя зовут?' },
      { role: 'assistant', content: 'Меня зовут ГигаЧат.' },
      { role: 'user', content: 'Ещё раз' },
    ]);
    const unknown = await client.responses
      .create({ model: 'GigaChat-2-Max', input: [{ type: 'item_reference', id: `msg_${'0'.repeat(52)}` }] })
      .catch((error: unknown) => error);
    expect(unknown).to.have.property('status', 404);
    expect(unknown).to.have.nested.property('error.param', 'input[0].id');
  });

  it('runs in the background: queued at once, polled to completed', async () => {
    mock.chat = (_body, response) =>
      writeGigaChatStream(response, gigaChatChunks(['Долгий', ' ответ']), { delayMs: 20 });
    const queued = await client.responses.create({ model: 'GigaChat-2-Max', input: 'Думай', background: true });
    expect(queued.status).to.equal('queued');
    let polled = queued;
    for (let tries = 0; tries < 200 && (polled.status === 'queued' || polled.status === 'in_progress'); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      polled = await client.responses.retrieve(queued.id);
    }
    expect(polled.status).to.equal('completed');
    expect(polled.output_text).to.equal('Долгий ответ');
  });

  it('takes what Codex CLI sends: developer messages, client_metadata, store false, include, prompt_cache_key', async () => {
    mock.chat = (_body, response) => writeGigaChatStream(response, gigaChatChunks(['Готово']));
    // The fields of a request Codex CLI 0.171 made through the gateway (a proxy recorded it), shortened.
    const body = {
      model: 'GigaChat-2-Max',
      instructions: 'You are a coding agent.',
      input: [
        { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Sandbox: read-only.' }] },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Скажи «готово»' }] },
      ],
      tools: [
        {
          type: 'function',
          name: 'exec_command',
          description: 'Runs a command',
          strict: false,
          parameters: { type: 'object', properties: { cmd: { type: 'string' } }, required: ['cmd'] },
        },
      ],
      tool_choice: 'auto',
      parallel_tool_calls: false,
      reasoning: null,
      store: false,
      stream: true,
      include: [],
      prompt_cache_key: '01a252ed-37c6-7793-b5be-d974ce2a6ca2',
      client_metadata: { originator: 'codex_exec' },
    };
    const answer = await fetch(`${gateway.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(answer.status).to.equal(200);
    const text = await answer.text();
    expect(text).to.match(/^event: response\.created\n/);
    expect(text).to.include('event: response.completed');
    expect(text).not.to.include('[DONE]');
  });

  it("answers a hostile response id in the path with a 404 in OpenAI's shape on every route", async () => {
    const ids = ['..%2F..%2Fetc%2Fpasswd', '%00', '%E0%A4%A', 'x'.repeat(5000), 'resp_%3Cscript%3E', '*'];
    const routes = (id: string): Array<[string, string]> => [
      ['GET', `/v1/responses/${id}`],
      ['GET', `/v1/responses/${id}?stream=true`],
      ['DELETE', `/v1/responses/${id}`],
      ['GET', `/v1/responses/${id}/input_items`],
      ['POST', `/v1/responses/${id}/cancel`],
    ];
    for (const id of ids) {
      for (const [method, path] of routes(id)) {
        const answer = await fetch(`${gateway.url}${path}`, { method });
        const what = `${method} ${path.slice(0, 60)}`;
        expect(answer.status, what).to.equal(404);
        const { error } = (await answer.json()) as { error: { type: string; message: string } };
        expect(error.type, what).to.equal('invalid_request_error');
        expect(error.message.length, what).to.be.below(200);
      }
    }
  });

  it('refuses a field it cannot honour, naming it', async () => {
    const error = await client.responses
      .create({ model: 'GigaChat-2-Max', input: 'x', conversation: 'conv_1' } as never)
      .catch((failure: unknown) => failure);
    expect(error).to.have.property('status', 400);
    expect(error).to.have.nested.property('error.param', 'conversation');
  });
});
