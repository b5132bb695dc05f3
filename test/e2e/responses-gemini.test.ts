import { expect } from 'chai';
import type OpenAI from 'openai';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { GeminiMock, geminiFixture, geminiStreamFixture, writeGeminiStream } from '../helpers/gemini-mock.ts';
import { sendJson } from '../helpers/gigachat-mock.ts';

const PNG_1X1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

/** The recorded Gemini 3 answer's text (test/fixtures/gemini/generate-text.json). */
const RECORDED_TEXT = geminiFixture('generate-text').candidates[0].content.parts[0].text as string;
/** The same recording's streamed text (stream-text.chunks.txt), its events' text joined. */
const STREAMED_TEXT = 'There are **3** "r"s in strawberry.\n\nst**r**awbe**rr**y';

const WEATHER: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'weather',
  description: 'Current weather',
  parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
  strict: false,
};

/** generate-text.json cut off: the recorded answer with Gemini's `MAX_TOKENS` finish reason instead of STOP. */
function cutOffAnswer() {
  const answer = geminiFixture('generate-text');
  answer.candidates[0].finishReason = 'MAX_TOKENS';
  return answer;
}

/** stream-text.chunks.txt cut off: its last event says `MAX_TOKENS` instead of STOP. */
function cutOffStream() {
  const events = geminiStreamFixture('stream-text');
  events.at(-1).candidates[0].finishReason = 'MAX_TOKENS';
  return events;
}

const functionCallOf = (response: OpenAI.Responses.Response) =>
  response.output.find((item) => item.type === 'function_call') as OpenAI.Responses.ResponseFunctionToolCall;

describe('e2e: the Responses API through the openai SDK, Gemini behind', () => {
  let gemini: GeminiMock;
  let gateway: TestGateway;
  let client: OpenAI;
  const sent = (action = 'generateContent') => gemini.requestsFor(action).at(-1)?.body;

  beforeEach(async () => {
    gemini = await GeminiMock.start();
    gateway = await startTestGateway(gemini.env());
    client = gateway.client;
  });
  afterEach(async () => {
    await gateway.close();
    await gemini.close();
  });

  it('answers responses.create: instructions and developer messages become systemInstruction, usage counts thoughts', async () => {
    const response = await client.responses.create({
      model: 'gemini-3-pro-preview',
      instructions: 'Be brief.',
      input: [
        { role: 'developer', content: 'Use Markdown.' },
        { role: 'user', content: 'How many r in strawberry?' },
      ],
      temperature: 0.2,
      top_p: 0.9,
      max_output_tokens: 500,
    });
    expect(response).to.deep.include({ object: 'response', status: 'completed', model: 'gemini-3-pro-preview' });
    expect(response.output_text).to.equal(RECORDED_TEXT);
    expect(response.output).to.have.length(1);
    expect(response.output[0]).to.deep.include({ type: 'message', role: 'assistant', status: 'completed' });
    // The recorded usage: 9 prompt, 28 answer + 244 thought tokens.
    expect(response.usage).to.deep.include({ input_tokens: 9, output_tokens: 272, total_tokens: 281 });
    expect(response.usage?.output_tokens_details.reasoning_tokens).to.equal(244);

    const body = sent();
    expect(gemini.requestsFor('generateContent')[0]?.path).to.equal(
      '/v1beta/models/gemini-3-pro-preview:generateContent',
    );
    expect(body.systemInstruction).to.deep.equal({ parts: [{ text: 'Be brief.' }, { text: 'Use Markdown.' }] });
    expect(body.contents).to.deep.equal([{ role: 'user', parts: [{ text: 'How many r in strawberry?' }] }]);
    expect(body.generationConfig).to.deep.equal({ temperature: 0.2, topP: 0.9, maxOutputTokens: 500 });
  });

  it('streams with responses.stream: events in OpenAI order, numbered, and the final response', async () => {
    gemini.stream = (_body, response) => writeGeminiStream(response, geminiStreamFixture('stream-text'));
    const stream = client.responses.stream({
      model: 'gemini-3-pro-preview',
      instructions: 'Be brief.',
      input: 'Count',
    });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();
    expect(events.map((event) => event.type)).to.deep.equal([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((event) => event.sequence_number)).to.deep.equal(events.map((_event, index) => index));
    const deltas = events.filter((event) => event.type === 'response.output_text.delta');
    expect(deltas.map((event) => event.delta)).to.deep.equal([
      'There are **3**',
      ' "r"s in strawberry.\n\nst**r**awbe**rr**y',
    ]);
    expect(final.status).to.equal('completed');
    expect(final.output_text).to.equal(STREAMED_TEXT);
    // Gemini's usage is cumulative; the last event's counts: 9 + (23 + 185).
    expect(final.usage).to.deep.include({ input_tokens: 9, output_tokens: 208, total_tokens: 217 });
    const body = sent('streamGenerateContent');
    expect(gemini.requestsFor('streamGenerateContent')[0]?.query.get('alt')).to.equal('sse');
    expect(body.systemInstruction).to.deep.equal({ parts: [{ text: 'Be brief.' }] });
  });

  it('runs a Gemini 3 tool loop with previous_response_id: the thought signature goes back with the call', async () => {
    const recorded = geminiFixture('generate-tool-call-gemini3');
    const signature = recorded.candidates[0].content.parts[0].thoughtSignature as string;
    gemini.generate = (body, response) =>
      sendJson(response, 200, body.contents.length === 1 ? recorded : geminiFixture('generate-text'));

    const first = await client.responses.create({
      model: 'gemini-3-pro-preview',
      input: 'Weather in SF?',
      tools: [WEATHER],
    });
    const call = functionCallOf(first);
    expect(call).to.deep.include({ type: 'function_call', name: 'weather', status: 'completed' });
    expect(JSON.parse(call.arguments)).to.deep.equal({ location: 'San Francisco' });
    expect(first.output.map((item) => item.type)).to.deep.equal(['function_call']);
    expect(first.output_text).to.equal('');

    const second = await client.responses.create({
      model: 'gemini-3-pro-preview',
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"temperature": 18, "sky": "fog"}' }],
      tools: [WEATHER],
    });
    expect(second.output_text).to.equal(RECORDED_TEXT);
    expect(sent().contents).to.deep.equal([
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

  it('runs the streamed Gemini 3 tool loop statelessly (store: false, the call item sent back whole)', async () => {
    const recorded = geminiStreamFixture('stream-tool-call-gemini3');
    const signature = recorded[0].candidates[0].content.parts[0].thoughtSignature as string;
    gemini.stream = (_body, response) => writeGeminiStream(response, recorded);
    const input: OpenAI.Responses.ResponseInputItem[] = [{ role: 'user', content: 'Weather in SF?' }];
    const stream = client.responses.stream({ model: 'gemini-3-pro-preview', input, tools: [WEATHER], store: false });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const first = await stream.finalResponse();
    expect(events.map((event) => event.type)).to.deep.equal([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const call = functionCallOf(first);
    expect(JSON.parse(call.arguments)).to.deep.equal({ location: 'San Francisco' });
    expect(first).to.have.property('store', false); // not in the SDK's type

    // As Codex does with store: false: the whole conversation again, the output items as they came.
    input.push(...(first.output as OpenAI.Responses.ResponseInputItem[]), {
      type: 'function_call_output',
      call_id: call.call_id,
      output: 'fog, 18 °C',
    });
    gemini.generate = (_body, response) => sendJson(response, 200, geminiFixture('generate-text'));
    const second = await client.responses.create({
      model: 'gemini-3-pro-preview',
      input,
      tools: [WEATHER],
      store: false,
    });
    expect(second.output_text).to.equal(RECORDED_TEXT);
    expect(sent().contents).to.deep.equal([
      { role: 'user', parts: [{ text: 'Weather in SF?' }] },
      {
        role: 'model',
        parts: [
          { functionCall: { name: 'weather', args: { location: 'San Francisco' } }, thoughtSignature: signature },
        ],
      },
      { role: 'user', parts: [{ functionResponse: { name: 'weather', response: { output: 'fog, 18 °C' } } }] },
    ]);
  });

  // Gemini sends a call's arguments whole in its first chunk: they must come once, in the delta,
  // or the SDK's running snapshot holds them twice.
  it('streams a call’s arguments once: output_item.added has none, the SDK’s snapshot has them once', async () => {
    gemini.stream = (_body, response) => writeGeminiStream(response, geminiStreamFixture('stream-tool-call-gemini3'));
    const stream = client.responses.stream({
      model: 'gemini-3-pro-preview',
      input: 'Weather in SF?',
      tools: [WEATHER],
    });
    const snapshots: string[] = [];
    stream.on('response.function_call_arguments.delta', (event) => snapshots.push(event.snapshot));
    let added: OpenAI.Responses.ResponseOutputItem | undefined;
    for await (const event of stream) if (event.type === 'response.output_item.added') added = event.item;
    expect(added).to.deep.include({ type: 'function_call', arguments: '' });
    expect(snapshots.at(-1)).to.equal('{"location":"San Francisco"}');
  });

  it('sends text.format json_schema as responseJsonSchema, as on chat, and returns the JSON text', async () => {
    gemini.generate = (_body, response) => {
      const answer = geminiFixture('generate-text'); // the recorded answer, its text a JSON object
      answer.candidates[0].content.parts = [{ text: '{"name":"Ada","age":36}' }];
      sendJson(response, 200, answer);
    };
    const response = await client.responses.create({
      model: 'gemini-2.5-flash',
      input: 'Who?',
      text: {
        format: {
          type: 'json_schema',
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
    expect(JSON.parse(response.output_text)).to.deep.equal({ name: 'Ada', age: 36 });
    expect(response.text?.format).to.deep.include({ type: 'json_schema', name: 'person' });
    expect(sent().generationConfig).to.deep.equal({
      responseMimeType: 'application/json',
      responseJsonSchema: {
        type: 'object',
        properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0 } },
        required: ['name', 'age'],
        additionalProperties: false,
      },
    });
  });

  it('maps reasoning.effort to thinkingConfig by model family', async () => {
    const cases: Array<[string, OpenAI.ReasoningEffort, Record<string, unknown>]> = [
      ['gemini-3-pro-preview', 'low', { thinkingLevel: 'LOW' }],
      ['gemini-3-pro-preview', 'medium', { thinkingLevel: 'HIGH' }], // Pro refuses MEDIUM
      ['gemini-2.5-flash', 'medium', { thinkingBudget: 8192 }],
    ];
    for (const [model, effort, thinkingConfig] of cases) {
      const response = await client.responses.create({ model, input: 'Think', reasoning: { effort } });
      expect(response.reasoning?.effort, model).to.equal(effort);
      expect(sent().generationConfig, `${model} ${effort}`).to.deep.equal({ thinkingConfig });
    }
  });

  it('ends a cut-off answer incomplete, reason max_output_tokens, as JSON and as a stream', async () => {
    gemini.generate = (_body, response) => sendJson(response, 200, cutOffAnswer());
    gemini.stream = (_body, response) => writeGeminiStream(response, cutOffStream());

    const cut = await client.responses.create({
      model: 'gemini-3-pro-preview',
      input: 'Tell all',
      max_output_tokens: 30,
    });
    expect(cut.status).to.equal('incomplete');
    expect(cut.incomplete_details).to.deep.equal({ reason: 'max_output_tokens' });
    expect(cut.output_text).to.equal(RECORDED_TEXT);
    expect(cut.output[0]).to.deep.include({ type: 'message', status: 'incomplete' });
    expect(sent().generationConfig).to.deep.equal({ maxOutputTokens: 30 });
    expect((await client.responses.retrieve(cut.id)).status).to.equal('incomplete');

    const stream = client.responses.stream({ model: 'gemini-3-pro-preview', input: 'Tell all', max_output_tokens: 30 });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();
    expect(events.at(-1)?.type).to.equal('response.incomplete');
    expect(events.map((event) => event.type)).not.to.include('response.completed');
    expect(final.status).to.equal('incomplete');
    expect(final.incomplete_details).to.deep.equal({ reason: 'max_output_tokens' });
    expect(final.output_text).to.equal(STREAMED_TEXT);
  });

  it('sends an input_image with a data: URL as inlineData', async () => {
    await client.responses.create({
      model: 'gemini-2.5-flash',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'What is this?' },
            { type: 'input_image', image_url: `data:image/png;base64,${PNG_1X1}`, detail: 'auto' },
          ],
        },
      ],
    });
    expect(sent().contents).to.deep.equal([
      { role: 'user', parts: [{ text: 'What is this?' }, { inlineData: { mimeType: 'image/png', data: PNG_1X1 } }] },
    ]);
  });
});
