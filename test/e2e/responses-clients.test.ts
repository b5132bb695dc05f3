import { createOpenAI } from '@ai-sdk/openai';
import { AIMessage, type AIMessageChunk, HumanMessage, SystemMessage, ToolMessage } from '@langchain/core/messages';
import { tool as langChainTool } from '@langchain/core/tools';
import { ChatOpenAI } from '@langchain/openai';
import { Agent, tool as agentTool, OpenAIProvider, Runner, setTracingDisabled } from '@openai/agents';
import { tool as aiTool, generateText, isStepCount, streamText } from 'ai';
import { expect } from 'chai';
import OpenAI from 'openai';
import { z } from 'zod';
import { gigaChatChunks, gigaChatCompletion } from '../helpers/cassettes.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { GeminiMock, geminiFixture } from '../helpers/gemini-mock.ts';
import { GigaChatMock, gigaChatFixture, sendJson, writeGigaChatStream } from '../helpers/gigachat-mock.ts';

/*
 * OpenAI's own client libraries, unchanged, against the real gateway: each now speaks the Responses
 * API by default (the Vercel AI SDK's `openai(model)`, the Agents SDK's OpenAIResponsesModel,
 * LangChain's ChatOpenAI with useResponsesApi). The access log shows which route each call took;
 * the GigaChat mock shows what reached the upstream.
 */

const KEY = 'key-for-clients-0123456789';
const MODEL = 'GigaChat-2-Max';

/** GigaChat's recorded function call answer (test/fixtures/gigachat/chat-function-call.json), for `name`. */
function functionCallAnswer(name: string, args: Record<string, unknown>) {
  const answer = structuredClone(gigaChatFixture('chat-function-call'));
  answer.choices[0].message.function_call = { name, arguments: args };
  return answer;
}

/**
 * A streamed GigaChat function call. No public recording of one exists: the chunks are the recorded
 * chat-stream shape (cassette chat-stream) carrying the function_call of the recorded answer and the
 * functions_state_id of Sber's REST reference, as in test/e2e/chat.test.ts.
 */
function functionCallChunks(name: string, args: Record<string, unknown>) {
  const [chunk, finish] = gigaChatChunks(['']);
  chunk.choices[0].delta = {
    role: 'assistant',
    content: '',
    function_call: { name, arguments: args },
    functions_state_id: 'c4f1b7a2-1111-4f0e-9a51-2c9a8f3e0d11',
  };
  finish.choices[0].finish_reason = 'function_call';
  return [chunk, finish];
}

/** The GigaChat chat bodies the gateway sent, in order. */
const chatBodies = (mock: GigaChatMock) =>
  mock.requestsTo('/api/v1/chat/completions').map((request) => JSON.parse(request.body));

/** `METHOD path client` (the key's name, if any) of the gateway's access log lines, once `count` have been written. */
async function routesTaken(gateway: TestGateway, count: number): Promise<string[]> {
  const routes = () =>
    gateway.logs
      .map((line) => JSON.parse(line) as { method?: string; path?: string; client?: string })
      .filter((line) => line.method !== undefined && line.path !== undefined)
      .map((line) => [line.method, line.path, line.client].filter((field) => field !== undefined).join(' '));
  // A streamed answer's line is written once its stream has ended, maybe after the client read the last event.
  await gateway.waitForLog(() => routes().length >= count);
  return routes();
}

/** The JSON bodies a client library sent, recorded by the `fetch` it is given; the request goes on unchanged. */
function recordingFetch() {
  const sent: { url: string; body: any }[] = [];
  const fetchAndRecord: typeof fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    sent.push({ url, body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined });
    return fetch(input, init);
  };
  return { sent, fetch: fetchAndRecord };
}

const WEATHER_DESCRIPTION = 'Погода в городе';
/** An access log line's `METHOD path client` for a Responses call with the test key. */
const RESPONSES = 'POST /v1/responses clients';

describe('e2e: OpenAI client libraries on the Responses API, GigaChat behind', () => {
  let mock: GigaChatMock;
  let gateway: TestGateway;
  let baseURL: string;

  beforeEach(async () => {
    mock = await GigaChatMock.start();
    gateway = await startTestGateway({ ...mock.env(), GATEWAY_API_KEYS: `clients:${KEY}` });
    baseURL = `${gateway.url}/v1`;
  });
  afterEach(async () => {
    await gateway.close();
    await mock.close();
  });

  describe('the Vercel AI SDK (ai + @ai-sdk/openai): openai(model) is its Responses model', () => {
    it('generateText: one POST /v1/responses, the text and the recorded usage', async () => {
      mock.chat = (_body, response) => sendJson(response, 200, gigaChatCompletion('Привет!'));
      const recorded = recordingFetch();
      const openai = createOpenAI({ baseURL, apiKey: KEY, fetch: recorded.fetch });
      const result = await generateText({
        model: openai(MODEL),
        system: 'Отвечай кратко.',
        prompt: 'Скажи привет',
        maxRetries: 0,
      });
      expect(result.text).to.equal('Привет!');
      expect(result.finishReason).to.equal('stop');
      // The recorded usage (cassette chat-plain): 17 + 3, of which 2 precached.
      expect(result.usage).to.deep.include({ inputTokens: 17, outputTokens: 3, totalTokens: 20 });
      expect(result.usage.inputTokenDetails.cacheReadTokens).to.equal(2);
      expect(result.response.id).to.match(/^resp_[0-9a-f]{48}$/);

      expect(recorded.sent.map((request) => request.url)).to.deep.equal([`${baseURL}/responses`]);
      expect(await routesTaken(gateway, 1)).to.deep.equal([RESPONSES]);
      expect(chatBodies(mock)).to.have.length(1);
      expect(chatBodies(mock)[0].messages).to.deep.equal([
        { role: 'system', content: 'Отвечай кратко.' },
        { role: 'user', content: 'Скажи привет' },
      ]);
    });

    it('generateText with a tool and isStepCount(3): the tool runs, its result goes back in the 2nd call', async () => {
      const answers = [
        functionCallAnswer('get_weather', { city: 'Москва' }),
        gigaChatCompletion('В Москве +5, пасмурно.'),
      ];
      mock.chat = (_body, response) => sendJson(response, 200, answers.shift());
      const recorded = recordingFetch();
      const openai = createOpenAI({ baseURL, apiKey: KEY, fetch: recorded.fetch });
      const asked: unknown[] = [];
      const result = await generateText({
        model: openai(MODEL),
        prompt: 'Погода в Москве?',
        tools: {
          get_weather: aiTool({
            description: WEATHER_DESCRIPTION,
            inputSchema: z.object({ city: z.string() }),
            execute: async (input) => {
              asked.push(input);
              return { temperature: 5, sky: 'пасмурно' };
            },
          }),
        },
        stopWhen: isStepCount(3),
        maxRetries: 0,
      });
      expect(asked).to.deep.equal([{ city: 'Москва' }]);
      expect(result.steps).to.have.length(2);
      expect(result.steps[0]?.finishReason).to.equal('tool-calls');
      expect(result.text).to.equal('В Москве +5, пасмурно.');

      // The 2nd call sends the call and its output as Responses items.
      const second = recorded.sent[1]?.body;
      const callId = result.steps[0]?.toolCalls[0]?.toolCallId;
      expect(callId).to.be.a('string').and.not.equal('');
      expect(second.input.slice(1)).to.deep.equal([
        { type: 'function_call', call_id: callId, name: 'get_weather', arguments: '{"city":"Москва"}' },
        { type: 'function_call_output', call_id: callId, output: '{"temperature":5,"sky":"пасмурно"}' },
      ]);
      expect(await routesTaken(gateway, 2)).to.deep.equal([RESPONSES, RESPONSES]);
      const [first, then] = chatBodies(mock);
      expect(first.functions).to.have.length(1);
      expect(first.functions[0]).to.deep.include({ name: 'get_weather', description: WEATHER_DESCRIPTION });
      expect(first.functions[0].parameters).to.deep.include({
        type: 'object',
        properties: { city: { type: 'string' } },
        required: ['city'],
      });
      expect(then.messages).to.deep.equal([
        { role: 'user', content: 'Погода в Москве?' },
        { role: 'assistant', content: '', function_call: { name: 'get_weather', arguments: { city: 'Москва' } } },
        { role: 'function', name: 'get_weather', content: '{"temperature":5,"sky":"пасмурно"}' },
      ]);
    });

    it('streamText: textStream read to the end gives the text, then the usage', async () => {
      mock.chat = (_body, response) => writeGigaChatStream(response, gigaChatChunks(['Раз', ', два', ', три']));
      const openai = createOpenAI({ baseURL, apiKey: KEY });
      const result = streamText({ model: openai(MODEL), prompt: 'Считай', maxRetries: 0 });
      let streamed = '';
      for await (const piece of result.textStream) streamed += piece;
      expect(streamed).to.equal('Раз, два, три');
      expect(await result.text).to.equal('Раз, два, три');
      expect(await result.finishReason).to.equal('stop');
      // The recorded stream's usage (cassette chat-stream): 17 + 10, of which 2 precached.
      expect(await result.usage).to.deep.include({ inputTokens: 17, outputTokens: 10, totalTokens: 27 });
      expect(await routesTaken(gateway, 1)).to.deep.equal([RESPONSES]);
      expect(chatBodies(mock)[0]).to.deep.include({ stream: true });
    });

    it("streamText: a GigaChat reasoning model's reasoning comes out as the SDK's reasoning text", async () => {
      // The recorded stream (cassette chat-stream) with reasoning_content deltas first, as GigaChat's
      // reasoning models send them (docs: the delta may carry reasoning_content).
      const chunks = gigaChatChunks(['', ' уже', 'Ответ']);
      chunks[0].choices[0].delta = { role: 'assistant', reasoning_content: 'Думаю' };
      chunks[1].choices[0].delta = { reasoning_content: ' ещё' };
      mock.chat = (_body, response) => writeGigaChatStream(response, chunks);
      const openai = createOpenAI({ baseURL, apiKey: KEY });
      const result = streamText({ model: openai(MODEL), prompt: 'Подумай', maxRetries: 0 });
      for await (const _piece of result.textStream);
      expect(await result.reasoningText).to.equal('Думаю ещё');
      expect(await result.text).to.equal('Ответ');
    });

    it('continues a conversation from response.messages: earlier answers go back as item_reference', async () => {
      const answers = [gigaChatCompletion('Меня зовут ГигаЧат.'), gigaChatCompletion('Я уже сказал: ГигаЧат.')];
      mock.chat = (_body, response) => sendJson(response, 200, answers.shift());
      const recorded = recordingFetch();
      const openai = createOpenAI({ baseURL, apiKey: KEY, fetch: recorded.fetch });
      const question = { role: 'user' as const, content: 'Как тебя зовут?' };
      const first = await generateText({ model: openai(MODEL), messages: [question], maxRetries: 0 });
      const second = await generateText({
        model: openai(MODEL),
        messages: [question, ...first.response.messages, { role: 'user', content: 'А ещё раз?' }],
        maxRetries: 0,
      });
      expect(second.text).to.equal('Я уже сказал: ГигаЧат.');

      // With store on (its default) the SDK names what the stored response said instead of repeating it.
      const [said] = (await gateway.client.responses.retrieve(first.response.id)).output;
      expect(recorded.sent[1]?.body.input).to.deep.equal([
        { role: 'user', content: [{ type: 'input_text', text: 'Как тебя зовут?' }] },
        { type: 'item_reference', id: said?.id },
        { role: 'user', content: [{ type: 'input_text', text: 'А ещё раз?' }] },
      ]);
      expect(await routesTaken(gateway, 3)).to.deep.equal([
        RESPONSES,
        RESPONSES,
        `GET /v1/responses/${first.response.id} clients`,
      ]);
      expect(chatBodies(mock)[1].messages).to.deep.equal([
        { role: 'user', content: 'Как тебя зовут?' },
        { role: 'assistant', content: 'Меня зовут ГигаЧат.' },
        { role: 'user', content: 'А ещё раз?' },
      ]);
    });
  });

  describe('the OpenAI Agents SDK (@openai/agents): OpenAIResponsesModel', () => {
    before(() => setTracingDisabled(true));

    /*
     * A runner of its own: the default one (`run`) keeps the client its provider first used, so after
     * setDefaultOpenAIClient it would call the first test's gateway in every later test.
     */
    function runner(): Runner {
      const openAIClient = new OpenAI({ baseURL, apiKey: KEY, maxRetries: 0 });
      return new Runner({ modelProvider: new OpenAIProvider({ openAIClient }), tracingDisabled: true });
    }

    function weatherAgent(asked: unknown[]) {
      const getWeather = agentTool({
        name: 'get_weather',
        description: WEATHER_DESCRIPTION,
        parameters: z.object({ city: z.string() }),
        execute: async (input) => {
          asked.push(input);
          return 'пасмурно, +5';
        },
      });
      return new Agent({
        name: 'Синоптик',
        instructions: 'Отвечай по-русски, узнавай погоду инструментом.',
        model: MODEL,
        tools: [getWeather],
      });
    }

    it('run: the agent calls its tool, then answers with finalOutput', async () => {
      const answers = [functionCallAnswer('get_weather', { city: 'Москва' }), gigaChatCompletion('В Москве +5.')];
      mock.chat = (_body, response) => sendJson(response, 200, answers.shift());
      const asked: unknown[] = [];
      const result = await runner().run(weatherAgent(asked), 'Какая погода в Москве?');
      expect(asked).to.deep.equal([{ city: 'Москва' }]);
      expect(result.finalOutput).to.equal('В Москве +5.');

      expect(await routesTaken(gateway, 2)).to.deep.equal([RESPONSES, RESPONSES]);
      const [first, then] = chatBodies(mock);
      expect(first.functions.map((fn: { name: string }) => fn.name)).to.deep.equal(['get_weather']);
      expect(then.messages).to.deep.equal([
        { role: 'system', content: 'Отвечай по-русски, узнавай погоду инструментом.' },
        { role: 'user', content: 'Какая погода в Москве?' },
        { role: 'assistant', content: '', function_call: { name: 'get_weather', arguments: { city: 'Москва' } } },
        { role: 'function', name: 'get_weather', content: '{"result":"пасмурно, +5"}' },
      ]);
    });

    it('run with stream: true: events through to the final output, the tool called in between', async () => {
      const answers = [functionCallChunks('get_weather', { city: 'Москва' }), gigaChatChunks(['В Москве', ' +5.'])];
      mock.chat = (_body, response) => writeGigaChatStream(response, answers.shift() ?? []);
      const asked: unknown[] = [];
      const result = await runner().run(weatherAgent(asked), 'Какая погода в Москве?', { stream: true });
      let streamed = '';
      for await (const text of result.toTextStream()) streamed += text;
      await result.completed;
      expect(asked).to.deep.equal([{ city: 'Москва' }]);
      expect(streamed).to.equal('В Москве +5.');
      expect(result.finalOutput).to.equal('В Москве +5.');

      expect(await routesTaken(gateway, 2)).to.deep.equal([RESPONSES, RESPONSES]);
      const [first, then] = chatBodies(mock);
      expect(first).to.deep.include({ stream: true });
      expect(then.messages.map((message: { role: string }) => message.role)).to.deep.equal([
        'system',
        'user',
        'assistant',
        'function',
      ]);
    });
  });

  describe('LangChain (@langchain/openai): ChatOpenAI with useResponsesApi', () => {
    const chat = () =>
      new ChatOpenAI({ model: MODEL, apiKey: KEY, useResponsesApi: true, maxRetries: 0, configuration: { baseURL } });
    const getWeatherTool = () =>
      langChainTool(async ({ city }) => `${city}: пасмурно, +5`, {
        name: 'get_weather',
        description: WEATHER_DESCRIPTION,
        schema: z.object({ city: z.string() }),
      });

    it('invoke: one POST /v1/responses, the text and the recorded usage', async () => {
      mock.chat = (_body, response) => sendJson(response, 200, gigaChatCompletion('Привет!'));
      const answer = await chat().invoke([new SystemMessage('Отвечай кратко.'), new HumanMessage('Скажи привет')]);
      expect(answer.text).to.equal('Привет!');
      expect(answer.usage_metadata).to.deep.include({ input_tokens: 17, output_tokens: 3, total_tokens: 20 });
      expect(answer.response_metadata.id).to.match(/^resp_[0-9a-f]{48}$/);
      expect(await routesTaken(gateway, 1)).to.deep.equal([RESPONSES]);
      expect(chatBodies(mock)[0].messages).to.deep.equal([
        { role: 'system', content: 'Отвечай кратко.' },
        { role: 'user', content: 'Скажи привет' },
      ]);
    });

    it('stream: the chunks add up to the text and the usage', async () => {
      mock.chat = (_body, response) => writeGigaChatStream(response, gigaChatChunks(['Раз', ', два', ', три']));
      let text = '';
      let usage: Record<string, unknown> | undefined;
      for await (const chunk of await chat().stream('Считай')) {
        text += chunk.text;
        if (chunk.usage_metadata !== undefined) usage = { ...chunk.usage_metadata };
      }
      expect(text).to.equal('Раз, два, три');
      expect(usage).to.deep.include({ input_tokens: 17, output_tokens: 10, total_tokens: 27 });
      expect(await routesTaken(gateway, 1)).to.deep.equal([RESPONSES]);
      expect(chatBodies(mock)[0]).to.deep.include({ stream: true });
    });

    it('stream with bindTools: the streamed tool call comes out whole', async () => {
      mock.chat = (_body, response) =>
        writeGigaChatStream(response, functionCallChunks('get_weather', { city: 'Москва' }));
      const model = chat().bindTools([getWeatherTool()]);
      let full: AIMessageChunk | undefined;
      for await (const chunk of await model.stream('Какая погода в Москве?')) {
        full = full === undefined ? chunk : full.concat(chunk);
      }
      // LangChain adds every response.function_call_arguments.delta to the arguments of
      // response.output_item.added, so that item must start empty, as OpenAI's does.
      expect(full?.invalid_tool_calls).to.deep.equal([]);
      expect(full?.tool_calls?.map(({ name, args }) => ({ name, args }))).to.deep.equal([
        { name: 'get_weather', args: { city: 'Москва' } },
      ]);
      expect(await routesTaken(gateway, 1)).to.deep.equal([RESPONSES]);
    });

    it('bindTools: a tool call, then its ToolMessage answered', async () => {
      const answers = [functionCallAnswer('get_weather', { city: 'Москва' }), gigaChatCompletion('В Москве +5.')];
      mock.chat = (_body, response) => sendJson(response, 200, answers.shift());
      const getWeather = getWeatherTool();
      const model = chat().bindTools([getWeather]);
      const question = new HumanMessage('Какая погода в Москве?');
      const call = await model.invoke([question]);
      expect(call).to.be.instanceOf(AIMessage);
      const [toolCall] = call.tool_calls ?? [];
      expect(toolCall).to.deep.include({ name: 'get_weather', args: { city: 'Москва' } });
      const output = await getWeather.invoke(toolCall as NonNullable<typeof toolCall>);
      expect(output).to.be.instanceOf(ToolMessage);
      const answer = await model.invoke([question, call, output]);
      expect(answer.text).to.equal('В Москве +5.');

      expect(await routesTaken(gateway, 2)).to.deep.equal([RESPONSES, RESPONSES]);
      expect(chatBodies(mock)[1].messages).to.deep.equal([
        { role: 'user', content: 'Какая погода в Москве?' },
        { role: 'assistant', content: '', function_call: { name: 'get_weather', arguments: { city: 'Москва' } } },
        { role: 'function', name: 'get_weather', content: '{"result":"Москва: пасмурно, +5"}' },
      ]);
    });
  });
});

describe('e2e: the Vercel AI SDK on the Responses API, Gemini 3 behind', () => {
  let gemini: GeminiMock;
  let gateway: TestGateway;

  beforeEach(async () => {
    gemini = await GeminiMock.start();
    gateway = await startTestGateway(gemini.env());
  });
  afterEach(async () => {
    await gateway.close();
    await gemini.close();
  });

  it("a tool loop keeps Gemini's thought signature: it rides in the call_id the SDK sends back", async () => {
    const recordedCall = geminiFixture('generate-tool-call-gemini3');
    const answers = [recordedCall, geminiFixture('generate-text')];
    gemini.generate = (_body, response) => sendJson(response, 200, answers.shift());
    const openai = createOpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'no-key-needed' });
    const result = await generateText({
      model: openai('gemini-3-pro-preview'),
      prompt: 'What is the weather in San Francisco?',
      tools: {
        weather: aiTool({
          description: 'Current weather',
          inputSchema: z.object({ location: z.string() }),
          execute: async () => ({ forecast: 'sunny' }),
        }),
      },
      stopWhen: isStepCount(3),
      maxRetries: 0,
    });
    expect(result.steps).to.have.length(2);
    expect(result.text).to.equal(geminiFixture('generate-text').candidates[0].content.parts[0].text);
    expect(await routesTaken(gateway, 2)).to.deep.equal(['POST /v1/responses', 'POST /v1/responses']);
    const replayed = gemini.requestsFor('generateContent')[1]?.body.contents;
    const [recordedPart] = recordedCall.candidates[0].content.parts;
    expect(replayed[1]).to.deep.equal({ role: 'model', parts: [recordedPart] });
    expect(replayed[2].parts[0].functionResponse).to.deep.include({ name: 'weather' });
  });
});
